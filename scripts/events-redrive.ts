// `npm run events:redrive`: lists the events durable consumers set aside as dead letters, or hands
// them back to their consumer (needs NATS_URL; EVENTS_NAMESPACE as the services use it).
//   npm run events:redrive                 list them
//   npm run events:redrive -- --all        redrive every one
//   npm run events:redrive -- <seq> …      redrive these (the first column of the list)
import { z } from 'zod';
import { ConfigError, parseConfig, runMain } from '@listbackup/lib/config';
import { connectNatsBus } from '@listbackup/lib/events/connect';

const Config = z.object({
  NATS_URL: z.url({ protocol: /^(nats|tls)$/ }),
  EVENTS_NAMESPACE: z.string().regex(/^[a-z0-9_-]+$/i, 'letters, digits, - and _ only').default('lb'),
});

await runMain(async () => {
  const { NATS_URL, EVENTS_NAMESPACE } = parseConfig(Config);
  const args = process.argv.slice(2);
  const all = args.includes('--all');
  const seqs = args.filter((arg) => !arg.startsWith('--')).map(Number);
  if (seqs.some((seq) => !Number.isSafeInteger(seq) || seq <= 0)) throw new ConfigError('Dead letters are named by their sequence number (the first column of `npm run events:redrive`)');
  const bus = await connectNatsBus(NATS_URL, EVENTS_NAMESPACE);
  try {
    if (!all && seqs.length === 0) {
      const letters = await bus.deadLetters();
      if (letters.length === 0) console.log('No dead letters.');
      for (const l of letters) console.log(`${l.seq}  ${l.deadLetteredAt.toISOString()}  ${l.consumer}  ${l.event.type}  ${l.event.id}  after ${l.deliveries} deliveries: ${l.error}`);
      if (letters.length) console.log(`\n${letters.length} dead letter(s). Redrive with: npm run events:redrive -- --all   (or -- <seq> …)`);
      return;
    }
    const redriven = await bus.redrive(all ? undefined : seqs);
    for (const l of redriven) console.log(`${l.seq}  redriven to ${l.consumer}`);
    for (const seq of seqs.filter((s) => !redriven.some((l) => l.seq === s))) console.log(`${seq}  not a dead letter`);
  } finally {
    await bus.close();
  }
});

// `npm run jobs:redrive`: lists the dead-letter queue, or puts dead-lettered jobs back to work.
//   npm run jobs:redrive                 list them
//   npm run jobs:redrive -- --all        redrive every one
//   npm run jobs:redrive -- <jobId> …    redrive these
import { z } from 'zod';
import { parseConfig, runMain } from '@listbackup/lib/config';
import { openDatabase } from '@listbackup/lib/db';
import { createLogger } from '@listbackup/lib/logger';
import { database } from './database.ts';
import { JobQueue } from './queue/job-queue.ts';
import { listDeadLetters, redriveDeadLetters } from './services/dead-letter-service.ts';

const Config = z.object({ DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }) });

await runMain(async () => {
  const { DATABASE_URL } = parseConfig(Config);
  const args = process.argv.slice(2);
  const all = args.includes('--all');
  const jobIds = args.filter((arg) => !arg.startsWith('--'));
  const log = createLogger('jobs-redrive', 'warn');
  const orm = await openDatabase({ url: DATABASE_URL, ...database });
  const queue = await JobQueue.start({ databaseUrl: DATABASE_URL, log });
  try {
    if (!all && jobIds.length === 0) {
      const letters = await listDeadLetters(queue);
      if (letters.length === 0) console.log('The dead-letter queue is empty.');
      for (const letter of letters) console.log(`${letter.jobId}  ${letter.deadLetteredAt.toISOString()}  ${letter.sourceQueue ?? ''}  ${letter.reason ?? ''}`);
      if (letters.length) console.log(`\n${letters.length} job(s). Redrive with: npm run jobs:redrive -- --all   (or -- <jobId> …)`);
      return;
    }
    const results = await redriveDeadLetters(orm, queue, all ? {} : { jobIds });
    for (const result of results) console.log(`${result.jobId}  ${result.outcome}${result.reason ? ` (${result.reason})` : ''}`);
    const missing = jobIds.filter((id) => !results.some((result) => result.jobId === id));
    for (const id of missing) console.log(`${id}  not in the dead-letter queue`);
  } finally {
    await queue.stop();
    await orm.close();
  }
});

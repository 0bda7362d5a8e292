// A notifications worker in a process of its own, so a test can kill it mid-delivery (SIGKILL).
import { createLogger } from '@listbackup/lib/logger';
import { openDatabase } from '@listbackup/lib/db';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { outboundFetch } from '@listbackup/lib/outbound';
import { database } from '../../src/database.ts';
import { NotificationWorker } from '../../src/delivery/worker.ts';

const orm = await openDatabase({ url: process.env.DATABASE_URL!, ...database });
const worker = new NotificationWorker({
  orm,
  bus: new InProcessEventBus(),
  log: createLogger('delivery-process', 'silent'),
  mailer: { smtpUrl: process.env.SMTP_URL!, from: 'ListBackup <notifications@example.test>' },
  fetch: outboundFetch,
  leaseMs: Number(process.env.LEASE_MS ?? 1_000),
  pollIntervalMs: 50,
});
await worker.start();
process.send?.('ready');

import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import type { Logger } from '@listbackup/lib/logger';

export interface DevMailbox {
  /** Where the mailer sends: `smtp://127.0.0.1:<port>`. */
  smtpUrl: string;
  dir: string;
  close(): Promise<void>;
}

/**
 * The local mailbox of the single-machine default: a real SMTP server on 127.0.0.1 that keeps each
 * message it receives as an `.eml` file (open it in any mail program) and logs the path. Mail
 * thus travels the same way as in production, through the mailer over SMTP.
 */
export async function startDevMailbox(dir: string, log: Logger, port = 0): Promise<DevMailbox> {
  mkdirSync(dir, { recursive: true });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 10 * 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((rcpt) => rcpt.address).join(', ');
        const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${session.id}.eml`);
        writeFileSync(file, Buffer.concat(chunks));
        log.warn({ to, file }, `mail for ${to} is in ${file}`);
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: actual } = server.server.address() as AddressInfo;
  return { smtpUrl: `smtp://127.0.0.1:${actual}`, dir, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

// Real receivers for notification tests: an SMTP server (the smtp-server library) that keeps what
// it is sent, and HTTP servers that verify Standard Webhooks signatures and speak Slack's answers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { Webhook } from 'standardwebhooks';

export interface Inbox {
  smtpUrl: string;
  messages: ParsedMail[];
  /** Parsed mail to one address. */
  to(address: string): ParsedMail[];
  close(): Promise<void>;
}

export async function startSmtpServer(): Promise<Inbox> {
  const messages: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    smtpUrl: `smtp://127.0.0.1:${port}`,
    messages,
    to: (address) => messages.filter((mail) => (Array.isArray(mail.to) ? mail.to : [mail.to]).some((to) => to?.value.some((value) => value.address === address))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ReceivedWebhook {
  id: string;
  body: any;
  headers: Record<string, string>;
  raw: string;
}

export interface WebhookReceiver {
  url: string;
  /** Every request that passed verification, repeats included. */
  requests: ReceivedWebhook[];
  /** Verified requests by `webhook-id`: a repeat is kept once, as a receiver should. */
  unique: Map<string, ReceivedWebhook>;
  /** Requests refused (bad or stale signature). */
  refused: number;
  /** The HTTP status the next requests get (default 204); `'hang'` holds them without an answer. */
  answer: number | 'hang';
  /** Resolves at the next request that arrives. */
  nextRequest(): Promise<void>;
  /** The receiver's own verification, exactly as it runs on each request. */
  verify(raw: string, headers: Record<string, string>): unknown;
  setSecret(secret: string): void;
  close(): Promise<void>;
}

/** A webhook consumer as its documentation would have it: verify, then dedupe on webhook-id. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  let verifier: Webhook | null = null;
  const waiters: (() => void)[] = [];
  const hanging = new Set<http.ServerResponse>();
  const receiver: WebhookReceiver = {
    url: '',
    requests: [],
    unique: new Map(),
    refused: 0,
    answer: 204,
    nextRequest: () => new Promise<void>((resolve) => waiters.push(resolve)),
    verify: (raw, headers) => {
      if (!verifier) throw new Error('no secret yet');
      return verifier.verify(raw, headers);
    },
    setSecret(secret) {
      verifier = new Webhook(secret);
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([key, value]) => [key, String(value)]));
      for (const wake of waiters.splice(0)) wake();
      try {
        receiver.verify(raw, headers);
      } catch {
        receiver.refused++;
        res.writeHead(400).end('bad signature');
        return;
      }
      const received = { id: headers['webhook-id'], body: JSON.parse(raw), headers, raw };
      receiver.requests.push(received);
      if (!receiver.unique.has(received.id)) receiver.unique.set(received.id, received);
      if (receiver.answer === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(receiver.answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/listbackup`;
  return receiver;
}

export interface SlackReceiver {
  url: string;
  messages: { text: string; blocks: unknown[] }[];
  close(): Promise<void>;
}

/** An incoming webhook as Slack answers it: `ok` for a message with text, `invalid_payload` (400) otherwise. */
export async function startSlackReceiver(): Promise<SlackReceiver> {
  const messages: SlackReceiver['messages'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: { text?: unknown; blocks?: unknown[] } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {}
      if (typeof body.text !== 'string' || !body.text) return void res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
      messages.push({ text: body.text, blocks: body.blocks ?? [] });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/XXXX`,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

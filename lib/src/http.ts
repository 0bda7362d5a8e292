import type { IncomingMessage, ServerResponse } from 'node:http';

const MAX_BODY_BYTES = 1024 * 1024;

/** Past the limit, this much more is read and thrown away so the 413 reaches the client; beyond it the connection is cut. */
const MAX_DISCARD_BYTES = 64 * 1024 * 1024;

/**
 * Reads a request body of at most `limit` bytes. A larger one (announced by Content-Length or found
 * while reading) is read to its end and discarded before the 413 is thrown: answering while the
 * client is still sending would reset the connection and the client would never see the status.
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => Object.assign(new Error(`request body too large (at most ${limit} bytes)`), { status: 413 });
    const declared = Number(req.headers['content-length']);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number.isFinite(declared) && declared > limit;
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit && !over) {
        over = true;
        chunks.length = 0;
      }
      if (!over) chunks.push(chunk);
      else if (size > limit + MAX_DISCARD_BYTES) {
        settle(tooLarge());
        req.destroy();
      }
    });
    req.on('end', () => settle(over ? tooLarge() : undefined));
    req.on('error', (error) => settle(error));
    req.on('close', () => settle(over ? tooLarge() : Object.assign(new Error('request aborted'), { status: 400 })));
  });
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw Object.assign(new Error('request body is not valid JSON'), { status: 400 });
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function graphqlErrorBody(code: string, message: string): unknown {
  return { errors: [{ message, extensions: { code } }] };
}

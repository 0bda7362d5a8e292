import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HTTPGraphQLResponse } from '@apollo/server';

const MAX_BODY_BYTES = 1024 * 1024;

/** Past the limit, this much more is read and thrown away so the 413 reaches the client; beyond it the connection is cut. */
const MAX_DISCARD_BYTES = 64 * 1024 * 1024;

/**
 * Reads a request body of at most `limit` bytes. A larger one (announced by Content-Length or found
 * while reading) is read to its end and discarded before the 413 is thrown: answering while the
 * client is still sending would reset the connection and the client would never see the status.
 */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  return (await readBodyBytes(req, limit)).toString('utf8');
}

/** `readBody`'s bytes as they came, for what is signed over the raw body (platform webhooks). */
export function readBodyBytes(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
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
      else resolve(Buffer.concat(chunks));
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


/** Request errors of a well-formed request: the document or its variables, not the HTTP request. */
const REQUEST_ERRORS = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'OPERATION_RESOLUTION_FAILURE']);

/**
 * The status the GraphQL-over-HTTP spec asks for. Apollo answers 400 to a document that does not
 * parse or validate, or whose variables do not coerce, whatever the client accepts; that is right
 * for `application/graphql-response+json`, but a client that accepts only `application/json` reads
 * every answer to a well-formed request as 200 and looks at `errors`. The gateway's calls to
 * subgraphs are such clients: a subgraph's refusal of an argument reaches the caller with its code.
 */
export function graphqlStatus(response: HTTPGraphQLResponse): number {
  const status = response.status ?? 200;
  if (status !== 400 || response.body.kind !== 'complete') return status;
  if (!/^application\/json\b/i.test(response.headers.get('content-type') ?? '')) return status;
  let errors: unknown;
  try {
    errors = (JSON.parse(response.body.string) as { errors?: unknown }).errors;
  } catch {
    return status;
  }
  const requestErrors = Array.isArray(errors) && errors.length > 0 && errors.every((error) => REQUEST_ERRORS.has(String(error?.extensions?.code)));
  return requestErrors ? 200 : status;
}

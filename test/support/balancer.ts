import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A round-robin HTTP balancer over replicas; a replica taken out gets no new request and is waited for. */
export class Balancer {
  url = '';
  readonly #backends: string[] = [];
  readonly #inFlight = new Map<string, number>();
  #next = 0;
  #server: http.Server | undefined;
  /** Added before each answer, to keep a backup running for a while (the platform fake only). */
  delayMs = 0;

  async start(): Promise<this> {
    this.#server = http.createServer((req, res) => void this.#forward(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  add(origin: string): void {
    this.#backends.push(origin);
  }

  /** Takes the replica out and waits for the requests it is answering. */
  async drain(origin: string): Promise<void> {
    this.#backends.splice(this.#backends.indexOf(origin), 1);
    while ((this.#inFlight.get(origin) ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  async #forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const backend = this.#backends[this.#next++ % this.#backends.length];
    if (!backend) {
      res.writeHead(503).end('no replica');
      return;
    }
    this.#inFlight.set(backend, (this.#inFlight.get(backend) ?? 0) + 1);
    try {
      const upstream = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const headers = { ...req.headers, host: new URL(backend).host };
        const forwarded = http.request(`${backend}${req.url}`, { method: req.method, headers }, resolve);
        forwarded.on('error', reject);
        forwarded.end(Buffer.concat(chunks));
      });
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      for await (const chunk of upstream) res.write(chunk);
      res.end();
    } catch (error) {
      if (!res.headersSent) res.writeHead(502).end(`replica ${backend} failed: ${(error as Error).message}`);
      else res.destroy();
    } finally {
      this.#inFlight.set(backend, this.#inFlight.get(backend)! - 1);
    }
  }
}

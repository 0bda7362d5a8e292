import dns from 'node:dns/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboundError, OutboundPolicy, outboundFetch, outboundPg, outboundPolicyFromEnv, setOutboundPolicy } from '../src/outbound.ts';
import { ConfigError } from '../src/config.ts';

/** A server that counts the requests it receives and answers 401, as an internal admin API might. */
async function listen(host: string, port = 0, handler?: http.RequestListener) {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    if (handler) return handler(req, res);
    res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"secret internal service"}');
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return { server, hits, port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('which addresses a user may make ListBackup connect to', () => {
  const policy = new OutboundPolicy();

  it('refuses loopback, private, link-local, CGNAT, multicast, reserved and metadata addresses, IPv4 and IPv6', () => {
    const refused = [
      '127.0.0.1', '127.1.2.3', '0.0.0.0', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '169.254.0.1', '100.64.0.1',
      '100.100.100.200', '224.0.0.1', '239.255.255.250', '255.255.255.255', '240.0.0.1', '192.0.0.192', '192.0.2.10', '198.18.0.1',
      '168.63.129.16', '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1',
      '::ffff:169.254.169.254', '64:ff9b::a00:1', '2002:a00:1::', '2001:db8::1', '[::1]', 'localhost', 'not-an-ip',
    ];
    for (const address of refused) expect(policy.allows(address), address).toBe(false);
  });

  it('allows public addresses, IPv4-mapped ones too', () => {
    for (const address of ['8.8.8.8', '93.184.216.34', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '[2a00:1450::1]']) expect(policy.allows(address), address).toBe(true);
  });

  it('takes an allow-list and a deny-list of CIDRs from the environment, and lists a bad entry', () => {
    const configured = outboundPolicyFromEnv({ OUTBOUND_ALLOW: '127.0.0.0/8, ::1', OUTBOUND_DENY: '8.8.8.0/24' });
    expect(configured.allows('127.0.0.1')).toBe(true);
    expect(configured.allows('::ffff:127.0.0.9')).toBe(true);
    expect(configured.allows('::1')).toBe(true);
    expect(configured.allows('10.0.0.1')).toBe(false);
    expect(configured.allows('8.8.8.8')).toBe(false);
    expect(configured.allows('8.8.4.4')).toBe(true);
    expect(() => outboundPolicyFromEnv({ OUTBOUND_ALLOW: '127.0.0.0/8,localhost' })).toThrow(ConfigError);
    expect(() => outboundPolicyFromEnv({ OUTBOUND_DENY: '10.0.0.0/33' })).toThrow(/OUTBOUND_DENY/);
  });
});

describe('outboundFetch', () => {
  let internal: Awaited<ReturnType<typeof listen>>;
  let allowed: Awaited<ReturnType<typeof listen>>;
  let answers: string[];

  beforeAll(async () => {
    internal = await listen('127.0.0.1');
    // Same port on another loopback address, which the tests' policy treats as a public address.
    allowed = await listen('127.0.0.2', internal.port, (req, res) => {
      if (req.url === '/redirect') return res.writeHead(302, { location: `http://127.0.0.1:${internal.port}/after-redirect` }).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  afterAll(async () => {
    await internal.close();
    await allowed.close();
  });

  const usePolicy = (next: string[]) => {
    answers = [...next];
    setOutboundPolicy(
      new OutboundPolicy({
        allow: ['127.0.0.2/32'],
        resolve: async (hostname) => {
          if (hostname !== 'rebind.test' && hostname !== 'mixed.test') return dns.lookup(hostname, { all: true });
          if (hostname === 'mixed.test') return [{ address: '127.0.0.2', family: 4 }, { address: '127.0.0.1', family: 4 }];
          return [{ address: answers.length > 1 ? answers.shift()! : answers[0]!, family: 4 }];
        },
      }),
    );
  };

  const refusal = async (url: string, init?: RequestInit) => {
    try {
      await outboundFetch(url, init);
    } catch (error) {
      expect(error).toBeInstanceOf(OutboundError);
      return { code: (error as OutboundError).code, message: (error as Error).message };
    }
    throw new Error(`${url} was fetched`);
  };

  it('refuses every spelling of an internal address before a connection is made, with one message', async () => {
    usePolicy(['127.0.0.2']);
    const port = internal.port;
    const urls = [
      `http://127.0.0.1:${port}/`, `http://2130706433:${port}/`, `http://0x7f.1:${port}/`, `http://127.1:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`,
      `http://[::1]:${port}/`, `http://0.0.0.0:${port}/`, `http://localhost:${port}/`, 'http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/',
      `https://127.0.0.1:${port}/`, `ftp://127.0.0.2:${port}/`,
    ];
    const messages = new Set<string>();
    for (const url of urls) {
      const { code, message } = await refusal(url);
      expect(code, url).toBe('TARGET_NOT_ALLOWED');
      messages.add(message);
    }
    expect(messages.size).toBe(1);
    expect([...messages][0]).not.toMatch(/127|401|secret|refused to connect/);
    expect(internal.hits).toEqual([]);
  });

  it('checks the address resolved at connect time: a name that resolved to an allowed address a moment ago and now to loopback is refused', async () => {
    usePolicy(['127.0.0.2', '127.0.0.1']);
    const policyCheck = (await import('../src/outbound.ts')).outboundPolicy();
    // An up-front check of the name passes (first answer) ...
    await expect(policyCheck.resolve('rebind.test')).resolves.toEqual([{ address: '127.0.0.2', family: 4 }]);
    // ... and the connection, which resolves again, is refused.
    expect((await refusal(`http://rebind.test:${internal.port}/`)).code).toBe('TARGET_NOT_ALLOWED');
    expect(internal.hits).toEqual([]);
  });

  it('refuses a name with an internal address among allowed ones', async () => {
    usePolicy(['127.0.0.2']);
    expect((await refusal(`http://mixed.test:${internal.port}/`)).code).toBe('TARGET_NOT_ALLOWED');
    expect(internal.hits).toEqual([]);
  });

  it('fetches an allowed address, and refuses a redirect from there to an internal one', async () => {
    usePolicy(['127.0.0.2']);
    const response = await outboundFetch(`http://rebind.test:${allowed.port}/data`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect((await refusal(`http://rebind.test:${allowed.port}/redirect`)).code).toBe('TARGET_NOT_ALLOWED');
    const manual = await outboundFetch(`http://rebind.test:${allowed.port}/redirect`, { redirect: 'manual' });
    expect(manual.status).toBe(302);
    expect(internal.hits).toEqual([]);
  });

  it('says only TARGET_UNREACHABLE for a name that does not resolve or a port where nothing listens', async () => {
    usePolicy(['127.0.0.2']);
    const closed = await listen('127.0.0.2');
    await closed.close();
    for (const url of ['http://no-such-host.test/', `http://127.0.0.2:${closed.port}/`]) {
      const { code, message } = await refusal(url);
      expect(code, url).toBe('TARGET_UNREACHABLE');
      expect(message).toBe('The address could not be reached');
    }
  });

  it('leaves the caller’s abort as it is', async () => {
    usePolicy(['127.0.0.2']);
    await expect(outboundFetch(`http://127.0.0.2:${allowed.port}/`, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('outboundPg', () => {
  const databaseUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

  const connect = async (connectionString: string) => {
    const client = new pg.Client({ ...outboundPg(connectionString), connectionTimeoutMillis: 5000 });
    client.on('error', () => {});
    try {
      await client.connect();
      const { rows } = await client.query('select 1 as one');
      return rows[0].one as number;
    } finally {
      await client.end().catch(() => {});
    }
  };

  it('refuses the product’s own database, by address, by name, and by Unix socket', async () => {
    setOutboundPolicy(new OutboundPolicy());
    const byName = new URL(databaseUrl);
    byName.hostname = 'localhost';
    for (const target of [databaseUrl.toString(), byName.toString(), `postgres://postgres@/postgres?host=/var/run/postgresql`, `postgres://postgres@8.8.8.8/postgres?sslrootcert=/etc/passwd`]) {
      await expect(connect(target), target).rejects.toMatchObject({ code: 'TARGET_NOT_ALLOWED' });
    }
  });

  it('connects where the allow-list says', async () => {
    setOutboundPolicy(new OutboundPolicy({ allow: ['127.0.0.0/8', '::1'] }));
    expect(await connect(databaseUrl.toString())).toBe(1);
  });
});

/**
 * Outbound connections made for a user: a platform's API (a REST definition's `baseUrl`, an OAuth
 * token or revocation endpoint, an identity check), a PostgreSQL connection string, a webhook.
 * None of them may reach inside the network the services run in, so every connection is checked
 * on the address it actually connects to, after DNS, at connect time: a name that resolves to a
 * public address when it is checked and to 127.0.0.1 a moment later (DNS rebinding) is refused at
 * the second resolution, because there is no first one.
 *
 * Refused: loopback, private (RFC 1918, IPv6 unique-local), link-local (cloud metadata at
 * 169.254.169.254), CGNAT (100.64/10), unspecified, broadcast, multicast, reserved and documentation
 * ranges, NAT64/6to4/Teredo, IPv4-mapped IPv6 of any of these, and a few cloud metadata addresses
 * that are public unicast. Everything else is a public address and allowed. `OUTBOUND_ALLOW`
 * (CIDRs) lets a deployment reach chosen internal ranges (tests run their fakes on 127.0.0.1);
 * `OUTBOUND_DENY` refuses more (the deployment's own public addresses).
 *
 * Use:
 *   - HTTP: `outboundFetch(url, init)` — `fetch` through the guarded dispatcher; a refused target
 *     throws `OutboundError('TARGET_NOT_ALLOWED')`, a network failure `OutboundError('TARGET_UNREACHABLE')`.
 *     Redirects are followed (or not) as `init.redirect` says; every hop is checked.
 *   - PostgreSQL: `new pg.Client({ ...outboundPg(connectionString), ... })`.
 *   - Anything else on sockets: `outboundPolicy().lookup` as the `lookup` of `net.connect`, and
 *     `outboundPolicy().assertAllowed(host)` for IP literals (Node does not look those up).
 * Messages of these errors name no address and nothing that answered.
 */
import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { z } from 'zod';
import { outboundEnv, parseConfig } from './config.ts';

export type OutboundErrorCode = 'TARGET_NOT_ALLOWED' | 'TARGET_UNREACHABLE';

const MESSAGES: Record<OutboundErrorCode, string> = {
  TARGET_NOT_ALLOWED: 'The address is not one ListBackup may connect to (internal, private or reserved addresses are refused)',
  TARGET_UNREACHABLE: 'The address could not be reached',
};

/** A refused or unreachable target. The message is the same for every address and every cause. */
export class OutboundError extends Error {
  override name = 'OutboundError';
  readonly code: OutboundErrorCode;
  constructor(code: OutboundErrorCode) {
    super(MESSAGES[code]);
    this.code = code;
  }
}

/** The OutboundError anywhere in an error's `cause` chain (fetch wraps what the connector threw). */
export function findOutboundError(error: unknown): OutboundError | undefined {
  for (let current = error, depth = 0; current && depth < 8; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof OutboundError) return current;
    if (current instanceof AggregateError) {
      const inner = current.errors.map(findOutboundError).find(Boolean);
      if (inner) return inner;
    }
  }
  return undefined;
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Public unicast addresses that are cloud metadata or host services all the same. */
const METADATA: string[] = ['168.63.129.16/32' /* Azure wire server */, '169.254.169.254/32', 'fd00:ec2::254/128'];

function parseRange(entry: string): Range {
  const text = entry.trim();
  if (text.includes('/')) return ipaddr.parseCIDR(text);
  const address = ipaddr.parse(text);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

/** An IPv4-mapped IPv6 address is the IPv4 address it carries. */
function normalize(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!ipaddr.isValid(address)) return undefined;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) return (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed;
}

const within = (address: ipaddr.IPv4 | ipaddr.IPv6, ranges: Range[]) => ranges.some(([base, bits]) => base.kind() === address.kind() && address.match(base, bits));

export interface OutboundPolicyOptions {
  /** CIDRs (or single addresses) that may be reached although they are internal. */
  allow?: string[];
  /** CIDRs that are refused although they are public. */
  deny?: string[];
  /** Resolves a name to every address (tests give one that changes its answer). Default: the system resolver. */
  resolve?: (hostname: string) => Promise<{ address: string; family: number }[]>;
}

const systemResolve = (hostname: string) => dns.promises.lookup(hostname, { all: true, verbatim: true });

export class OutboundPolicy {
  readonly #allow: Range[];
  readonly #deny: Range[];
  readonly #resolve: NonNullable<OutboundPolicyOptions['resolve']>;
  #dispatcher: Agent | undefined;

  constructor(options: OutboundPolicyOptions = {}) {
    this.#allow = (options.allow ?? []).map(parseRange);
    this.#deny = [...METADATA, ...(options.deny ?? [])].map(parseRange);
    this.#resolve = options.resolve ?? systemResolve;
  }

  /** Whether a connection to this IP address may be made. Anything that is not an IP address is not. */
  allows(address: string): boolean {
    const ip = normalize(address.replace(/^\[|\]$/g, ''));
    if (!ip) return false;
    if (within(ip, this.#allow)) return true;
    if (within(ip, this.#deny)) return false;
    return ip.range() === 'unicast';
  }

  /** Throws TARGET_NOT_ALLOWED for an IP literal that is refused; a name is checked when it is resolved. */
  assertAllowed(host: string): void {
    const literal = host.replace(/^\[|\]$/g, '');
    if (net.isIP(literal) && !this.allows(literal)) throw new OutboundError('TARGET_NOT_ALLOWED');
  }

  /** Resolves a name (or takes an IP literal) and returns its addresses if every one of them is allowed. */
  async resolve(host: string): Promise<{ address: string; family: number }[]> {
    const literal = host.replace(/^\[|\]$/g, '');
    const family = net.isIP(literal);
    let addresses: { address: string; family: number }[];
    if (family) addresses = [{ address: literal, family }];
    else {
      try {
        addresses = await this.#resolve(literal);
      } catch {
        throw new OutboundError('TARGET_UNREACHABLE');
      }
    }
    // A name with one internal address among public ones is refused as a whole: the socket could pick it.
    if (!addresses.length) throw new OutboundError('TARGET_UNREACHABLE');
    if (!addresses.every((entry) => this.allows(entry.address))) throw new OutboundError('TARGET_NOT_ALLOWED');
    return addresses;
  }

  /** A `lookup` for `net.connect` / `tls.connect` that resolves and refuses in one step. */
  readonly lookup: net.LookupFunction = (hostname, options, callback) => {
    this.resolve(hostname).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((entry) => entry.family === options.family) : addresses;
        if (!wanted.length) return callback(new OutboundError('TARGET_UNREACHABLE') as NodeJS.ErrnoException, '', 0);
        if (options.all) return (callback as unknown as (error: null, addresses: dns.LookupAddress[]) => void)(null, wanted);
        callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };

  /** The undici dispatcher of `outboundFetch`: every connection it opens goes through `lookup`. */
  get dispatcher(): Agent {
    if (this.#dispatcher) return this.#dispatcher;
    const connector = buildConnector({ lookup: this.lookup });
    this.#dispatcher = new Agent({
      connect: (options, callback) => {
        try {
          this.assertAllowed(options.hostname);
        } catch (error) {
          callback(error as Error, null);
          return;
        }
        connector(options, callback);
      },
    });
    return this.#dispatcher;
  }

  async close(): Promise<void> {
    await this.#dispatcher?.close();
    this.#dispatcher = undefined;
  }
}

/** `OUTBOUND_ALLOW` and `OUTBOUND_DENY` (lib/src/config.ts), parsed at boot with the rest of a service's environment. */
export function outboundPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): OutboundPolicy {
  const config = parseConfig(z.object(outboundEnv), env);
  return new OutboundPolicy({ allow: config.OUTBOUND_ALLOW, deny: config.OUTBOUND_DENY });
}

let current: OutboundPolicy | undefined;

/** The process's policy, parsed from the environment the first time it is asked for. */
export function outboundPolicy(): OutboundPolicy {
  current ??= outboundPolicyFromEnv();
  return current;
}

/** Replaces the process's policy (a test that must see internal addresses refused). */
export function setOutboundPolicy(policy: OutboundPolicy): void {
  current = policy;
}

/**
 * `fetch` for a URL a user chose. Only http and https; a refused address throws
 * TARGET_NOT_ALLOWED, a failure to connect or a broken answer TARGET_UNREACHABLE, an abort
 * (the caller's signal, a timeout) stays what it is.
 */
export async function outboundFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
  const url = new URL(input);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundError('TARGET_NOT_ALLOWED');
  const policy = outboundPolicy();
  policy.assertAllowed(url.hostname);
  try {
    return (await undiciFetch(url, { ...(init as object), dispatcher: policy.dispatcher } as Parameters<typeof undiciFetch>[1])) as unknown as Response;
  } catch (error) {
    const name = (error as Error | undefined)?.name;
    if (name === 'AbortError' || name === 'TimeoutError' || init.signal?.aborted) throw error;
    throw findOutboundError(error) ?? new OutboundError('TARGET_UNREACHABLE');
  }
}

/**
 * Client settings for a user's PostgreSQL connection string: the socket checks the address it
 * connects to, and a Unix socket path or a file of this machine (`sslcert`, `sslkey`,
 * `sslrootcert`, which pg would read) is refused.
 */
export function outboundPg(connectionString: string): { connectionString: string; stream: () => net.Socket } {
  const policy = outboundPolicy();
  if (/[?&](sslcert|sslkey|sslrootcert)=/i.test(connectionString)) throw new OutboundError('TARGET_NOT_ALLOWED');
  return { connectionString, stream: () => new GuardedSocket(policy) };
}

/** A TCP socket that connects only where the policy allows (pg calls `connect(port, host)` or `connect(path)`). */
class GuardedSocket extends net.Socket {
  readonly #policy: OutboundPolicy;
  constructor(policy: OutboundPolicy) {
    super();
    this.#policy = policy;
  }

  override connect(...args: unknown[]): this {
    const [port, host] = args as [unknown, unknown];
    try {
      if (typeof port !== 'number' && !/^\d+$/.test(String(port))) throw new OutboundError('TARGET_NOT_ALLOWED');
      const hostname = typeof host === 'string' && host ? host : 'localhost';
      this.#policy.assertAllowed(hostname);
      return super.connect({ port: Number(port), host: hostname, lookup: this.#policy.lookup });
    } catch (error) {
      process.nextTick(() => this.destroy(error as Error));
      return this;
    }
  }
}

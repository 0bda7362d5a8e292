import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { z } from 'zod';
import { parseConfig } from './config.ts';

/**
 * TLS between the services of the distributed form, from the environment of the process:
 * - `TLS_CERT_FILE`, `TLS_KEY_FILE`: this service's certificate and key (PEM). With them the process
 *   serves HTTPS only (TLS 1.3), and presents them when it calls another service or NATS.
 * - `TLS_CA_FILE`: the CA that issued the services' certificates. With it internal calls trust that CA
 *   only, and a subgraph answers only callers presenting a certificate it issued.
 * Unset, everything stays plain HTTP, as `npm start` runs on 127.0.0.1.
 */
export interface TlsSettings {
  cert?: string;
  key?: string;
  ca?: string;
}

export const TLS_MIN_VERSION = 'TLSv1.3';

const file = (name: string) =>
  z
    .string()
    .optional()
    .transform((path, ctx) => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(path, 'utf8');
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}) for ${name}` });
        return z.NEVER;
      }
    });

const TlsEnv = z
  .object({ TLS_CERT_FILE: file('the service certificate'), TLS_KEY_FILE: file('the service key'), TLS_CA_FILE: file('the services CA') })
  .refine((env) => Boolean(env.TLS_CERT_FILE) === Boolean(env.TLS_KEY_FILE), { message: 'TLS_CERT_FILE and TLS_KEY_FILE go together' });

/** The TLS settings in `env`, or undefined when none is set; unreadable files stop the process with a ConfigError. */
export function tlsFromEnv(env: NodeJS.ProcessEnv = process.env): TlsSettings | undefined {
  const parsed = parseConfig(TlsEnv, env);
  if (!parsed.TLS_CERT_FILE && !parsed.TLS_CA_FILE) return undefined;
  return { cert: parsed.TLS_CERT_FILE, key: parsed.TLS_KEY_FILE, ca: parsed.TLS_CA_FILE };
}

let processSettings: { value: TlsSettings | undefined } | undefined;

/** This process's TLS settings (read from its environment once). */
export function processTls(): TlsSettings | undefined {
  processSettings ??= { value: tlsFromEnv() };
  return processSettings.value;
}

export interface ServerTlsOptions {
  /** Ask callers for a certificate from the CA (subgraphs); `callerVerified` then tells who showed one. */
  requireCallerCertificate?: boolean;
}

/**
 * A plain HTTP server, or an HTTPS one (TLS 1.3 only) when `tls` has a certificate. With
 * `requireCallerCertificate` and a CA, callers are asked for a certificate; the handshake does not
 * fail without one (so probes without a certificate still reach /healthz), and the handler decides
 * with `callerVerified`.
 */
export function createServer(tls: TlsSettings | undefined, handler: http.RequestListener, options: ServerTlsOptions = {}): http.Server {
  if (!tls?.cert || !tls.key) return http.createServer(handler);
  const verifyCallers = Boolean(options.requireCallerCertificate && tls.ca);
  return https.createServer(
    { cert: tls.cert, key: tls.key, minVersion: TLS_MIN_VERSION, ...(verifyCallers ? { ca: tls.ca, requestCert: true, rejectUnauthorized: false } : {}) },
    handler,
  );
}

/** Whether the caller presented a certificate the CA issued; true on a server that asks for none. */
export function callerVerified(tls: TlsSettings | undefined, req: http.IncomingMessage): boolean {
  if (!tls?.cert || !tls.ca) return true;
  return (req.socket as TLSSocket).authorized === true;
}

/** `http` or `https`, as the server made by `createServer(tls, …)` speaks. */
export function serverScheme(tls: TlsSettings | undefined): 'http' | 'https' {
  return tls?.cert && tls.key ? 'https' : 'http';
}

/** Options for a TLS client (undici `connect`, NATS): trust the CA only, show this service's certificate. */
export function clientTlsOptions(tls: TlsSettings): { ca?: string; cert?: string; key?: string; minVersion: typeof TLS_MIN_VERSION } {
  return { ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}), minVersion: TLS_MIN_VERSION };
}

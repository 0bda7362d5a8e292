import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { keyringProblem } from './internal-token.ts';

/**
 * Parses the environment once against a zod schema. A bad or missing value stops the
 * process with every problem listed, not just the first.
 */
export function parseConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  // `NAME=` means unset, as most tools read it (so `DATABASE_URL= npm start` uses the embedded server).
  const result = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Runs `main`, and on a ConfigError prints it and exits non-zero without a stack trace. */
export async function runMain(main: () => Promise<unknown>): Promise<void> {
  try {
    await main();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  }
}

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** Comma-separated IP addresses or CIDRs, e.g. `127.0.0.0/8,::1`. */
export const cidrList = z
  .string()
  .default('')
  .transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean))
  .refine((entries) => entries.every(isCidr), { message: 'must be comma-separated IP addresses or CIDRs (e.g. 127.0.0.0/8,::1)' });

function isCidr(entry: string): boolean {
  try {
    if (entry.includes('/')) ipaddr.parseCIDR(entry);
    else ipaddr.parse(entry);
    return true;
  } catch {
    return false;
  }
}

/** Internal addresses outbound calls made for users may reach anyway, and public ones they may not (lib/src/outbound.ts). */
export const outboundEnv = { OUTBOUND_ALLOW: cidrList, OUTBOUND_DENY: cidrList };

export const commonEnv = {
  ...outboundEnv,
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  NATS_URL: z.url({ protocol: /^(nats|tls)$/ }).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The internal token keyring: comma-separated secrets, the first signs, all verify (rotation: `new,old`). */
  INTERNAL_TOKEN_SECRET: internalTokenSecret(),
  /** Prefix of NATS subjects and durable consumer names, so several deployments can share one NATS. */
  EVENTS_NAMESPACE: z.string().regex(/^[a-z0-9_-]+$/i, 'letters, digits, - and _ only').default('lb'),
};

/** `INTERNAL_TOKEN_SECRET`: one secret, or several comma-separated while rotating (the first signs). */
export function internalTokenSecret() {
  return z.string().superRefine((value, ctx) => {
    const problem = keyringProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}

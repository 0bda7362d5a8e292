import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, commonEnv, parseConfig, port } from '../src/config.ts';

describe('parseConfig', () => {
  const schema = z.object({ DATABASE_URL: commonEnv.DATABASE_URL.optional(), NATS_URL: commonEnv.NATS_URL, PORT: port(4000) });

  it('reads an empty variable as unset, as most tools do', () => {
    expect(parseConfig(schema, { DATABASE_URL: '', NATS_URL: '', PORT: '' })).toEqual({ DATABASE_URL: undefined, NATS_URL: undefined, PORT: 4000 });
  });

  it('still reads set values, and still refuses bad ones with every problem listed', () => {
    expect(parseConfig(schema, { DATABASE_URL: 'postgres://u@h:5432/d', PORT: '81' })).toMatchObject({ DATABASE_URL: 'postgres://u@h:5432/d', PORT: 81 });
    expect(() => parseConfig(schema, { DATABASE_URL: 'mysql://h/d', NATS_URL: 'http://x' })).toThrow(ConfigError);
    expect(() => parseConfig(schema, { DATABASE_URL: 'mysql://h/d', NATS_URL: 'http://x' })).toThrow(/DATABASE_URL[\s\S]*NATS_URL/);
  });

  it('an empty required variable is reported as missing, not as malformed', () => {
    const required = z.object({ DATABASE_URL: commonEnv.DATABASE_URL });
    expect(() => parseConfig(required, { DATABASE_URL: '' })).toThrow(/DATABASE_URL/);
  });
});

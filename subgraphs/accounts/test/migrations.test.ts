import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type TenancyHarness } from './tenancy-support.ts';

let harness: TenancyHarness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.stop();
});

it('has migrations that match the entities exactly (outbox tables and the audit log’s trigger included)', async () => {
  expect((await harness.orm.schema.getUpdateSchemaSQL()).trim()).toBe('');
});

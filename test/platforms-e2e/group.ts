import { afterAll, beforeAll, describe, it } from 'vitest';
import { definitionOf, type E2ERun } from '@listbackup/catalogue/testing/e2e';
import { e2ePlatform } from '@listbackup/catalogue/testing/fakes';
import { type BackedUp, type PlatformStack, runIncremental, runPlatform, runTokenLifecycle, startPlatformStack } from '../support/platform-e2e.ts';
import { GROUPS, type Group } from './groups.ts';

/** The platforms of a group, each end to end through one stack. */
export function describeGroup(group: Group, more?: (stack: () => PlatformStack) => void): void {
  describe(`platforms end to end through the gateway: ${GROUPS[group].join(', ')}`, () => {
    const runs = new Map<string, E2ERun>();
    const rows = new Map<string, BackedUp>();
    let stack: PlatformStack;

    beforeAll(async () => {
      for (const slug of GROUPS[group]) runs.set(slug, await e2ePlatform(slug).start());
      stack = await startPlatformStack(runs);
    });
    afterAll(async () => {
      await stack?.close();
      for (const run of runs.values()) await run.close();
    });

    for (const slug of GROUPS[group]) {
      it(`${slug}: connects, backs up every resource, browses, exports and restores what it can`, async () => {
        rows.set(slug, await runPlatform(stack, slug, runs.get(slug)!));
      });
    }
    const rowOf = (slug: string) => {
      const row = rows.get(slug);
      if (!row) throw new Error(`${slug}: its row did not complete`);
      return row;
    };
    // Every platform, after its row: a backup after one change at the fake reads only what changed.
    for (const slug of GROUPS[group]) {
      // Several backups, each paced to the platform's documented rate (Zendesk's exports: 10 a minute).
      it(`${slug}: a backup after a change reads only what changed, and its snapshot holds everything`, { timeout: 300_000 }, async () => {
        await runIncremental(stack, slug, runs.get(slug)!, rowOf(slug));
      });
    }
    // Every platform connected with OAuth, after its row: token expiry and refresh, then revocation.
    for (const slug of GROUPS[group].filter((slug) => definitionOf(slug).oauth2)) {
      const expiring = definitionOf(slug).oauth2!.refreshTokens ? 'an expired access token is refreshed; ' : '';
      it(`${slug}: ${expiring}a revoked token fails the backup and asks for authorization again`, { timeout: 300_000 }, async (test) => {
        const run = runs.get(slug)!;
        if (run.connect.kind !== 'oauth') return test.skip(`${slug} connects with an API key`);
        await runTokenLifecycle(stack, slug, run, rowOf(slug));
      });
    }
    more?.(() => stack);
  });
}

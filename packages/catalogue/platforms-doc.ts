/**
 * docs/platforms.md, generated from the catalogue: every platform and what its connector backs up,
 * with the flags `Platform.resources` publishes. `npm run docs:platforms` writes it and
 * `npm run check:generated` fails when the committed file differs, so the page cannot drift from
 * what the product offers.
 */
import { authTypesOf } from './platform.ts';
import { CATALOGUE, platformResources } from './index.ts';

export const PLATFORMS_DOC_FILE = 'docs/platforms.md';

const AUTH: Record<string, string> = { OAUTH2: 'OAuth 2', API_KEY: 'API key' };
const mark = (flag: boolean) => (flag ? 'yes' : '—');
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

export function platformsDoc(): string {
  const lines = [
    '# Platforms and what is backed up',
    '',
    '<!-- Generated from packages/catalogue by `npm run docs:platforms`; `npm run check:generated` fails when it is stale. -->',
    '',
    'Every platform `platforms` lists, and every resource its connector backs up. A resource is',
    '',
    '* **incremental** when a backup after the first reads only what changed since the previous one',
    '  (the rest is carried over from the parent snapshot);',
    '* **restorable** when `restoreSnapshot(target: PLATFORM)` writes it back to the platform;',
    '* **webhook-triggered** when a webhook the platform sends about it starts an incremental backup;',
    '* **binary** when its items carry file content, streamed as it is read.',
    '',
    '| Platform | Connects with | Resources |',
    '| --- | --- | --- |',
  ];
  for (const { definition } of CATALOGUE) {
    const resources = platformResources(definition.slug);
    const offered = resources.length ? resources.map((resource) => `\`${resource.name}\``).join(', ') : 'those its connection describes';
    lines.push(`| ${definition.name} (\`${definition.slug}\`) | ${authTypesOf(definition).map((type) => AUTH[type]).join(', ')} | ${offered} |`);
  }
  lines.push('', '| Platform | Resource | Incremental | Restorable | Webhook-triggered | Binary | What it is |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const { definition } of CATALOGUE) {
    const resources = platformResources(definition.slug);
    if (!resources.length) {
      lines.push(`| ${definition.name} | (each connection's own) | where its definition names a filter | where its definition says how | — | — | ${cell(definition.description)} |`);
      continue;
    }
    for (const resource of resources) {
      const flags = [resource.incremental, resource.restorable, resource.webhookTriggered, resource.binaryContent].map(mark).join(' | ');
      lines.push(`| ${definition.name} | \`${resource.name}\` | ${flags} | ${cell(resource.description)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

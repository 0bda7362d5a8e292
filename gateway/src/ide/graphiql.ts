import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXAMPLE_OPERATION, GRAPHQL_PATH, escapeJsonForHtml, inside } from './shared.ts';

const require = createRequire(import.meta.url);
const APP_ENTRY = fileURLToPath(new URL('./graphiql-app.js', import.meta.url));
const ASSETS = '/graphiql/assets';
const ROOT = path.resolve(path.dirname(APP_ENTRY), '../../..');

const version = (name: string) => (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;

/** The bundle depends on these and on the app source: a change of any builds it again. */
function bundleId(): string {
  const hash = createHash('sha256').update(readFileSync(APP_ENTRY));
  for (const name of ['graphiql', '@graphiql/react', 'monaco-editor', 'monaco-graphql', 'react', 'react-dom', 'graphql', 'graphql-ws', 'esbuild']) hash.update(`${name}@${version(name)}`);
  return hash.digest('hex').slice(0, 16);
}

let building: Promise<string> | undefined;

/**
 * Bundles GraphiQL (React, Monaco and its workers, graphql-ws's client) with esbuild into
 * node_modules/.cache on first use; later requests and restarts reuse it. Nothing comes from a CDN.
 */
export function graphiqlBundle(): Promise<string> {
  building ??= build().catch((error: unknown) => {
    building = undefined;
    throw error;
  });
  return building;
}

async function build(): Promise<string> {
  const cacheRoot = path.join(ROOT, 'node_modules', '.cache', 'listbackup-graphiql');
  const outdir = path.join(cacheRoot, bundleId());
  if (existsSync(path.join(outdir, 'app.js'))) return outdir;
  const { build: esbuild } = await import('esbuild');
  const staging = `${outdir}.${randomBytes(4).toString('hex')}.tmp`;
  await mkdir(staging, { recursive: true });
  try {
    await esbuild({
      entryPoints: {
        app: APP_ENTRY,
        'editor.worker': require.resolve('monaco-editor/esm/vs/editor/editor.worker.js'),
        'json.worker': require.resolve('monaco-editor/esm/vs/language/json/json.worker.js'),
        'graphql.worker': require.resolve('monaco-graphql/esm/graphql.worker.js'),
      },
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      outdir: staging,
      publicPath: ASSETS,
      assetNames: '[name]-[hash]',
      loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'dataurl', '.png': 'dataurl' },
      define: { 'process.env.NODE_ENV': '"production"' },
      logLevel: 'silent',
      absWorkingDir: ROOT,
    });
    await rename(staging, outdir).catch(async (error: NodeJS.ErrnoException) => {
      // Another process finished the same bundle first.
      if (!existsSync(path.join(outdir, 'app.js'))) throw error;
      await rm(staging, { recursive: true, force: true });
    });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return outdir;
}

export function graphiqlPage(): string {
  const config = { endpoint: GRAPHQL_PATH, assets: ASSETS, defaultQuery: EXAMPLE_OPERATION };
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>ListBackup — GraphiQL</title>
  <link rel="stylesheet" href="${ASSETS}/app.css">
  <style>
    html, body { height: 100%; margin: 0; }
    #graphiql { height: 100vh; }
    .lb-shell { display: flex; flex-direction: column; height: 100%; }
    .lb-ide { flex: 1; min-height: 0; }
    .lb-token-bar { display: flex; gap: 12px; align-items: center; padding: 8px 16px; font: 14px system-ui, sans-serif; background: #0b1d2e; color: #e6eef5; }
    .lb-token-bar input { flex: 1; max-width: 520px; padding: 6px 8px; border-radius: 4px; border: 1px solid #3b5368; background: #12283c; color: inherit; }
    .lb-home { color: #7fd1ff; font-weight: 600; text-decoration: none; }
    .lb-hint { opacity: .7; font-size: 12px; }
  </style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script id="ide-config" type="application/json">${escapeJsonForHtml(config)}</script>
  <script src="${ASSETS}/app.js"></script>
</body>
</html>`;
}

/** A file of the bundle (building it on first use). */
export async function graphiqlAsset(relative: string): Promise<string | undefined> {
  if (!/^[\w.-]+$/.test(relative)) return undefined;
  return inside(await graphiqlBundle(), relative);
}

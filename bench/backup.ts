/**
 * The backup engine against restic, on the same files and the same machine, in one run:
 *
 *   npx node bench/backup.ts [--gib 1] [--rounds 3] [--no-write]
 *
 * Generates about 1 GiB of files (bench/backup-data.ts) and, per round, backs them up with the
 * engine (bench/backup-engine.ts, through its own API) and with restic 0.14 (repository v2,
 * `--compression auto`), changes about 1% of the bytes, backs up again, and restores the latest
 * snapshot of each; every restore is hashed and must equal the files. Each operation is its own
 * process under /usr/bin/time (wall, CPU, peak RSS); new bytes are the growth of the repository
 * on disk. Rounds alternate which tool goes first, and the figures are the medians of the rounds;
 * the ratios are engine / restic. `zstd -3 -T1` over the same files and `openssl speed -evp
 * aes-256-gcm` are the physical limits. Writes the "## Backup engine" section of docs/benchmarks.md.
 *
 * restic is installed from Debian's packages when missing (as root); where it cannot be, its side
 * is skipped with a message.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { changeFiles, generateFiles, treeBytes, treeDigest } from './backup-data.ts';
import { writeSection } from './section.ts';

/**
 * The engine's process settings (a worker's, in place before Node starts): more libuv threads,
 * since file creation on a VM disk is latency-bound; two malloc arenas and a small V8 young
 * generation, so freed chunk buffers go back sooner; and Node's compile cache, so the engine's
 * TypeScript is not stripped again in every process (that alone costs some 35 MB of memory).
 */
export const ENGINE_PROCESS_ENV = {
  UV_THREADPOOL_SIZE: '16',
  MALLOC_ARENA_MAX: '2',
  NODE_OPTIONS: '--max-semi-space-size=2',
  NODE_COMPILE_CACHE: join(tmpdir(), 'listbackup-bench-compile-cache'),
};

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const gib = Number(option('--gib') ?? 1) || 1;
const ROUNDS = Math.max(1, Number(option('--rounds') ?? 3) || 3);
const writeDocs = !args.includes('--no-write');
const TOTAL = Math.round(gib * 1024 ** 3);
const here = dirname(fileURLToPath(import.meta.url));
const TIME = '/usr/bin/time';

type Tool = 'engine' | 'restic';
type Operation = 'backup' | 'rebackup' | 'restore';

interface Measured {
  wall: number;
  cpu: number;
  /** Peak resident set, bytes. */
  rss: number;
  stdout: string;
}

const mb = (bytes: number) => bytes / 1e6;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Runs a command under /usr/bin/time: wall time from here, CPU (user + system) and peak RSS from time(1). */
function measure(command: string, argv: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Measured> {
  const report = join(tmpdir(), `lb-bench-time-${randomBytes(6).toString('hex')}`);
  return new Promise((resolvePromise, reject) => {
    const start = performance.now();
    const child = spawn(TIME, ['-o', report, '-f', '%U %S %M', command, ...argv], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = (performance.now() - start) / 1000;
      const times = existsSync(report) ? readFileSync(report, 'utf8').trim().split('\n').at(-1)!.split(' ') : [];
      rmSync(report, { force: true });
      if (code !== 0) return reject(new Error(`${command} ${argv.join(' ')} exited with ${code}: ${Buffer.concat(err).toString().slice(-2000)}`));
      resolvePromise({ wall, cpu: Number(times[0]) + Number(times[1]), rss: Number(times[2]) * 1024, stdout: Buffer.concat(out).toString() });
    });
  });
}

// ---- the two tools -----------------------------------------------------------------------------

interface ToolRun {
  repository: string;
  run(operation: Operation, dataDir: string, targetDir: string): Promise<Measured>;
  /** Where the restored files are, below the restore target. */
  restoredRoot(targetDir: string, dataDir: string): string;
}

function engineTool(repository: string): ToolRun {
  const env = { ...process.env, ...ENGINE_PROCESS_ENV, BENCH_DATA_KEY: randomBytes(32).toString('hex') };
  return {
    repository,
    run: (operation, dataDir, targetDir) =>
      operation === 'restore'
        ? measure(process.execPath, [join(here, 'backup-engine.ts'), 'restore', repository, targetDir], env)
        : measure(process.execPath, [join(here, 'backup-engine.ts'), 'backup', repository, dataDir], env),
    restoredRoot: (targetDir) => targetDir,
  };
}

function resticTool(repository: string, cache: string): ToolRun {
  const env = { ...process.env, RESTIC_REPOSITORY: repository, RESTIC_PASSWORD: 'bench', RESTIC_CACHE_DIR: cache };
  return {
    repository,
    async run(operation, dataDir, targetDir) {
      if (operation === 'restore') return measure('restic', ['restore', 'latest', '--target', targetDir, '--quiet'], env);
      if (operation === 'backup') {
        const init = spawnSync('restic', ['init', '--repository-version', '2', '--quiet'], { env, encoding: 'utf8' });
        if (init.status !== 0) throw new Error(`restic init failed: ${init.stderr}`);
      }
      return measure('restic', ['backup', '--compression', 'auto', '--quiet', dataDir], env);
    },
    // restic restores the absolute path it backed up below the target.
    restoredRoot: (targetDir, dataDir) => join(targetDir, dataDir),
  };
}

/** restic from PATH, or installed from Debian's packages (as root with apt-get); null with a reason otherwise. */
function ensureRestic(): { version: string } | { missing: string } {
  const probe = () => spawnSync('restic', ['version'], { encoding: 'utf8' });
  let version = probe();
  if (version.status !== 0) {
    if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version']).status !== 0) return { missing: 'restic is not installed (apt-get install restic, as root)' };
    console.log('# installing restic from the Debian packages…');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', '-qq', 'restic'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    version = probe();
    if (version.status !== 0) return { missing: 'restic could not be installed from the Debian packages' };
  }
  return { version: version.stdout.trim() };
}

// ---- physical limits ---------------------------------------------------------------------------

/** Seconds `zstd -3 -T1` takes over every file of the data set (output discarded). */
function zstdSeconds(dataDir: string): number | null {
  if (spawnSync('zstd', ['--version']).status !== 0) return null;
  const start = performance.now();
  const run = spawnSync('zstd', ['-3', '-T1', '-q', '-r', '-c', dataDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (run.status !== 0) throw new Error(`zstd exited with ${run.status}`);
  return (performance.now() - start) / 1000;
}

function opensslGcm(): { mbps: number; version: string } | null {
  const run = spawnSync('openssl', ['speed', '-evp', 'aes-256-gcm', '-seconds', '2'], { encoding: 'utf8' });
  if (run.status !== 0) return null;
  const lines = run.stdout.trim().split('\n');
  const header = lines.find((l) => l.startsWith('type'))!;
  const row = lines.reverse().find((l) => /^AES-256-GCM/i.test(l))!;
  const columns = header.trim().split(/\s{2,}/);
  const values = row.trim().split(/\s+/).slice(1);
  const index = columns.findIndex((c) => c.startsWith('16384')) - 1;
  return { mbps: Number.parseFloat(values[index]) / 1000, version: spawnSync('openssl', ['version'], { encoding: 'utf8' }).stdout.trim() };
}

// ---- rounds ------------------------------------------------------------------------------------

interface ToolRound {
  backup: Measured;
  rebackup: Measured;
  restore: Measured;
  /** Repository bytes on disk after the first backup, and what the second one added. */
  stored: number;
  newBytes: number;
  identical: boolean;
}

interface Round {
  tools: Partial<Record<Tool, ToolRound>>;
  zstd: number | null;
  dataBytes: number;
  changedBytes: number;
}

async function runRound(root: string, index: number, tools: Tool[]): Promise<Round> {
  const dataDir = join(root, 'data');
  rmSync(dataDir, { recursive: true, force: true });
  const data = generateFiles(dataDir, TOTAL);
  // Alternate who goes first, so a burst of load from others on the machine lands on both sides.
  const order = index % 2 === 0 ? tools : [...tools].reverse();
  const runs = new Map<Tool, ToolRun>();
  for (const tool of order) {
    const repository = join(root, `${tool}-repo`);
    rmSync(repository, { recursive: true, force: true });
    runs.set(tool, tool === 'engine' ? engineTool(repository) : resticTool(repository, join(root, 'restic-cache')));
  }
  const partial = new Map<Tool, Partial<ToolRound>>(order.map((tool) => [tool, {}]));
  for (const tool of order) {
    partial.get(tool)!.backup = await runs.get(tool)!.run('backup', dataDir, '');
    partial.get(tool)!.stored = treeBytes(runs.get(tool)!.repository);
  }
  const zstd = zstdSeconds(dataDir);
  const changedBytes = changeFiles(dataDir, index);
  const expected = await treeDigest(dataDir);
  for (const tool of order) {
    partial.get(tool)!.rebackup = await runs.get(tool)!.run('rebackup', dataDir, '');
    partial.get(tool)!.newBytes = treeBytes(runs.get(tool)!.repository) - partial.get(tool)!.stored!;
  }
  for (const tool of order) {
    const target = join(root, `${tool}-restore`);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target);
    partial.get(tool)!.restore = await runs.get(tool)!.run('restore', dataDir, target);
    const restored = await treeDigest(runs.get(tool)!.restoredRoot(target, dataDir));
    partial.get(tool)!.identical = restored.digest === expected.digest;
    if (!partial.get(tool)!.identical) console.log(`round ${index + 1}: ${tool} restored ${restored.files} files, ${restored.bytes} bytes; expected ${expected.files} files, ${expected.bytes} bytes`);
    rmSync(target, { recursive: true, force: true });
  }
  for (const run of runs.values()) rmSync(run.repository, { recursive: true, force: true });
  rmSync(join(root, 'restic-cache'), { recursive: true, force: true });
  return { tools: Object.fromEntries(partial) as Round['tools'], zstd, dataBytes: data.bytes, changedBytes };
}

function describe(tool: Tool, r: ToolRound): string {
  return `${tool}: backup ${fmt(r.backup.wall, 1)} s (CPU ${fmt(r.backup.cpu, 1)} s, ${fmt(mb(r.backup.rss))} MB), re-backup ${fmt(r.rebackup.wall, 2)} s (${fmt(mb(r.newBytes), 2)} MB new, ${fmt(mb(r.rebackup.rss))} MB), restore ${fmt(r.restore.wall, 1)} s (${fmt(mb(r.restore.rss))} MB)${r.identical ? '' : ' NOT IDENTICAL'}`;
}

async function main(): Promise<void> {
  const restic = ensureRestic();
  if ('missing' in restic) console.log(`# ${restic.missing}: the restic side is skipped`);
  if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed to measure CPU time and peak RSS: apt-get install time`);
  const tools: Tool[] = 'missing' in restic ? ['engine'] : ['engine', 'restic'];
  const root = mkdtempSync(join(tmpdir(), 'lb-bench-backup-'));
  const loadStart = loadavg()[0];
  const loads: number[] = [];
  const sampler = setInterval(() => loads.push(loadavg()[0]), 5000);
  const started = performance.now();
  console.log(`# backup engine vs restic: ${fmt(mb(TOTAL))} MB × ${ROUNDS} rounds in ${root}, load average ${loadStart.toFixed(2)}`);
  // Fill the compile cache, so no round pays for it.
  spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(join(here, 'backup-engine.ts'))}).catch(() => {})`], { env: { ...process.env, ...ENGINE_PROCESS_ENV } });
  const rounds: Round[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const round = await runRound(root, i, tools);
      rounds.push(round);
      console.log(`round ${i + 1}: ${tools.map((tool) => describe(tool, round.tools[tool]!)).join('; ')}; zstd ${round.zstd ? fmt(round.zstd, 1) : '-'} s`);
    }
  } finally {
    clearInterval(sampler);
    rmSync(root, { recursive: true, force: true });
  }
  const loadEnd = loadavg()[0];
  const loadMedian = loads.length ? median(loads) : loadEnd;
  const gcm = opensslGcm();
  const zstdVersion = spawnSync('zstd', ['--version'], { encoding: 'utf8' });

  const med = (tool: Tool, pick: (r: ToolRound) => number) => median(rounds.map((round) => pick(round.tools[tool]!)));
  const peak = (r: ToolRound) => Math.max(r.backup.rss, r.rebackup.rss, r.restore.rss);
  const dataBytes = rounds[0].dataBytes;
  const changed = median(rounds.map((r) => r.changedBytes));
  const zstd = median(rounds.map((r) => r.zstd ?? Number.NaN));
  const hasRestic = tools.includes('restic');

  type Row = { measure: string; unit: (n: number) => string; pick: (r: ToolRound) => number; target?: number };
  const seconds = (n: number) => `${fmt(n, n < 10 ? 2 : 1)} s`;
  const megabytes = (n: number) => `${fmt(mb(n), mb(n) < 10 ? 2 : 0)} MB`;
  const rows: Row[] = [
    { measure: 'first backup, wall', unit: seconds, pick: (r) => r.backup.wall, target: 0.8 },
    { measure: 'first backup, CPU', unit: seconds, pick: (r) => r.backup.cpu },
    { measure: 'stored after the first backup', unit: megabytes, pick: (r) => r.stored },
    { measure: `re-backup after ~1% of the bytes changed, wall`, unit: seconds, pick: (r) => r.rebackup.wall, target: 1.0 },
    { measure: 're-backup, CPU', unit: seconds, pick: (r) => r.rebackup.cpu },
    { measure: 'new bytes of that re-backup', unit: megabytes, pick: (r) => r.newBytes, target: 0.6 },
    { measure: 'restore of the latest snapshot, wall', unit: seconds, pick: (r) => r.restore.wall, target: 1.0 },
    { measure: 'restore, CPU', unit: seconds, pick: (r) => r.restore.cpu },
    { measure: 'peak RSS (largest of the three operations)', unit: megabytes, pick: peak, target: 1.2 },
    { measure: 'peak RSS, first backup', unit: megabytes, pick: (r) => r.backup.rss },
    { measure: 'peak RSS, re-backup', unit: megabytes, pick: (r) => r.rebackup.rss },
    { measure: 'peak RSS, restore', unit: megabytes, pick: (r) => r.restore.rss },
  ];
  const lines = rows.map((row) => {
    const engine = med('engine', row.pick);
    if (!hasRestic) return `| ${row.measure} | ${row.unit(engine)} | – | – | |`;
    const theirs = med('restic', row.pick);
    const ratio = engine / theirs;
    const verdict = row.target === undefined ? '' : `≤ ${fmt(row.target, 1)} ${ratio <= row.target ? '✅' : '❌'}`;
    return `| ${row.measure} | ${row.unit(engine)} | ${row.unit(theirs)} | ${fmt(ratio, 2)} | ${verdict} |`;
  });
  const identical = (tool: Tool) => rounds.every((round) => round.tools[tool]!.identical);
  lines.push(`| every restore byte-identical (hashed) | ${identical('engine') ? 'yes' : 'NO'} | ${hasRestic ? (identical('restic') ? 'yes' : 'NO') : '–'} | | ${identical('engine') ? '✅' : '❌'} |`);
  const perRound = rounds
    .map((round, i) => `round ${i + 1} (${i % 2 === 0 ? tools.join(' first, then ') : [...tools].reverse().join(' first, then ')}): ${tools.map((tool) => describe(tool, round.tools[tool]!)).join('; ')}`)
    .map((line) => `- ${line}`);
  const engineFirst = med('engine', (r) => r.backup.wall);
  const limits = [
    `| \`zstd -3 -T1\` over the same files (one core), median | ${Number.isNaN(zstd) ? 'not installed' : `${fmt(mb(dataBytes) / zstd)} MB/s`} | ${zstdVersion.status === 0 ? zstdVersion.stdout.trim().replace(/^\*+\s*|\s*\*+$/g, '') : ''} |`,
    `| \`openssl speed -evp aes-256-gcm\`, 16 KiB blocks (one core) | ${gcm ? `${fmt(gcm.mbps)} MB/s` : 'not installed'} | ${gcm?.version ?? ''} |`,
    `| engine first backup, median | ${fmt(mb(dataBytes) / engineFirst)} MB/s | ${Number.isNaN(zstd) ? '' : `${fmt((mb(dataBytes) / engineFirst / (mb(dataBytes) / zstd)) * 100)}% of zstd -3 -T1`} |`,
  ];
  const cpuModel = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.+)/) ?? [])[1] ?? cpus()[0]?.model ?? 'unknown';
  const section = [
    '## Backup engine against restic',
    '',
    `Command: \`npm run bench -- backup\` (or \`npx node bench/backup.ts${gib !== 1 ? ` --gib ${gib}` : ''}${ROUNDS !== 3 ? ` --rounds ${ROUNDS}` : ''}\`) · ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · ${fmt((performance.now() - started) / 60000, 1)} min`,
    '',
    `Machine: ${cpuModel}, ${cpus().length} cores, ${fmt(totalmem() / 1024 ** 3, 1)} GiB memory (${fmt(freemem() / 1024 ** 3, 1)} GiB free), Node ${process.version}, ${'version' in restic ? restic.version : 'no restic'}; load average ${loadStart.toFixed(2)} at the start, ${loadMedian.toFixed(2)} median over the run (every 5 s; max ${fmt(Math.max(loadEnd, ...loads), 2)}), ${loadEnd.toFixed(2)} at the end: the machine is shared, and other processes' load lands on both tools (the rounds alternate who goes first).`,
    '',
    `Data: ${fmt(mb(dataBytes))} MB in files generated for each round: half NDJSON collections of 16 MiB, half random binary files of 1–24 MiB, and 3,000 small JSON records; then ${fmt(mb(changed), 1)} MB (${fmt((changed / dataBytes) * 100, 2)}%) changed: records rewritten in place and appended in 16 collections, 1 MiB rewritten in one binary file, a new 1 MiB file, 30 records rewritten and 30 added. The engine: its own API (\`Repository\`, \`runBackup\` with \`itemConcurrency: 4\`, a durable \`LocalDirectoryStore\`, each file an item with its size and mtime; \`restoreSnapshot\` into a \`DirectoryTarget\`), process settings ${Object.entries(ENGINE_PROCESS_ENV).map(([k, v]) => `${k}=${k === 'NODE_COMPILE_CACHE' ? '(a directory in the temp dir)' : v}`).join(' ')}. restic: repository version 2, \`backup --compression auto\`, \`restore latest\`, its cache in the temp dir. Each operation is one process under \`/usr/bin/time\` (CPU = user + system, peak RSS = its maxrss); new bytes = growth of the repository on disk; every restore is hashed file by file against the changed files. Medians of ${ROUNDS} round${ROUNDS === 1 ? "" : "s"}; the tools alternate going first.`,
    '',
    '| | engine | restic | engine / restic | target |',
    '| --- | ---: | ---: | ---: | --- |',
    ...lines,
    '',
    ...perRound,
    '',
    'Physical limits on this machine:',
    '',
    '| measure | result | note |',
    '| --- | ---: | --- |',
    ...limits,
    '',
  ].join('\n');
  console.log(`\n${section}`);
  if (writeDocs) writeSection(section);
}

await main();

/**
 * `npm run bench`: measurement only (nothing here asserts on time). Prints one aligned table per
 * section and writes everything, with the machine it ran on, to bench/results/foundation.json.
 *
 *  (a) kernels.ts — single-thread bandwidth of the fused logistic gradient kernel against a native
 *      copy and a plain JS sum over equally large arrays (is the kernel memory-bound?).
 *  (b) rounds.ts — latency of a near-empty round and time/bandwidth of a full-gradient round through
 *      ShardedCluster: in-process, and gRPC with 1 and 2 worker processes.
 *  (c) convergence.ts — the quick-start job end to end.
 *  (d) elastic.ts — a worker joining and one leaving (SIGTERM) a running job: time and rounds until
 *      the shards moved, over gRPC and NATS (also alone: `npm run bench -- elastic`).
 *
 * Sizes are kept small enough that the whole run takes well under a few minutes on a 2-core box.
 * Progress goes to stderr, the tables to stdout.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { runKernels, type KernelSection } from './kernels.js';
import { killBenchChildren, runRounds, type RoundConfigResult } from './rounds.js';
import { fixed, renderTable } from './table.js';
import { nowMs } from './stats.js';
import { runConvergence } from './convergence.js';
import { runVrHalpernBench, SWEEP } from './vr-halpern.js';
import { runElastic, ELASTIC_JOB, type ElasticResult } from './elastic.js';
import { runSrrwBench } from './srrw.js';
import { BSVRB_GRID, runBsvrbBench } from './bsvrb.js';

const KERNEL_ROWS = 100_000;
const KERNEL_COLS = 100;
// shared/ sits beside the repository (bench/dist/run.js → ../../../shared), or at /work/shared.
const A9A_PATH =
  [fileURLToPath(new URL('../../../shared/data/a9a.libsvm', import.meta.url)), '/work/shared/data/a9a.libsvm'].find((f) => existsSync(f)) ??
  fileURLToPath(new URL('../../../shared/data/a9a.libsvm', import.meta.url));
const ROUNDS = {
  rows: 100_000,
  cols: 100,
  shards: 8,
  emptyWarmup: 30,
  emptyRounds: 200,
  fullWarmup: 3,
  fullRounds: 20,
  grpcWorkers: [1, 2],
} as const;

const RESULT_FILE = fileURLToPath(new URL('../results/foundation.json', import.meta.url));
const FIGURE_FILE = fileURLToPath(new URL('../results/foundation-convergence.svg', import.meta.url));

function log(s: string): void {
  if (s !== '') process.stderr.write(`bench: ${s}\n`);
}

function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    cpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    loadAverage1m: Number((os.loadavg()[0] ?? 0).toFixed(2)),
    hostname: os.hostname(),
  };
}

function kernelTable(k: KernelSection): string {
  const copy = k.results.find((r) => r.name.startsWith('copy'));
  const rows = k.results.map((r) => [
    r.name,
    r.shape,
    fixed(r.bytes / 1e6, 1),
    String(r.passes),
    fixed(r.bestMs, 2),
    fixed(r.medianMs, 2),
    fixed(r.gbPerSec, 2),
    fixed(r.medianGbPerSec, 2),
    copy === undefined ? 'n/a' : `${fixed((100 * r.gbPerSec) / copy.gbPerSec, 0)}%`,
    r.note,
  ]);
  const cols = [
    { header: 'kernel' },
    { header: 'data' },
    { header: 'MB/pass' },
    { header: 'passes' },
    { header: 'best ms' },
    { header: 'median ms' },
    { header: 'GB/s (best)' },
    { header: 'GB/s (median)' },
    { header: 'vs copy' },
    { header: 'note', align: 'left' as const },
  ];
  let text = renderTable('(a) Kernel bandwidth — one thread, matrix bytes streamed per pass (GB = 10⁹ B)', cols, rows);
  for (const s of k.skipped) text += `\n  skipped: ${s}`;
  if (k.a9aParseMs !== undefined) text += `\n  a9a parse (readDataFile): ${fixed(k.a9aParseMs, 1)} ms`;
  return text;
}

function roundTables(r: readonly RoundConfigResult[]): string {
  const who = (c: RoundConfigResult): string =>
    c.transport === 'inprocess' ? '1 host, calling thread' : `${c.workers} proc × ${c.threadsPerWorker} thr`;
  const empty = renderTable(
    `(b1) Empty round — loss-grad on 1 row per shard (${ROUNDS.shards} shards), ${ROUNDS.emptyRounds} rounds after ${ROUNDS.emptyWarmup} warm-up`,
    [
      { header: 'config' },
      { header: 'workers' },
      { header: 'start ms' },
      { header: 'open ms' },
      { header: 'median µs' },
      { header: 'p90 µs' },
      { header: 'wire B/round' },
    ],
    r.map((c) => [
      c.name,
      who(c),
      c.transport !== 'inprocess' ? fixed(c.startMs, 0) : '—',
      fixed(c.openMs, 0),
      fixed(c.empty.medianUs, 0),
      fixed(c.empty.p90Us, 0),
      String(c.empty.wireBytes),
    ]),
  );
  const full = renderTable(
    `(b2) Full-gradient round — loss-grad rows 'all', n=${ROUNDS.rows} d=${ROUNDS.cols} (${fixed((ROUNDS.rows * ROUNDS.cols * 8) / 1e6, 0)} MB dense), ${ROUNDS.fullRounds} rounds after ${ROUNDS.fullWarmup} warm-up`,
    [
      { header: 'config' },
      { header: 'workers' },
      { header: 'median ms' },
      { header: 'best ms' },
      { header: 'GB/s (median)' },
      { header: 'wire KB/round' },
      { header: 'repeatable' },
      { header: 'sum = in-process' },
    ],
    r.map((c) => [
      c.name,
      who(c),
      fixed(c.full.medianMs, 1),
      fixed(c.full.bestMs, 1),
      fixed(c.full.gbPerSec, 2),
      fixed(c.full.wireBytes / 1e3, 1),
      c.deterministic ? '✓' : '✗',
      c.matchesInProcess ? '✓' : '✗',
    ]),
  );
  return `${empty}\n\n${full}`;
}

function elasticTable(r: readonly ElasticResult[]): string {
  const job = ELASTIC_JOB;
  return renderTable(
    `(d) Elasticity: SAGA, n=${job.problem.data.n}, d=${job.problem.data.d}, ${job.shards} shards (sticky table on the workers), 2 workers → a 3rd joins → one gets SIGTERM`,
    [
      'transport',
      'spawn→registered ms',
      'registered→moved ms',
      'rounds until moved',
      'join rebalance ms',
      'shards / state MB moved',
      'SIGTERM→moved ms',
      'SIGTERM→exit ms (code)',
      'leave rebalance ms',
      'x = in-process',
    ].map((header) => ({ header })),
    r.map((e) => [
      e.transport,
      fixed(e.joinRegisterMs, 0),
      fixed(e.joinEffectMs, 1),
      String(e.joinRoundsUntilMoved),
      fixed(e.joinRebalanceMs, 1),
      `${e.joinShardsMoved} / ${fixed(e.joinStateBytes / 1e6, 2)}`,
      fixed(e.leaveMovedMs, 1),
      `${fixed(e.leaveExitMs, 0)} (${String(e.leaveExitCode)})`,
      fixed(e.leaveRebalanceMs, 1),
      e.matchesInProcess ? '✓' : '✗',
    ]),
  );
}

/** `npm run bench -- elastic`: section (d) alone. */
async function elastic(): Promise<void> {
  const t0 = nowMs();
  const r = await runElastic(log);
  process.stdout.write(elasticTable(r) + '\n');
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  await mkdir(dir, { recursive: true });
  const file = `${dir}elastic.json`;
  await writeFile(
    file,
    JSON.stringify(
      { schema: 'optfleet-bench-elastic/1', machine: machineInfo(), totalSeconds: (nowMs() - t0) / 1000, job: ELASTIC_JOB, runs: r },
      null,
      2,
    ) + '\n',
  );
  process.stdout.write(`wrote ${file}\n`);
}

/** What a stand-alone suite returns: a table to print, JSON fields and SVG figures to write. */
interface SuiteResult {
  readonly table: string;
  readonly json: object;
  readonly figures: Readonly<Record<string, string>>;
}

/** Runs a stand-alone suite, prints its table and writes bench/results/<name>.json and its figures. */
async function runSuite(name: string, run: () => Promise<SuiteResult>): Promise<void> {
  const t0 = nowMs();
  const r = await run();
  process.stdout.write(r.table + '\n');
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  await mkdir(dir, { recursive: true });
  const file = `${dir}${name}.json`;
  const doc = { schema: `optfleet-bench-${name}/1`, machine: machineInfo(), totalSeconds: (nowMs() - t0) / 1000, ...r.json };
  await writeFile(file, JSON.stringify(doc, null, 2) + '\n');
  for (const [fig, svg] of Object.entries(r.figures)) await writeFile(`${dir}${fig}`, svg);
  process.stdout.write(`wrote ${[file, ...Object.keys(r.figures).map((f) => dir + f)].join(', ')}\n`);
}

async function main(): Promise<void> {
  // The √n sweep (vr-halpern.ts), SA-SRRW's scaled MSE vs α (srrw.ts), BSVRB's iterations-to-ε slopes (bsvrb.ts).
  if (process.argv[2] === 'vr-halpern') return runSuite('vr-halpern', () => runVrHalpernBench(SWEEP, log));
  if (process.argv[2] === 'srrw') return runSuite('srrw', () => runSrrwBench(log));
  if (process.argv[2] === 'bsvrb') return runSuite('bsvrb', () => runBsvrbBench(BSVRB_GRID, log));
  if (process.argv[2] === 'elastic') return elastic();
  if (process.argv[2] !== undefined && process.argv[2] !== 'foundation')
    throw new Error(`unknown bench suite "${process.argv[2]}": use foundation (default), elastic, vr-halpern, srrw or bsvrb`);
  const onSignal = (sig: NodeJS.Signals): void => {
    process.stderr.write(`bench: ${sig}: stopping worker processes\n`);
    killBenchChildren('SIGKILL');
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const t0 = nowMs();
  const machine = machineInfo();
  log(`${String(machine.cpus)} cpus (${String(machine.cpuModel)}), node ${process.version}, load ${String(machine.loadAverage1m)}`);

  const kernels = await runKernels({ rows: KERNEL_ROWS, cols: KERNEL_COLS, a9aPath: A9A_PATH }, log);
  const rounds = await runRounds(ROUNDS, log);
  const convergence = await runConvergence(log);
  const elasticRuns = await runElastic(log);
  const totalS = (nowMs() - t0) / 1000;
  const loadAfter = Number((os.loadavg()[0] ?? 0).toFixed(2));

  const out: string[] = [
    `optfleet bench — node ${process.version}, ${String(machine.cpus)} × ${String(machine.cpuModel)}, ${String(machine.date)}`,
    '',
    kernelTable(kernels),
    '',
    roundTables(rounds),
    '',
    renderTable(
      '(c) The quick-start job (examples/logistic-svrg.yaml) end to end',
      ['config', 'rounds', 'oracle calls', 'seconds', 'final ‖∇f‖', 'x = in-process'].map((header) => ({ header })),
      convergence.runs.map((r) => [
        r.label,
        String(r.rounds),
        String(r.oracleCalls),
        fixed(r.seconds, 2),
        r.gradNorm.toExponential(3),
        r.sameBitsAsInProcess ? '✓' : '✗',
      ]),
    ),
    `  figure: ${FIGURE_FILE}`,
    '',
    elasticTable(elasticRuns),
    '',
    `total ${fixed(totalS, 1)} s; 1-min load average ${String(machine.loadAverage1m)} before, ${loadAfter} after (the machine is shared: compare rows of one run, not runs)`,
  ];
  process.stdout.write(out.join('\n') + '\n');

  await mkdir(fileURLToPath(new URL('../results/', import.meta.url)), { recursive: true });
  const doc = {
    schema: 'optfleet-bench-foundation/1',
    machine: { ...machine, loadAverage1mAfter: loadAfter },
    totalSeconds: Number(totalS.toFixed(2)),
    kernels: { rows: KERNEL_ROWS, cols: KERNEL_COLS, a9aPath: A9A_PATH, ...kernels },
    rounds: { ...ROUNDS, configs: rounds },
    convergence: convergence.runs,
    elastic: { job: ELASTIC_JOB, runs: elasticRuns },
  };
  await writeFile(FIGURE_FILE, convergence.svg);
  await writeFile(RESULT_FILE, JSON.stringify(doc, null, 2) + '\n');
  process.stdout.write(`wrote ${RESULT_FILE}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  killBenchChildren('SIGKILL');
  process.exit(1);
});

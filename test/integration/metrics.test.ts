/**
 * Observability end to end: a real Prometheus scrapes a coordinator and two worker processes
 * while jobs run. Every panel query of every shipped Grafana dashboard (variables substituted)
 * returns at least one series; the alert rules load healthy; the per-job series disappear when
 * the job ends; the exposition passes `promtool check metrics` and our naming/label budget.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli, startCli, tempDir, waitUntil, writeSpec, type CliResult } from '../helpers/cli.js';
import { startPrometheus, type PrometheusHandle } from '../helpers/prometheus.js';

interface Panel {
  title: string;
  targets?: Array<{ expr: string }>;
}

/** Labels allowed on optfleet series (README "Metrics"): ours, plus Prometheus/prom-client's own. */
const LABEL_BUDGET = new Set([
  'op',
  'transport',
  'purpose',
  'state',
  'status',
  'backend',
  'job_id',
  'le',
  'version',
  'major',
  'minor',
  'patch',
  'space',
  'kind',
  'type',
]);

function metricsAddress(out: string): string | undefined {
  return /metrics on http:\/\/(\S+)\/metrics/.exec(out)?.[1];
}

describe('metrics, dashboards and alert rules against a real Prometheus', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const procs: Array<{ child: ChildProcess; done: Promise<CliResult> }> = [];
  let grpcAddress = '';
  let coordMetrics = '';
  const workerMetrics: string[] = [];
  let prom: PrometheusHandle | undefined;

  beforeAll(async () => {
    tmp = await tempDir();
    try {
      const c = startCli([
        'coordinator',
        '--listen',
        '127.0.0.1:0',
        '--min-workers',
        '2',
        '--heartbeat-interval-ms',
        '200',
        '--metrics-listen',
        '127.0.0.1:0',
      ]);
      procs.push(c);
      let out = '';
      c.child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      await waitUntil(() => metricsAddress(out) !== undefined, 20_000, 'coordinator metrics address');
      grpcAddress = /listening on (\S+)/.exec(out)![1]!;
      coordMetrics = metricsAddress(out)!;
      for (let i = 0; i < 2; i++) {
        const w = startCli([
          'worker',
          '--coordinator',
          grpcAddress,
          '--threads',
          '1',
          '--metrics-listen',
          '127.0.0.1:0',
          '--name',
          `m-${i}`,
        ]);
        procs.push(w);
        let wout = '';
        w.child.stdout!.on('data', (b: Buffer) => (wout += b.toString()));
        await waitUntil(() => metricsAddress(wout) !== undefined, 20_000, `worker ${i} metrics address`);
        workerMetrics.push(metricsAddress(wout)!);
      }
      prom = await startPrometheus(
        [
          { job: 'optfleet-coordinator', targets: [coordMetrics] },
          { job: 'optfleet-worker', targets: workerMetrics },
        ],
        [join(REPO, 'deploy/prometheus/rules.yml')],
      );
    } catch (e) {
      for (const p of procs) p.child.kill('SIGKILL');
      await prom?.stop();
      throw e;
    }
  });

  afterAll(async () => {
    await prom?.stop();
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.done));
    await tmp.cleanup();
  });

  it('/healthz and /readyz answer on both processes', async () => {
    for (const a of [coordMetrics, ...workerMetrics]) {
      expect((await fetch(`http://${a}/healthz`)).status).toBe(200);
      await waitUntil(async () => (await fetch(`http://${a}/readyz`)).status === 200, 10_000, `${a} ready`);
    }
  });

  it('every dashboard panel query returns data while a job runs, and per-job series vanish when it ends', async () => {
    const done = await writeSpec(tmp.dir, 'short.json', {
      name: 'short',
      shards: 4,
      problem: { kind: 'logistic', l2: 1e-3, data: { source: 'synthetic', n: 2000, d: 10 } },
      algorithm: { name: 'lbfgs' },
    });
    const r = await runCli(['submit', done, '--coordinator', grpcAddress, '--id', 'short-1', '--watch']);
    expect(r.code, r.stderr).toBe(0);
    const long = await writeSpec(tmp.dir, 'long.json', {
      name: 'long',
      shards: 4,
      problem: { kind: 'logistic', l2: 1e-3, data: { source: 'synthetic', n: 20000, d: 20 } },
      algorithm: { name: 'svrg', batchSize: 32 },
      stop: { maxRounds: 100_000_000, gradNorm: 0 },
    });
    const s = await runCli(['submit', long, '--coordinator', grpcAddress, '--id', 'long-1']);
    expect(s.code, s.stderr).toBe(0);
    const p = prom!;
    await waitUntil(
      async () => (await p.query('optfleet_job_objective{job_id="long-1"}')).length === 1,
      30_000,
      'the running job in Prometheus',
    );
    // Let rate windows fill: several 1 s scrapes of a running job.
    await new Promise((res) => setTimeout(res, 6000));

    const files = (await readdir(join(REPO, 'deploy/grafana'))).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(['cluster-overview.json', 'job.json']);
    const empty: string[] = [];
    let checked = 0;
    for (const f of files) {
      const dash = JSON.parse(await readFile(join(REPO, 'deploy/grafana', f), 'utf8')) as { panels: Panel[] };
      for (const panel of dash.panels) {
        for (const t of panel.targets ?? []) {
          const expr = t.expr.replaceAll('$job_id', 'long-1').replaceAll('$__rate_interval', '10s');
          const res = await p.query(expr);
          checked++;
          if (res.length === 0) empty.push(`${f} / ${panel.title}: ${expr}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(empty, `panel queries with no series:\n${empty.join('\n')}`).toEqual([]);

    const rules = await p.get<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>('/api/v1/rules');
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.map((x) => x.name).sort()).toEqual([
      'OptfleetCoordinatorAbsent',
      'OptfleetJobFailed',
      'OptfleetRoundLatencySLO',
      'OptfleetTaskRetryRateHigh',
      'OptfleetWorkersLost',
    ]);
    await waitUntil(
      async () => (await p.get<typeof rules>('/api/v1/rules')).groups.flatMap((g) => g.rules).every((x) => x.health === 'ok'),
      10_000,
      'rules evaluated',
    );

    const c = await runCli(['cancel', 'long-1', '--coordinator', grpcAddress]);
    expect(c.code).toBe(0);
    await waitUntil(
      async () => !(await (await fetch(`http://${coordMetrics}/metrics`)).text()).includes('job_id="long-1"'),
      10_000,
      'per-job series removed from /metrics',
    );
    await waitUntil(
      async () => (await p.query('{__name__=~"optfleet_job_.*", job_id="long-1"}')).length === 0,
      10_000,
      'per-job series gone in Prometheus',
    );
    expect(await p.query('optfleet_jobs_finished_total{status="CANCELLED"}')).toHaveLength(1);
  });

  it('the exposition follows the conventions: promtool check metrics, units, _total on counters, label budget', async () => {
    for (const a of [coordMetrics, ...workerMetrics]) {
      const text = await (await fetch(`http://${a}/metrics`)).text();
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(lint.status, `promtool check metrics on ${a}:\n${lint.stdout}${lint.stderr}`).toBe(0);
      const types = new Map<string, string>();
      for (const line of text.split('\n')) {
        const m = /^# TYPE (\S+) (\S+)$/.exec(line);
        if (m) types.set(m[1]!, m[2]!);
      }
      expect(types.size).toBeGreaterThan(10);
      for (const [name, type] of types) {
        expect(name, 'prefix').toMatch(/^optfleet_/);
        if (type === 'counter') expect(name, `${name} is a counter`).toMatch(/_total$/);
        if (type !== 'counter') expect(name, `${name} is a ${type}`).not.toMatch(/_total$/);
        if (/duration|time/.test(name) && !/_info$/.test(name)) expect(name, `${name} has a time unit`).toMatch(/_seconds(_total)?$/);
        if (/bytes/.test(name)) expect(name).toMatch(/_bytes(_total)?$/);
      }
      for (const line of text.split('\n')) {
        if (line.startsWith('#') || line === '') continue;
        const labels = /\{([^}]*)\}/.exec(line)?.[1];
        if (labels === undefined) continue;
        for (const pair of labels.match(/(\w+)="/g) ?? []) {
          const label = pair.slice(0, -2);
          expect(LABEL_BUDGET.has(label), `label ${label} in ${line}`).toBe(true);
        }
      }
    }
  });
});

describe('optfleet plot', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir();
  });
  afterAll(async () => tmp.cleanup());

  it('run --plot and plot over several result files produce SVGs with one series per run', async () => {
    const spec = await writeSpec(tmp.dir, 'p.json', {
      name: 'plot-svrg',
      shards: 2,
      problem: { kind: 'logistic', l2: 1e-2, data: { source: 'synthetic', n: 500, d: 5 } },
      algorithm: { name: 'svrg', batchSize: 16 },
      stop: { gradNorm: 1e-8 },
    });
    const a = join(tmp.dir, 'a.json');
    const b = join(tmp.dir, 'b.json');
    const r1 = await runCli(['run', spec, '--transport', 'inprocess', '--out', a, '--plot', join(tmp.dir, 'a.svg')]);
    expect(r1.code, r1.stderr).toBe(0);
    const own = await readFile(join(tmp.dir, 'a.svg'), 'utf8');
    expect(own).toMatch(/^<svg/);
    expect(own).toContain('plot-svrg');
    const lb = await writeSpec(tmp.dir, 'l.json', {
      name: 'plot-lbfgs',
      shards: 2,
      problem: { kind: 'logistic', l2: 1e-2, data: { source: 'synthetic', n: 500, d: 5 } },
      algorithm: { name: 'lbfgs' },
    });
    expect((await runCli(['run', lb, '--transport', 'inprocess', '--out', b])).code).toBe(0);
    const out = join(tmp.dir, 'cmp.svg');
    const r = await runCli(['plot', a, b, '--out', out, '--title', 'svrg vs lbfgs']);
    expect(r.code, r.stderr).toBe(0);
    const svg = await readFile(out, 'utf8');
    expect(svg).toContain('svrg vs lbfgs');
    for (const label of ['plot-svrg', 'plot-lbfgs', 'oracle calls', 'seconds', 'gradient norm']) expect(svg).toContain(label);
    // One line path per run in each of the four panels.
    expect((svg.match(/aria-roledescription="line mark"/g) ?? []).length).toBe(8);
    // Default output name: the first file with .svg.
    const d = await runCli(['plot', b]);
    expect(d.stdout.trim()).toBe(join(tmp.dir, 'b.svg'));
  });

  it('bad input: a missing file, a non-result JSON, an empty history → exit 2 with the reason', async () => {
    const missing = await runCli(['plot', join(tmp.dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/result file .*nope\.json cannot be read: ENOENT/);
    const other = await writeSpec(tmp.dir, 'other.json', { hello: 1 });
    const r2 = await runCli(['plot', other]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/other\.json: no "history" array/);
    const failed = await writeSpec(tmp.dir, 'failed.json', { status: 'FAILED', history: [] });
    const r3 = await runCli(['plot', failed]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/failed\.json: the history is empty, nothing to plot \(the job ended FAILED\)/);
    const notJson = await writeSpec(tmp.dir, 'bad.json', '{nope');
    expect((await runCli(['plot', notJson])).stderr).toMatch(/bad\.json: not JSON/);
  });
});

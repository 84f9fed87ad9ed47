/**
 * A real Prometheus for tests: Debian's `prometheus` binary on 127.0.0.1 with a free port, a
 * temporary TSDB and a generated config; waits until ready; `stop()` kills it and deletes the
 * files. Fails with install instructions when the binary is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ScrapeJob {
  readonly job: string;
  readonly targets: readonly string[];
}

export interface PrometheusHandle {
  readonly url: string;
  /** Instant query; returns the result vector. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  get<T>(path: string): Promise<T>;
  stop(): Promise<void>;
}

export function prometheusBinary(): string {
  const r = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error('prometheus is not on PATH: install it with `apt-get install -y prometheus` (Debian/Ubuntu); .ci/run does this in CI');
  }
  return 'prometheus';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startPrometheus(jobs: readonly ScrapeJob[], ruleFiles: readonly string[] = []): Promise<PrometheusHandle> {
  const bin = prometheusBinary();
  const dir = await mkdtemp(join(tmpdir(), 'optfleet-prom-'));
  const port = await freePort();
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    ...(ruleFiles.length > 0 ? ['rule_files:', ...ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)] : []),
    'scrape_configs:',
    ...jobs.flatMap((j) => [
      `  - job_name: ${JSON.stringify(j.job)}`,
      '    static_configs:',
      `      - targets: ${JSON.stringify(j.targets)}`,
    ]),
  ].join('\n');
  await writeFile(join(dir, 'prometheus.yml'), config + '\n');
  let child: ChildProcess | undefined;
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child!.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    let stderr = '';
    child = spawn(
      bin,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const t0 = Date.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${stderr}`);
      try {
        const r = await fetch(`${url}/-/ready`);
        if (r.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() - t0 > 30_000) throw new Error(`prometheus not ready after 30 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${url}${path}`);
    const body = (await r.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? r.status}`);
    return body.data;
  };
  return {
    url,
    get,
    query: async (expr) =>
      (
        await get<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
          `/api/v1/query?query=${encodeURIComponent(expr)}`,
        )
      ).result,
    stop,
  };
}

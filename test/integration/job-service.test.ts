/**
 * Cluster mode end to end: `optfleet coordinator` and two `optfleet worker` processes; jobs are
 * submitted, watched, listed and cancelled with the CLI over the gRPC JobService.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobResultDoc } from '@optfleet/coordinator';
import { REPO, runCli, startCli, tempDir, waitUntil, writeSpec, type CliResult } from '../helpers/cli.js';
import type { ChildProcess } from 'node:child_process';

describe('JobService over gRPC with a coordinator and worker processes', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let coordinator: { child: ChildProcess; done: Promise<CliResult> };
  const workers: Array<{ child: ChildProcess; done: Promise<CliResult> }> = [];
  let address = '';

  beforeAll(async () => {
    tmp = await tempDir();
    coordinator = startCli([
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
    let out = '';
    coordinator.child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    try {
      await waitUntil(() => /listening on (\S+)/.test(out), 20_000, 'the coordinator to listen');
      address = /listening on (\S+)/.exec(out)![1]!;
      for (let i = 0; i < 2; i++)
        workers.push(
          startCli(['worker', '--coordinator', address, '--threads', '1', '--name', `svc-${i}`, '--quiet', '--metrics-listen', 'off']),
        );
    } catch (e) {
      coordinator.child.kill('SIGKILL');
      throw e;
    }
  });

  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGTERM');
    coordinator.child.kill('SIGTERM');
    await Promise.all([coordinator.done, ...workers.map((w) => w.done)]);
    await tmp.cleanup();
  });

  it('submit --watch runs a job to SUCCEEDED and writes the result with the final iterate', async () => {
    const spec = await writeSpec(tmp.dir, 'ok.json', {
      name: 'svc-ok',
      seed: 3,
      shards: 4,
      problem: { kind: 'least-squares', l2: 0.1, data: { source: 'synthetic', n: 1000, d: 5 } },
      algorithm: { name: 'lbfgs' },
      stop: { gradNorm: 1e-10 },
    });
    const out = join(tmp.dir, 'ok.result.json');
    const r = await runCli(['submit', spec, '--coordinator', address, '--id', 'job-ok', '--watch', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^job-ok\n/);
    expect(r.stdout).toMatch(/SUCCEEDED\n$/);
    const doc = JSON.parse(await readFile(out, 'utf8')) as JobResultDoc;
    expect(doc.status).toBe('SUCCEEDED');
    expect(doc.cluster.workers).toBe(2);
    expect(doc.final!.x).toHaveLength(5);
    expect(doc.final!.gradNorm).toBeLessThanOrEqual(1e-10);

    const dup = await runCli(['submit', spec, '--coordinator', address, '--id', 'job-ok']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/ALREADY_EXISTS: ALREADY_EXISTS: job job-ok already exists/);
  });

  it('cancel stops a long job; list shows every job with its state', async () => {
    const spec = await writeSpec(tmp.dir, 'long.json', {
      name: 'svc-long',
      problem: { kind: 'logistic', l2: 1e-3, data: { source: 'synthetic', n: 2000, d: 8 } },
      algorithm: { name: 'sgd', batchSize: 4, evalEvery: 10 },
      stop: { maxRounds: 100_000_000, gradNorm: 0 },
    });
    const sub = await runCli(['submit', spec, '--coordinator', address, '--id', 'job-long']);
    expect(sub.code, sub.stderr).toBe(0);
    await waitUntil(
      async () => (await runCli(['list', '--coordinator', address])).stdout.includes('"id":"job-long","name":"svc-long","state":"RUNNING"'),
      20_000,
      'job-long to run',
    );
    const c = await runCli(['cancel', 'job-long', '--coordinator', address]);
    expect(c.code).toBe(0);
    const w = await runCli(['watch', 'job-long', '--coordinator', address]);
    expect(w.stdout).toMatch(/CANCELLED\n$/);
    expect(w.code).toBe(130);
    const list = await runCli(['list', '--coordinator', address]);
    const jobs = list.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; state: string });
    expect(jobs.map((j) => [j.id, j.state])).toEqual([
      ['job-ok', 'SUCCEEDED'],
      ['job-long', 'CANCELLED'],
    ]);
  });

  it('unknown jobs are NOT_FOUND (exit 2); OPTFLEET_COORDINATOR stands in for --coordinator', async () => {
    const r = await runCli(['cancel', 'no-such-job'], REPO, 30_000, { ...process.env, OPTFLEET_COORDINATOR: address });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/NOT_FOUND: NOT_FOUND: job no-such-job not found/);
    const bad = await runCli(['list'], REPO, 30_000, { ...process.env, OPTFLEET_COORDINATOR: '' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/required option '--coordinator <host:port>' not specified/);
    const level = await runCli(['list', '--coordinator', address], REPO, 30_000, { ...process.env, OPTFLEET_LOG_LEVEL: 'loud' });
    expect(level.code).toBe(2);
    expect(level.stderr).toMatch(/OPTFLEET_LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "loud"/);
  });
});

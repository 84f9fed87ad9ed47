/**
 * The NATS transport against a real nats-server (JetStream on, random port, temp store):
 * bit-identical results in-process = 3 NATS workers for several families, an iterate of 2e6
 * float64 (16 MB, over the 1 MB max payload) through the object store, and worker membership in
 * the JetStream KV bucket matching the coordinator's view, through a graceful leave (SIGTERM
 * deletes the key at once) and a crash (SIGKILL: lost after the heartbeat timeout).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type CoordinatorHandle, type JobResultDoc } from '@optfleet/coordinator';
import { PROTOCOL_VERSION, natsNames } from '@optfleet/proto';
import { runCli, startCli, tempDir, waitUntil, writeSpec } from '../helpers/cli.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';
import { bits } from '../helpers/bits.js';

describe('NATS transport with a real nats-server', () => {
  let nats: NatsServerHandle;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    nats = await startNatsServer();
    tmp = await tempDir();
  });
  afterAll(async () => {
    await nats?.stop();
    await tmp?.cleanup();
  });

  const jobs: Record<string, object> = {
    svrg: {
      problem: { kind: 'logistic', l2: 1e-3, data: { source: 'synthetic', n: 2000, d: 8 } },
      algorithm: { name: 'svrg', batchSize: 16, innerSteps: 40 },
      stop: { maxRounds: 200, gradNorm: 0 },
    },
    saga: {
      problem: { kind: 'logistic', l2: 1e-3, data: { source: 'synthetic', n: 2000, d: 8 } },
      algorithm: { name: 'saga', batchSize: 16, evalEvery: 50 },
      stop: { maxRounds: 200, gradNorm: 0 },
    },
    'vr-halpern': {
      problem: { kind: 'bilinear-game', data: { source: 'synthetic', n: 300, m: 4, mu: 0.5 } },
      algorithm: { name: 'vr-halpern', stepSize: 0.2 },
      stop: { maxRounds: 200, residual: 0 },
    },
    'matrix-game eg': {
      problem: { kind: 'matrix-game', data: { source: 'synthetic', n: 8 } },
      algorithm: { name: 'eg', stepSize: 0.05 },
      stop: { maxRounds: 100, residual: 0 },
    },
  };
  for (const [key, job] of Object.entries(jobs)) {
    it(`${key}: in-process = 3 workers over NATS, bit for bit`, async () => {
      const spec = await writeSpec(tmp.dir, `${key.replace(/ /g, '-')}.json`, {
        name: `nats-${key.replace(/ /g, '-')}`,
        seed: 77,
        shards: 5,
        ...job,
      });
      const docs: JobResultDoc[] = [];
      for (const flags of [
        ['--transport', 'inprocess', '--workers', '1'],
        ['--transport', 'nats', '--nats', nats.url, '--workers', '3'],
      ]) {
        const out = join(tmp.dir, `${key.replace(/ /g, '-')}-${flags[1]}.json`);
        const r = await runCli(['run', spec, ...flags, '--out', out, '--json']);
        expect(r.code, r.stderr).toBe(0);
        docs.push(JSON.parse(await readFile(out, 'utf8')) as JobResultDoc);
      }
      expect(docs[1]!.cluster).toMatchObject({ transport: 'nats', workers: 3 });
      expect(bits(docs[1]!.final!.x)).toBe(bits(docs[0]!.final!.x));
      expect(docs[1]!.final!.oracleCalls).toBe(docs[0]!.final!.oracleCalls);
    });
  }

  it('embedded NATS runs remove their per-run bucket, object store and job stream', async () => {
    const nc = await connect({ servers: nats.url });
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const names: string[] = [];
    for await (const si of (await jetstreamManager(nc)).streams.list()) names.push(si.config.name);
    await nc.close();
    expect(names.filter((n) => n.includes('optfleet-run-'))).toEqual([]);
  });

  it('a 2e6-element float64 iterate (16 MB) crosses NATS through the object store, bit for bit', async () => {
    const spec = await writeSpec(tmp.dir, 'big.json', {
      name: 'nats-big',
      seed: 5,
      shards: 2,
      problem: { kind: 'least-squares', l2: 0.1, data: { source: 'synthetic', n: 4, d: 2_000_000 } },
      algorithm: { name: 'lbfgs' },
      stop: { maxRounds: 2, gradNorm: 0 },
    });
    const outs = [join(tmp.dir, 'big-in.json'), join(tmp.dir, 'big-nats.json')];
    expect((await runCli(['run', spec, '--transport', 'inprocess', '--workers', '1', '--out', outs[0]!])).code).toBe(0);
    const r = await runCli(['run', spec, '--transport', 'nats', '--nats', nats.url, '--workers', '2', '--out', outs[1]!]);
    expect(r.code, r.stderr).toBe(0);
    const [a, b] = await Promise.all(outs.map(async (o) => JSON.parse(await readFile(o, 'utf8')) as JobResultDoc));
    expect(b!.final!.x).toHaveLength(2_000_000);
    expect(bits(b!.final!.x)).toBe(bits(a!.final!.x));
    // Each round sends the 16 MB point to both workers.
    expect(b!.final!.rounds).toBeGreaterThanOrEqual(2);
    expect(b!.final!.bytesSent).toBeGreaterThanOrEqual(b!.final!.rounds * 2 * 16_000_000);
  });

  it('the nats-server restarted mid-job (same store): clients reconnect, the job completes with the same bits', async () => {
    const spec = await writeSpec(tmp.dir, 'restart.json', {
      name: 'nats-restart',
      seed: 9,
      shards: 4,
      problem: { kind: 'logistic', l2: 1e-3, data: { source: 'synthetic', n: 4000, d: 10 } },
      // SAGA keeps sticky state on the workers: a task re-sent after the restart must not apply twice.
      algorithm: { name: 'saga', batchSize: 8, evalEvery: 200 },
      stop: { maxRounds: 4000, gradNorm: 0 },
    });
    const ref = join(tmp.dir, 'restart-in.json');
    expect((await runCli(['run', spec, '--transport', 'inprocess', '--workers', '1', '--out', ref])).code).toBe(0);
    const out = join(tmp.dir, 'restart-nats.json');
    const { child, done } = startCli(['run', spec, '--transport', 'nats', '--nats', nats.url, '--workers', '2', '--out', out]);
    let stdout = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    await waitUntil(() => (stdout.match(/^round /gm) ?? []).length >= 3, 60_000, 'the job to make progress');
    expect(child.exitCode).toBeNull();
    await nats.restart();
    // Still running after the server came back: the restart really happened mid-job.
    expect(child.exitCode).toBeNull();
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    const [a, b] = await Promise.all([ref, out].map(async (f) => JSON.parse(await readFile(f, 'utf8')) as JobResultDoc));
    expect(bits(b!.final!.x)).toBe(bits(a!.final!.x));
  });

  it('a job queued while no coordinator runs is executed once one starts; a duplicate id runs once; a bad spec is recorded FAILED', async () => {
    const prefix = `queue-${process.pid}`;
    const spec = await writeSpec(tmp.dir, 'queued.json', {
      name: 'queued',
      seed: 1,
      shards: 2,
      problem: { kind: 'least-squares', l2: 0.1, data: { source: 'synthetic', n: 200, d: 4 } },
      algorithm: { name: 'lbfgs' },
    });
    const first = await runCli(['submit', spec, '--nats', nats.url, '--nats-prefix', prefix, '--id', 'q-1']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe('q-1');
    const again = await runCli(['submit', spec, '--nats', nats.url, '--nats-prefix', prefix, '--id', 'q-1']);
    expect(again.stdout.trim()).toBe('q-1 (duplicate: already queued, runs once)');
    // The CLI checks specs before publishing, so publish a broken one directly: the coordinator
    // must record it as FAILED with the reason, not drop it.
    const { submitToQueue } = await import('@optfleet/coordinator');
    await submitToQueue(nats.url, prefix, 'name: broken\nproblem: 7\n', 'q-bad');

    const coord = await startCoordinator({ listen: '127.0.0.1:0', nats: { url: nats.url, prefix } });
    const worker = startCli([
      'worker',
      '--nats',
      nats.url,
      '--nats-prefix',
      prefix,
      '--threads',
      '1',
      '--quiet',
      '--metrics-listen',
      'off',
    ]);
    try {
      await waitUntil(() => coord.jobs.list().some((j) => j.id === 'q-1' && j.state === 'SUCCEEDED'), 30_000, 'the queued job to run');
      await waitUntil(() => coord.jobs.list().some((j) => j.id === 'q-bad'), 10_000, 'the bad submission to be recorded');
      const jobs = coord.jobs.list().map((j) => [j.id, j.state]);
      expect(jobs.sort()).toEqual([
        ['q-1', 'SUCCEEDED'],
        ['q-bad', 'FAILED'],
      ]);
      expect(coord.jobs.get('q-bad').error?.message).toMatch(/invalid job spec: spec\.problem: /);
      // Work-queue retention: acknowledged submissions leave the stream.
      const nc = await connect({ servers: nats.url });
      const { jetstreamManager } = await import('@nats-io/jetstream');
      await waitUntil(
        async () => (await (await jetstreamManager(nc)).streams.info(natsNames(prefix).jobsStream)).state.messages === 0,
        10_000,
        'the stream to drain',
      );
      await nc.close();
    } finally {
      worker.child.kill('SIGTERM');
      await worker.done;
      await coord.close(200);
    }
  });

  it('a NATS worker speaking another protocol version is rejected and exits 2 naming both versions', async () => {
    const prefix = `proto-${process.pid}`;
    const coord = await startCoordinator({ listen: '127.0.0.1:0', nats: { url: nats.url, prefix } });
    try {
      const r = await runCli(
        ['worker', '--nats', nats.url, '--nats-prefix', prefix, '--protocol-version', '999', '--quiet', '--metrics-listen', 'off'],
        undefined,
        30_000,
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `worker protocol version 999 is not supported: this coordinator speaks protocol version ${PROTOCOL_VERSION}`,
      );
      expect(coord.liveWorkers()).toHaveLength(0);
    } finally {
      await coord.close(200);
    }
  });

  describe('membership in the JetStream KV bucket', () => {
    let coord: CoordinatorHandle;
    const prefix = `members-${process.pid}`;
    beforeAll(async () => {
      coord = await startCoordinator({ listen: '127.0.0.1:0', heartbeatTimeoutMs: 1500, nats: { url: nats.url, prefix } });
    });
    afterAll(async () => coord?.close(200));

    it("the coordinator's view matches the bucket through a graceful leave and a crash", async () => {
      const nc = await connect({ servers: nats.url });
      const kv = await new Kvm(nc).open(natsNames(prefix).workersBucket);
      const keys = async (): Promise<string[]> => {
        const out: string[] = [];
        // keys() may repeat a key re-put (heartbeat) while it lists.
        for await (const k of await kv.keys()) if (!out.includes(k)) out.push(k);
        return out.sort();
      };
      const workers = [0, 1].map((i) =>
        startCli([
          'worker',
          '--nats',
          nats.url,
          '--nats-prefix',
          prefix,
          '--threads',
          '1',
          '--name',
          `kv-${i}`,
          '--quiet',
          '--metrics-listen',
          'off',
        ]),
      );
      try {
        await waitUntil(() => coord.liveWorkers().length === 2, 20_000, 'two NATS workers');
        expect(
          coord
            .liveWorkers()
            .map((w) => w.id)
            .sort(),
        ).toEqual(await keys());
        expect(
          coord
            .natsRegistry!.live()
            .map((w) => w.info.name)
            .sort(),
        ).toEqual(['kv-0', 'kv-1']);
        // Graceful leave: SIGTERM deletes the key, the coordinator sees it at once.
        workers[0]!.child.kill('SIGTERM');
        const left = await workers[0]!.done;
        expect(left.code).toBe(0);
        await waitUntil(() => coord.liveWorkers().length === 1, 3_000, 'the leave to be seen');
        expect(coord.liveWorkers().map((w) => w.id)).toEqual(await keys());
        // Crash: no delete; the worker is lost once its heartbeats stop for the timeout.
        const t0 = Date.now();
        workers[1]!.child.kill('SIGKILL');
        await workers[1]!.done;
        await waitUntil(() => coord.liveWorkers().length === 0, 10_000, 'the crash to be detected');
        expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
      } finally {
        for (const w of workers) w.child.kill('SIGKILL');
        await nc.close();
      }
    });
  });
});

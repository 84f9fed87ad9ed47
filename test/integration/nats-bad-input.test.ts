/**
 * Bad NATS input while a job runs (real nats-server, coordinator, 2 worker processes): garbage and
 * an oversized declared tensor on a worker's task subject, garbage / forged records for
 * unregistered workers in the workers KV bucket, and a non-UTF-8 message, a broken spec and a bad
 * job id on the job-queue subject. Each is logged and rejected (the queue ones recorded as FAILED
 * jobs with the reason), and the running job finishes bit-identical to the in-process run.
 */
import { connect, headers } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { jetstream } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { startCoordinator } from '@optfleet/coordinator';
import { TaskMessage, TaskResultMessage, natsNames, validateJobSpec, PROTOCOL_VERSION } from '@optfleet/proto';
import { referenceRun, startCli, waitUntil, writeSpec } from '../helpers/cli.js';
import { useNatsServerAndTempDir } from '../helpers/nats-server.js';
import { bits } from '../helpers/bits.js';

const JOB = {
  name: 'nats-bad-input',
  seed: 3,
  shards: 4,
  problem: { kind: 'logistic', l2: 1e-3, data: { source: 'synthetic', n: 3000, d: 8 } },
  algorithm: { name: 'saga', batchSize: 8, evalEvery: 500 },
  stop: { maxRounds: 8000, gradNorm: 0 },
};

describe('bad NATS input is logged and rejected; the running job is unaffected', () => {
  const env = useNatsServerAndTempDir();

  it('task subject, workers bucket and job queue', async () => {
    const reference = await referenceRun(await writeSpec(env.dir, 'job.json', JOB), env.dir);

    const prefix = `bad-${process.pid}`;
    const names = natsNames(prefix);
    const logs: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
    const coord = await startCoordinator({
      listen: '127.0.0.1:0',
      minWorkers: 2,
      nats: { url: env.url, prefix },
      log: (level, msg, fields) => logs.push({ level, msg, fields: fields ?? {} }),
    });
    const workers = [0, 1].map((i) =>
      startCli(['worker', '--nats', env.url, '--nats-prefix', prefix, '--threads', '1', '--name', `bad-${i}`, '--metrics-listen', 'off']),
    );
    const nc = await connect({ servers: env.url });
    try {
      await waitUntil(() => coord.eligibleWorkers().length === 2, 30_000, 'two workers');
      const ids = coord.liveWorkers().map((w) => w.id);
      const rec = coord.jobs.submit(validateJobSpec(JOB));
      await waitUntil(() => (coord.jobs.get(rec.id).progress?.round ?? 0) >= 100, 60_000, 'the job to make progress');

      // 1. A worker's task subject: garbage, and a round whose point claims 2^28 elements.
      const garbage = await nc.request(names.taskSubject(ids[0]!), new Uint8Array([0xff, 0xfe, 0x01, 0x02, 0x03]), { timeout: 10_000 });
      const r1 = TaskResultMessage.decode(garbage.data);
      expect(r1.outcome?.$case).toBe('error');
      expect(r1.outcome?.$case === 'error' && r1.outcome.value.message).toMatch(/undecodable task/);
      const huge = TaskMessage.encode({
        taskId: 999_999,
        jobId: rec.id,
        kind: {
          $case: 'round',
          value: {
            round: 0,
            op: 'loss-grad',
            points: [{ dtype: 1, shape: [1 << 28], data: new Uint8Array(16) }],
            shards: [],
          },
        },
      }).finish();
      const r2 = TaskResultMessage.decode((await nc.request(names.taskSubject(ids[1]!), huge, { timeout: 10_000 })).data);
      expect(r2.outcome?.$case).toBe('error');
      const m2 = r2.outcome?.$case === 'error' ? r2.outcome.value : undefined;
      expect(m2?.code).toBe('INVALID_ARGUMENT');
      expect(m2?.message).toMatch(/task\.round\.points\[0\]/);

      // 2. Records for workers that never registered: garbage, a forged id, a wrong field type.
      const kv = await new Kvm(nc).open(names.workersBucket);
      await kv.put('w-garbage', new Uint8Array([0x7b, 0x00, 0xff]));
      const valid = {
        protocolVersion: PROTOCOL_VERSION,
        id: 'w-forged',
        name: 'evil',
        threads: 1,
        memoryBytes: 1,
        backend: 'cpu',
        pid: 1,
        hostname: 'x',
        heartbeatMs: 1000,
        sentAtMs: Date.now(),
      };
      await kv.put('w-impostor', JSON.stringify(valid));
      await kv.put('w-badtype', JSON.stringify({ ...valid, id: 'w-badtype', threads: 'many' }));

      // 3. The job queue: not UTF-8, a broken spec, a bad job id.
      const js = jetstream(nc);
      await js.publish(names.jobsSubject, new Uint8Array([0xc3, 0x28, 0xa0]), { msgID: 'q-binary' });
      await js.publish(names.jobsSubject, 'problem: [1, 2', { msgID: 'q-yaml' });
      const h = headers();
      await js.publish(names.jobsSubject, JSON.stringify(JOB), { msgID: '../etc/passwd', headers: h });

      expect(coord.jobs.get(rec.id).state, 'the bad input must arrive mid-run (make the job longer)').toBe('RUNNING');
      await waitUntil(() => logs.filter((l) => l.msg === 'worker record rejected').length >= 3, 10_000, 'the records to be rejected');
      const rejected = logs.filter((l) => l.msg === 'worker record rejected').map((l) => String(l.fields['reason']));
      expect(rejected.some((r) => /worker record w-garbage: not UTF-8 JSON/.test(r))).toBe(true);
      expect(rejected.some((r) => /worker record w-impostor: id "w-forged" does not match its key/.test(r))).toBe(true);
      expect(rejected.some((r) => /worker record w-badtype: threads: /.test(r))).toBe(true);
      expect(
        coord
          .liveWorkers()
          .map((w) => w.id)
          .sort(),
      ).toEqual([...ids].sort());

      await waitUntil(() => coord.jobs.list().length >= 4, 10_000, 'the bad submissions to be recorded');
      const failed = coord.jobs.list().filter((j) => j.id !== rec.id);
      expect(failed.map((j) => j.state)).toEqual(['FAILED', 'FAILED', 'FAILED']);
      const byId = new Map(failed.map((j) => [j.id, j.error?.message ?? ''] as const));
      expect(byId.get('q-binary')).toMatch(/not UTF-8 text/);
      expect(byId.get('q-yaml')).toMatch(/queued job q-yaml/);
      expect([...byId.values()].some((m) => /queued job id "\.\.\/etc\/passwd" must be 1-128 letters/.test(m))).toBe(true);

      const doc = await coord.jobs.wait(rec.id);
      expect(doc.status, JSON.stringify(doc.error)).toBe('SUCCEEDED');
      expect(bits(doc.final!.x)).toBe(bits(reference.final!.x));
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.done));
      await nc.close();
      await coord.close(200);
    }
  });
});

/**
 * A coordinator killed mid-job loses nothing: a job submitted to the NATS job queue runs on a
 * coordinator process that checkpoints it (driver, counters, every shard's sticky state) into the
 * object store; the coordinator is SIGKILLed; a new coordinator process gets the job back from the
 * queue, resumes it from the checkpoint on the same (still running) workers, and finishes with the
 * bits of the uninterrupted in-process run. The checkpoint is removed once the job ends.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { Objm } from '@nats-io/obj';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, type JobResultDoc } from '@optfleet/coordinator';
import { natsNames } from '@optfleet/proto';
import { referenceRun, runCli, startCli, waitUntil, writeSpec } from '../helpers/cli.js';
import { useNatsServerAndTempDir } from '../helpers/nats-server.js';
import { bits } from '../helpers/bits.js';

const JOB = {
  name: 'resume',
  seed: 8,
  shards: 6,
  problem: { kind: 'logistic', l2: 1e-3, data: { source: 'synthetic', n: 6000, d: 12 } },
  // SAGA: the per-row table on the workers must come back from the checkpoint too.
  algorithm: { name: 'saga', batchSize: 8, evalEvery: 500 },
  stop: { maxRounds: 12000, gradNorm: 0 },
};

describe('a restarted coordinator resumes a queued job from its checkpoint', () => {
  const env = useNatsServerAndTempDir();

  it('SIGKILL mid-job, a new coordinator finishes it bit-identically', async () => {
    const spec = await writeSpec(env.dir, 'resume.json', JOB);
    const reference = await referenceRun(spec, env.dir);

    const prefix = `resume-${process.pid}`;
    const natsFlags = ['--nats', env.url, '--nats-prefix', prefix];
    const coordinator = (): ReturnType<typeof startCli> & { address: () => string | undefined } => {
      const c = startCli([
        'coordinator',
        '--listen',
        '127.0.0.1:0',
        ...natsFlags,
        '--checkpoint-interval',
        '0.5',
        '--queue-ack-wait-ms',
        '2000',
        '--min-workers',
        '2',
        '--metrics-listen',
        'off',
      ]);
      let out = '';
      c.child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      return { ...c, address: () => /listening on (\S+)/.exec(out)?.[1] };
    };
    const nc = await connect({ servers: env.url });
    const first = coordinator();
    const workers = [0, 1].map((i) =>
      startCli(['worker', ...natsFlags, '--threads', '1', '--name', `rs-${i}`, '--metrics-listen', 'off', '--quiet']),
    );
    let second: ReturnType<typeof coordinator> | undefined;
    try {
      await waitUntil(() => first.address() !== undefined, 20_000, 'the first coordinator to listen');
      const sub = await runCli(['submit', spec, ...natsFlags, '--id', 'resume-1']);
      expect(sub.code, sub.stderr).toBe(0);

      const os = await new Objm(nc).open(natsNames(prefix).checkpointsBucket);
      let savedRound = 0;
      await waitUntil(
        async () => {
          const b = await os.getBlob('resume-1');
          if (b === null) return false;
          savedRound = decodeCheckpoint(b).runner.rounds;
          return savedRound >= 200;
        },
        60_000,
        'a checkpoint past round 200',
      );
      first.child.kill('SIGKILL');
      await first.done;

      second = coordinator();
      await waitUntil(() => second!.address() !== undefined, 20_000, 'the second coordinator to listen');
      const addr = second.address()!;
      await waitUntil(
        async () => {
          const l = await runCli(['list', '--coordinator', addr]);
          return l.stdout.includes('"resume-1"') && /"state":"(SUCCEEDED|FAILED|CANCELLED)"/.test(l.stdout);
        },
        90_000,
        'the job to finish on the second coordinator',
      );
      const out = join(env.dir, 'resumed.json');
      const w = await runCli(['watch', 'resume-1', '--coordinator', addr, '--out', out]);
      expect(w.code, w.stderr + w.stdout).toBe(0);
      const doc = JSON.parse(await readFile(out, 'utf8')) as JobResultDoc;
      expect(doc.status).toBe('SUCCEEDED');
      // It resumed (not restarted): from a checkpoint at or after the one we saw before the kill.
      expect(doc.resumedFrom?.round).toBeGreaterThanOrEqual(savedRound);
      expect(doc.resumedFrom!.round).toBeLessThan(doc.final!.rounds);
      expect(doc.final!.rounds).toBe(reference.final!.rounds);
      expect(doc.final!.oracleCalls).toBe(reference.final!.oracleCalls);
      expect(bits(doc.final!.x)).toBe(bits(reference.final!.x));
      // A finished job's checkpoint is removed.
      await waitUntil(async () => (await os.info('resume-1'))?.deleted ?? true, 10_000, 'the checkpoint to be removed');
    } finally {
      first.child.kill('SIGKILL');
      second?.child.kill('SIGKILL');
      for (const w of workers) w.child.kill('SIGKILL');
      await Promise.all([first.done, second?.done, ...workers.map((w) => w.done)]);
      await nc.close();
    }
  });
});

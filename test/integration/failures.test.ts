/**
 * Process failures end cleanly: Ctrl-C on `optfleet run` leaves no orphaned worker processes,
 * a killed coordinator takes its workers with it, and a worker that dies mid-job makes the job
 * end FAILED naming the worker — never a hang.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobResultDoc } from '@optfleet/coordinator';
import { runCli, startCli, tempDir, waitUntil, writeSpec } from '../helpers/cli.js';
import { bits } from '../helpers/bits.js';

/** PIDs whose parent is `ppid` (from /proc/<pid>/stat). */
async function childrenOf(ppid: number): Promise<number[]> {
  const { readdir, readFile: rf } = await import('node:fs/promises');
  const out: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = await rf(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid && fields[0] !== 'Z') out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function zombieOrGone(pid: number): Promise<boolean> {
  if (!alive(pid)) return true;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

const longJob = {
  name: 'long',
  seed: 1,
  shards: 4,
  problem: { kind: 'logistic', l2: 1e-3, data: { source: 'synthetic', n: 2000, d: 10 } },
  algorithm: { name: 'sgd', batchSize: 8, evalEvery: 20 },
  stop: { maxRounds: 100_000_000, gradNorm: 0, maxSeconds: 600 },
};

/** SAGA (sticky per-row table on the workers), long enough over gRPC for a worker to be killed mid-run. */
const survivable = {
  name: 'survivable',
  seed: 5,
  shards: 6,
  problem: { kind: 'logistic', l2: 1e-3, data: { source: 'synthetic', n: 6000, d: 12 } },
  algorithm: { name: 'saga', batchSize: 8, evalEvery: 250 },
  stop: { maxRounds: 10000, gradNorm: 0 },
};

describe('failures', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir();
  });
  afterAll(async () => tmp.cleanup());

  it('Ctrl-C (SIGINT) stops the run and leaves no worker processes behind', async () => {
    const spec = await writeSpec(tmp.dir, 'long.json', longJob);
    const { child, done } = startCli(['run', spec, '--workers', '2']);
    let workers: number[] = [];
    await waitUntil(async () => (workers = await childrenOf(child.pid!)).length === 2, 30_000, 'two worker processes');
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    await waitUntil(() => out.includes('round'), 30_000, 'progress lines');
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/SIGINT: cancelling the job and stopping workers/);
    await waitUntil(async () => (await Promise.all(workers.map(zombieOrGone))).every(Boolean), 10_000, 'workers to exit');
  });

  it('a SIGKILLed embedded coordinator takes its workers with it (they exit on disconnect)', async () => {
    const spec = await writeSpec(tmp.dir, 'long2.json', longJob);
    const { child, done } = startCli(['run', spec, '--workers', '2']);
    let workers: number[] = [];
    await waitUntil(async () => (workers = await childrenOf(child.pid!)).length === 2, 30_000, 'two worker processes');
    await new Promise((r) => setTimeout(r, 1000));
    child.kill('SIGKILL');
    await done;
    await waitUntil(async () => (await Promise.all(workers.map(zombieOrGone))).every(Boolean), 15_000, 'orphaned workers to exit');
  });

  it('a worker process that dies mid-job: the job resumes on the other from its last checkpoint, bit-identical to an undisturbed run', async () => {
    const spec = await writeSpec(tmp.dir, 'survive.json', survivable);
    const refOut = join(tmp.dir, 'survive.ref.json');
    expect((await runCli(['run', spec, '--transport', 'inprocess', '--workers', '1', '--out', refOut])).code).toBe(0);
    const ref = JSON.parse(await readFile(refOut, 'utf8')) as JobResultDoc;
    const out = join(tmp.dir, 'survive.result.json');
    const { child, done } = startCli(['run', spec, '--workers', '2', '--checkpoint-interval', '0.2', '--out', out]);
    let workers: number[] = [];
    await waitUntil(async () => (workers = await childrenOf(child.pid!)).length === 2, 30_000, 'two worker processes');
    let stdout = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    await waitUntil(() => (stdout.match(/^round /gm) ?? []).length >= 3, 30_000, 'progress lines');
    await new Promise((r) => setTimeout(r, 600)); // at least one checkpoint past round 0
    const victim = workers[1]!;
    process.kill(victim, 'SIGKILL');
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(await readFile(out, 'utf8')) as JobResultDoc;
    expect(doc.status).toBe('SUCCEEDED');
    expect(doc.recoveries).toHaveLength(1);
    const rec = doc.recoveries![0]!;
    expect(rec.error).toMatch(/worker w-\d+-\w+ \(embedded-\d, pid \d+\) was lost/);
    expect(rec.error).toContain(`pid ${victim}`);
    expect(rec.workers).toBe(1);
    // It went on from a checkpoint (not round 0) taken before the loss, and redid only what followed it.
    expect(rec.resumedFromRound).toBeGreaterThan(0);
    expect(rec.resumedFromRound).toBeLessThanOrEqual(rec.lostAtRound);
    expect(rec.lostAtRound).toBeLessThan(doc.final!.rounds);
    expect(doc.final!.rounds).toBe(ref.final!.rounds);
    expect(bits(doc.final!.x)).toBe(bits(ref.final!.x));
    await waitUntil(async () => (await Promise.all(workers.map(zombieOrGone))).every(Boolean), 10_000, 'workers to exit');
  });

  it('when the last worker dies mid-job the job fails WORKER_LOST naming it', async () => {
    const spec = await writeSpec(tmp.dir, 'long3.json', longJob);
    const out = join(tmp.dir, 'killed.result.json');
    const { child, done } = startCli(['run', spec, '--workers', '1', '--out', out]);
    let workers: number[] = [];
    await waitUntil(async () => (workers = await childrenOf(child.pid!)).length === 1, 30_000, 'one worker process');
    let stdout = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    await waitUntil(() => stdout.includes('round'), 30_000, 'progress lines');
    const victim = workers[0]!;
    process.kill(victim, 'SIGKILL');
    const r = await done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FAILED: WORKER_LOST worker w-\d+-\w+ \(embedded-\d, pid \d+\) was lost.*no worker left to resume on/);
    expect(r.stderr).toContain(`pid ${victim}`);
    const doc = JSON.parse(await readFile(out, 'utf8')) as JobResultDoc;
    expect(doc.status).toBe('FAILED');
    expect(doc.error?.code).toBe('WORKER_LOST');
    expect(doc.error?.message).toContain(`pid ${victim}`);
    await waitUntil(async () => (await Promise.all(workers.map(zombieOrGone))).every(Boolean), 10_000, 'workers to exit');
  });
});

/**
 * Process failures end cleanly: Ctrl-C on `optfleet run` leaves no orphaned worker processes,
 * a killed coordinator takes its workers with it, and a worker that dies mid-job makes the job
 * end FAILED naming the worker — never a hang.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobResultDoc } from '@optfleet/coordinator';
import { startCli, tempDir, waitUntil, writeSpec } from '../helpers/cli.js';

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

  it('a worker process that dies mid-job fails the job with a message naming the worker', async () => {
    const spec = await writeSpec(tmp.dir, 'long3.json', longJob);
    const out = join(tmp.dir, 'killed.result.json');
    const { child, done } = startCli(['run', spec, '--workers', '2', '--out', out]);
    let workers: number[] = [];
    await waitUntil(async () => (workers = await childrenOf(child.pid!)).length === 2, 30_000, 'two worker processes');
    let stdout = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    await waitUntil(() => stdout.includes('round'), 30_000, 'progress lines');
    const victim = workers[1]!;
    process.kill(victim, 'SIGKILL');
    const r = await done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FAILED: WORKER_LOST worker w-\d+-\w+ \(embedded-\d, pid \d+\) was lost/);
    expect(r.stderr).toContain(`pid ${victim}`);
    const doc = JSON.parse(await readFile(out, 'utf8')) as JobResultDoc;
    expect(doc.status).toBe('FAILED');
    expect(doc.error?.code).toBe('WORKER_LOST');
    expect(doc.error?.message).toContain(`pid ${victim}`);
    await waitUntil(async () => (await Promise.all(workers.map(zombieOrGone))).every(Boolean), 10_000, 'workers to exit');
  });
});

/** Runs the built `optfleet` binary as a real process and collects its output. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { JobResultDoc } from '@optfleet/coordinator';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(REPO, 'cli/dist/main.js');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function startCli(
  args: readonly string[],
  cwd = REPO,
  env: NodeJS.ProcessEnv = process.env,
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runCli(args: readonly string[], cwd = REPO, timeoutMs = 170_000, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  const { child, done } = startCli(args, cwd, env);
  const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return done.finally(() => clearTimeout(t));
}

/** A temporary directory removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'optfleet-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function writeSpec(dir: string, name: string, spec: unknown): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, typeof spec === 'string' ? spec : JSON.stringify(spec, null, 2));
  return p;
}

/** PIDs of live processes whose command line contains `needle` (from /proc). */
export async function processesMatching(needle: string): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const out: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = (await readFile(`/proc/${e}/cmdline`, 'utf8')).split('\0').join(' ');
      const stat = await readFile(`/proc/${e}/stat`, 'utf8');
      if (stat.split(') ')[1]?.startsWith('Z')) continue;
      if (cmd.includes(needle)) out.push(Number(e));
    } catch {
      // process went away
    }
  }
  return out;
}

export async function waitUntil(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs a spec file in-process (the sequential reference every distributed run must match) and returns its result. */
export async function referenceRun(specPath: string, dir: string): Promise<JobResultDoc> {
  const out = join(dir, `${basename(specPath)}.reference.json`);
  const r = await runCli(['run', specPath, '--transport', 'inprocess', '--workers', '1', '--out', out]);
  if (r.code !== 0) throw new Error(`the in-process reference run of ${specPath} failed (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(await readFile(out, 'utf8')) as JobResultDoc;
}

/**
 * A real nats-server for tests (modelled on nst's NatsServer.start): a temp config with
 * `port: -1`, `http: 127.0.0.1:-1`, a ports file dir and a JetStream store dir under mkdtemp;
 * spawn `nats-server -c`; race "ports file appeared" against "process exited"; TCP-probe the port.
 * A missing binary fails with install instructions. `restart()` reuses the same store and port.
 * If NATS_URL is set, that server is used instead (nothing is started or stopped).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { tempDir } from './cli.js';

export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Stops and starts the server again on the same port and store directory. */
  restart(): Promise<void>;
}

function binary(): string {
  const r = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(
      'nats-server is not on PATH: install it with `apt-get install -y nats-server` (Debian/Ubuntu); .ci/run does this in CI',
    );
  }
  return 'nats-server';
}

async function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startNatsServer(): Promise<NatsServerHandle> {
  const external = process.env['NATS_URL'];
  if (external !== undefined && external !== '') {
    const port = Number(new URL(external.replace(/^nats:/, 'http:')).port || 4222);
    return {
      url: external,
      port,
      stop: () => Promise.resolve(),
      restart: () => Promise.reject(new Error('cannot restart an external NATS_URL server')),
    };
  }
  const bin = binary();
  const dir = await mkdtemp(join(tmpdir(), 'optfleet-nats-'));
  const portsDir = join(dir, 'ports');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(portsDir);
  let port = -1;
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const config = [
      `listen: "127.0.0.1:${port}"`,
      'http: "127.0.0.1:-1"',
      `ports_file_dir: ${JSON.stringify(portsDir)}`,
      `jetstream { store_dir: ${JSON.stringify(join(dir, 'js'))} }`,
    ].join('\n');
    await writeFile(join(dir, 'nats.conf'), config + '\n');
    for (const f of await readdir(portsDir)) await rm(join(portsDir, f), { force: true });
    let stderr = '';
    const c = spawn(bin, ['-c', join(dir, 'nats.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    c.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const t0 = Date.now();
    for (;;) {
      if (c.exitCode !== null) throw new Error(`nats-server exited with ${c.exitCode}: ${stderr}`);
      const files = await readdir(portsDir);
      if (files.length > 0) {
        const info = JSON.parse(await readFile(join(portsDir, files[0]!), 'utf8')) as { nats: string[] };
        const u = new URL(info.nats[0]!.replace(/^nats:/, 'http:'));
        port = Number(u.port);
        if (await probe(port)) return;
      }
      if (Date.now() - t0 > 20_000) throw new Error(`nats-server not ready after 20 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async (): Promise<void> => {
    const c = child;
    if (c === undefined || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  try {
    await launch();
  } catch (e) {
    await kill();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    stop: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await kill();
      await launch();
    },
  };
}

/**
 * For a describe block: a real nats-server and a temporary directory for its tests, started
 * before them and removed after. Read `url` and `dir` inside the tests (they exist from beforeAll).
 */
export function useNatsServerAndTempDir(): { readonly url: string; readonly dir: string } {
  let nats: NatsServerHandle | undefined;
  let tmp: { dir: string; cleanup: () => Promise<void> } | undefined;
  beforeAll(async () => {
    nats = await startNatsServer();
    tmp = await tempDir();
  });
  afterAll(async () => {
    await nats?.stop();
    await tmp?.cleanup();
  });
  return {
    get url(): string {
      return nats!.url;
    },
    get dir(): string {
      return tmp!.dir;
    },
  };
}

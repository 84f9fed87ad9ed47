/**
 * The container image, built from deploy/Dockerfile and run with podman: a coordinator and two
 * worker containers complete a job submitted from a third container (`submit --watch`), with the
 * same final iterate, bit for bit, as the in-process reference; the same over NATS as the Helm
 * chart wires it (OPTFLEET_NATS_URL in the environment, the job queued with `submit --nats` and
 * taken from the JetStream queue by the coordinator container); then SIGTERM (`podman stop`) to an
 * idle worker container and to the coordinator container ends each with exit code 0 on its own
 * (137 would mean podman had to SIGKILL it) and a clean-shutdown log line.
 *
 * beforeAll runs deploy/ci/build-image.sh (podman set-up, the locally made base image, then
 * `podman build`; layers are cached, so an unchanged tree rebuilds in seconds). It needs root and
 * podman: `bash .ci/run` installs podman, runc and debootstrap. On a machine without them set
 * OPTFLEET_SKIP_CONTAINER_TESTS=1 to skip this file (never set in CI).
 */
import { spawnSync } from 'node:child_process';
import { chmod, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli, tempDir, waitUntil, writeSpec } from '../helpers/cli.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';

const IMAGE = process.env['OPTFLEET_IMAGE'] ?? 'localhost/optfleet:ci';
const SKIP = process.env['OPTFLEET_SKIP_CONTAINER_TESTS'] === '1';
const RUNTIME = ['--runtime', '/usr/sbin/runc'];
/** The Helm chart's securityContext: read-only root (a tmpfs /tmp), no capabilities, no privilege escalation. */
const HARDENED = ['--read-only', '--cap-drop=ALL', '--security-opt=no-new-privileges'];
const NAME = `optfleet-ct-${process.pid}`;

function podman(args: readonly string[], timeoutMs = 120_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('podman', [...RUNTIME, ...args], { encoding: 'utf8', timeout: timeoutMs });
  if (r.error !== undefined) throw new Error(`podman ${args[0]}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

/** A job small enough for two 1-thread workers on a shared CI machine; round-bounded, not time-bounded. */
const SPEC = {
  name: 'container-logistic',
  seed: 7,
  shards: 4,
  problem: { kind: 'logistic', l2: 1e-3, data: { source: 'synthetic', n: 2000, d: 10 } },
  algorithm: { name: 'svrg', batchSize: 32 },
  stop: { maxRounds: 300 },
};

const bits = (x: number[]): string => Buffer.from(new Float64Array(x).buffer).toString('hex');

describe.skipIf(SKIP)('container image (podman)', () => {
  const containers: string[] = [];
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let grpc = 0;
  let coordMetrics = 0;
  const workerMetrics: number[] = [];
  let nats: NatsServerHandle | undefined;
  let reference: { final: { x: number[] } } = { final: { x: [] } };

  beforeAll(async () => {
    const v = spawnSync('podman', ['--version'], { encoding: 'utf8' });
    if (v.error !== undefined)
      throw new Error(
        'podman is not installed: `bash .ci/run` (as root) installs podman, runc and debootstrap and builds the image; ' +
          'or set OPTFLEET_SKIP_CONTAINER_TESTS=1 on a machine without root',
      );
    const build = spawnSync('bash', [join(REPO, 'deploy/ci/build-image.sh')], {
      encoding: 'utf8',
      env: { ...process.env, OPTFLEET_IMAGE: IMAGE },
      timeout: 900_000,
    });
    expect(build.status, `deploy/ci/build-image.sh failed:\n${build.stdout.slice(-4000)}\n${build.stderr.slice(-4000)}`).toBe(0);
    ({ dir, cleanup } = await tempDir());
    await chmod(dir, 0o777); // the containers run as uid 1000 and write the result here
    grpc = await freePort();
    coordMetrics = await freePort();
    workerMetrics.push(await freePort(), await freePort());
  }, 900_000);

  afterAll(async () => {
    for (const c of containers) podman(['rm', '-f', '-t', '0', c]);
    await nats?.stop();
    await cleanup();
  });

  function start(name: string, env: readonly string[], args: readonly string[]): void {
    const r = podman(['run', '-d', '--name', name, '--network', 'host', ...HARDENED, ...env, IMAGE, ...args]);
    expect(r.status, `podman run ${name}: ${r.stderr}`).toBe(0);
    containers.push(name);
  }

  it('runs a job on a coordinator and two worker containers, bit-identical to in-process', async () => {
    start(
      `${NAME}-coord`,
      [],
      ['coordinator', `--listen=127.0.0.1:${grpc}`, `--metrics-listen=127.0.0.1:${coordMetrics}`, '--min-workers=2'],
    );
    for (const [i, port] of workerMetrics.entries())
      start(
        `${NAME}-w${i}`,
        [],
        ['worker', `--coordinator=127.0.0.1:${grpc}`, `--metrics-listen=127.0.0.1:${port}`, '--threads=1', `--name=w${i}`],
      );
    for (const port of [coordMetrics, ...workerMetrics]) await waitUntil(() => ready(port), 60_000, `/readyz on :${port}`);

    const specPath = await writeSpec(dir, 'spec.json', SPEC);
    await chmod(specPath, 0o644);
    const submit = podman(
      [
        'run',
        '--rm',
        '--network',
        'host',
        '-v',
        `${dir}:/job`,
        IMAGE,
        'submit',
        '/job/spec.json',
        `--coordinator=127.0.0.1:${grpc}`,
        '--id=container-job',
        '--watch',
        '--out=/job/result.json',
      ],
      170_000,
    );
    expect(submit.status, submit.stdout + submit.stderr).toBe(0);
    expect(submit.stdout).toContain('SUCCEEDED');
    const inContainers = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as { status: string; final: { x: number[] } };
    expect(inContainers.status).toBe('SUCCEEDED');

    const refOut = join(dir, 'ref.json');
    const ref = await runCli(['run', specPath, '--transport', 'inprocess', '--out', refOut]);
    expect(ref.code, ref.stderr).toBe(0);
    reference = JSON.parse(await readFile(refOut, 'utf8')) as { final: { x: number[] } };
    expect(inContainers.final.x.length).toBe(SPEC.problem.data.d);
    expect(inContainers.final.x.some((v) => v !== 0)).toBe(true);
    expect(bits(inContainers.final.x)).toBe(bits(reference.final.x));

    const metrics = await (await fetch(`http://127.0.0.1:${coordMetrics}/metrics`)).text();
    expect(metrics).toMatch(/^optfleet_jobs_finished_total\{status="SUCCEEDED"\} 1$/m);
  });

  it('runs a job queued over NATS on coordinator and worker containers configured as the Helm chart does (env OPTFLEET_NATS_URL)', async () => {
    nats = await startNatsServer();
    const env = ['-e', `OPTFLEET_NATS_URL=${nats.url}`];
    const natsGrpc = await freePort();
    const natsMetrics = [await freePort(), await freePort()];
    start(`${NAME}-ncoord`, env, [
      'coordinator',
      `--listen=127.0.0.1:${natsGrpc}`,
      `--metrics-listen=127.0.0.1:${natsMetrics[0]}`,
      '--nats-prefix=ct',
    ]);
    start(`${NAME}-nw0`, env, ['worker', '--nats-prefix=ct', `--metrics-listen=127.0.0.1:${natsMetrics[1]}`, '--threads=1', '--name=nw0']);
    for (const port of natsMetrics) await waitUntil(() => ready(port), 60_000, `/readyz on :${port}`);

    const queued = podman([
      'run',
      '--rm',
      '--network',
      'host',
      '-v',
      `${dir}:/job`,
      IMAGE,
      'submit',
      '/job/spec.json',
      `--nats=${nats.url}`,
      '--nats-prefix=ct',
      '--id=queued-job',
    ]);
    expect(queued.status, queued.stdout + queued.stderr).toBe(0);
    expect(queued.stdout.trim()).toBe('queued-job');
    await waitUntil(
      async () => (await runCli(['list', '--coordinator', `127.0.0.1:${natsGrpc}`])).stdout.includes('queued-job'),
      60_000,
      'the coordinator container to take the job from the queue',
    );
    const watch = podman(
      [
        'run',
        '--rm',
        '--network',
        'host',
        '-v',
        `${dir}:/job`,
        IMAGE,
        'watch',
        'queued-job',
        `--coordinator=127.0.0.1:${natsGrpc}`,
        '--out=/job/nats-result.json',
      ],
      170_000,
    );
    expect(watch.status, watch.stdout + watch.stderr).toBe(0);
    const result = JSON.parse(await readFile(join(dir, 'nats-result.json'), 'utf8')) as { status: string; final: { x: number[] } };
    expect(result.status).toBe('SUCCEEDED');
    expect(bits(result.final.x)).toBe(bits(reference.final.x));
  });

  it('SIGTERM (podman stop) ends an idle worker container and the coordinator container cleanly', () => {
    for (const [name, cleanLine] of [
      // An idle worker: "stopped by the worker" before the SIGTERM drain existed, "drained: handed
      // back 0 shard(s)" with it.
      [`${NAME}-w1`, /stopped by the worker|drained: handed back 0 shard/],
      [`${NAME}-coord`, /shutting down/],
    ] as const) {
      // 30 s before podman would fall back to SIGKILL; a clean exit comes well before.
      const stop = podman(['stop', '--time', '30', name], 60_000);
      expect(stop.status, stop.stderr).toBe(0);
      const state = podman(['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', name]);
      expect(state.stdout.trim(), `${name} exit code (137 = SIGKILL)`).toBe('0 false');
      const logs = podman(['logs', name]);
      expect(logs.stdout + logs.stderr, `${name} logs`).toMatch(cleanLine);
    }
  });

  it('SIGTERM reaches a CLI command without its own handler (tini is PID 1): a waiting `submit --watch` ends with 143, not 137', async () => {
    // A coordinator that never gets its 5 workers: the job stays QUEUED and `submit --watch` waits.
    const g = await freePort();
    const m = await freePort();
    start(`${NAME}-qcoord`, [], ['coordinator', `--listen=127.0.0.1:${g}`, `--metrics-listen=127.0.0.1:${m}`, '--min-workers=5']);
    await waitUntil(() => ready(m), 60_000, `/readyz on :${m}`);
    start(
      `${NAME}-watcher`,
      ['-v', `${dir}:/job`],
      ['submit', '/job/spec.json', `--coordinator=127.0.0.1:${g}`, '--id=waiting', '--watch'],
    );
    await waitUntil(
      async () => (await runCli(['list', '--coordinator', `127.0.0.1:${g}`])).stdout.includes('"waiting"'),
      60_000,
      'the job to be queued',
    );
    const stop = podman(['stop', '--time', '30', `${NAME}-watcher`], 60_000);
    expect(stop.status, stop.stderr).toBe(0);
    const state = podman(['inspect', '--format', '{{.State.ExitCode}}', `${NAME}-watcher`]);
    expect(state.stdout.trim(), 'exit code: 143 = ended by SIGTERM, 137 = podman had to SIGKILL').toBe('143');
  });

  it('carries the OCI labels of this revision and runs as a non-root numeric user', () => {
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).stdout.trim();
    const l = JSON.parse(podman(['image', 'inspect', '--format', '{{json .Config.Labels}}', IMAGE]).stdout) as Record<string, string>;
    const user = podman(['image', 'inspect', '--format', '{{.Config.User}}', IMAGE]).stdout.trim();
    expect(l['org.opencontainers.image.revision']).toBe(head);
    expect(l['org.opencontainers.image.title']).toBe('optfleet');
    expect(l['org.opencontainers.image.created']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(user).toBe('1000:1000');
  });

  it("runs the Helm chart's GPU worker command and has the Vulkan loader", () => {
    // The chart's command for GPU workers (helm/optfleet/templates/worker-deployment.yaml).
    const gpuCommand = ['/usr/bin/tini', '--', 'node', '--no-concurrent-recompilation', '/app/cli/bin/optfleet.js'];
    const r = podman(['run', '--rm', '--entrypoint', gpuCommand[0]!, IMAGE, ...gpuCommand.slice(1), 'worker', '--help']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('--metrics-listen');
    const loader = podman(['run', '--rm', '--entrypoint', 'sh', IMAGE, '-c', 'ldconfig -p | grep -c libvulkan.so.1']);
    expect(loader.stdout.trim(), 'libvulkan.so.1 in the image').not.toBe('0');
  });
});

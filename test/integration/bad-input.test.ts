/**
 * Every bad input gets a clear error naming the field, line or limit: exit code 2 from the CLI,
 * INVALID_ARGUMENT over gRPC — including malformed tensors on the wire in both directions and a
 * worker speaking another protocol version.
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type CoordinatorHandle } from '@optfleet/coordinator';
import {
  ConnectRequest,
  type ConnectResponse,
  JobServiceClient,
  PROTOCOL_VERSION,
  WorkerChannelServiceClient,
  WorkerChannelServiceService,
  f64Tensor,
  parseJobSpec,
  type TaskResultMessage,
} from '@optfleet/proto';
import { runCli, startCli, tempDir, waitUntil, writeSpec } from '../helpers/cli.js';

const base = {
  name: 'bad',
  problem: { kind: 'logistic', l2: 1e-3, data: { source: 'synthetic', n: 100, d: 4 } },
  algorithm: { name: 'lbfgs' },
};

describe('bad input', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir();
  });
  afterAll(async () => tmp.cleanup());

  const specCases: Array<[string, unknown, RegExp]> = [
    ['unknown field', { ...base, algoritm: { name: 'svrg' } }, /spec\.algoritm: unknown field/],
    ['wrong type', { ...base, seed: 'seven' }, /spec\.seed: expected number, got string "seven"/],
    [
      'negative size',
      { ...base, problem: { ...base.problem, data: { source: 'synthetic', n: -5, d: 4 } } },
      /spec\.problem\.data\.n: must be ≥ 1/,
    ],
    ['zero size', { ...base, shards: 0 }, /spec\.shards: must be ≥ 1/],
    [
      'absurd size',
      { ...base, problem: { ...base.problem, data: { source: 'synthetic', n: 100, d: 1e12 } } },
      /spec\.problem\.data\.d: must be ≤ 10000000 \(documented limit\)/,
    ],
    ['NaN', '{"name":"x","seed":NaN}', /not valid YAML\/JSON|spec\.seed/],
  ];

  for (const [label, spec, message] of specCases) {
    it(`job spec: ${label} → exit 2 naming the field`, async () => {
      const p = await writeSpec(tmp.dir, `${label.replace(/ /g, '-')}.json`, spec);
      const r = await runCli(['run', p, '--transport', 'inprocess']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/INVALID_ARGUMENT/);
      expect(r.stderr).toMatch(message);
    });
  }

  it('missing spec file and bad flags → exit 2', async () => {
    const r1 = await runCli(['run', join(tmp.dir, 'nope.yaml')]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/spec file .*nope\.yaml cannot be read: ENOENT/);
    const p = await writeSpec(tmp.dir, 'ok.json', base);
    const r2 = await runCli(['run', p, '--workers', '0']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/--workers must be an integer in \[1, 64\], got "0"/);
    const r3 = await runCli(['run', p, '--transport', 'carrier-pigeon']);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/--transport must be inprocess, grpc or nats, got "carrier-pigeon"/);
    const r4 = await runCli(['run', p, '--no-such-flag']);
    expect(r4.code).toBe(2);
  });

  const dataCases: Array<[string, string, RegExp]> = [
    ['malformed LIBSVM line', '+1 1:0.5 2:1\n-1 1:0.5 x:1\n', /bad\.libsvm:2: .*"x"/],
    ['NaN in data', '+1 1:0.5 2:1\n-1 1:NaN 2:1\n', /bad\.libsvm:2: .*NaN/],
  ];
  for (const transport of ['inprocess', 'grpc']) {
    for (const [label, text, message] of dataCases) {
      it(`${label} (${transport}) → exit 2 naming file:line, before any round`, async () => {
        const file = join(tmp.dir, 'bad.libsvm');
        await writeSpec(tmp.dir, 'bad.libsvm', text);
        const p = await writeSpec(tmp.dir, 'file.json', {
          ...base,
          problem: { ...base.problem, data: { source: 'file', format: 'libsvm', path: file } },
        });
        const r = await runCli(['run', p, '--transport', transport, '--workers', '1', '--json']);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stdout).not.toMatch(/"event":"progress"/);
      });
    }
  }

  it('missing data file → exit 2 naming the path', async () => {
    const p = await writeSpec(tmp.dir, 'missing.json', {
      ...base,
      problem: { ...base.problem, data: { source: 'file', format: 'libsvm', path: '/nonexistent/data.libsvm' } },
    });
    const r = await runCli(['run', p, '--workers', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/NOT_FOUND.*\/nonexistent\/data\.libsvm/);
  });

  it('dimension mismatch (a feature index over problem.data.features) → exit 2 naming the limit', async () => {
    const file = join(tmp.dir, 'wide.libsvm');
    await writeSpec(tmp.dir, 'wide.libsvm', '+1 1:1 2:1\n-1 7:1\n');
    const p = await writeSpec(tmp.dir, 'wide.json', {
      ...base,
      problem: { ...base.problem, data: { source: 'file', format: 'libsvm', path: file, features: 3 } },
    });
    const r = await runCli(['run', p, '--transport', 'inprocess']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/wide\.libsvm:2: .*7.*3/);
  });

  describe('over gRPC', () => {
    let coord: CoordinatorHandle;
    beforeAll(async () => {
      coord = await startCoordinator({ listen: '127.0.0.1:0', heartbeatIntervalMs: 200, heartbeatTimeoutMs: 5000 });
    });
    afterAll(async () => coord.close(200));

    it('SubmitJob with a bad spec → INVALID_ARGUMENT naming the field', async () => {
      const client = new JobServiceClient(coord.server.address, grpc.credentials.createInsecure());
      const err = await new Promise<grpc.ServiceError>((resolve) =>
        client.submitJob({ spec: JSON.stringify({ ...base, shards: -1 }), jobId: '' }, (e) => resolve(e!)),
      );
      client.close();
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/INVALID_ARGUMENT: invalid job spec: spec\.shards: must be ≥ 1/);
    });

    it('a worker speaking another protocol version is rejected and exits 2 with both versions named', async () => {
      const r = await runCli([
        'worker',
        '--coordinator',
        coord.server.address,
        '--protocol-version',
        String(PROTOCOL_VERSION + 1),
        '--exit-on-disconnect',
        '--metrics-listen',
        'off',
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `worker protocol version ${PROTOCOL_VERSION + 1} is not supported: this coordinator speaks protocol version ${PROTOCOL_VERSION}`,
      );
      expect(coord.registry.live()).toHaveLength(0);
    });

    for (const kind of ['truncated', 'oversized'] as const) {
      it(`a ${kind} result tensor from a worker fails the job with INVALID_ARGUMENT naming the worker and field`, async () => {
        // A fake worker: registers, answers open honestly, then returns a malformed tensor.
        const client = new WorkerChannelServiceClient(coord.server.address, grpc.credentials.createInsecure());
        const stream = client.connect();
        stream.on('error', () => undefined);
        stream.write(
          ConnectRequest.fromPartial({
            body: { $case: 'register', value: { protocolVersion: PROTOCOL_VERSION, name: `fake-${kind}`, threads: 1, backend: 'cpu' } },
          }),
        );
        stream.on('data', (m: ConnectResponse) => {
          if (m.body?.$case !== 'task') return;
          const task = m.body.value;
          let result: TaskResultMessage;
          if (task.kind?.$case === 'open') {
            result = {
              taskId: task.taskId,
              outcome: {
                $case: 'open',
                value: {
                  shards: task.kind.value.shards.map((shard) => ({
                    shard,
                    rows: 50,
                    cols: 4,
                    nnz: 200,
                    maxRowNormSq: 1,
                    lipschitz: 0,
                    bytes: 1,
                  })),
                },
              },
            };
          } else if (task.kind?.$case === 'round') {
            const good = f64Tensor(new Float64Array(6));
            const data = kind === 'truncated' ? good.data.subarray(0, 40) : new Uint8Array(56);
            result = {
              taskId: task.taskId,
              outcome: { $case: 'round', value: { partials: [{ lo: 0, hi: 2, value: { ...good, data } }] } },
            };
          } else {
            result = { taskId: task.taskId, outcome: { $case: 'closed', value: {} } };
          }
          stream.write({ body: { $case: 'result', value: result } });
        });
        await coord.registry.waitFor(1);
        const rec = coord.jobs.submit(parseJobSpec(JSON.stringify({ ...base, shards: 2 })));
        const doc = await coord.jobs.wait(rec.id);
        stream.end();
        client.close();
        await waitUntil(() => coord.registry.live().length === 0, 5000, 'fake worker to leave');
        expect(doc.status).toBe('FAILED');
        expect(doc.error?.code).toBe('INVALID_ARGUMENT');
        expect(doc.error?.message).toMatch(
          new RegExp(
            `fake-${kind}.*result\\.partials\\[0\\]\\.value\\.data: ${kind} tensor, ${kind === 'truncated' ? 40 : 56} bytes where shape \\[6\\] of float64 needs 48`,
          ),
        );
      });
    }

    it('a truncated tensor sent to a real worker comes back as an INVALID_ARGUMENT error value; the worker stays up', async () => {
      // A fake coordinator: sends a real worker process a round with a truncated point.
      const server = new grpc.Server();
      const results: TaskResultMessage[] = [];
      server.addService(WorkerChannelServiceService, {
        connect: (call: grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>) => {
          call.on('data', (m: ConnectRequest) => {
            if (m.body?.$case === 'register') {
              call.write({
                body: { $case: 'registered', value: { workerId: 'w-fake', heartbeatIntervalMs: 1000, protocolVersion: PROTOCOL_VERSION } },
              });
              const spec = JSON.stringify(parseJobSpec(JSON.stringify(base)));
              call.write({
                body: {
                  $case: 'task',
                  value: {
                    taskId: 1,
                    jobId: 'j',
                    kind: { $case: 'open', value: { jobSpecJson: spec, shards: [0], shardCount: 1, states: [], replace: false } },
                  },
                },
              });
            } else if (m.body?.$case === 'result') {
              results.push(m.body.value);
              if (m.body.value.taskId === 1) {
                const t = f64Tensor(new Float64Array(4));
                call.write({
                  body: {
                    $case: 'task',
                    value: {
                      taskId: 2,
                      jobId: 'j',
                      kind: {
                        $case: 'round',
                        value: {
                          round: 1,
                          op: 'loss-grad',
                          points: [{ ...t, data: t.data.subarray(0, 31) }],
                          shards: [{ shard: 0, indices: undefined }],
                        },
                      },
                    },
                  },
                });
              } else if (m.body.value.taskId === 2) {
                call.write({
                  body: {
                    $case: 'task',
                    value: {
                      taskId: 3,
                      jobId: 'j',
                      kind: {
                        $case: 'round',
                        value: {
                          round: 2,
                          op: 'loss-grad',
                          points: [f64Tensor(new Float64Array(4))],
                          shards: [{ shard: 0, indices: undefined }],
                        },
                      },
                    },
                  },
                });
              } else call.end();
            }
          });
          call.on('error', () => undefined);
        },
      });
      const port = await new Promise<number>((res, rej) =>
        server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
      );
      const { child, done } = startCli([
        'worker',
        '--coordinator',
        `127.0.0.1:${port}`,
        '--exit-on-disconnect',
        '--threads',
        '1',
        '--quiet',
        '--metrics-listen',
        'off',
      ]);
      try {
        await waitUntil(() => results.length >= 3, 30_000, 'three task results');
      } finally {
        server.forceShutdown();
        await done;
      }
      void child;
      expect(results[0]!.outcome?.$case).toBe('open');
      const bad = results[1]!.outcome;
      expect(bad?.$case).toBe('error');
      if (bad?.$case !== 'error') throw new Error('unreachable');
      expect(bad.value.code).toBe('INVALID_ARGUMENT');
      expect(bad.value.message).toBe('task.round.points[0].data: truncated tensor, 31 bytes where shape [4] of float64 needs 32');
      // The next, well-formed round is served by the same worker.
      expect(results[2]!.outcome?.$case).toBe('round');
    });
  });
});

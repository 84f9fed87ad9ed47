#!/usr/bin/env node
/**
 * The `optfleet` binary (composition root). Exit codes: 0 success, 1 job failed, 2 bad spec,
 * bad flags or bad data, 130 interrupted.
 */
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, CommanderError } from 'commander';
import * as grpc from '@grpc/grpc-js';
import { createPromCoordinatorMetrics, startCoordinator, submitToQueue, type JobResultDoc } from '@optfleet/coordinator';
import { createPromWorkerMetrics, startWorker } from '@optfleet/worker';
import {
  ERROR_CODES,
  OptfleetError,
  parseJobSpec,
  type CancelJobRequest,
  type CancelJobResponse,
  type JobSpec,
  type ListJobsRequest,
  type ListJobsResponse,
  type SubmitJobRequest,
  type SubmitJobResponse,
  type WatchJobResponse,
} from '@optfleet/proto';
import { call, jobClient, jobSummary, STATE_NAMES } from './client.js';
import { killChildren, runEmbedded } from './embedded.js';
import { makeSink } from './output.js';
import { loadResult, renderConvergenceSvg } from './plot.js';
import { readEnv } from './config/env.js';
import { levelLog, makeLogger } from './logger.js';
import { newRegistry, startMetricsServer } from './metrics-server.js';

const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

let ENV: ReturnType<typeof readEnv>;
try {
  ENV = readEnv();
} catch (e) {
  process.stderr.write(`optfleet: ${(e as Error).message}\n`);
  process.exit(EXIT.usage);
}

/** --coordinator with OPTFLEET_COORDINATOR as its default. */
function coordinatorOption(cmd: Command, required = true): Command {
  const parse = hostPort('--coordinator');
  return ENV.coordinator === undefined && required
    ? cmd.requiredOption('--coordinator <host:port>', 'coordinator address (env OPTFLEET_COORDINATOR)', parse)
    : cmd.option('--coordinator <host:port>', 'coordinator address (env OPTFLEET_COORDINATOR)', parse, ENV.coordinator);
}

/** nats://host:port[,nats://…] */
function natsUrl(v: string): string {
  for (const u of v.split(',')) {
    if (!/^(nats|tls):\/\/[^\s/]+(:\d{1,5})?$/.test(u))
      throw new InvalidArgumentError(`--nats must be nats://host:port (comma-separated for a cluster), got "${u}"`);
  }
  return v;
}

function natsPrefix(v: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(v))
    throw new InvalidArgumentError(`--nats-prefix must be 1-64 letters, digits, "_" or "-", got "${v}"`);
  return v;
}

function intFlag(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}], got "${v}"`);
    return n;
  };
}

/** host:port, or "off". */
function metricsListen(v: string): string {
  return v === 'off' ? v : hostPort('--metrics-listen')(v);
}

function hostPort(name: string) {
  return (v: string): string => {
    if (!/^[^\s:]+:\d{1,5}$/.test(v) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(v))
      throw new InvalidArgumentError(`${name} must be host:port, got "${v}"`);
    const port = Number(v.slice(v.lastIndexOf(':') + 1));
    if (port > 65535) throw new InvalidArgumentError(`${name}: port ${port} is over 65535`);
    return v;
  };
}

async function loadSpec(path: string): Promise<JobSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new OptfleetError(ERROR_CODES.NOT_FOUND, `spec file ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseJobSpec(text, path);
}

/** Exit code for a finished job: data/spec problems found at open are usage errors (2). */
export function exitCodeFor(doc: JobResultDoc): number {
  if (doc.status === 'SUCCEEDED') return EXIT.ok;
  if (doc.status === 'CANCELLED') return EXIT.interrupted;
  const code = doc.error?.code;
  return code === ERROR_CODES.INVALID_ARGUMENT || code === ERROR_CODES.NOT_FOUND ? EXIT.usage : EXIT.failed;
}

function fail(e: unknown): never {
  if (e instanceof OptfleetError) {
    process.stderr.write(`optfleet: ${e.code}: ${e.message}\n`);
    process.exit(e.code === ERROR_CODES.INVALID_ARGUMENT || e.code === ERROR_CODES.NOT_FOUND ? EXIT.usage : EXIT.failed);
  }
  const ge = e as Partial<grpc.ServiceError>;
  if (typeof ge.code === 'number' && typeof ge.details === 'string') {
    process.stderr.write(`optfleet: ${grpc.status[ge.code]}: ${ge.details}\n`);
    process.exit(ge.code === grpc.status.INVALID_ARGUMENT || ge.code === grpc.status.NOT_FOUND ? EXIT.usage : EXIT.failed);
  }
  process.stderr.write(`optfleet: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(EXIT.failed);
}

const program = new Command()
  .name('optfleet')
  .description('Distributed worker-pool compute cluster for stochastic optimization')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

program
  .command('run')
  .description('run a job spec on an embedded cluster (coordinator + local workers, no services)')
  .argument('<spec>', 'job spec file (YAML or JSON)')
  .option('--workers <n>', 'worker processes (grpc) or in-process hosts', intFlag('--workers', 1, 64), 2)
  .option(
    '--transport <t>',
    'inprocess | grpc | nats',
    (v) => {
      if (v !== 'inprocess' && v !== 'grpc' && v !== 'nats')
        throw new InvalidArgumentError(`--transport must be inprocess, grpc or nats, got "${v}"`);
      return v;
    },
    'grpc',
  )
  .option('--nats <url>', 'NATS server for --transport nats (env OPTFLEET_NATS_URL)', natsUrl, ENV.natsUrl)
  .option('--threads <n>', 'pool threads per worker process (default: cores / workers)', intFlag('--threads', 1, 1024))
  .option('--out <file>', 'write the result document (JSON) here')
  .option('--json', 'print one JSON object per event instead of a progress bar', false)
  .option('--plot <file>', 'write the convergence plot (SVG) here')
  .action(
    async (
      specPath: string,
      opts: {
        workers: number;
        transport: 'inprocess' | 'grpc' | 'nats';
        nats?: string;
        threads?: number;
        out?: string;
        json: boolean;
        plot?: string;
      },
    ) => {
      if (opts.transport === 'nats' && opts.nats === undefined) {
        fail(new OptfleetError(ERROR_CODES.INVALID_ARGUMENT, '--transport nats needs --nats <url> (or OPTFLEET_NATS_URL)'));
      }
      const spec = await loadSpec(specPath).catch(fail);
      const sink = makeSink(opts.json ? 'json' : process.stdout.isTTY ? 'tty' : 'plain', spec.name);
      const ac = new AbortController();
      let interrupted = false;
      const onSignal = (sig: NodeJS.Signals): void => {
        if (interrupted) {
          killChildren('SIGKILL');
          process.exit(EXIT.interrupted);
        }
        interrupted = true;
        process.stderr.write(`optfleet: ${sig}: cancelling the job and stopping workers\n`);
        ac.abort();
        killChildren('SIGTERM');
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const doc = await runEmbedded({
        spec,
        workers: opts.workers,
        transport: opts.transport,
        ...(opts.nats === undefined ? {} : { natsUrl: opts.nats }),
        ...(opts.threads === undefined ? {} : { threads: opts.threads }),
        signal: ac.signal,
        onProgress: (p) => sink.progress(p),
        onState: (s) => sink.state(s),
      }).catch(fail);
      sink.done(doc);
      if (opts.out !== undefined) await writeFile(opts.out, JSON.stringify(doc, null, 2) + '\n');
      if (opts.plot !== undefined) {
        if (doc.history.length === 0) process.stderr.write(`optfleet: no plot written: the job recorded no history (${doc.status})\n`);
        else await writeFile(opts.plot, await renderConvergenceSvg([{ label: spec.name, result: doc }], spec.name));
      }
      process.exit(interrupted ? EXIT.interrupted : exitCodeFor(doc));
    },
  );

program
  .command('coordinator')
  .description('run a coordinator: JobService and the worker channel on one gRPC port')
  .option('--listen <host:port>', 'address to listen on', hostPort('--listen'), '0.0.0.0:7070')
  .option('--min-workers <n>', 'workers a job waits for before starting', intFlag('--min-workers', 1, 100000), 1)
  .option('--heartbeat-interval-ms <ms>', 'how often workers heartbeat', intFlag('--heartbeat-interval-ms', 50, 600000), 1000)
  .option('--heartbeat-timeout-ms <ms>', 'a worker silent this long is dead', intFlag('--heartbeat-timeout-ms', 100, 3600000), 5000)
  .option('--metrics-listen <host:port>', 'serve /metrics, /healthz, /readyz here ("off" disables)', metricsListen, '0.0.0.0:9464')
  .option('--nats <url>', 'also accept NATS workers and consume the NATS job queue (env OPTFLEET_NATS_URL)', natsUrl, ENV.natsUrl)
  .option('--nats-prefix <prefix>', 'deployment prefix of NATS subjects and buckets', natsPrefix, 'default')
  .action(
    async (opts: {
      listen: string;
      minWorkers: number;
      heartbeatIntervalMs: number;
      heartbeatTimeoutMs: number;
      metricsListen: string;
      nats?: string;
      natsPrefix: string;
    }) => {
      const log = makeLogger('optfleet-coordinator', ENV.logLevel);
      const registry = newRegistry();
      const c = await startCoordinator({
        listen: opts.listen,
        minWorkers: opts.minWorkers,
        heartbeatIntervalMs: opts.heartbeatIntervalMs,
        heartbeatTimeoutMs: opts.heartbeatTimeoutMs,
        ...(opts.nats === undefined ? {} : { nats: { url: opts.nats, prefix: opts.natsPrefix } }),
        log: levelLog(log),
        metrics: (sources) => createPromCoordinatorMetrics(registry, sources),
      }).catch(fail);
      log.info({ address: c.server.address }, 'coordinator listening');
      process.stdout.write(`listening on ${c.server.address}\n`);
      const metrics =
        opts.metricsListen === 'off' ? undefined : await startMetricsServer(opts.metricsListen, registry, () => true).catch(fail);
      if (metrics !== undefined) {
        log.info({ address: metrics.address }, 'metrics listening');
        process.stdout.write(`metrics on http://${metrics.address}/metrics\n`);
      }
      const stop = (): void => {
        log.info('shutting down');
        void Promise.all([c.close(2000), metrics?.close()]).then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
  );

coordinatorOption(program.command('worker'), false)
  .description('run a worker that dials a coordinator (gRPC) or registers over NATS')
  .option('--nats <url>', 'serve over NATS instead of gRPC (env OPTFLEET_NATS_URL)', natsUrl)
  .option('--nats-prefix <prefix>', 'deployment prefix of NATS subjects and buckets', natsPrefix, 'default')
  .option('--threads <n>', 'pool threads (default: cores)', intFlag('--threads', 1, 1024))
  .option(
    '--inline-work <n>',
    'rounds under this many multiply-adds run on the event loop, not the pool',
    intFlag('--inline-work', 0, Number.MAX_SAFE_INTEGER),
    100000,
  )
  .option('--name <name>', 'name shown by the coordinator (default hostname:pid)')
  .option('--exit-on-disconnect', 'exit when the coordinator goes away instead of reconnecting', false)
  .option('--protocol-version <v>', 'protocol version to announce (testing only)', intFlag('--protocol-version', 0, 1000000))
  .option('--metrics-listen <host:port>', 'serve /metrics, /healthz, /readyz here ("off" disables)', metricsListen, '0.0.0.0:9465')
  .option('--quiet', 'log warnings and errors only', false)
  .action(
    async (opts: {
      coordinator?: string;
      nats?: string;
      natsPrefix: string;
      threads?: number;
      inlineWork: number;
      name?: string;
      exitOnDisconnect: boolean;
      protocolVersion?: number;
      metricsListen: string;
      quiet: boolean;
    }) => {
      const log = makeLogger('optfleet-worker', opts.quiet ? 'warn' : ENV.logLevel);
      const natsUrlOpt = opts.nats ?? (opts.coordinator === undefined ? ENV.natsUrl : undefined);
      if (opts.coordinator === undefined && natsUrlOpt === undefined) {
        fail(new OptfleetError(ERROR_CODES.INVALID_ARGUMENT, 'worker: give --coordinator <host:port> (gRPC) or --nats <url> (NATS)'));
      }
      const registry = newRegistry();
      const w = startWorker({
        ...(natsUrlOpt === undefined ? { coordinator: opts.coordinator! } : { nats: { url: natsUrlOpt, prefix: opts.natsPrefix } }),
        exitOnDisconnect: opts.exitOnDisconnect,
        inlineWork: opts.inlineWork,
        ...(opts.threads === undefined ? {} : { threads: opts.threads }),
        ...(opts.name === undefined ? {} : { name: opts.name }),
        ...(opts.protocolVersion === undefined ? {} : { protocolVersion: opts.protocolVersion }),
        log: (m) => log.info(m),
        metrics: (sources) => createPromWorkerMetrics(registry, sources),
      });
      const metrics =
        opts.metricsListen === 'off'
          ? undefined
          : await startMetricsServer(opts.metricsListen, registry, () => w.ready()).catch(async (e: unknown) => {
              await w.stop();
              fail(e);
            });
      if (metrics !== undefined) {
        log.info({ address: metrics.address }, 'metrics listening');
        process.stdout.write(`metrics on http://${metrics.address}/metrics\n`);
      }
      const stop = (): void => void w.stop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const end = await w.done;
      await metrics?.close();
      if (end.reason === 'rejected') {
        log.error(end.message);
        process.stderr.write(`optfleet worker: rejected by the coordinator: ${end.message}\n`);
        process.exit(EXIT.usage);
      }
      log.info(end.message);
      process.exit(end.reason === 'closed' ? EXIT.ok : opts.exitOnDisconnect ? EXIT.ok : EXIT.failed);
    },
  );

program
  .command('plot')
  .description('draw the convergence history of one or more result files (overlaid) as SVG')
  .argument('<results...>', 'result files written by --out')
  .option('--out <file>', 'SVG to write (default: the first result file with .svg)')
  .option('--title <title>', 'figure title', 'optfleet convergence')
  .action(async (files: string[], opts: { out?: string; title: string }) => {
    const series = await Promise.all(files.map(loadResult)).catch(fail);
    const svg = await renderConvergenceSvg(series, opts.title).catch(fail);
    const out = opts.out ?? files[0]!.replace(/\.json$/i, '') + '.svg';
    await writeFile(out, svg);
    process.stdout.write(`${out}\n`);
  });

coordinatorOption(program.command('submit'), false)
  .description('submit a job spec to a coordinator (gRPC) or to the NATS job queue; prints the job id')
  .argument('<spec>', 'job spec file (YAML or JSON)')
  .option('--id <id>', 'job id (default: name plus a random suffix); the queue runs one job per id')
  .option('--nats <url>', 'publish to the JetStream job queue instead (runs when a coordinator consumes it)', natsUrl)
  .option('--nats-prefix <prefix>', 'deployment prefix of the job queue', natsPrefix, 'default')
  .option('--watch', 'follow the job until it ends, exit with its status (needs --coordinator)', false)
  .option('--out <file>', 'with --watch: write the result document here')
  .option('--json', 'JSON output', false)
  .action(
    async (
      specPath: string,
      opts: { coordinator?: string; id?: string; nats?: string; natsPrefix: string; watch: boolean; out?: string; json: boolean },
    ) => {
      let text: string;
      try {
        text = await readFile(specPath, 'utf8');
      } catch (e) {
        fail(
          new OptfleetError(
            ERROR_CODES.NOT_FOUND,
            `spec file ${specPath} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
          ),
        );
      }
      const spec = parseJobSpec(text, specPath);
      if (opts.nats !== undefined) {
        const id = opts.id ?? `${spec.name}-${randomUUID().slice(0, 8)}`;
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id))
          fail(new OptfleetError(ERROR_CODES.INVALID_ARGUMENT, `--id: "${id}" must be 1-128 letters, digits, ".", "_" or "-"`));
        const ack = await submitToQueue(opts.nats, opts.natsPrefix, text, id).catch(fail);
        process.stdout.write(
          opts.json
            ? JSON.stringify({ event: 'queued', id, duplicate: ack.duplicate }) + '\n'
            : `${id}${ack.duplicate ? ' (duplicate: already queued, runs once)' : ''}\n`,
        );
        if (opts.watch && opts.coordinator !== undefined) await watch(opts.coordinator, id, opts.json, opts.out);
        return;
      }
      if (opts.coordinator === undefined)
        fail(new OptfleetError(ERROR_CODES.INVALID_ARGUMENT, 'submit: give --coordinator <host:port> or --nats <url>'));
      const client = jobClient(opts.coordinator);
      const res = await call<SubmitJobRequest, SubmitJobResponse>(client.submitJob.bind(client), {
        spec: text,
        jobId: opts.id ?? '',
      }).catch(fail);
      const id = res.job?.id ?? '';
      process.stdout.write(opts.json ? JSON.stringify({ event: 'submitted', id }) + '\n' : `${id}\n`);
      if (opts.watch) await watch(opts.coordinator, id, opts.json, opts.out);
      client.close();
    },
  );

async function watch(address: string, id: string, json: boolean, out?: string): Promise<never> {
  const client = jobClient(address);
  const stream = client.watchJob({ jobId: id });
  let last: string | undefined;
  let resultJson = '';
  let finalX: number[] | undefined;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (ev: WatchJobResponse) => {
      last = STATE_NAMES[ev.state];
      if (json) process.stdout.write(JSON.stringify({ event: 'progress', id, state: last, ...ev.progress }) + '\n');
      else if (ev.progress !== undefined) {
        const p = ev.progress;
        process.stdout.write(
          `${last} round ${p.round} f ${p.objective} ‖∇f‖ ${p.gradNorm.toExponential(3)} oracle calls ${p.oracleCalls}\n`,
        );
      }
      if (ev.job !== undefined) {
        resultJson = ev.job.resultJson;
        if (ev.job.error !== undefined) process.stderr.write(`${last}: ${ev.job.error.code}: ${ev.job.error.message}\n`);
        if (ev.job.finalX !== undefined) {
          const b = ev.job.finalX.data;
          finalX = Array.from(new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
        }
      }
    });
    stream.on('end', resolve);
    stream.on('error', reject);
  }).catch(fail);
  if (out !== undefined && resultJson !== '') {
    const doc = JSON.parse(resultJson) as JobResultDoc;
    const full = doc.final === undefined ? doc : { ...doc, final: { ...doc.final, x: finalX ?? [] } };
    await writeFile(out, JSON.stringify(full, null, 2) + '\n');
  }
  if (!json) process.stdout.write(`${last ?? 'UNKNOWN'}\n`);
  process.exit(last === 'SUCCEEDED' ? EXIT.ok : last === 'CANCELLED' ? EXIT.interrupted : EXIT.failed);
}

coordinatorOption(program.command('watch'))
  .description('follow a job until it ends')
  .argument('<id>', 'job id')
  .option('--out <file>', 'write the result document here')
  .option('--json', 'JSON output', false)
  .action((id: string, opts: { coordinator: string; out?: string; json: boolean }) => watch(opts.coordinator, id, opts.json, opts.out));

coordinatorOption(program.command('cancel'))
  .description('cancel a job')
  .argument('<id>', 'job id')
  .action(async (id: string, opts: { coordinator: string }) => {
    const client = jobClient(opts.coordinator);
    const res = await call<CancelJobRequest, CancelJobResponse>(client.cancelJob.bind(client), { jobId: id }).catch(fail);
    process.stdout.write(JSON.stringify(res.job === undefined ? {} : jobSummary(res.job)) + '\n');
    client.close();
  });

coordinatorOption(program.command('list'))
  .description('list jobs')
  .action(async (opts: { coordinator: string }) => {
    const client = jobClient(opts.coordinator);
    const res = await call<ListJobsRequest, ListJobsResponse>(client.listJobs.bind(client), {}).catch(fail);
    for (const j of res.jobs) process.stdout.write(JSON.stringify(jobSummary(j)) + '\n');
    client.close();
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exit(e.exitCode === 0 ? 0 : EXIT.usage);
  }
  fail(e);
}

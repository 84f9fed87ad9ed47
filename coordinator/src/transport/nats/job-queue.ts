/**
 * The durable job queue: submitted job specs go to a JetStream work-queue stream (file storage,
 * dedup by job id within a 24 h window), so a job submitted while no coordinator runs is run when
 * one comes back, and submitting the same job id twice runs it once. A coordinator consumes with
 * a durable pull consumer (explicit ack, finite MaxDeliver), keeps the message in progress while
 * the job runs and acks it when the job ends; a crash before that redelivers it. A spec that does
 * not validate is acknowledged and recorded as a FAILED job with the reason.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { ERROR_CODES, OptfleetError, natsNames, parseJobSpec, toOptfleetError, type NatsNames } from '@optfleet/proto';
import type { JobManager } from '../../jobs/job-manager.js';
import { TERMINAL } from '../../jobs/job-manager.js';

const NANOS_PER_MS = 1_000_000;
/** Deliveries of one submission before it is given up (then recorded as FAILED). */
export const JOB_MAX_DELIVER = 5;
/** Job ids the JobManager accepts. */
const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export async function ensureJobStream(jsm: JetStreamManager, names: NatsNames): Promise<void> {
  try {
    await jsm.streams.info(names.jobsStream);
  } catch {
    await jsm.streams.add({
      name: names.jobsStream,
      subjects: [names.jobsSubject],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: 24 * 3600 * 1000 * NANOS_PER_MS,
    });
  }
}

/** Publishes a job spec (YAML/JSON text) to the queue; `duplicate` when that job id was already queued. */
export async function submitToQueue(
  url: string,
  prefix: string,
  spec: string,
  jobId: string,
): Promise<{ duplicate: boolean; stream: string; seq: number }> {
  const names = natsNames(prefix);
  const nc = await connect({ servers: url.split(','), name: 'optfleet-submit' });
  try {
    await ensureJobStream(await jetstreamManager(nc), names);
    const ack = await jetstream(nc).publish(names.jobsSubject, new TextEncoder().encode(spec), { msgID: jobId });
    return { duplicate: ack.duplicate, stream: ack.stream, seq: ack.seq };
  } finally {
    await nc.close();
  }
}

export class JobQueueConsumer {
  private stopped = false;

  private constructor(private readonly nc: NatsConnection) {}

  /** Starts consuming the deployment's job queue into `jobs`. */
  static async start(
    url: string,
    prefix: string,
    jobs: JobManager,
    log?: (level: 'info' | 'warn' | 'error', msg: string, f?: Record<string, unknown>) => void,
    ackWaitMs = 30_000,
  ): Promise<JobQueueConsumer> {
    const names = natsNames(prefix);
    const nc = await connect({
      servers: url.split(','),
      name: 'optfleet-coordinator-queue',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    const jsm = await jetstreamManager(nc);
    await ensureJobStream(jsm, names);
    const config = {
      durable_name: 'coordinator',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: ackWaitMs * NANOS_PER_MS,
      max_deliver: JOB_MAX_DELIVER,
    };
    try {
      await jsm.consumers.add(names.jobsStream, config);
    } catch {
      // The durable consumer exists (an earlier coordinator made it): bring its ack wait in line.
      await jsm.consumers.update(names.jobsStream, 'coordinator', { ack_wait: config.ack_wait, max_deliver: JOB_MAX_DELIVER });
    }
    const q = new JobQueueConsumer(nc);
    const consumer = await jetstream(nc).consumers.get(names.jobsStream, 'coordinator');
    void (async () => {
      const messages = await consumer.consume({ max_messages: 16 });
      for await (const m of messages) {
        if (q.stopped) break;
        // One bad message must never stop the consumer: every failure below is recorded and acked.
        const given = m.headers?.get('Nats-Msg-Id') || '';
        const idOk = JOB_ID.test(given);
        const id = idOk ? given : `queued-${m.seq}`;
        try {
          if (given !== '' && !idOk) {
            throw new OptfleetError(
              ERROR_CODES.INVALID_ARGUMENT,
              `queued job id ${JSON.stringify(given.slice(0, 200))} must be 1-128 letters, digits, ".", "_" or "-" (recorded as ${id})`,
            );
          }
          let text: string;
          try {
            text = new TextDecoder('utf-8', { fatal: true }).decode(m.data);
          } catch {
            throw new OptfleetError(
              ERROR_CODES.INVALID_ARGUMENT,
              `queued job ${id}: the message is not UTF-8 text (a YAML or JSON job spec)`,
            );
          }
          const spec = parseJobSpec(text, `queued job ${id}`);
          const existing = jobs.list().find((j) => j.id === id);
          if (existing !== undefined && TERMINAL.has(existing.state)) {
            m.ack(); // redelivered after it already ran here
            continue;
          }
          if (existing === undefined) {
            jobs.submit(spec, id);
            log?.('info', 'job taken from the queue', { job: id, stream: names.jobsStream });
          }
          // Keep the message in progress while the job runs; ack when it ends.
          const keepAlive = setInterval(() => m.working(), Math.max(100, Math.floor(ackWaitMs / 3)));
          keepAlive.unref();
          void jobs.wait(id).then(() => {
            clearInterval(keepAlive);
            m.ack();
          });
        } catch (e) {
          const err = toOptfleetError(e);
          jobs.recordRejected(id, err);
          log?.('warn', 'queued job rejected', { job: id, code: err.code, message: err.message });
          m.ack(); // handled: recorded as a FAILED job with the reason (term would leave it in a work queue)
        }
      }
    })().catch((e: unknown) => log?.('error', 'job queue consumer stopped', { error: String(e) }));
    return q;
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.nc.close().catch(() => undefined);
  }
}

/** Binds the coordinator's gRPC server: JobService + WorkerChannelService on one port. */
import * as grpc from '@grpc/grpc-js';
import { JobServiceService, LIMITS, WorkerChannelServiceService } from '@optfleet/proto';
import type { JobManager } from '../../jobs/job-manager.js';
import { jobService, type WorkerView } from './job-service.js';
import type { WorkerRegistry } from './worker-registry.js';

export interface GrpcServerHandle {
  /** The bound port (useful with port 0). */
  readonly port: number;
  readonly address: string;
  /** Stops accepting, then force-closes open streams after `graceMs`. */
  shutdown(graceMs?: number): Promise<void>;
}

export async function startGrpcServer(
  listen: string,
  jobs: JobManager,
  registry: WorkerRegistry,
  workers: () => readonly WorkerView[] = () => registry.live().map((worker) => ({ worker, transport: 'grpc' as const })),
): Promise<GrpcServerHandle> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': LIMITS.messageBytes,
    'grpc.max_send_message_length': LIMITS.messageBytes,
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
  });
  server.addService(JobServiceService, jobService(jobs, workers));
  server.addService(WorkerChannelServiceService, registry.service());
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const host = listen.slice(0, listen.lastIndexOf(':'));
  return {
    port,
    address: `${host}:${port}`,
    shutdown: (graceMs = 2000) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        t.unref();
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      }),
  };
}

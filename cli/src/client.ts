/** `optfleet submit|watch|cancel|list --coordinator host:port`: JobService over gRPC. */
import * as grpc from '@grpc/grpc-js';
import { JobServiceClient, JobState, LIMITS, type JobMessage } from '@optfleet/proto';

export function jobClient(address: string): JobServiceClient {
  return new JobServiceClient(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': LIMITS.messageBytes,
    'grpc.max_send_message_length': LIMITS.messageBytes,
  });
}

export const STATE_NAMES: Record<number, string> = {
  [JobState.JOB_STATE_QUEUED]: 'QUEUED',
  [JobState.JOB_STATE_RUNNING]: 'RUNNING',
  [JobState.JOB_STATE_SUCCEEDED]: 'SUCCEEDED',
  [JobState.JOB_STATE_FAILED]: 'FAILED',
  [JobState.JOB_STATE_CANCELLED]: 'CANCELLED',
};

export function jobSummary(j: JobMessage): Record<string, unknown> {
  return {
    id: j.id,
    name: j.name,
    state: STATE_NAMES[j.state] ?? 'UNSPECIFIED',
    error: j.error,
    progress: j.progress,
  };
}

/** Promisified unary call; rejects with the grpc ServiceError. */
export function call<Req, Res>(fn: (req: Req, cb: (e: grpc.ServiceError | null, r?: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(req, (e, r) => (e ? reject(e) : resolve(r as Res)));
  });
}

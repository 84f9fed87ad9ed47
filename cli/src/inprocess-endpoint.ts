/**
 * A worker endpoint that calls a ShardHost directly on this thread: the in-process cluster, the
 * sequential reference the distributed paths must match bit for bit.
 */
import type { ShardSummary, WorkerEndpoint } from '@optfleet/coordinator';
import type { ShardHost } from '@optfleet/worker';
import type { JobSpec, Op, TreeNodeValue } from '@optfleet/proto';

export class InProcessEndpoint implements WorkerEndpoint {
  constructor(
    readonly id: string,
    private readonly host: ShardHost,
  ) {}

  get name(): string {
    return `${this.id} (in-process)`;
  }

  open(
    jobId: string,
    spec: JobSpec,
    shards: readonly number[],
    shardCount: number,
    states?: ReadonlyMap<number, Readonly<Record<string, Float64Array>>>,
    replace = false,
  ): Promise<ShardSummary[]> {
    return this.host.open(jobId, spec, shards, shardCount, states, replace);
  }

  exportShards(jobId: string, shards: readonly number[]): Promise<Map<number, Record<string, Float64Array>>> {
    return Promise.resolve(this.host.exportState(jobId, shards));
  }

  release(jobId: string, shards: readonly number[]): Promise<number> {
    return Promise.resolve(this.host.release(jobId, shards));
  }

  async round(
    jobId: string,
    op: Op,
    points: readonly Float64Array[],
    work: ReadonlyArray<{ shard: number; indices: Uint32Array | null }>,
  ): Promise<{ nodes: TreeNodeValue[]; bytesOut: number; bytesIn: number }> {
    return { nodes: await this.host.round(jobId, { op, points, work }), bytesOut: 0, bytesIn: 0 };
  }

  close(jobId: string): Promise<void> {
    this.host.close(jobId);
    return Promise.resolve();
  }
}

/**
 * Job checkpoints in the deployment's JetStream object store (`optfleet-<prefix>-checkpoints`,
 * file storage, one object per job id, replaced on every save): they outlive the coordinator, so
 * the next one resumes a job the queue hands it again.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Objm, StorageType, type ObjectStore } from '@nats-io/obj';
import { natsNames } from '@optfleet/proto';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint, type CheckpointStore } from '../../jobs/checkpoint.js';

export class NatsCheckpointStore implements CheckpointStore {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly os: ObjectStore,
  ) {}

  static async open(url: string, prefix: string): Promise<NatsCheckpointStore> {
    const nc = await connect({
      servers: url.split(','),
      name: 'optfleet-coordinator-checkpoints',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    try {
      const os = await new Objm(nc).create(natsNames(prefix).checkpointsBucket, { storage: StorageType.File });
      return new NatsCheckpointStore(nc, os);
    } catch (e) {
      await nc.close();
      throw e;
    }
  }

  async load(jobId: string): Promise<Checkpoint | null> {
    const bytes = await this.os.getBlob(jobId);
    return bytes === null ? null : decodeCheckpoint(bytes, `checkpoint of ${jobId}`);
  }

  async save(cp: Checkpoint): Promise<void> {
    // put replaces the object atomically: a reader sees the old checkpoint or the new one.
    await this.os.putBlob({ name: cp.jobId }, encodeCheckpoint(cp));
  }

  async remove(jobId: string): Promise<void> {
    await this.os.delete(jobId).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.nc.close().catch(() => undefined);
  }
}

/**
 * Job checkpoints (DESIGN §6): the driver's state, the runner's counters and history, and every
 * shard's sticky state, taken at a round boundary. A coordinator that restarts and gets the job
 * again (the NATS job queue redelivers it) resumes from the checkpoint instead of from round 0,
 * and — because every random draw is keyed and every reduction fixed — ends with the same bits as
 * an uninterrupted run.
 *
 * Encoding: "OFCP", u32 version, u32 header length, the header as JSON (numbers round-trip exactly;
 * NaN, ±Infinity and -0 are tagged), zero padding to 8 bytes, then the shards' float64 slots.
 */
import { invalidArgument, type JobSpec } from '@optfleet/proto';
import type { DriverState } from '../algorithms/driver.js';
import type { HistoryEntry } from './result.js';

/** The runner's own state at the checkpoint (everything but the driver and the shards). */
export interface RunnerState {
  readonly rounds: number;
  readonly algRounds: number;
  readonly evalRounds: number;
  readonly oracleCalls: number;
  readonly evalCalls: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly firstGrad: number;
  readonly lastAtIteration: number;
  /** Seconds the job had run (wall time spent while a coordinator ran it). */
  readonly elapsedSeconds: number;
  readonly history: readonly HistoryEntry[];
  readonly last: {
    readonly x: readonly number[];
    readonly objective: number;
    readonly gradNorm: number;
    readonly iteration: number;
    readonly gap?: number;
    readonly drift?: number;
  } | null;
}

export interface Checkpoint {
  readonly jobId: string;
  /** The validated spec, as JSON: a checkpoint only resumes the job it was taken of. */
  readonly specJson: string;
  readonly shardCount: number;
  readonly createdAtMs: number;
  readonly runner: RunnerState;
  readonly driver: DriverState;
  readonly shards: ReadonlyMap<number, Readonly<Record<string, Float64Array>>>;
}

/** Where checkpoints live: the NATS object store in a deployment, memory in tests. */
export interface CheckpointStore {
  load(jobId: string): Promise<Checkpoint | null>;
  save(cp: Checkpoint): Promise<void>;
  remove(jobId: string): Promise<void>;
}

export function specJsonOf(spec: JobSpec): string {
  return JSON.stringify(spec);
}

const MAGIC = 0x5043464f; // "OFCP" little-endian
const VERSION = 1;
const TAG = '$num';

function replacer(_k: string, v: unknown): unknown {
  if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return { [TAG]: Object.is(v, -0) ? '-0' : String(v) };
  return v;
}

function reviver(_k: string, v: unknown): unknown {
  if (typeof v === 'object' && v !== null && TAG in v && Object.keys(v).length === 1) {
    const t = (v as Record<string, unknown>)[TAG];
    if (t === '-0') return -0;
    if (t === 'NaN' || t === 'Infinity' || t === '-Infinity') return Number(t);
  }
  return v;
}

interface Header {
  readonly jobId: string;
  readonly specJson: string;
  readonly shardCount: number;
  readonly createdAtMs: number;
  readonly runner: RunnerState;
  readonly driver: DriverState;
  readonly slots: ReadonlyArray<{ shard: number; name: string; offset: number; length: number }>;
}

export function encodeCheckpoint(cp: Checkpoint): Uint8Array {
  const slots: Array<{ shard: number; name: string; offset: number; length: number }> = [];
  let offset = 0;
  for (const [shard, rec] of [...cp.shards].sort((a, b) => a[0] - b[0])) {
    for (const [name, v] of Object.entries(rec)) {
      slots.push({ shard, name, offset, length: v.length });
      offset += v.length;
    }
  }
  const header: Header = {
    jobId: cp.jobId,
    specJson: cp.specJson,
    shardCount: cp.shardCount,
    createdAtMs: cp.createdAtMs,
    runner: cp.runner,
    driver: cp.driver,
    slots,
  };
  const json = new TextEncoder().encode(JSON.stringify(header, replacer));
  const dataStart = Math.ceil((12 + json.byteLength) / 8) * 8;
  const buf = new ArrayBuffer(dataStart + offset * 8);
  const dv = new DataView(buf);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, VERSION, true);
  dv.setUint32(8, json.byteLength, true);
  new Uint8Array(buf, 12, json.byteLength).set(json);
  const data = new Float64Array(buf, dataStart, offset);
  for (const s of slots) data.set(cp.shards.get(s.shard)![s.name]!, s.offset);
  return new Uint8Array(buf);
}

export function decodeCheckpoint(bytes: Uint8Array, what = 'checkpoint'): Checkpoint {
  if (bytes.byteLength < 12) throw invalidArgument(`${what}: ${bytes.byteLength} bytes is too short`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) throw invalidArgument(`${what}: not an optfleet checkpoint`);
  const version = dv.getUint32(4, true);
  if (version !== VERSION) throw invalidArgument(`${what}: version ${version}, this coordinator reads version ${VERSION}`);
  const len = dv.getUint32(8, true);
  if (12 + len > bytes.byteLength) throw invalidArgument(`${what}: header of ${len} bytes runs past the end`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len)), reviver) as Header;
  const dataStart = Math.ceil((12 + len) / 8) * 8;
  const count = Math.floor((bytes.byteLength - dataStart) / 8);
  // Copy into an aligned buffer (the input may be any view).
  const data = new Float64Array(count);
  new Uint8Array(data.buffer).set(bytes.subarray(dataStart, dataStart + count * 8));
  const shards = new Map<number, Record<string, Float64Array>>();
  for (const s of header.slots) {
    if (s.offset + s.length > count) throw invalidArgument(`${what}: slot ${s.name} of shard ${s.shard} runs past the data`);
    let rec = shards.get(s.shard);
    if (rec === undefined) shards.set(s.shard, (rec = {}));
    rec[s.name] = data.slice(s.offset, s.offset + s.length);
  }
  return {
    jobId: header.jobId,
    specJson: header.specJson,
    shardCount: header.shardCount,
    createdAtMs: header.createdAtMs,
    runner: header.runner,
    driver: header.driver,
    shards,
  };
}

/** Checkpoints in memory (embedded runs, tests). Stores the encoded bytes, as a real store would. */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly byJob = new Map<string, Uint8Array>();
  saves = 0;

  load(jobId: string): Promise<Checkpoint | null> {
    const b = this.byJob.get(jobId);
    return Promise.resolve(b === undefined ? null : decodeCheckpoint(b, `checkpoint of ${jobId}`));
  }

  save(cp: Checkpoint): Promise<void> {
    this.byJob.set(cp.jobId, encodeCheckpoint(cp));
    this.saves++;
    return Promise.resolve();
  }

  remove(jobId: string): Promise<void> {
    this.byJob.delete(jobId);
    return Promise.resolve();
  }
}

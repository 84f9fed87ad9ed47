/**
 * The module piscina loads in each pool thread: runs a batch of shard ops and transfers (never
 * copies) the result vectors back to the event-loop thread.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { runBatch, type BatchInput, type BatchOutput } from './tasks/batch.js';

/** Piscina's Transferable interface: the value plus the buffers to transfer with it. */
class MovableResults {
  constructor(private readonly values: Float64Array[]) {}
  get [transferableSymbol](): ArrayBufferLike[] {
    return this.values.map((v) => v.buffer);
  }
  get [valueSymbol](): Float64Array[] {
    return this.values;
  }
}

export default function runInThread(input: BatchInput): BatchOutput {
  const out = runBatch(input);
  if (Array.isArray(out)) return move(new MovableResults(out)) as unknown as Float64Array[];
  return out;
}

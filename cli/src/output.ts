/** Progress output: a bar with rate and ETA on a TTY, plain lines otherwise, JSON lines with --json. */
import cliProgress from 'cli-progress';
import type { JobResultDoc, RunProgress } from '@optfleet/coordinator';

export interface ProgressSink {
  progress(p: RunProgress): void;
  state(s: string): void;
  done(doc: JobResultDoc): void;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(8) : String(x);
}

/** Bilevel runs: the exact estimator and tracking errors, when the observation has them. */
function bilevelText(p: { estimatorError?: number; yError?: number; trackerError?: number }): string {
  if (p.yError === undefined) return '';
  const est = p.estimatorError === undefined ? '' : `  ‖z−∇F‖ ${p.estimatorError.toExponential(3)}`;
  return `${est}  y-err ${p.yError.toExponential(3)}  tracker-err ${(p.trackerError ?? NaN).toExponential(3)}`;
}

export function makeSink(mode: 'json' | 'tty' | 'plain', jobName: string): ProgressSink {
  if (mode === 'json') {
    const line = (o: unknown): void => void process.stdout.write(JSON.stringify(o) + '\n');
    return {
      progress: (p) => line({ event: 'progress', job: jobName, ...p }),
      state: (s) => line({ event: 'state', job: jobName, state: s }),
      done: (doc) => {
        line({
          event: 'done',
          job: jobName,
          status: doc.status,
          error: doc.error,
          final: doc.final === undefined ? undefined : { ...doc.final, x: undefined },
        });
        // Errors also go to stderr, so a failing run always says why where people look.
        if (doc.status !== 'SUCCEEDED') summary(doc);
      },
    };
  }
  if (mode === 'tty') {
    const bar = new cliProgress.SingleBar(
      {
        format: `${jobName} [{bar}] {percentage}% | round {round} | f {objective} | ‖∇f‖ {gradNorm} | {rate} rounds/s | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    let t0 = 0;
    return {
      progress: (p) => {
        const payload = {
          round: p.round,
          objective: Number.isNaN(p.objective) ? '-' : fmt(p.objective),
          gradNorm: Number.isNaN(p.gradNorm) ? '-' : p.gradNorm.toExponential(3),
          rate: p.seconds > 0 ? Math.round(p.round / p.seconds) : 0,
        };
        if (!started) {
          bar.start(1000, 0, payload);
          started = true;
          t0 = p.seconds;
        }
        bar.update(Math.round(p.fraction * 1000), payload);
        void t0;
      },
      state: () => undefined,
      done: (doc) => {
        if (started) bar.stop();
        summary(doc);
      },
    };
  }
  return {
    progress: (p) =>
      process.stdout.write(
        // graph-token jobs have no objective: their progress is steps walked and hops.
        Number.isNaN(p.objective) && Number.isNaN(p.gradNorm)
          ? `round ${p.round}  steps ${p.iteration}  hops ${p.oracleCalls}  ${p.seconds.toFixed(2)} s\n`
          : `round ${p.round}  iter ${p.iteration}  f ${fmt(p.objective)}  ‖∇f‖ ${p.gradNorm.toExponential(3)}${bilevelText(p)}  oracle calls ${p.oracleCalls}  ${p.seconds.toFixed(2)} s\n`,
      ),
    state: (s) => process.stdout.write(`state ${s}\n`),
    done: summary,
  };
}

function summary(doc: JobResultDoc): void {
  if (doc.status === 'SUCCEEDED' && doc.final !== undefined) {
    const f = doc.final;
    if (f.perAlpha !== undefined) {
      for (const a of f.perAlpha) {
        const se = a.stderr === null ? '' : ` ± ${a.stderr.toPrecision(2)}`;
        const th = a.theory === null ? 'n/a' : a.theory.toPrecision(4);
        process.stdout.write(`alpha ${a.alpha}: scaled MSE ${a.scaledMse.toPrecision(4)}${se}  theory ${th}  (${a.tokens} tokens)\n`);
      }
      process.stdout.write(
        `${doc.status}: rounds ${f.rounds}  hops ${f.hops ?? 0}  shard crossings ${f.crossings ?? 0}  worker handoffs ${f.handoffs ?? 0}  ${f.seconds.toFixed(2)} s  (${f.stopReason})\n`,
      );
      return;
    }
    const measure =
      f.residual !== undefined
        ? `residual ${f.residual.toExponential(3)}`
        : `f ${fmt(f.objective ?? NaN)}  ‖∇f‖ ${(f.gradNorm ?? NaN).toExponential(3)}${bilevelText(f)}`;
    process.stdout.write(
      `${doc.status}: ${measure}  rounds ${f.rounds}  oracle calls ${f.oracleCalls}  ${f.seconds.toFixed(2)} s  (${f.stopReason})\n`,
    );
  } else {
    process.stderr.write(`${doc.status}: ${doc.error?.code ?? ''} ${doc.error?.message ?? ''}\n`);
  }
}

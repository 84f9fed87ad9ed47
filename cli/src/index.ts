/**
 * @optfleet/cli — the `optfleet` binary's library surface: the embedded cluster.
 *
 * ```ts
 * import { runEmbedded } from '@optfleet/cli';
 * const doc = await runEmbedded({ spec, workers: 2, transport: 'grpc' });
 * ```
 * @module
 */
export { runEmbedded, killChildren } from './embedded.js';
export { InProcessEndpoint } from './inprocess-endpoint.js';
export { renderConvergenceSvg, renderVegaLiteSvg, convergenceSpec, loadResult } from './plot.js';
export type { EmbeddedRunOptions } from './embedded.js';
export type { Series, PlottableResult } from './plot.js';

/**
 * The only place optfleet reads environment variables (listed in docs/ENVIRONMENT.md).
 * Flags always win over the environment.
 */
export interface OptfleetEnv {
  /** Default for --coordinator (worker, submit, watch, cancel, list). */
  readonly coordinator: string | undefined;
  /** pino log level for `coordinator` and `worker`: trace, debug, info, warn, error, fatal, silent. */
  readonly logLevel: string;
  /** Default for --nats (worker, coordinator, run --transport nats). */
  readonly natsUrl: string | undefined;
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

export function readEnv(env: NodeJS.ProcessEnv = process.env): OptfleetEnv {
  const level = env['OPTFLEET_LOG_LEVEL'] ?? 'info';
  if (!LEVELS.has(level)) {
    throw new Error(`OPTFLEET_LOG_LEVEL must be one of ${[...LEVELS].join(', ')}, got "${level}"`);
  }
  const coordinator = env['OPTFLEET_COORDINATOR'];
  const nats = env['OPTFLEET_NATS_URL'];
  return { coordinator: coordinator === '' ? undefined : coordinator, logLevel: level, natsUrl: nats === '' ? undefined : nats };
}

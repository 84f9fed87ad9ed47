/**
 * Error codes shared by every optfleet process. Once an error has crossed a thread, process or
 * network boundary, branch on `code`, never on `instanceof`.
 */
export const ERROR_CODES = {
  /** A job spec, flag, data file or wire message is malformed or over a documented limit. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** A named file, job or worker does not exist. */
  NOT_FOUND: 'NOT_FOUND',
  /** A job id was submitted twice. */
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  /** The peer speaks another protocol version or the cluster is not in the needed state. */
  FAILED_PRECONDITION: 'FAILED_PRECONDITION',
  /** A worker disconnected, stopped heartbeating or died while it held shards of a job. */
  WORKER_LOST: 'WORKER_LOST',
  /** A task threw inside a pool thread (a bug or an out-of-memory), reported as a value. */
  TASK_CRASHED: 'TASK_CRASHED',
  /** The iterate, objective or gradient became NaN or infinite. */
  DIVERGED: 'DIVERGED',
  /** The job was cancelled by a user. */
  CANCELLED: 'CANCELLED',
  /** A deadline passed (a round, registration or shutdown). */
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  /** Anything else: a bug. */
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

const KNOWN = new Set<string>(Object.values(ERROR_CODES));

/** Wire shape of an error value (matches optfleet.v1.ErrorInfo). */
export interface ErrorValue {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryable: boolean;
}

/** The one error class of optfleet: a code, a message that names the field/line/limit, retryability. */
export class OptfleetError extends Error {
  override readonly name = 'OptfleetError';
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions & { retryable?: boolean }) {
    super(message, options);
    this.code = code;
    this.retryable = options?.retryable ?? false;
  }

  /** Rebuilds an error from its wire form; an unknown code becomes INTERNAL with the code kept in the message. */
  static fromWire(w: { code: string; message: string; retryable: boolean } | undefined): OptfleetError {
    if (w === undefined) return new OptfleetError(ERROR_CODES.INTERNAL, 'error without details');
    if (KNOWN.has(w.code)) return new OptfleetError(w.code as ErrorCode, w.message, { retryable: w.retryable });
    return new OptfleetError(ERROR_CODES.INTERNAL, `${w.code}: ${w.message}`, { retryable: w.retryable });
  }

  toWire(): ErrorValue {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

/** Any thrown value as an OptfleetError (non-optfleet errors become INTERNAL, keeping the cause). */
export function toOptfleetError(e: unknown): OptfleetError {
  if (e instanceof OptfleetError) return e;
  if (e instanceof Error) return new OptfleetError(ERROR_CODES.INTERNAL, e.message, { cause: e });
  return new OptfleetError(ERROR_CODES.INTERNAL, String(e));
}

export function invalidArgument(message: string): OptfleetError {
  return new OptfleetError(ERROR_CODES.INVALID_ARGUMENT, message);
}

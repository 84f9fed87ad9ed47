export { ERROR_CODES, OptfleetError, toOptfleetError, invalidArgument } from './errors.js';
export type { ErrorCode, ErrorValue } from './errors.js';

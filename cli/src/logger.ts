/** Structured JSON logs on stderr (pino); human-readable (pino-pretty) when stderr is a TTY. */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export function makeLogger(name: string, level: string): Logger {
  if (process.stderr.isTTY) return pino({ name, level }, pretty({ destination: 2, colorize: true, translateTime: 'SYS:HH:MM:ss.l' }));
  return pino({ name, level }, pino.destination(2));
}

/** Adapts a pino logger to the coordinator's (level, msg, fields) log hook. */
export function levelLog(log: Logger): (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void {
  return (level, msg, fields) => log[level](fields ?? {}, msg);
}

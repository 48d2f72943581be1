/**
 * Logs go to stderr (stdout carries the listening URL, or JSON-RPC in stdio mode). Levels from
 * EXEC_DESK_LOG (error | warn | info | debug; default info). Never log tokens or params.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel = (process.env.EXEC_DESK_LOG as LogLevel) || 'info', write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const threshold = ORDER[level] ?? ORDER.info;
  const log = (at: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] > threshold) return;
    const extra = fields ? ' ' + JSON.stringify(fields) : '';
    write(`${new Date().toISOString()} ${at.toUpperCase()} ${message}${extra}\n`);
  };
  return { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') };
}

export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };

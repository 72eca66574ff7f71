/** Structured logs: one JSON object per line on stderr (journald keeps them; `jq` reads them). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(write: (line: string) => void = (l) => void process.stderr.write(l), now: () => number = Date.now): Logger {
  return {
    log(level, msg, fields = {}) {
      write(JSON.stringify({ ts: new Date(now()).toISOString(), level, msg, ...fields }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
    },
  };
}

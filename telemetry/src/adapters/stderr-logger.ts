import type { Logger } from '../ports.js';

/** Timestamped lines on stderr, keeping stdout free for whatever a supervisor pipes. */
export function createStderrLogger(stream: NodeJS.WritableStream = process.stderr): Logger {
  const write = (level: string, line: string): void => {
    stream.write(`${new Date().toISOString()} ${level} ${line}\n`);
  };
  return {
    info: (line) => write('info', line),
    warn: (line) => write('warn', line),
    error: (line) => write('error', line),
  };
}

/** A Logger that keeps its lines, for tests that assert what was logged. */
export function createMemoryLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (line) => lines.push(`info ${line}`),
    warn: (line) => lines.push(`warn ${line}`),
    error: (line) => lines.push(`error ${line}`),
  };
}

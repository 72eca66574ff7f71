import type { CommandResult } from '@aerie/contracts';

/**
 * Remembers recent command outcomes so a redelivered command (QoS 1 is at-least-once) is
 * answered with its first result instead of being carried out twice.
 */
export class CommandLog {
  private readonly done = new Map<string, CommandResult>();
  private readonly running = new Set<string>();

  constructor(private readonly capacity = 256) {}

  /** 'new' when the command should run; otherwise the earlier result or 'running'. */
  admit(commandId: string): 'new' | 'running' | CommandResult {
    const prior = this.done.get(commandId);
    if (prior) return prior;
    if (this.running.has(commandId)) return 'running';
    this.running.add(commandId);
    return 'new';
  }

  finish(result: CommandResult): void {
    this.running.delete(result.commandId);
    this.done.set(result.commandId, result);
    if (this.done.size > this.capacity) {
      const oldest = this.done.keys().next().value;
      if (oldest !== undefined) this.done.delete(oldest);
    }
  }
}

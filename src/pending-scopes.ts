import type { ProcessScope } from './process-scope.js';

/**
 * The `process` spans whose handler has finished and which wait for their message to be
 * settled, oldest first, with one shared timer that ends those waiting longer than the
 * timeout. Spans whose handler is still running are never here: the timeout counts from
 * the handler's end. One timer per consumer instead of one per message keeps the
 * per-message cost to a Set insert and delete, paid only by messages settled after their
 * handler. The timer is unref'd: it never keeps a process alive.
 */
export class PendingScopes {
  private readonly waiting = new Set<ProcessScope>();
  private timer: NodeJS.Timeout | undefined;
  private readonly checkEveryMs: number;

  constructor(private readonly timeoutMs: number) {
    this.checkEveryMs = Math.min(1000, Math.max(10, Math.floor(timeoutMs / 4)));
  }

  /** How many spans are waiting. */
  get size(): number {
    return this.waiting.size;
  }

  add(scope: ProcessScope): void {
    this.waiting.add(scope);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.checkEveryMs);
      this.timer.unref();
    }
  }

  delete(scope: ProcessScope): void {
    // The timer stops at its next sweep when nothing waits, not here: a consumer that
    // settles each message soon after its handler would start and clear one per message.
    this.waiting.delete(scope);
  }

  /** Ends every waiting span with `error` (the subscription or channel is gone). */
  abortAll(error: unknown): void {
    for (const scope of [...this.waiting]) scope.abort(error);
  }

  private sweep(): void {
    if (this.waiting.size === 0) {
      this.stop();
      return;
    }
    const deadline = performance.now() - this.timeoutMs;
    // Insertion order is the order the waits began, and every wait has the same timeout.
    for (const scope of this.waiting) {
      if (scope.waitingSince > deadline) break;
      scope.timeOut();
    }
  }

  private stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

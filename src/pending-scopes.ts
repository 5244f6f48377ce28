import type { ProcessScope, ScopeOwner } from './process-scope.js';

/**
 * The `process` spans still open, oldest first, with one shared timer that ends those
 * older than the timeout. One timer per tracer instead of one per message keeps the
 * per-message path to a Set insert and delete. The timer is unref'd: it never keeps a
 * process alive.
 */
export class PendingScopes implements ScopeOwner {
  private readonly open = new Set<ProcessScope>();
  private timer: NodeJS.Timeout | undefined;
  private readonly checkEveryMs: number;

  constructor(private readonly timeoutMs: number) {
    this.checkEveryMs = Math.min(1000, Math.max(10, Math.floor(timeoutMs / 4)));
  }

  /** How many spans are open. */
  get size(): number {
    return this.open.size;
  }

  add(scope: ProcessScope): void {
    this.open.add(scope);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.checkEveryMs);
      this.timer.unref();
    }
  }

  scopeEnded(scope: ProcessScope): void {
    // The timer stops at its next sweep when nothing is open, not here: a consumer that
    // settles each message before the next arrives would start and clear one per message.
    this.open.delete(scope);
  }

  /** Ends every open span with `error` (the channel they came from is gone). */
  abortAll(error: unknown): void {
    for (const scope of [...this.open]) scope.abort(error);
  }

  private sweep(): void {
    if (this.open.size === 0) {
      this.stop();
      return;
    }
    const deadline = performance.now() - this.timeoutMs;
    // Insertion order is start order, and every scope has the same timeout.
    for (const scope of this.open) {
      if (scope.startedAt > deadline) break;
      scope.timeOut();
    }
  }

  private stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

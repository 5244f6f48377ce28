import type { Attributes } from '@opentelemetry/api';
import type { ProcessScope } from './process-scope.js';

/** What a settle call reaches: an open `process` scope, or what is left of a timed-out one. */
export interface SettleTarget {
  /** Records the settle (see {@link ProcessScope.settle}). */
  settle(operation: string, error?: unknown, attributes?: Attributes, seconds?: number): void;
  /**
   * The scope while its span is open, else `undefined`. A method rather than an
   * `instanceof` check, so that it answers for scopes made by another copy of tracehop.
   */
  openScope(): ProcessScope | undefined;
}

/**
 * How many timed-out messages per index stay findable, so that a settle arriving after
 * the timeout is still recorded (as a late settle span). Each is a few dozen bytes.
 */
const LATE_CAPACITY = 256;

/**
 * The `process` scopes of messages being processed, by whatever the broker's settle call
 * names a message by: a delivery tag (per channel), a receipt handle, an ack id. A scope
 * is added when its span starts and leaves when the span ends, so the index holds only
 * messages in flight; a scope that timed out leaves a small late-settle entry, of which
 * the index keeps the last {@link LATE_CAPACITY}.
 */
export class SettleIndex<K> {
  private readonly open = new Map<K, ProcessScope>();
  private readonly late = new Map<K, SettleTarget>();

  /** How many messages are in flight. */
  get size(): number {
    return this.open.size;
  }

  /** Whether nothing can be found: lets settle calls skip every lookup. */
  get isEmpty(): boolean {
    return this.open.size === 0 && this.late.size === 0;
  }

  /** Makes `scope` findable by `key` until its span ends. */
  track(key: K, scope: ProcessScope): void {
    this.open.set(key, scope);
    scope.indexedIn(this, key);
  }

  /** The scope of `key`, or its late-settle entry when it timed out recently. */
  find(key: K): SettleTarget | undefined {
    return this.open.get(key) ?? this.late.get(key);
  }

  /** The open scope of `key`, if its span has not ended. */
  findOpen(key: K): ProcessScope | undefined {
    return this.open.get(key);
  }

  /** Settles every entry whose key `matches` (AMQP `ack(message, true)`: every tag up to one). */
  settleWhere(
    matches: (key: K) => boolean,
    operation: string,
    error?: unknown,
    attributes?: Attributes,
  ): void {
    for (const [key, scope] of this.open) {
      if (matches(key)) scope.settle(operation, error, attributes);
    }
    for (const [key, target] of this.late) {
      if (matches(key)) target.settle(operation, error, attributes);
    }
  }

  /** Ends every open scope with `error`: the channel or connection they came from is gone. */
  abortAll(error: unknown): void {
    for (const scope of [...this.open.values()]) scope.abort(error);
    this.open.clear();
    this.late.clear();
  }

  /**
   * Called by a scope as its span ends: forgets it, leaving a late-settle entry when it
   * ended by the timeout.
   */
  release(key: K, scope: ProcessScope, late: SettleTarget | undefined): void {
    if (this.open.get(key) !== scope) return;
    this.open.delete(key);
    if (late === undefined) return;
    if (this.late.size >= LATE_CAPACITY) {
      const oldest = this.late.keys().next();
      if (oldest.done !== true) this.late.delete(oldest.value);
    }
    this.late.set(key, late);
  }

  /** Forgets a late-settle entry once its settle came. */
  forgetLate(key: K): void {
    this.late.delete(key);
  }
}

import type { TracerProvider } from '@opentelemetry/api';

/**
 * Formats a span name from the operation (`send`, `process`, `ack`…) and the
 * destination. The default is the semantic-convention name, `{operation} {destination}`.
 * Organisations with their own standard (`{destination} {operation}`) pass their own.
 */
export type SpanNameFormatter = (operation: string, destination: string) => string;

/** Options every wrapper and decorator takes. */
export interface TracingOptions {
  /**
   * Where spans go.
   * @defaultValue the globally registered tracer provider, looked up when each span starts
   */
  readonly tracerProvider?: TracerProvider;
  /**
   * The span name for each operation.
   * @defaultValue `${operation} ${destination}`, as the messaging semantic conventions name spans
   */
  readonly spanName?: SpanNameFormatter;
}

/**
 * How a `process` span relates to the context the message was created in.
 * - `child`: the span is a child of the producer's span and also links to it, so the
 *   request that enqueued the message and the job are one trace in any backend.
 * - `link`: the span starts a new trace with only a link to the producer's span. Use it
 *   for fan-out and retries that would otherwise build giant traces. Baggage is kept.
 */
export type ProcessRelation = 'child' | 'link';

/**
 * What to do with baggage that arrives with a message: it comes from whoever produced
 * it and flows on into every downstream call the handler makes.
 * - `keep`: all of it.
 * - `drop`: none of it.
 * - a list of keys: only those.
 */
export type BaggagePolicy = 'keep' | 'drop' | readonly string[];

/** Options of the consumer-side decorators. */
export interface ConsumerOptions extends TracingOptions {
  /**
   * How each `process` span relates to the message's creation context.
   * @defaultValue `'child'`
   */
  readonly relation?: ProcessRelation;
  /**
   * Which inbound baggage the handler sees.
   * @defaultValue `'keep'`
   */
  readonly baggage?: BaggagePolicy;
  /**
   * A `process` span whose handler has not finished, or whose message has not been
   * settled, this many milliseconds after it started is ended anyway with the attribute
   * `tracehop.process.timed_out = true`, so spans never leak. The message itself is
   * not touched, and not held in memory by tracehop meanwhile.
   * @defaultValue 60 000 (the official amqplib instrumentation's `consumeTimeoutMs`)
   */
  readonly settleTimeoutMs?: number;
}

import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { ContextSource } from './context-source.js';

/**
 * Formats a span name from the operation (`send`, `process`, `ack`…) and the
 * destination. The default is the semantic-convention name, `{operation} {destination}`.
 * Organisations with their own standard (`{destination} {operation}`) pass their own.
 */
export type SpanNameFormatter = (operation: string, destination: string) => string;

/**
 * Maps a destination name (`messaging.destination.name`: a queue, a topic, an AMQP
 * `{exchange}:{routing key}:{queue}`) to its low-cardinality template, such as
 * `orders-{tenant}` for `orders-acme`; `undefined` keeps the name. See
 * {@link TracingOptions.destinationTemplate}.
 */
export type DestinationTemplate = (destination: string) => string | undefined;

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
  /**
   * Where the messaging metrics go (`messaging.client.sent.messages`,
   * `messaging.client.consumed.messages`, `messaging.client.operation.duration`,
   * `messaging.process.duration`, `tracehop.messaging.queue_time`). They are recorded for
   * every message, sampled or not, so that rates and latencies stay exact under 1 %
   * sampling.
   * @defaultValue the globally registered meter provider (`metrics.getMeterProvider()` of
   * `@opentelemetry/api`): with none registered, that is the API's no-op provider and
   * nothing is recorded or computed. While it is the no-op one it is looked up again at each
   * message, so an SDK started after the wrapper was made is still found; once a real one
   * is found, it is kept.
   */
  readonly meterProvider?: MeterProvider;
  /**
   * The low-cardinality template of each destination, for destinations whose names carry
   * ids (one queue per tenant, routing keys with order ids). Metrics must not get one
   * series per queue: when this returns a template, metrics carry
   * `messaging.destination.template` instead of `messaging.destination.name`, and spans
   * carry the template beside the name. Called once per distinct name (the answers of the
   * last 1 000 names are kept), never with message ids; if it throws, the name is kept and
   * the problem is reported once through `diag`.
   * @defaultValue none: every destination name is taken to be low-cardinality, and metrics
   * carry `messaging.destination.name`
   * @example `destinationTemplate: (name) => (name.startsWith('orders-') ? 'orders-{tenant}' : undefined)`
   */
  readonly destinationTemplate?: DestinationTemplate;
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

/**
 * Options of the consumer-side decorators.
 * @typeParam TMessage - the message the decorator's handler gets, which a `contextSource`
 * receives
 */
export interface ConsumerOptions<TMessage = unknown> extends TracingOptions {
  /**
   * Where else to look for a message's trace context when its standard headers carry none
   * (no valid `traceparent`, no `AWSTraceHeader`, no SNS envelope…): for producers that
   * still propagate it their own way — a JSON body field (`fromBodyField`), headers of
   * other names (`fromHeaders`), or anything a function of yours can read. An array
   * is asked in order; the first valid context wins. What a source returns is validated
   * like headers: malformed, absent or a source that throws → the message is processed on
   * a new trace, said once through `diag`, never thrown. The `process` span of a message
   * whose context came from a source gets `tracehop.context.source` (`body`,
   * `header-alias`, `custom`). Messages with standard headers never reach a source, so it
   * costs nothing once every producer is migrated; see docs/migration.md.
   * @defaultValue none: only the standard headers are read (a message without them starts
   * a new trace)
   */
  readonly contextSource?: ContextSource<TMessage> | readonly ContextSource<TMessage>[];
  /**
   * How each `process` span relates to the message's creation context.
   * @defaultValue `'child'`
   */
  readonly relation?: ProcessRelation;
  /**
   * With relation `child`, whether the `process` span also links to its parent, the
   * message's creation context. The semantic conventions say a `process` span SHOULD link
   * to the creation context of every message it accounts for, parent or not, and backends
   * that list a span's links (Jaeger's references, Tempo's links) show the producer there.
   * Turn it off to save one link per span, to start and to export, when your backend shows
   * the parent anyway. A link to an active span around the consumer
   * (an HTTP push request) is added either way.
   * @defaultValue `true`
   */
  readonly linkToParent?: boolean;
  /**
   * Which inbound baggage the handler sees.
   * @defaultValue `'keep'`
   */
  readonly baggage?: BaggagePolicy;
  /**
   * How long a `process` span waits, after its handler has finished, for its message to be
   * settled (acked, nacked, deleted) before it ends anyway with the attribute
   * `tracehop.process.timed_out = true`, so spans never leak. The wait starts when the
   * handler finishes: a handler that runs longer is never cut off. A settle that comes
   * after the timeout is still recorded, as a short settle span (CLIENT) under the ended
   * `process` span with `tracehop.settle.late = true`. The message itself is not touched,
   * and not held in memory by tracehop meanwhile. Spans wait only for settles tracehop can
   * see; the others end with their handler.
   * @defaultValue 60 000 (the official amqplib instrumentation's `consumeTimeoutMs`)
   */
  readonly settleTimeoutMs?: number;
  /**
   * Whether each settle (`ack`, `nack`, `reject`, SQS `delete`, Pub/Sub `ack`…) is recorded
   * as an event on the message's `process` span, named after the operation, with
   * `messaging.operation.type = settle`. Off, the span still ends at the settle, a settle
   * the broker refused is still recorded (with its `error.type`), and a settle after the
   * settle timeout is still a late settle span; only the event of each successful settle is
   * left out, which saves its time stamp and attributes on every recorded message.
   * @defaultValue `true`
   */
  readonly settleEvents?: boolean;
}

/**
 * Options of decorators whose caller does not wait for the handler's promise (amqplib's
 * `consume`, Pub/Sub's `on('message')`): a rejected promise would become an unhandled
 * rejection, which stops Node by default. tracehop resolves it instead and hands the error
 * here.
 */
export interface HandlerErrorOptions<TMessage> {
  /**
   * Called with each error of an async handler (and, with `autoSettle`, of a sync one),
   * after it was recorded on the `process` span and, with `autoSettle`, after the message
   * was settled negatively. Errors it throws are reported once through `diag`.
   * @defaultValue each error is logged through OpenTelemetry's `diag.error`
   */
  readonly onError?: (error: unknown, message: TMessage) => void;
}

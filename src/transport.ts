import type { Attributes, SpanContext } from '@opentelemetry/api';
import type { CarrierLimits, CarrierUsage } from './limits.js';
import type { TraceFields } from './propagation.js';

/** The operations whose span names a transport may word in its broker's own terms. */
export type NamedOperation = 'create' | 'send' | 'receive' | 'process';

/** What both halves of a transport description say. */
export interface TransportIdentity {
  /** `messaging.system.name`, for example `rabbitmq`, `aws.sqs`, `gcp.pubsub`, `kafka`. */
  readonly system: string;

  /**
   * `messaging.operation.name` per operation, where the broker's own word differs
   * from the operation type (Pub/Sub calls process `subscribe`).
   * @defaultValue the operation type: `create`, `send`, `receive`, `process`
   */
  readonly operationNames?: Partial<Record<NamedOperation, string>>;
}

/**
 * The producer half of a broker description: how trace headers go onto one outgoing
 * message, within the broker's limits, and how the message's `send`/`create` span is
 * named. `TOutgoing` is whatever the producer side hands over for one message (a Pub/Sub
 * `MessageOptions`, an SQS `SendMessageRequest` entry, a `{ exchange, routingKey,
 * options }` triple). {@link ProducerTracer} builds the spans from it.
 */
export interface ProducerTransport<TOutgoing> extends TransportIdentity {
  /**
   * Returns the message to send with the trace fields added as headers or attributes.
   * Must not modify `message` or anything it references: copy what changes.
   */
  withHeaders(message: TOutgoing, fields: TraceFields): TOutgoing;

  /** What one message may carry; see {@link CarrierLimits}. @defaultValue no limits */
  readonly limits?: CarrierLimits;

  /**
   * What the caller's message already uses of {@link limits}. Needed only when there are limits.
   * @defaultValue nothing used
   */
  usage?(message: TOutgoing): CarrierUsage;

  /**
   * Where the context goes when not even `traceparent` fits (SQS: the `AWSTraceHeader`
   * system attribute, which does not count against the 10). Returns the message to
   * send. Without it the message goes without context.
   */
  withFallbackContext?(message: TOutgoing, spanContext: SpanContext): TOutgoing;

  /**
   * Adds the semantic-convention attributes of an outgoing message (destination,
   * message id, broker-specific ones) to `attributes`, and returns the destination as
   * it appears in the span name (`send {destination}`). System and operation
   * attributes are added by tracehop.
   */
  describeOutgoing(message: TOutgoing, attributes: Attributes): string;

  /**
   * Adds the attributes of one outgoing message that samplers do not need (message id,
   * body size, ordering key…) to `attributes`. Called only when the message's span records,
   * just after it starts: the semantic conventions ask for what samplers need (destination,
   * operation, system, server) at start, and the rest would be built for nothing on every
   * span that is not sampled.
   * @defaultValue none: every attribute comes from {@link describeOutgoing}
   */
  describeOutgoingDetails?(message: TOutgoing, attributes: Attributes): void;
}

/**
 * The consumer half of a broker description: how to read the trace headers of one
 * received message and how its `process` span is named. `TIncoming` is one received
 * message as the consumer sees it. A consumer-only transport (a Lambda event source, a
 * push endpoint) supplies only this half. {@link ConsumerTracer} builds the spans from it;
 * how messages are settled is said per decorator, in a {@link ConsumerLifecycle}.
 */
export interface ConsumerTransport<TIncoming> extends TransportIdentity {
  /**
   * Reads one header or attribute of a received message exactly as the broker
   * delivered it (string, Buffer, number, array, missing…): tracehop turns it into a
   * string or ignores it. Transports that understand other formats (X-Ray's
   * `AWSTraceHeader`, Pub/Sub's `googclient_traceparent`) answer for `traceparent`
   * from them when the plain header is absent.
   */
  readHeader(message: TIncoming, key: string): unknown;

  /**
   * The body of a received message as the broker delivered it (AMQP `content`, SQS `Body`,
   * Pub/Sub `data`), for a `contextSource` that reads a trace context from the body. Read
   * only for messages whose headers carry no context, and only when a source asks for it.
   * @defaultValue none: body sources (`fromBodyField`) find nothing, said once
   */
  body?(message: TIncoming): string | Uint8Array | undefined;

  /**
   * When the broker accepted a received message, by the broker's own clock, in epoch
   * milliseconds (SQS `SentTimestamp`, Pub/Sub `publishTime`, AMQP `timestamp`), or
   * `undefined` when the message does not say. tracehop turns it into the message's queue
   * time (`tracehop.message.queue_time` on the `process` span, the
   * `tracehop.messaging.queue_time` histogram), clamped at 0. Read once per message, before
   * the `process` span starts; what it throws is reported once and ignored.
   * @defaultValue none: no queue time
   */
  sentAt?(message: TIncoming): number | undefined;

  /**
   * Adds the semantic-convention attributes of a received message to `attributes` (those
   * of its `process` span) and returns its destination as it appears in the span name
   * (`process {destination}`).
   */
  describeIncoming(message: TIncoming, attributes: Attributes): string;

  /**
   * Adds the attributes of one received message that samplers do not need (message id,
   * delivery tag, body size, delivery count…) to `attributes`. Called only when the
   * message's `process` span records, just after it starts (see
   * {@link ProducerTransport.describeOutgoingDetails}).
   * @defaultValue none: every attribute comes from {@link describeIncoming}
   */
  describeIncomingDetails?(message: TIncoming, attributes: Attributes): void;
}

/**
 * Everything tracehop needs to know about one broker that has both sides. The built-in
 * SQS, RabbitMQ and Pub/Sub adapters are descriptions of this shape; a description of
 * Kafka, NATS or BullMQ gets the same spans, propagation, limits and settle handling.
 */
export type MessagingTransport<TOutgoing, TIncoming> = ProducerTransport<TOutgoing> &
  ConsumerTransport<TIncoming>;

import type { Attributes, SpanContext } from '@opentelemetry/api';
import type { CarrierLimits, CarrierUsage } from './limits.js';
import type { TraceFields } from './propagation.js';

/**
 * Everything tracehop needs to know about one broker, in one small object. The
 * built-in SQS, RabbitMQ and Pub/Sub adapters are descriptions of this shape; a
 * description of Kafka, NATS or BullMQ gives them the same spans, propagation, limits
 * and settle handling through {@link MessagingTracer}.
 *
 * `TOutgoing` is whatever the producer side hands over for one message (a Pub/Sub
 * `MessageOptions`, an SQS `SendMessageRequest` entry, a `{ exchange, routingKey,
 * options }` triple); `TIncoming` is one received message as the consumer sees it.
 */
export interface MessagingTransport<TOutgoing, TIncoming> {
  /** `messaging.system.name`, for example `rabbitmq`, `aws.sqs`, `gcp.pubsub`, `kafka`. */
  readonly system: string;

  // 1. The carrier.

  /**
   * Reads one header or attribute of a received message exactly as the broker
   * delivered it (string, Buffer, number, array, missing…): tracehop turns it into a
   * string or ignores it. Transports that understand other formats (X-Ray's
   * `AWSTraceHeader`, Pub/Sub's `googclient_traceparent`) answer for `traceparent`
   * from them when the plain header is absent.
   */
  readHeader(message: TIncoming, key: string): unknown;

  /**
   * Returns the message to send with the trace fields added as headers or attributes.
   * Must not modify `message` or anything it references: copy what changes.
   */
  withHeaders(message: TOutgoing, fields: TraceFields): TOutgoing;

  // 2. Its limits.

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

  // 3. Naming and attributes.

  /**
   * Adds the semantic-convention attributes of an outgoing message (destination,
   * message id, broker-specific ones) to `attributes`, and returns the destination as
   * it appears in the span name (`send {destination}`). System and operation
   * attributes are added by tracehop.
   */
  describeOutgoing(message: TOutgoing, attributes: Attributes): string;

  /** The same for a received message: attributes of its `process` span. */
  describeIncoming(message: TIncoming, attributes: Attributes): string;

  /**
   * `messaging.operation.name` per operation, where the broker's own word differs
   * from the operation type (Pub/Sub calls process `subscribe`).
   * @defaultValue the operation type: `create`, `send`, `receive`, `process`
   */
  readonly operationNames?: Partial<Record<'create' | 'send' | 'receive' | 'process', string>>;

  // 4. Settlement.

  /**
   * Whether messages are settled by a separate call (ack, nack, delete…) that the
   * adapter reports with {@link MessagingTracer.settle}. When true, a `process` span
   * ends at settle or when the handler finishes, whichever is later; when false, when
   * the handler finishes.
   * @defaultValue false
   */
  readonly settles?: boolean;
}

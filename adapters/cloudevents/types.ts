import type { Context, TracerProvider } from '@opentelemetry/api';
import type { CloudEvent, CloudEventV1 } from 'cloudevents';

/**
 * A CloudEvent as tracehop reads it: a `CloudEvent` of the `cloudevents` SDK or any object
 * with the CloudEvents v1 attributes.
 */
export type CloudEventLike = CloudEventV1<unknown>;

/**
 * How an event travels in a message:
 * - `binary`: the event's data is the message body as-is, every other attribute is a
 *   message attribute or header (`ce-id`, `cloudEvents:id`…), `datacontenttype` is the
 *   message's content type. Brokers and routers can read the attributes without parsing.
 * - `structured`: the whole event, data included, is the JSON body, with content type
 *   `application/cloudevents+json; charset=utf-8`. Nothing counts against attribute limits.
 */
export type ContentMode = 'binary' | 'structured';

/** Options of {@link withTraceContext}. */
export interface WithTraceContextOptions {
  /**
   * The context the event is created in: its span becomes the parent of the
   * `CloudEvents Create` span, or the extension's value when `createSpan` is false.
   * @defaultValue the active context
   */
  readonly context?: Context;
  /**
   * Start (and at once end) a `CloudEvents Create {type}` span (PRODUCER) and put its
   * context on the event, as the OpenTelemetry CloudEvents conventions ask. When false, the
   * extension carries the context's own span and no span is made.
   * @defaultValue true
   */
  readonly createSpan?: boolean;
  /**
   * Where the `CloudEvents Create` span goes.
   * @defaultValue the globally registered tracer provider
   */
  readonly tracerProvider?: TracerProvider;
}

/** Options every `to…Message` function and every {@link CloudEventBinding} encoder takes. */
export interface EncodeOptions {
  /**
   * `binary` or `structured`, see {@link ContentMode}.
   * @defaultValue `binary` for Pub/Sub and AMQP; `structured` for SQS, whose 10-attribute
   * limit a binary event (4 to 9 attributes before any extension) nearly fills
   */
  readonly mode?: ContentMode;
  /**
   * Put the Distributed Tracing extension on the event first, with {@link withTraceContext},
   * when it has none: the event then carries its creation context to every later hop. Pass
   * options to configure that, or false to send the event as it is.
   * @defaultValue true
   */
  readonly traceContext?: boolean | WithTraceContextOptions;
}

/** Options every `from…Message` function and {@link CloudEventBinding.toEvent} take. */
export interface DecodeOptions {
  /**
   * Validate the decoded event with the SDK's strict mode (required attributes, extension
   * names). Received events are read leniently by default, as the SDK's own bindings do.
   * @defaultValue false
   */
  readonly strict?: boolean;
}

/** The two attributes of the Distributed Tracing extension, as {@link CloudEventBinding.traceHeader} reads them. */
export type TraceHeaderName = 'traceparent' | 'tracestate';

/**
 * How CloudEvents travel on one broker: the CloudEvents SDK's `Binding`
 * (`binary`, `structured`, `toEvent`, `isEvent`), typed with the broker client's own message
 * shapes instead of HTTP-like headers and body, plus what a traced consumer needs to continue
 * a trace from the event itself ({@link CloudEventBinding.traceHeader}).
 *
 * tracehop has one per broker — `pubSubBinding`, `amqpBinding`, `sqsBinding` — built once and
 * shared by every function and decorator that reads or writes events on that broker. Every
 * member is a plain function that does not use `this`: pass `amqpBinding.toEvent` around or
 * destructure it freely.
 *
 * @typeParam TOut - what the broker client sends (amqplib's content and properties, a
 *   `SendMessage` input's body and attributes, a Pub/Sub message).
 * @typeParam TIn - the parts of a received message the binding reads; the client's own
 *   received message type fits it.
 * @typeParam TEncodeOptions - the transport's encode options; `mode` is chosen by the method.
 */
export interface CloudEventBinding<
  TOut,
  TIn,
  TEncodeOptions extends EncodeOptions = EncodeOptions,
> {
  /**
   * Encodes `event` in binary mode (see {@link ContentMode}): the data is the message body,
   * every other attribute a message attribute or header. The event first gets the
   * Distributed Tracing extension with its creation context when it has none, unless
   * `options.traceContext` is false (see {@link EncodeOptions.traceContext}). Never modifies
   * `event` or `options`.
   */
  readonly binary: (event: CloudEventLike, options?: Omit<TEncodeOptions, 'mode'>) => TOut;
  /**
   * Encodes `event` in structured mode (see {@link ContentMode}): the JSON event is the body,
   * with content type `application/cloudevents+json; charset=utf-8`. Adds the Distributed
   * Tracing extension as {@link CloudEventBinding.binary} does.
   */
  readonly structured: (event: CloudEventLike, options?: Omit<TEncodeOptions, 'mode'>) => TOut;
  /**
   * The CloudEvent a received message carries, in either mode (told by its content type:
   * `application/cloudevents…` is structured), with its extensions — the Distributed Tracing
   * extension included — as they were sent. Binary-mode attribute names are compared
   * case-insensitively; JSON data is parsed, text decoded, anything else kept as bytes.
   *
   * Throws the SDK's `ValidationError` when the message is not a CloudEvent, is a batch
   * (`application/cloudevents-batch…`, not supported) or uses a structured format other than
   * JSON, and `SyntaxError` for a structured body that is not JSON. Use
   * {@link CloudEventBinding.isEvent} to tell first.
   */
  readonly toEvent: <T = unknown>(message: TIn, options?: DecodeOptions) => CloudEvent<T>;
  /**
   * True when the message carries a CloudEvent: a CloudEvents content type (structured or
   * batch), or binary-mode attributes with an `id` or a `specversion`. Cheap: reads the
   * attributes and content type only, never the body, so a structured message whose body
   * turns out not to be JSON is still `true` (and `toEvent` then throws).
   */
  readonly isEvent: (message: TIn) => boolean;
  /**
   * The event's Distributed Tracing extension value `name` (`traceparent` or `tracestate`),
   * read without building the event, for a consumer whose message has no transport
   * `traceparent` of its own (an event sent by a producer that set only the extension) and
   * that should continue the trace from the event's creation context:
   *
   * - binary mode: the one prefixed attribute or header (`ce-traceparent`,
   *   `cloudEvents:traceparent`…, names compared case-insensitively); the data is not read;
   * - structured mode (JSON format): the body's `traceparent`/`tracestate`. The body is
   *   parsed once per message object, however many names are asked for (the result is kept
   *   in a `WeakMap`, so treat a received message as immutable);
   * - anything else (a batch, another format, not a CloudEvent): `undefined`.
   *
   * Returns a value only when it is valid: `traceparent` must be a W3C trace-context value
   * (right version and length, lowercase hex, non-zero ids); `tracestate` is returned only
   * beside a valid `traceparent` (as W3C requires) and when it holds at least one valid
   * member; values that are not strings or longer than 8192 characters are ignored. So the
   * result can feed a propagator's getter directly. Never throws: malformed or hostile
   * input yields `undefined`.
   */
  readonly traceHeader: (message: TIn, name: TraceHeaderName) => string | undefined;
}

import type { Context, TracerProvider } from '@opentelemetry/api';
import type { CloudEventV1 } from 'cloudevents';

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

/** Options every `to…Message` binding takes. */
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

/** Options every `from…Message` binding takes. */
export interface DecodeOptions {
  /**
   * Validate the decoded event with the SDK's strict mode (required attributes, extension
   * names). Received events are read leniently by default, as the SDK's own bindings do.
   * @defaultValue false
   */
  readonly strict?: boolean;
}

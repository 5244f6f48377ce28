import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import { context as contextApi, trace, type SpanContext } from '@opentelemetry/api';
import type { Message as AmqpMessage } from 'amqplib';
import type { CloudEvent } from 'cloudevents';
import { headerToString } from '../../src/header-value.js';
import { TRACEPARENT } from '../../src/propagation.js';
import { fromTraceparent } from '../../src/span-context-text.js';
import type { ConsumerTransport } from '../../src/transport.js';
import { createAmqpTransport } from '../amqp/amqp-transport.js';
import { markTracedHandler } from '../amqp/registry.js';
import { traceAmqpHandler } from '../amqp/trace-amqp-handler.js';
import type { AmqpHandlerOptions } from '../amqp/types.js';
import { PubSubTransport } from '../pubsub/pubsub-transport.js';
import { tracePubSubHandler } from '../pubsub/trace-pubsub-handler.js';
import type { PubSubHandlerOptions, PubSubMessage } from '../pubsub/types.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../sqs/message-size.js';
import { SqsTransport } from '../sqs/sqs-transport.js';
import { traceSqsHandler } from '../sqs/trace-sqs-handler.js';
import type { SqsHandlerOptions } from '../sqs/types.js';
import { amqpBinding } from './amqp-binding.js';
import { cloudEventAttributes } from './cloud-event-attributes.js';
import { pubSubBinding } from './pubsub-binding.js';
import { sqsBinding } from './sqs-binding.js';
import { readTraceContext } from './trace-context.js';
import type { CloudEventBinding, DecodeOptions } from './types.js';

/** A decorated message handler: what a broker's handler decorator returns. */
type MessageHandler<M, R> = (this: unknown, message: M) => R;

/** One delivery, decoded before its `process` span starts. */
interface Decoded {
  event: CloudEvent<unknown> | undefined;
  failure: unknown;
  creation: SpanContext | undefined;
  hop: string | undefined;
}

/**
 * Builds a CloudEvents handler decorator from a broker's own handler decorator and its
 * CloudEvents binding: every broker gets the same behaviour, written once.
 *
 * Per message: the event is decoded (binary or structured mode); when the message carries
 * no transport `traceparent` of its own (an event published by a producer that only set the
 * Distributed Tracing extension) and the relation is `child`, the event's creation context
 * becomes the parent; the broker's decorator then runs the handler in the `process` span as
 * for any message — same settle recording, auto-settle, error policy and timeout — and the
 * span gets the `cloudevents.*` attributes and a link to the creation context when that is
 * not the hop's own. A message that is not a CloudEvent is not passed to the handler: the
 * decoding error is thrown in the span, as if the handler had thrown it.
 */
function cloudEventDecorator<M, E, R>(
  binding: CloudEventBinding<unknown, M>,
  transport: ConsumerTransport<M>,
  options: DecodeOptions & { readonly relation?: 'child' | 'link' | undefined },
  handler: (event: CloudEvent<E>, message: M) => R,
  decorate: (inner: MessageHandler<M, R>) => MessageHandler<M, R>,
): MessageHandler<M, R> {
  // The delivery being started. The broker's decorator calls `inner` synchronously from
  // the call that set it, before anything else can run: no per-message map is needed.
  let current: Decoded | undefined;
  const traced = decorate(function inner(this: unknown, message: M): R {
    const decoded = current;
    current = undefined;
    if (decoded?.event === undefined) throw decoded?.failure;
    describe(decoded);
    return handler.call(this, decoded.event as CloudEvent<E>, message);
  });
  const linkOnly = options.relation === 'link';
  return function tracedCloudEventHandler(this: unknown, message: M): R {
    // amqplib's `null` (the broker cancelled the consumer) carries no event: nothing to handle.
    if (message === null || typeof message !== 'object') return undefined as R;
    const decoded: Decoded = {
      event: undefined,
      failure: undefined,
      creation: undefined,
      hop: undefined,
    };
    try {
      decoded.event = binding.toEvent(message, options);
      decoded.creation = readTraceContext(decoded.event);
      const hop = headerToString(transport.readHeader(message, TRACEPARENT), TRACEPARENT);
      // A malformed hop header carries no context: the event's creation context is the parent.
      decoded.hop = hop !== undefined && fromTraceparent(hop) !== undefined ? hop : undefined;
    } catch (error) {
      decoded.failure = error;
    }
    current = decoded;
    if (decoded.creation === undefined || decoded.hop !== undefined || linkOnly) {
      return traced.call(this, message);
    }
    // No hop context: the event's creation context is the parent.
    const base = trace.setSpanContext(contextApi.active(), decoded.creation);
    return contextApi.with(base, traced, this, message);
  };
}

/** Adds the event's attributes, and a link to its creation context unless the hop carries it. */
function describe(decoded: Decoded): void {
  const span = trace.getActiveSpan();
  if (span === undefined || !span.isRecording() || decoded.event === undefined) return;
  span.setAttributes(cloudEventAttributes(decoded.event));
  const creation = decoded.creation;
  if (creation === undefined) return;
  if (decoded.hop !== undefined && decoded.hop.includes(creation.spanId)) return;
  span.addLink({ context: creation });
}

/** Options of {@link traceAmqpCloudEventHandler}. */
export interface AmqpCloudEventHandlerOptions extends AmqpHandlerOptions, DecodeOptions {}

/**
 * Decorates an amqplib consume callback for CloudEvents (the AMQP binding, binary or
 * structured): `handler(event, message)` runs inside the message's `process` span exactly
 * as with {@link traceAmqpHandler} — same options, settle recording, `autoSettle`,
 * `onError` and timeout — and the span also gets the event's `cloudevents.*` attributes and
 * a link to its creation context; without a transport `traceparent`, that context is the
 * parent. A message that is not a CloudEvent fails the handler call with the decoding
 * error (the SDK's `ValidationError`, or `SyntaxError`), recorded on the span; with
 * `autoSettle` it is nacked.
 */
export function traceAmqpCloudEventHandler<T, R>(
  handler: (event: CloudEvent<T>, message: AmqpMessage) => R,
  options: AmqpCloudEventHandlerOptions,
): (message: AmqpMessage | null) => R | undefined {
  const decorated = cloudEventDecorator<AmqpMessage | null, T, R | undefined>(
    amqpBinding as CloudEventBinding<unknown, AmqpMessage | null>,
    createAmqpTransport(),
    options,
    // Never called with `null`: the decorator answers a cancellation itself.
    handler as (event: CloudEvent<T>, message: AmqpMessage | null) => R,
    (inner) => traceAmqpHandler(inner, options),
  );
  // Traced on its own: a traceChannel wrapper's consume leaves it as it is.
  markTracedHandler(decorated);
  return decorated;
}

/** Options of {@link traceSqsCloudEventHandler}. */
export interface SqsCloudEventHandlerOptions extends SqsHandlerOptions, DecodeOptions {}

/**
 * Decorates an SQS message handler (sqs-consumer's `handleMessage`, a receive loop) for
 * CloudEvents (structured or binary mode, see the SQS binding). The receive must ask for the
 * event's message attributes — `content-type` and the `ce-*` ones, or `All`
 * (sqs-consumer: `messageAttributeNames: ['All']`): SQS returns none it was not asked for,
 * and without them no event can be read. `handler(event, message)`
 * runs inside the message's `process` span exactly as with {@link traceSqsHandler} — same
 * options, delete recording and error policy (errors are rethrown; return the message to
 * have sqs-consumer delete it) — plus the event's attributes and creation link, as
 * {@link traceAmqpCloudEventHandler} describes.
 */
export function traceSqsCloudEventHandler<T, R>(
  handler: (event: CloudEvent<T>, message: SqsMessage) => R,
  options: SqsCloudEventHandlerOptions = {},
): (message: SqsMessage) => R {
  return cloudEventDecorator(
    sqsBinding as CloudEventBinding<unknown, SqsMessage>,
    new SqsTransport(DEFAULT_MAX_MESSAGE_BYTES, options.queueUrl),
    options,
    handler,
    (inner) => traceSqsHandler(inner, options),
  );
}

/** Options of {@link tracePubSubCloudEventHandler}. */
export interface PubSubCloudEventHandlerOptions extends PubSubHandlerOptions, DecodeOptions {}

/**
 * Decorates a `subscription.on('message', …)` handler for CloudEvents (the Pub/Sub binding,
 * binary or structured): `handler(event, message)` runs inside the message's
 * `subscribe {subscription}` span exactly as with {@link tracePubSubHandler} — same
 * relation, settle recording, `autoSettle`, `onError` and timeout — plus the event's
 * attributes and creation link, as {@link traceAmqpCloudEventHandler} describes.
 */
export function tracePubSubCloudEventHandler<T, M extends PubSubMessage, R>(
  handler: (event: CloudEvent<T>, message: M) => R,
  options: PubSubCloudEventHandlerOptions,
): (message: M) => R {
  return cloudEventDecorator(
    pubSubBinding as CloudEventBinding<unknown, M>,
    new PubSubTransport(undefined, undefined) as ConsumerTransport<M>,
    options,
    handler,
    (inner) => tracePubSubHandler(inner, options),
  );
}

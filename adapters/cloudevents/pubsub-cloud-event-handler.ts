import { context as contextApi, trace, type SpanContext } from '@opentelemetry/api';
import type { CloudEvent } from 'cloudevents';
import { TRACEPARENT } from '../../src/propagation.js';
import { PubSubProcessor } from '../pubsub/pubsub-processor.js';
import { GOOGCLIENT_TRACEPARENT } from '../pubsub/pubsub-transport.js';
import type { PubSubHandlerOptions, PubSubMessage } from '../pubsub/types.js';
import { fromPubSubMessage } from './pubsub-binding.js';
import { cloudEventAttributes } from './cloud-event-attributes.js';
import { readTraceContext } from './trace-context.js';
import type { DecodeOptions } from './types.js';

/** Options of {@link tracePubSubCloudEventHandler}. */
export interface PubSubCloudEventHandlerOptions extends PubSubHandlerOptions, DecodeOptions {}

/**
 * Decorates a `subscription.on('message', …)` handler for CloudEvents: decodes each message
 * (binary or structured mode) and calls `handler(event, message)` inside the message's
 * `subscribe {subscription}` span, exactly as {@link tracePubSubHandler} does — same
 * relation, settle recording, auto-settle and timeout — and adds to that span:
 * - the `cloudevents.event_id`, `event_source`, `event_spec_version`, `event_type` and
 *   `event_subject` attributes;
 * - a link to the event's creation context (its Distributed Tracing extension), when it is
 *   not the hop's own;
 * - when the message has no transport context of its own (an event published by a producer
 *   that only set the extension), the creation context as the parent, unless
 *   `relation: 'link'`.
 *
 * A message that is not a CloudEvent is not passed to the handler: the decoding error
 * (the SDK's `ValidationError`, or `SyntaxError`) is recorded on the span and rethrown, as if
 * the handler had thrown it — with `autoSettle` the message is nacked.
 */
export function tracePubSubCloudEventHandler<T, M extends PubSubMessage, R>(
  handler: (event: CloudEvent<T>, message: M) => R,
  options: PubSubCloudEventHandlerOptions,
): (message: M) => R {
  const processor = new PubSubProcessor<M>(options);
  const linkOnly = options.relation === 'link';
  return function tracedCloudEventHandler(this: unknown, message: M): R {
    let event: CloudEvent<T> | undefined;
    let failure: unknown;
    try {
      event = fromPubSubMessage<T>(message, options);
    } catch (error) {
      failure = error;
    }
    const creation = event === undefined ? undefined : readTraceContext(event);
    const attributes = message?.attributes as Record<string, string | undefined> | undefined;
    const hopHeader = attributes?.[TRACEPARENT] ?? attributes?.[GOOGCLIENT_TRACEPARENT];
    // Without a transport context of its own, the event's creation context is the parent.
    const base =
      creation !== undefined && hopHeader === undefined && !linkOnly
        ? trace.setSpanContext(contextApi.active(), creation)
        : undefined;
    return processor.run(
      message,
      function invoke(this: unknown, view: M): R {
        if (event === undefined) throw failure;
        describeEvent(event, creation, hopHeader);
        return handler.call(this, event, view);
      },
      this,
      base,
    );
  };
}

/** Adds the event's attributes, and a link to its creation context when it is not the hop's. */
function describeEvent(
  event: CloudEvent<unknown>,
  creation: SpanContext | undefined,
  hopHeader: string | undefined,
): void {
  const span = trace.getActiveSpan();
  if (span === undefined || !span.isRecording()) return;
  span.setAttributes(cloudEventAttributes(event));
  const sameAsHop =
    typeof hopHeader === 'string' && creation !== undefined && hopHeader.includes(creation.spanId);
  // With no hop header the creation context is the parent, already linked by the core.
  if (creation !== undefined && hopHeader !== undefined && !sameAsHop) {
    span.addLink({ context: creation });
  }
}

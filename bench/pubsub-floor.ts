/**
 * The Pub/Sub `sdk-floor`: the spans, attributes, links and events `traceTopic` and
 * `tracePubSubHandler` record, written inline with the OpenTelemetry API and nothing else —
 * what a competent hand-written instrumentation of the same telemetry costs.
 *
 * Per message: a PRODUCER `create {topic}` span whose context goes into a copy of the
 * attributes, the publish call run in its context, ended with `messaging.message.id` when
 * the client resolves; a CONSUMER `subscribe {subscription}` span, child of the extracted
 * context and linked to it, active while the handler runs, with an `ack` event.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import type { Message, Topic } from '@google-cloud/pubsub';
import { floorSetter, floorTracer } from './floor.js';

const attributeGetter: TextMapGetter<Record<string, string> | undefined> = {
  get: (attributes, key) => attributes?.[key],
  keys: (attributes) => (attributes === undefined ? [] : Object.keys(attributes)),
};

const ACK_EVENT: Attributes = Object.freeze({
  'messaging.operation.type': 'settle',
  'messaging.operation.name': 'ack',
});

/** The inline instrumentation of one topic's publisher and one subscription's handler. */
export class PubSubFloor {
  private readonly tracer: Tracer = floorTracer();
  private readonly createName: string;
  private readonly processName: string;
  private readonly createAttributes: Attributes;
  private readonly processAttributes: Attributes;

  constructor(topicId: string, subscriptionId: string) {
    this.createName = `create ${topicId}`;
    this.processName = `subscribe ${subscriptionId}`;
    this.createAttributes = Object.freeze({
      'messaging.destination.name': topicId,
      'messaging.system.name': 'gcp.pubsub',
      'messaging.operation.type': 'create',
      'messaging.operation.name': 'create',
    });
    this.processAttributes = Object.freeze({
      'messaging.destination.subscription.name': subscriptionId,
      'messaging.destination.name': topicId,
      'messaging.system.name': 'gcp.pubsub',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'subscribe',
    });
  }

  /** `publishMessage` in a `create` span, ended when the client reports the message id. */
  publish(topic: Topic, data: Buffer): Promise<string> {
    const parent = context.active();
    const span = this.tracer.startSpan(
      this.createName,
      { kind: SpanKind.PRODUCER, attributes: this.createAttributes },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    const attributes: Record<string, string> = {};
    propagation.inject(ctx, attributes, floorSetter);
    return context
      .with(ctx, () => topic.publishMessage({ data, attributes }))
      .then(
        (id) => {
          span.setAttribute('messaging.message.id', id);
          span.end();
          return id;
        },
        (error: unknown) => {
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
          throw error;
        },
      );
  }

  /** Runs `handler` (which acks) in the message's `subscribe` span, records the ack, ends it. */
  process(message: Message, handler: (message: Message) => void): void {
    const parent = propagation.extract(ROOT_CONTEXT, message.attributes, attributeGetter);
    const creation = trace.getSpanContext(parent);
    const attributes: Attributes = {
      ...this.processAttributes,
      'messaging.message.id': message.id,
      'gcp.pubsub.message.ack_id': message.ackId,
      'tracehop.message.queue_time': Math.max(0, Date.now() - message.publishTime.getTime()) / 1000,
    };
    if (message.deliveryAttempt > 0) {
      attributes['gcp.pubsub.message.delivery_attempt'] = message.deliveryAttempt;
    }
    const span = this.tracer.startSpan(
      this.processName,
      {
        kind: SpanKind.CONSUMER,
        links: creation === undefined ? [] : [{ context: creation }],
        attributes,
      },
      parent,
    );
    context.with(trace.setSpan(parent, span), handleAndRecord, undefined, message, span, handler);
    span.end();
  }
}

function handleAndRecord(message: Message, span: Span, handler: (message: Message) => void): void {
  handler(message);
  span.addEvent('ack', ACK_EVENT);
}

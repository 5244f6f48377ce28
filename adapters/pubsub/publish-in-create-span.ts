import { context as contextApi, type Span } from '@opentelemetry/api';
import type { ProducerTracer, SendScope } from '../../src/producer-tracer.js';
import { reportOnce } from '../../src/report.js';
import { ATTR_MESSAGING_MESSAGE_ID } from '../../src/semconv.js';
import type { PubSubOutgoingMessage, PubSubPublishCallback, PubSubPublisher } from './types.js';

/** The tracer of one topic. */
export type PubSubTracer = ProducerTracer<PubSubOutgoingMessage>;

/**
 * Publishes one message through the real publisher inside its own `create` span (PRODUCER):
 * the span starts here, its context goes into a copy of the message's attributes, the
 * client call runs in that context, and the span ends when the client reports the message
 * published (its promise resolves or its callback is called) with `messaging.message.id`,
 * or failed, with the error recorded. What the client returns or throws is passed on.
 */
export function publishInCreateSpan(
  tracer: PubSubTracer,
  publisher: PubSubPublisher,
  message: PubSubOutgoingMessage,
  callback?: PubSubPublishCallback,
): Promise<string> | void {
  let scope: SendScope<PubSubOutgoingMessage>;
  try {
    scope = tracer.startCreate(message);
  } catch (error) {
    reportOnce('pubsub:create', `published a message without a create span: ${String(error)}`);
    return typeof callback === 'function'
      ? publisher.publishMessage(message, callback)
      : publisher.publishMessage(message);
  }
  const span = scope.span;
  if (typeof callback === 'function') {
    const done: PubSubPublishCallback = (error, messageId) => {
      finish(tracer, span, error ?? undefined, messageId);
      callback(error, messageId);
    };
    try {
      contextApi.with(scope.context, publishWithCallback, publisher, scope.message, done);
    } catch (error) {
      tracer.endSpan(span, error);
      throw error;
    }
    return;
  }
  let published: Promise<string>;
  try {
    published = contextApi.with(scope.context, publishForPromise, publisher, scope.message);
  } catch (error) {
    tracer.endSpan(span, error);
    throw error;
  }
  // A span nothing is recorded of needs no end: the client's own promise goes back as is.
  if (!tracer.observes(span)) return published;
  return published.then(
    (messageId) => {
      finish(tracer, span, undefined, messageId);
      return messageId;
    },
    (error: unknown) => {
      tracer.endSpan(span, error);
      throw error;
    },
  );
}

function publishForPromise(this: PubSubPublisher, message: PubSubOutgoingMessage): Promise<string> {
  return this.publishMessage(message);
}

function publishWithCallback(
  this: PubSubPublisher,
  message: PubSubOutgoingMessage,
  callback: PubSubPublishCallback,
): void {
  this.publishMessage(message, callback);
}

function finish(
  tracer: PubSubTracer,
  span: Span,
  error: unknown,
  messageId: string | null | undefined,
): void {
  if (error === undefined && typeof messageId === 'string') {
    span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, messageId);
  }
  tracer.endSpan(span, error);
}

import { ProducerTracer } from '../../src/producer-tracer.js';
import { shared } from '../../src/registry.js';
import { warnAboutOtherTracing } from './warn-about-other-tracing.js';
import { publishInCreateSpan, type PubSubTracer } from './publish-in-create-span.js';
import { resourceId } from './resource-id.js';
import { PubSubTransport } from './pubsub-transport.js';
import type {
  PubSubOutgoingMessage,
  PubSubPublishCallback,
  PubSubPublisher,
  PubSubTopic,
  TraceTopicOptions,
} from './types.js';

/** Topics returned by {@link traceTopic}, so wrapping twice returns the same one. */
// Process-wide, so that a topic wrapped by one copy of tracehop (ESM or CommonJS) is not
// wrapped again by the other.
const tracedTopics = shared('pubsub.tracedTopics', () => new WeakSet<object>());

/**
 * Returns the topic with publishing traced: every message published through it — with
 * `publishMessage`, `publish`, `publishJSON`, or a `flowControlled()` publisher — gets a
 * `create {topic}` span (PRODUCER) whose context is injected into a copy of the message's
 * attributes, as `traceparent` (and `tracestate`, `baggage` when there are any).
 *
 * The span starts when the message is handed to the client and ends when the client's
 * promise resolves with the message id (recorded as `messaging.message.id`) or rejects (the
 * error is recorded and passed on unchanged). The client batches messages internally and
 * sends each batch in one `Publish` call that tracehop cannot see without patching the
 * client, so there is no separate `send` span per batch: the `create` span's duration is the
 * time the message waited in the batch plus the `Publish` call.
 *
 * The context also goes out as `googclient_traceparent` (and `googclient_tracestate`), which
 * is all a subscriber using the client's built-in tracing reads. Attributes beyond Pub/Sub's
 * limits (100 per message, 256-byte keys, 1024-byte values) are never sent:
 * `googclient_tracestate` is dropped first, then `baggage` members, then `tracestate`, and
 * `traceparent` last (see `PUBSUB_LIMITS`); the publish itself
 * never fails because of tracehop, and what was dropped is said once through `diag`. The
 * caller's message, attributes and ordering key are not modified.
 *
 * The returned object is a proxy of `topic`: every other property and method is the topic's own.
 */
export function traceTopic<T extends PubSubTopic>(topic: T, options: TraceTopicOptions = {}): T {
  if (tracedTopics.has(topic)) return topic;
  warnAboutOtherTracing(topic, [
    (topic.publisher as { publishMessage?: unknown } | undefined)?.publishMessage,
    (topic as { publishMessage?: unknown }).publishMessage,
  ]);
  const tracer: PubSubTracer = new ProducerTracer(
    new PubSubTransport(resourceId(topic.name), undefined),
    options,
  );
  let raw: PubSubPublisher | undefined;
  let traced: PubSubPublisher | undefined;
  const proxy = new Proxy(topic, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key);
      if (key !== 'publisher' || typeof value !== 'object' || value === null) return value;
      if (value !== raw) {
        raw = value as PubSubPublisher;
        traced = tracePublisher(raw, tracer);
      }
      return traced;
    },
  });
  tracedTopics.add(proxy);
  return proxy;
}

/** A proxy of the client's `Publisher` whose `publishMessage` publishes in a `create` span. */
function tracePublisher(publisher: PubSubPublisher, tracer: PubSubTracer): PubSubPublisher {
  function publishMessage(
    message: PubSubOutgoingMessage,
    callback?: PubSubPublishCallback,
  ): Promise<string> | void {
    return publishInCreateSpan(tracer, publisher, message, callback);
  }
  return new Proxy(publisher, {
    get(target, key) {
      if (key === 'publishMessage') return publishMessage;
      const value: unknown = Reflect.get(target, key);
      return value;
    },
  });
}

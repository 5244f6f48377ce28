/**
 * Production sampling on the Pub/Sub emulator: a message whose trace is not sampled gets only
 * its context (the handler still runs in the producer's trace) and the very Message object the
 * client emitted, not a view — its ack still reaches the emulator, and nothing is recorded;
 * samplers see the attributes the semantic conventions name for sampling at start, and the
 * spans that record get the rest, with the handler's ack recorded through its view.
 */
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { v1, type Message } from '@google-cloud/pubsub';

import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tracePubSubHandler, traceTopic } from '../../../adapters/pubsub/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { AskedSampler, UNSAMPLED_TRACE, unsampledParent } from '../../sampling-kit.js';
import { collect, createFixture, only, parentId, spanId, traceId, type Fixture } from './kit.js';

const sampler = new AskedSampler();
const tracing = setupTestTracing({ sampler });
afterAll(() => tracing.shutdown());
beforeEach(() => {
  tracing.reset();
  sampler.calls.length = 0;
});
afterEach(() => {
  expect(tracing.openSpans()).toEqual([]);
});

/** The trace of the active context, as a handler sees it. */
function activeTrace(): { traceId: string; sampled: boolean } {
  const active = trace.getSpanContext(context.active());
  return {
    traceId: active?.traceId ?? '',
    sampled: ((active?.traceFlags ?? 0) & TraceFlags.SAMPLED) !== 0,
  };
}

/**
 * The messages the emulator would deliver now. Closing the subscription first flushes its
 * acks and nacks every message it still leases, so a message that was not acked is back at
 * once, and a pull that returns immediately finds it.
 */
async function backlogAfterClose(f: Fixture): Promise<string[]> {
  await f.subscription.close();
  const client = new v1.SubscriberClient({ ...f.pubsub.options });
  try {
    const [response] = await client.pull({
      subscription: f.subscription.name,
      maxMessages: 100,
      returnImmediately: true,
    });
    return (response.receivedMessages ?? []).map((received) => received.message?.messageId ?? '');
  } finally {
    await client.close();
  }
}

/** The sorted attribute keys the sampler was asked about the span named `name`. */
function keysAsked(name: string): string[] {
  const asked = sampler.keysAsked(name);
  expect(asked, `the sampler was asked about ${name} once`).toHaveLength(1);
  return asked[0] ?? [];
}

const CREATE_SAMPLING_KEYS = [
  'messaging.destination.name',
  'messaging.operation.name',
  'messaging.operation.type',
  'messaging.system.name',
];

const PROCESS_SAMPLING_KEYS = [
  'messaging.destination.name',
  'messaging.destination.subscription.name',
  'messaging.operation.name',
  'messaging.operation.type',
  'messaging.system.name',
];

describe('messages whose trace is not sampled', () => {
  it('run their handler in the producer trace with the message the client emitted, are acked, and leave nothing recorded', async () => {
    const f = await createFixture();
    try {
      const count = 20;
      const topic = traceTopic(f.topic);
      // Registered first: sees each Message object exactly as the client emits it.
      const emitted = new Map<string, Message>();
      f.subscription.on('message', (message: Message) => void emitted.set(message.id, message));
      const handled: { message: Message; traceId: string; sampled: boolean }[] = [];
      const all = collect(
        f.subscription,
        count,
        tracePubSubHandler(
          (message: Message) => {
            handled.push({ message, ...activeTrace() });
            message.ack();
          },
          { subscription: f.subscription },
        ),
      );
      const ids = await context.with(unsampledParent(), () =>
        Promise.all(
          Array.from({ length: count }, (_, i) =>
            topic.publishMessage({ data: Buffer.from(`m${i}`) }),
          ),
        ),
      );
      await all;

      expect(handled.map((one) => one.message.id).sort()).toEqual([...ids].sort());
      for (const one of handled) {
        expect(one.traceId).toBe(UNSAMPLED_TRACE);
        expect(one.sampled).toBe(false);
        // No view: the handler got the client's own object.
        expect(one.message).toBe(emitted.get(one.message.id));
        // The producer's context went out with the message, unsampled.
        expect(one.message.attributes['traceparent']).toMatch(
          new RegExp(`^00-${UNSAMPLED_TRACE}-[0-9a-f]{16}-00$`),
        );
      }
      // Samplers were asked with the sampling attributes alone.
      const asked = sampler.calls.map((call) => [call.name, Object.keys(call.attributes).sort()]);
      expect(asked).toEqual([
        ...ids.map(() => [`create ${f.topicId}`, CREATE_SAMPLING_KEYS]),
        ...ids.map(() => [`subscribe ${f.subscriptionId}`, PROCESS_SAMPLING_KEYS]),
      ]);
      // Every ack reached the emulator: nothing is delivered again.
      expect(await backlogAfterClose(f)).toEqual([]);
      expect(tracing.spans()).toEqual([]);
      expect(tracing.openSpans()).toEqual([]);
    } finally {
      await f.close();
    }
  });
});

describe('attributes of sampled messages', () => {
  it('samplers see the attributes the semantic conventions name for sampling; spans that record get the rest, and the ack through the view', async () => {
    const f = await createFixture({ messageOrdering: true });
    try {
      const topic = traceTopic(f.topic);
      const emitted: Message[] = [];
      f.subscription.on('message', (message: Message) => void emitted.push(message));
      const handed: Message[] = [];
      const received = collect(
        f.subscription,
        1,
        tracePubSubHandler(
          (message: Message) => {
            handed.push(message);
            message.ack();
          },
          { subscription: f.subscription },
        ),
      );
      const messageId = await topic.publishMessage({
        data: Buffer.from('{"order":1}'),
        orderingKey: 'customer-7',
      });
      await received;
      const [message] = emitted as [Message];
      const [view] = handed as [Message];
      // A view of the emitted message, whose ack is recorded on the span.
      expect(view).not.toBe(message);
      expect(view.id).toBe(message.id);
      const processName = `subscribe ${f.subscriptionId}`;
      const spans = await tracing.waitForSpans((all) => all.some((s) => s.name === processName));
      const create = only(spans, `create ${f.topicId}`);
      const process = only(spans, processName);

      expect(keysAsked(create.name)).toEqual(CREATE_SAMPLING_KEYS);
      expect(keysAsked(process.name)).toEqual(PROCESS_SAMPLING_KEYS);

      expect(create.attributes).toMatchObject({
        'messaging.destination.name': f.topicId,
        'messaging.message.id': messageId,
        'gcp.pubsub.message.ordering_key': 'customer-7',
      });
      expect(process.attributes).toMatchObject({
        'messaging.destination.subscription.name': f.subscriptionId,
        'messaging.message.id': messageId,
        'gcp.pubsub.message.ack_id': message.ackId,
        'gcp.pubsub.message.ordering_key': 'customer-7',
      });
      expect(typeof process.attributes['tracehop.message.queue_time']).toBe('number');
      expect(traceId(process)).toBe(traceId(create));
      expect(parentId(process)).toBe(spanId(create));
      expect(process.events.map((event) => event.name)).toEqual(['ack']);
      expect(await backlogAfterClose(f)).toEqual([]);
    } finally {
      await f.close();
    }
  });
});

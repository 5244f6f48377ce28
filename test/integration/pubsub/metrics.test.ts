/**
 * Messaging metrics and queue time on the Pub/Sub emulator: messages published through
 * `traceTopic`, handled by `tracePubSubHandler`, both given an SDK meter provider.
 */
import type { Message } from '@google-cloud/pubsub';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tracePubSubHandler, traceTopic } from '../../../adapters/pubsub/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { expectMessagingMetrics, expectQueueTimes, setupTestMetrics } from '../../metrics-kit.js';
import { createFixture, deferred, listen } from './kit.js';

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());
beforeEach(() => tracing.reset());
afterEach(() => {
  expect(tracing.openSpans()).toEqual([]);
});

const named = (spans: readonly ReadableSpan[], name: string) =>
  spans.filter((s) => s.name === name);

describe('messaging metrics and queue time on Pub/Sub', () => {
  it('counts N published and N delivered, times each create and process, and gives every subscribe span its queue time from publishTime', async () => {
    const testMetrics = setupTestMetrics();
    const options = { meterProvider: testMetrics.meterProvider };
    const f = await createFixture();
    try {
      const topic = traceTopic(f.topic, options);
      const n = 4;
      const handled = deferred<void>();
      let seen = 0;
      listen(
        f.subscription,
        tracePubSubHandler(
          (message: Message) => {
            expect(message.publishTime).toBeInstanceOf(Date);
            seen++;
            if (seen === n) handled.resolve();
          },
          { subscription: f.subscription, autoSettle: true, ...options },
        ),
      );

      const beforeSend = Date.now();
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          topic.publishMessage({ data: Buffer.from(`order-${i}`) }),
        ),
      );
      await handled.promise;
      const spans = await tracing.waitForSpans(
        (s) => named(s, `subscribe ${f.subscriptionId}`).length === n,
      );
      const afterHandle = Date.now();
      expectQueueTimes(
        named(spans, `subscribe ${f.subscriptionId}`),
        n,
        (afterHandle - beforeSend) / 1000,
      );

      const system = { 'messaging.system.name': 'gcp.pubsub' };
      const topicName = { ...system, 'messaging.destination.name': f.topicId };
      const delivered = {
        ...topicName,
        'messaging.destination.subscription.name': f.subscriptionId,
        // The conventions call Pub/Sub's process operation `subscribe`.
        'messaging.operation.name': 'subscribe',
      };
      expectMessagingMetrics(await testMetrics.collect(), {
        messages: n,
        // Each message's create span ends when the client reports it published: it is
        // counted as sent then, under the operation that sent it.
        sent: { ...topicName, 'messaging.operation.name': 'send' },
        sendDuration: {
          ...topicName,
          'messaging.operation.name': 'create',
          'messaging.operation.type': 'create',
        },
        consumed: delivered,
        processed: delivered,
      });
    } finally {
      await f.close();
      await testMetrics.shutdown();
    }
  });
});

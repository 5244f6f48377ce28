import { once } from 'node:events';
import { SendMessageBatchCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { Consumer } from 'sqs-consumer';
import { describe, expect, it } from 'vitest';
import { traceSqsBatchHandler, traceSqsHandler } from '../../../adapters/sqs/index.js';
import {
  createQueue,
  deleteQueue,
  messagesLeft,
  named,
  only,
  parentId,
  spanId,
  useSqsTestbed,
} from './sqs-test-kit.js';

const { tracing, raw, sqs } = useSqsTestbed();

function inRequestSpan<T>(fn: () => Promise<T>): Promise<T> {
  return trace.getTracer('test').startActiveSpan('POST /orders', async (span: Span) => {
    try {
      return await fn();
    } finally {
      span.end();
    }
  });
}

/** Stops a consumer and waits for its last poll to finish, so that no receive span is left open. */
async function stop(consumer: Consumer): Promise<void> {
  const stopped = once(consumer, 'stopped');
  consumer.stop();
  await stopped;
}

describe('sqs-consumer 15 with an instrumented client (fauxqs)', () => {
  it('handleMessage: each message is processed under its send span, and the delete sqs-consumer makes afterwards ends the span', async () => {
    const queue = await createQueue(raw, 'consumer');
    const seenIn: string[] = [];
    const consumer = Consumer.create({
      queueUrl: queue.url,
      sqs,
      waitTimeSeconds: 1,
      pollingCompleteWaitTimeMs: 5_000,
      handleMessage: traceSqsHandler(async (message: Message) => {
        seenIn.push(trace.getActiveSpan()?.spanContext().spanId ?? 'none');
        await Promise.resolve();
        return message;
      }),
    });
    try {
      const sent = await inRequestSpan(() =>
        sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'order-7' })),
      );
      const processed = once(consumer, 'message_processed');
      consumer.start();
      await processed;
      await stop(consumer);

      const spans = await tracing.waitForSpans((all) => all.some(named(`process ${queue.name}`)));
      const send = only(spans, named(`send ${queue.name}`));
      const process = only(spans, named(`process ${queue.name}`, SpanKind.CONSUMER));
      expect(parentId(process)).toBe(spanId(send));
      expect(process.attributes['messaging.message.id']).toBe(sent.MessageId);
      expect(process.attributes['messaging.destination.name']).toBe(queue.name);
      expect(process.events.map((event) => event.name)).toEqual(['delete']);
      expect(seenIn).toEqual([spanId(process)]);
      const receives = spans.filter(named(`receive ${queue.name}`));
      expect(
        receives.some((span) => span.links.some((link) => link.context.spanId === spanId(send))),
      ).toBe(true);
      expect(await messagesLeft(raw, queue.url)).toBe(0);
    } finally {
      if (consumer.status.isRunning) await stop(consumer);
      await deleteQueue(raw, queue.url);
    }
  });

  it('handleMessageBatch: every message in its own process span; the failed one is not deleted, the others are', async () => {
    const queue = await createQueue(raw, 'consumer-batch');
    const failure = new Error('cannot ship order 2');
    const consumer = Consumer.create({
      queueUrl: queue.url,
      sqs,
      batchSize: 10,
      waitTimeSeconds: 1,
      visibilityTimeout: 30,
      pollingCompleteWaitTimeMs: 5_000,
      handleMessageBatch: traceSqsBatchHandler((message: Message) => {
        if (message.Body === 'order-2') throw failure;
      }),
    });
    try {
      await inRequestSpan(() =>
        sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queue.url,
            Entries: [1, 2, 3].map((n) => ({ Id: `o${n}`, MessageBody: `order-${n}` })),
          }),
        ),
      );
      const done = once(consumer, 'response_processed');
      consumer.start();
      await done;
      await stop(consumer);

      const spans = await tracing.waitForSpans(
        (all) => all.filter(named(`process ${queue.name}`)).length === 3,
      );
      const creates = spans.filter(named(`create ${queue.name}`));
      for (const process of spans.filter(named(`process ${queue.name}`))) {
        const create = only(
          creates,
          (span) =>
            span.attributes['messaging.message.id'] === process.attributes['messaging.message.id'],
        );
        expect(parentId(process)).toBe(spanId(create));
        if (process.status.code === SpanStatusCode.ERROR) {
          expect(process.status.message).toBe('cannot ship order 2');
          expect(process.events.map((event) => event.name)).toEqual(['exception']);
        } else {
          expect(process.events.map((event) => event.name)).toEqual(['delete']);
        }
      }
      expect(spans.filter((span) => span.status.code === SpanStatusCode.ERROR)).toHaveLength(1);
      // order-2 is still there, in flight until its visibility timeout
      expect(await messagesLeft(raw, queue.url)).toBe(1);
    } finally {
      if (consumer.status.isRunning) await stop(consumer);
      await deleteQueue(raw, queue.url);
    }
  });
});

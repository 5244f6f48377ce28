/**
 * The one message lifecycle on a real SQS server (fauxqs), with sqs-consumer 15 and with a
 * hand-written loop: the settle timeout counts from the handler's end, a delete after the
 * timeout is still recorded, a delete tracehop cannot see is never waited for, and a
 * handler's error reaches the caller unchanged. Time is measured by events (another
 * message's timed-out span), never by sleeping.
 */
import { once } from 'node:events';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Consumer, StandardError } from 'sqs-consumer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { traceSqsHandler } from '../../../adapters/sqs/index.js';
import { ATTR_SETTLE_LATE } from '../../../src/consumer-tracer.js';
import { ATTR_PROCESS_TIMED_OUT } from '../../../src/process-scope.js';
import { captureDiagWarnings } from '../../../src/testing/index.js';
import {
  createQueue,
  deleteQueue,
  messagesLeft,
  named,
  only,
  parentId,
  spanId,
  traceId,
  useSqsTestbed,
} from './sqs-test-kit.js';

const { tracing, raw, sqs } = useSqsTestbed();
const diagWarnings = captureDiagWarnings();
beforeEach(() => diagWarnings.start());
afterEach(() => diagWarnings.stop());

const messageId = (span: ReadableSpan): unknown => span.attributes['messaging.message.id'];
const timedOut = (span: ReadableSpan): boolean => span.attributes[ATTR_PROCESS_TIMED_OUT] === true;
const startMs = (span: ReadableSpan): number => hrTimeToMilliseconds(span.startTime);
const endMs = (span: ReadableSpan): number => hrTimeToMilliseconds(span.endTime);

/** A promise with its resolve function, to wait on events instead of sleeping. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Stops a consumer and waits for its last poll to finish, so that no receive span is left open. */
async function stop(consumer: Consumer): Promise<void> {
  if (!consumer.status.isRunning) return;
  const stopped = once(consumer, 'stopped');
  consumer.stop();
  await stopped;
}

/** Receives through `client` until one message arrives (each call waits for SQS, up to 1 s). */
async function receiveOne(client: SQSClient, queueUrl: string): Promise<Message> {
  for (;;) {
    const { Messages } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
    );
    const message = Messages?.[0];
    if (message !== undefined) return message;
  }
}

describe('the settle timeout counts from the handler end', () => {
  it('sqs-consumer: a handler running far past settleTimeoutMs keeps its span open; its later failure is recorded, not a timeout', async () => {
    const queue = await createQueue(raw, 'long-handler');
    const failure = new TypeError('warehouse unreachable');
    const slowStarted = deferred();
    const release = deferred();
    const consumer = Consumer.create({
      queueUrl: queue.url,
      sqs,
      batchSize: 10,
      waitTimeSeconds: 1,
      visibilityTimeout: 30,
      pollingCompleteWaitTimeMs: 5_000,
      // The clock's returned message is then never deleted, so its span times out.
      shouldDeleteMessages: false,
      handleMessage: traceSqsHandler(
        async (message: Message) => {
          if (message.Body === 'clock') return message;
          slowStarted.resolve();
          await release.promise;
          throw failure;
        },
        { settleTimeoutMs: 50 },
      ),
    });
    const consumerErrors: Error[] = [];
    consumer.on('error', (error) => void consumerErrors.push(error));
    try {
      // One batch: sqs-consumer runs both handlers at once and polls again only after both.
      const sent = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: [
            { Id: 'slow', MessageBody: 'slow' },
            { Id: 'clock', MessageBody: 'clock' },
          ],
        }),
      );
      const idOf = (entry: string) => sent.Successful?.find((s) => s.Id === entry)?.MessageId;
      const processingErrors: Error[] = [];
      consumer.on('processing_error', (error) => void processingErrors.push(error));
      // Emitted once both handlers have finished, after any processing_error.
      const batchDone = once(consumer, 'response_processed');
      consumer.start();
      await slowStarted.promise;

      // The clock's span timed out: more than settleTimeoutMs passed since its handler
      // ended, and the slow handler had started before that. It still runs, its span open.
      const early = await tracing.waitForSpans((s) =>
        s.filter(named(`process ${queue.name}`)).some(timedOut),
      );
      expect(early.filter(named(`process ${queue.name}`)).map(messageId)).toEqual([idOf('clock')]);
      expect(
        tracing
          .openSpans()
          .filter((span) => span.name === `process ${queue.name}`)
          .map((span) => span.attributes['messaging.message.id']),
      ).toEqual([idOf('slow')]);

      release.resolve();
      await batchDone;
      expect(processingErrors).toHaveLength(1);
      expect(processingErrors[0]?.cause).toBe(failure);
      const spans = await tracing.waitForSpans(
        (s) => s.filter(named(`process ${queue.name}`)).length === 2,
      );
      const clock = only(spans, (s) => s.name === `process ${queue.name}` && timedOut(s));
      const slow = only(
        spans,
        (s) => s.name === `process ${queue.name}` && messageId(s) === idOf('slow'),
      );
      expect(messageId(clock)).toBe(idOf('clock'));
      expect(clock.events).toEqual([]);

      expect(slow.kind).toBe(SpanKind.CONSUMER);
      expect(parentId(slow)).toBe(
        spanId(
          only(spans, (s) => s.name === `create ${queue.name}` && messageId(s) === idOf('slow')),
        ),
      );
      expect(slow.attributes[ATTR_PROCESS_TIMED_OUT]).toBeUndefined();
      expect(slow.status).toEqual({ code: SpanStatusCode.ERROR, message: 'warehouse unreachable' });
      expect(slow.attributes['error.type']).toBe('TypeError');
      expect(slow.events.map((e) => e.name)).toEqual(['exception']);
      // The slow handler started before the clock's handler ended (same batch), so its span
      // outlived the clock's timeout: it lasted more than settleTimeoutMs (50 ms).
      expect(endMs(slow)).toBeGreaterThanOrEqual(endMs(clock));
      expect(endMs(slow) - startMs(slow)).toBeGreaterThanOrEqual(49);
      expect(consumerErrors).toEqual([]);
    } finally {
      release.resolve();
      await stop(consumer);
      await deleteQueue(raw, queue.url);
    }
  });
});

describe('a settle after the timeout', () => {
  it('hand-written loop: a DeleteMessage after the span timed out is exported as a late delete span under it', async () => {
    const queue = await createQueue(raw, 'late-delete');
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'order-9' }));
      const message = await receiveOne(sqs, queue.url);
      let handled: string | undefined;
      const handle = traceSqsHandler(
        (m: Message) => {
          handled = m.MessageId;
        },
        { awaitSettle: 'always', settleTimeoutMs: 50 },
      );
      handle(message);
      expect(handled).toBe(message.MessageId);

      const first = await tracing.waitForSpans((s) =>
        s.filter(named(`process ${queue.name}`)).some(timedOut),
      );
      const process = only(first, named(`process ${queue.name}`, SpanKind.CONSUMER));
      expect(messageId(process)).toBe(message.MessageId);
      expect(first.filter(named(`delete ${queue.name}`))).toEqual([]);

      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }),
      );
      const spans = await tracing.waitForSpans((s) => s.some(named(`delete ${queue.name}`)));
      const late = only(spans, named(`delete ${queue.name}`));
      expect(late.kind).toBe(SpanKind.CLIENT);
      expect(late.attributes).toMatchObject({
        [ATTR_SETTLE_LATE]: true,
        'messaging.operation.type': 'settle',
        'messaging.operation.name': 'delete',
      });
      expect(late.attributes['error.type']).toBeUndefined();
      expect(parentId(late)).toBe(spanId(process));
      expect(traceId(late)).toBe(traceId(process));
      // Nothing was added to the ended span, and the message is gone.
      expect(process.events).toEqual([]);
      expect(await messagesLeft(raw, queue.url)).toBe(0);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });
});

describe('never waiting for a settle that cannot be seen', () => {
  it('sqs-consumer with a plain client and default options: each span ends with its handler, the messages are deleted, and that is said once', async () => {
    const queue = await createQueue(raw, 'plain-client');
    const count = 3;
    // Checked at each 'message_processed', which sqs-consumer emits after its delete.
    const endedBeforeDelete: boolean[] = [];
    const allProcessed = deferred();
    const consumer = Consumer.create({
      queueUrl: queue.url,
      sqs: raw,
      batchSize: 10,
      waitTimeSeconds: 1,
      pollingCompleteWaitTimeMs: 5_000,
      handleMessage: traceSqsHandler(async (message: Message) => {
        await Promise.resolve();
        return message;
      }),
    });
    consumer.on('message_processed', (message: Message) => {
      const id = message.MessageId;
      endedBeforeDelete.push(
        tracing.spans().some((span) => messageId(span) === id) &&
          !tracing.openSpans().some((span) => span.attributes['messaging.message.id'] === id),
      );
      if (endedBeforeDelete.length === count) allProcessed.resolve();
    });
    const consumerErrors: Error[] = [];
    consumer.on('error', (error) => void consumerErrors.push(error));
    try {
      const sent = await raw.send(
        new SendMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: Array.from({ length: count }, (_, i) => ({ Id: `m${i}`, MessageBody: `${i}` })),
        }),
      );
      const ids = (sent.Successful ?? []).map((entry) => entry.MessageId).sort();
      expect(ids).toHaveLength(count);
      consumer.start();
      await allProcessed.promise;
      await stop(consumer);

      expect(endedBeforeDelete).toEqual([true, true, true]);
      const spans = await tracing.waitForSpans(
        (s) => s.filter(named('process', SpanKind.CONSUMER)).length === count,
      );
      const processes = spans.filter(named('process', SpanKind.CONSUMER));
      expect(processes.map(messageId).sort()).toEqual(ids);
      for (const process of processes) {
        expect(process.attributes[ATTR_PROCESS_TIMED_OUT]).toBeUndefined();
        expect(process.attributes['messaging.operation.type']).toBe('process');
        expect(process.events).toEqual([]);
        expect(process.status.code).toBe(SpanStatusCode.UNSET);
      }
      // The plain client made no spans of its own.
      expect(spans).toHaveLength(count);
      expect(
        diagWarnings.messages.filter((m) => m.includes('its delete cannot be seen')),
      ).toHaveLength(1);
      // sqs-consumer deleted them: nothing visible, nothing in flight.
      expect(await messagesLeft(raw, queue.url)).toBe(0);
      const { Messages } = await raw.send(
        new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 0 }),
      );
      expect(Messages ?? []).toEqual([]);
      expect(consumerErrors).toEqual([]);
    } finally {
      await stop(consumer);
      await deleteQueue(raw, queue.url);
    }
  });
});

describe('errors reach a caller that awaits', () => {
  it('sqs-consumer: a rejecting handler’s error reaches sqs-consumer unchanged, as the cause of its processing_error', async () => {
    const queue = await createQueue(raw, 'rethrow');
    const failure = new RangeError('quantity out of range');
    let rejected: Promise<unknown> | undefined;
    const traced = traceSqsHandler(async (message: Message) => {
      await Promise.resolve();
      if (message.Body === 'order-1') throw failure;
      return message;
    });
    const consumer = Consumer.create({
      queueUrl: queue.url,
      sqs,
      waitTimeSeconds: 1,
      visibilityTimeout: 30,
      pollingCompleteWaitTimeMs: 5_000,
      handleMessage: (message: Message) => {
        const result = traced(message);
        rejected = result;
        return result;
      },
    });
    const consumerErrors: Error[] = [];
    consumer.on('error', (error) => void consumerErrors.push(error));
    try {
      const sent = await sqs.send(
        new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'order-1' }),
      );
      const processingErrors: [Error, Message][] = [];
      consumer.on('processing_error', (error, message) => {
        processingErrors.push([error, message]);
      });
      // Emitted once the handler has finished, after any processing_error.
      const done = once(consumer, 'response_processed');
      consumer.start();
      await done;
      await stop(consumer);
      expect(processingErrors).toHaveLength(1);
      const [error, message] = processingErrors[0] as [Error, Message];

      // The decorated handler's own promise rejected with the very error…
      await expect(rejected).rejects.toBe(failure);
      // …which sqs-consumer wrapped as it wraps any handler error.
      expect(error).toBeInstanceOf(StandardError);
      expect(error.cause).toBe(failure);
      expect(error.message).toBe('Unexpected message handler failure: quantity out of range');
      expect(message.MessageId).toBe(sent.MessageId);

      const spans = await tracing.waitForSpans((s) => s.some(named(`process ${queue.name}`)));
      const process = only(spans, named(`process ${queue.name}`, SpanKind.CONSUMER));
      expect(parentId(process)).toBe(spanId(only(spans, named(`send ${queue.name}`))));
      expect(process.status).toEqual({
        code: SpanStatusCode.ERROR,
        message: 'quantity out of range',
      });
      expect(process.attributes['error.type']).toBe('RangeError');
      expect(process.events.map((e) => e.name)).toEqual(['exception']);
      expect(process.attributes[ATTR_PROCESS_TIMED_OUT]).toBeUndefined();
      // Not deleted: it comes back after its visibility timeout.
      expect(await messagesLeft(raw, queue.url)).toBe(1);
      expect(consumerErrors).toEqual([]);
    } finally {
      await stop(consumer);
      await deleteQueue(raw, queue.url);
    }
  });
});

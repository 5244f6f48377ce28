/**
 * Production sampling on a real SQS server: a message whose trace is not sampled gets only
 * its context (the handler still runs in the producer's trace), no entry in the
 * receipt-handle index, and no attributes beyond what samplers see, while the instrumented
 * client still deletes it; samplers see the attributes the semantic conventions name for
 * sampling at start, and the spans that record get the rest.
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
import { context, trace, TraceFlags, SpanKind } from '@opentelemetry/api';

import { Consumer } from 'sqs-consumer';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  instrumentSqsClient,
  traceSqsBatchHandler,
  traceSqsHandler,
} from '../../../adapters/sqs/index.js';
import { byReceiptHandle } from '../../../adapters/sqs/in-flight.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { AskedSampler, unsampledParent } from '../../sampling-kit.js';
import {
  createQueue,
  deleteQueue,
  messagesLeft,
  named,
  newClient,
  only,
  parentId,
  spanId,
  traceId,
} from './sqs-test-kit.js';

const sampler = new AskedSampler();
const tracing = setupTestTracing({ sampler });
const raw = newClient();
const sqs = instrumentSqsClient(newClient());
beforeEach(() => {
  tracing.reset();
  sampler.calls.length = 0;
});
afterEach(() => {
  expect(tracing.openSpans()).toEqual([]);
});
afterAll(async () => {
  raw.destroy();
  sqs.destroy();
  await tracing.shutdown();
});

/** The producer's trace: an upstream service at 1 % sent it unsampled. */
const PRODUCER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
/** The consumer's poll loop, unsampled too, in a trace of its own. */
const POLL_TRACE = '0af7651916cd43dd8448eb211c80319c';

/** What a handler sees of its message: the active trace and what the index holds. */
interface Seen {
  readonly body: string | undefined;
  readonly traceId: string;
  readonly sampled: boolean;
  readonly tracked: number;
}

function seenBy(message: Message): Seen {
  const active = trace.getSpanContext(context.active());
  return {
    body: message.Body,
    traceId: active?.traceId ?? '',
    sampled: ((active?.traceFlags ?? 0) & TraceFlags.SAMPLED) !== 0,
    tracked: byReceiptHandle.size,
  };
}

/** One `SendMessage` and a `SendMessageBatch` of `count - 1`: `m0` … `m{count-1}`. */
async function sendAll(client: SQSClient, queueUrl: string, count: number): Promise<string[]> {
  const one = await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'm0' }));
  const batch = await client.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: Array.from({ length: count - 1 }, (_, i) => ({
        Id: `e${i + 1}`,
        MessageBody: `m${i + 1}`,
      })),
    }),
  );
  expect(batch.Failed ?? []).toEqual([]);
  return [one.MessageId ?? '', ...(batch.Successful ?? []).map((entry) => entry.MessageId ?? '')];
}

/**
 * A hand-written receive loop, as sqs-consumer's `handleMessage` runs: each message is
 * handled, and deleted through the instrumented client when the handler returns it.
 */
async function receiveAndHandle(
  queueUrl: string,
  count: number,
  handle: (message: Message) => Promise<unknown>,
): Promise<void> {
  let handled = 0;
  while (handled < count) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 5,
      }),
    );
    for (const message of Messages) {
      const result = await handle(message);
      expect(result).toBe(message);
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
      handled++;
    }
  }
}

/** Stops a consumer and waits for its last poll to finish. */
async function stop(consumer: Consumer): Promise<void> {
  const stopped = once(consumer, 'stopped');
  consumer.stop();
  await stopped;
}

/** `send` of one message and `receive`: calls to the queue's server. */
const QUEUE_CALL_SAMPLING_KEYS = [
  'aws.sqs.queue.url',
  'messaging.destination.name',
  'messaging.operation.name',
  'messaging.operation.type',
  'messaging.system.name',
  'server.address',
  'server.port',
];

/** Per-message spans: the queue URL comes only once they record. */
const CREATE_SAMPLING_KEYS = [
  'messaging.destination.name',
  'messaging.operation.name',
  'messaging.operation.type',
  'messaging.system.name',
];

const PROCESS_SAMPLING_KEYS = [
  'messaging.destination.name',
  'messaging.operation.name',
  'messaging.operation.type',
  'messaging.system.name',
];

describe('messages whose trace is not sampled', () => {
  it('traceSqsHandler: run in the producer trace, untracked, deleted by the instrumented client, nothing recorded', async () => {
    const queue = await createQueue(raw, 'unsampled');
    try {
      const count = 10;
      const seen: Seen[] = [];
      const handle = traceSqsHandler((message: Message) => {
        seen.push(seenBy(message));
        // sqs-consumer's "delete it": a tracked message's span would wait for the delete.
        return Promise.resolve(message);
      });
      await context.with(unsampledParent(PRODUCER_TRACE), () => sendAll(sqs, queue.url, count));
      // A poll has no parent: in an unsampled context, its receive spans are not sampled either.
      await context.with(unsampledParent(POLL_TRACE), () =>
        receiveAndHandle(queue.url, count, handle),
      );

      expect(seen.map((one) => one.body).sort()).toEqual(
        Array.from({ length: count }, (_, i) => `m${i}`).sort(),
      );
      for (const one of seen) {
        expect(one).toMatchObject({ traceId: PRODUCER_TRACE, sampled: false, tracked: 0 });
      }
      expect(byReceiptHandle.size).toBe(0);
      // Samplers were asked with the sampling attributes alone.
      expect(sampler.keysAsked(`send ${queue.name}`, SpanKind.PRODUCER)).toEqual([
        QUEUE_CALL_SAMPLING_KEYS,
      ]);
      expect(sampler.keysAsked(`create ${queue.name}`, SpanKind.PRODUCER)).toEqual(
        seen.slice(1).map(() => CREATE_SAMPLING_KEYS),
      );
      expect(sampler.keysAsked(`process ${queue.name}`, SpanKind.CONSUMER)).toEqual(
        seen.map(() => PROCESS_SAMPLING_KEYS),
      );
      expect(await messagesLeft(raw, queue.url)).toBe(0);
      expect(tracing.spans()).toEqual([]);
      expect(tracing.openSpans()).toEqual([]);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });

  it('traceSqsBatchHandler under sqs-consumer: run in the producer trace, untracked, deleted in its batch delete, nothing recorded', async () => {
    const queue = await createQueue(raw, 'unsampled-batch');
    const count = 10;
    const seen: Seen[] = [];
    const consumer = Consumer.create({
      queueUrl: queue.url,
      sqs,
      batchSize: 10,
      waitTimeSeconds: 1,
      pollingCompleteWaitTimeMs: 5_000,
      handleMessageBatch: traceSqsBatchHandler((message: Message) => {
        seen.push(seenBy(message));
      }),
    });
    try {
      await context.with(unsampledParent(PRODUCER_TRACE), () => sendAll(sqs, queue.url, count));
      let processed = 0;
      const allProcessed = new Promise<void>((resolve) => {
        consumer.on('message_processed', () => {
          if (++processed === count) resolve();
        });
      });
      context.with(unsampledParent(POLL_TRACE), () => consumer.start());
      await allProcessed;
      await stop(consumer);

      expect(seen).toHaveLength(count);
      for (const one of seen) {
        expect(one).toMatchObject({ traceId: PRODUCER_TRACE, sampled: false, tracked: 0 });
      }
      expect(byReceiptHandle.size).toBe(0);
      expect(await messagesLeft(raw, queue.url)).toBe(0);
      expect(tracing.spans()).toEqual([]);
      expect(tracing.openSpans()).toEqual([]);
    } finally {
      if (consumer.status.isRunning) await stop(consumer);
      await deleteQueue(raw, queue.url);
    }
  });
});

describe('attributes of sampled messages', () => {
  it('samplers see the attributes the semantic conventions name for sampling; spans that record get the rest', async () => {
    const queue = await createQueue(raw, 'sampled');
    try {
      const count = 3;
      const seen: Seen[] = [];
      const handle = traceSqsHandler((message: Message) => {
        seen.push(seenBy(message));
        return Promise.resolve(message);
      });
      const ids = await sendAll(sqs, queue.url, count);
      await receiveAndHandle(queue.url, count, handle);
      const spans = await tracing.waitForSpans(
        (all) => all.filter(named(`process ${queue.name}`)).length === count,
      );

      expect(sampler.keysAsked(`send ${queue.name}`, SpanKind.PRODUCER)).toEqual([
        QUEUE_CALL_SAMPLING_KEYS,
      ]);
      expect(sampler.keysAsked(`create ${queue.name}`, SpanKind.PRODUCER)).toEqual([
        CREATE_SAMPLING_KEYS,
        CREATE_SAMPLING_KEYS,
      ]);
      // The batch's send span: a call to the server, with the batch's size (once per call).
      expect(sampler.keysAsked(`send ${queue.name}`, SpanKind.CLIENT)).toEqual([
        [...QUEUE_CALL_SAMPLING_KEYS, 'messaging.batch.message_count'].sort(),
      ]);
      const receives = sampler.keysAsked(`receive ${queue.name}`, SpanKind.CLIENT);
      expect(receives.length).toBeGreaterThan(0);
      expect(receives).toEqual(receives.map(() => QUEUE_CALL_SAMPLING_KEYS));
      expect(sampler.keysAsked(`process ${queue.name}`, SpanKind.CONSUMER)).toEqual(
        ids.map(() => PROCESS_SAMPLING_KEYS),
      );

      // The handler's message is tracked while it runs, and its span waited for the delete.
      expect(seen.map((one) => one.tracked)).toEqual(ids.map(() => 1));
      expect(byReceiptHandle.size).toBe(0);

      const send = only(spans, named(`send ${queue.name}`, SpanKind.PRODUCER));
      expect(send.attributes).toMatchObject({
        'messaging.message.id': ids[0],
        'aws.sqs.queue.url': queue.url,
      });
      const creates = spans.filter(named(`create ${queue.name}`));
      for (const create of creates) {
        expect(create.attributes['aws.sqs.queue.url']).toBe(queue.url);
      }
      const batch = only(spans, named(`send ${queue.name}`, SpanKind.CLIENT));
      expect(batch.attributes).toMatchObject({
        'aws.sqs.queue.url': queue.url,
        'messaging.batch.message_count': count - 1,
      });
      const sentBy = new Map(
        creates.map((span) => [span.attributes['messaging.message.id'], span]),
      );
      sentBy.set(ids[0], send);
      const processes = spans.filter(named(`process ${queue.name}`));
      expect(processes.map((span) => span.attributes['messaging.message.id']).sort()).toEqual(
        [...ids].sort(),
      );
      for (const process of processes) {
        const id = process.attributes['messaging.message.id'];
        expect(process.attributes).toMatchObject({
          'aws.sqs.queue.url': queue.url,
          'tracehop.sqs.approximate_receive_count': 1,
        });
        expect(typeof process.attributes['tracehop.message.queue_time']).toBe('number');
        const producer = sentBy.get(id);
        expect(producer).toBeDefined();
        if (producer !== undefined) {
          expect(traceId(process)).toBe(traceId(producer));
          expect(parentId(process)).toBe(spanId(producer));
        }
        expect(process.events.map((event) => event.name)).toEqual(['delete']);
      }
      expect(await messagesLeft(raw, queue.url)).toBe(0);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });
});

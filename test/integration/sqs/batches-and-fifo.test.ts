import {
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { SpanKind, trace, type Span } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  instrumentSqsClient,
  traceSqsBatchHandler,
  traceSqsHandler,
} from '../../../adapters/sqs/index.js';
import {
  createQueue,
  deleteQueue,
  linkedIds,
  messagesLeft,
  named,
  newClient,
  only,
  parentId,
  recordRequests,
  spanId,
  useSqsTestbed,
} from './sqs-test-kit.js';

const { tracing, raw, sqs } = useSqsTestbed();
const recorder = recordRequests(sqs);

function inRequestSpan<T>(fn: () => Promise<T>): Promise<T> {
  return trace.getTracer('test').startActiveSpan('POST /batch', async (span: Span) => {
    try {
      return await fn();
    } finally {
      span.end();
    }
  });
}

/** Receives until `count` messages arrived (SQS may return fewer than asked per call). */
async function receiveAll(queueUrl: string, count: number, extra: object = {}): Promise<Message[]> {
  const all: Message[] = [];
  while (all.length < count) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 5,
        ...extra,
      }),
    );
    if (Messages.length === 0) throw new Error(`only ${all.length} of ${count} messages arrived`);
    all.push(...Messages);
  }
  return all;
}

async function deleteBatch(queueUrl: string, messages: readonly Message[]): Promise<void> {
  const { Failed = [] } = await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
    }),
  );
  expect(Failed).toEqual([]);
}

describe('SendMessageBatch (fauxqs)', () => {
  it('a batch of 10: 10 create spans, one send span linking them, each message processed under its own create span', async () => {
    const queue = await createQueue(raw, 'batch10');
    try {
      const Entries = Array.from({ length: 10 }, (_, i) => ({
        Id: `m${i}`,
        MessageBody: `body ${i}`,
      }));
      const result = await inRequestSpan(() =>
        sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries })),
      );
      expect(result.Successful).toHaveLength(10);

      const messages = await receiveAll(queue.url, 10);
      const processed = await traceSqsBatchHandler((message) => message.MessageId)(messages);
      expect(processed).toHaveLength(10);
      // as sqs-consumer does with what a batch handler returns
      await deleteBatch(queue.url, processed);

      const spans = await tracing.waitForSpans(
        (all) => all.filter(named(`process ${queue.name}`)).length === 10,
      );
      const request = only(spans, named('POST /batch'));
      const creates = spans.filter(named(`create ${queue.name}`, SpanKind.PRODUCER));
      const send = only(spans, named(`send ${queue.name}`, SpanKind.CLIENT));
      expect(creates).toHaveLength(10);
      expect(parentId(send)).toBe(spanId(request));
      expect(send.attributes['messaging.batch.message_count']).toBe(10);
      expect(linkedIds(send).sort()).toEqual(creates.map(spanId).sort());
      for (const create of creates) expect(parentId(create)).toBe(spanId(request));

      // every message's process span hangs under the create span of that very message
      for (const message of messages) {
        const create = only(
          creates,
          (span) => span.attributes['messaging.message.id'] === message.MessageId,
        );
        const process = only(
          spans,
          (span) =>
            span.name === `process ${queue.name}` &&
            span.attributes['messaging.message.id'] === message.MessageId,
        );
        expect(parentId(process)).toBe(spanId(create));
        expect(linkedIds(process)).toContain(spanId(create));
        expect(process.events.map((event) => event.name)).toEqual(['delete']);
      }
      expect(await messagesLeft(raw, queue.url)).toBe(0);
      // each entry carried its own context
      const sent = recorder.requests.filter((r) => r.operation === 'SendMessageBatch').at(-1);
      const traceparents = (
        sent?.body['Entries'] as { MessageAttributes: { traceparent: { StringValue: string } } }[]
      ).map((entry) => entry.MessageAttributes.traceparent.StringValue);
      expect(new Set(traceparents).size).toBe(10);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });

  it('with createSpans: false, one send span (PRODUCER) whose context every entry carries', async () => {
    const lean = instrumentSqsClient(newClient(), { createSpans: false });
    const queue = await createQueue(raw, 'batch-lean');
    try {
      const Entries = Array.from({ length: 3 }, (_, i) => ({
        Id: `m${i}`,
        MessageBody: `body ${i}`,
      }));
      await inRequestSpan(() =>
        lean.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries })),
      );
      const messages = await receiveAll(queue.url, 3);
      await traceSqsBatchHandler(() => undefined, { awaitSettle: 'never' })(messages);
      const spans = await tracing.waitForSpans(
        (all) => all.filter(named(`process ${queue.name}`)).length === 3,
      );
      expect(spans.filter(named(`create ${queue.name}`))).toHaveLength(0);
      const send = only(spans, named(`send ${queue.name}`, SpanKind.PRODUCER));
      expect(send.attributes['messaging.batch.message_count']).toBe(3);
      for (const process of spans.filter(named(`process ${queue.name}`))) {
        expect(parentId(process)).toBe(spanId(send));
      }
    } finally {
      await deleteQueue(raw, queue.url);
      lean.destroy();
    }
  });
});

describe('FIFO queues (fauxqs)', () => {
  it('group and deduplication ids pass through untouched, order holds, and each message is processed under its own create span', async () => {
    const queue = await createQueue(raw, 'fifo', { FifoQueue: 'true' });
    try {
      const Entries = Array.from({ length: 5 }, (_, i) => ({
        Id: `m${i}`,
        MessageBody: `step ${i}`,
        MessageGroupId: 'order-42',
        MessageDeduplicationId: `dedup-${i}`,
      }));
      await inRequestSpan(() =>
        sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries })),
      );
      const single = await inRequestSpan(() =>
        sqs.send(
          new SendMessageCommand({
            QueueUrl: queue.url,
            MessageBody: 'step 5',
            MessageGroupId: 'order-42',
            MessageDeduplicationId: 'dedup-5',
          }),
        ),
      );

      const sentBatch = recorder.requests.filter((r) => r.operation === 'SendMessageBatch').at(-1);
      (sentBatch?.body['Entries'] as Record<string, unknown>[]).forEach((entry, i) => {
        expect(entry['MessageGroupId']).toBe('order-42');
        expect(entry['MessageDeduplicationId']).toBe(`dedup-${i}`);
      });
      const sentSingle = recorder.requests.filter((r) => r.operation === 'SendMessage').at(-1);
      expect(sentSingle?.body['MessageGroupId']).toBe('order-42');
      expect(sentSingle?.body['MessageDeduplicationId']).toBe('dedup-5');

      // A FIFO group delivers its next message once the previous one is deleted: a
      // hand-written loop that handles and deletes each message in turn.
      const order: string[] = [];
      const handle = traceSqsHandler(async (message: Message) => {
        order.push(message.Body ?? '');
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }),
        );
      });
      const messages: Message[] = [];
      while (messages.length < 6) {
        for (const message of await receiveAll(queue.url, 1, {
          MessageSystemAttributeNames: [
            'MessageGroupId',
            'MessageDeduplicationId',
            'SequenceNumber',
          ],
        })) {
          messages.push(message);
          await handle(message);
        }
      }
      expect(order).toEqual([0, 1, 2, 3, 4, 5].map((i) => `step ${i}`));
      expect(messages.map((m) => m.Attributes?.MessageDeduplicationId)).toEqual(
        [0, 1, 2, 3, 4, 5].map((i) => `dedup-${i}`),
      );
      expect(messages.every((m) => m.Attributes?.MessageGroupId === 'order-42')).toBe(true);

      const spans = await tracing.waitForSpans(
        (all) => all.filter(named(`process ${queue.name}`)).length === 6,
      );
      const producers = spans.filter(
        (span) => span.name === `create ${queue.name}` || span.name === `send ${queue.name}`,
      );
      for (const message of messages) {
        const producer = only(
          producers,
          (span) => span.attributes['messaging.message.id'] === message.MessageId,
        );
        const process = only(
          spans,
          (span) =>
            span.name === `process ${queue.name}` &&
            span.attributes['messaging.message.id'] === message.MessageId,
        );
        expect(parentId(process)).toBe(spanId(producer));
      }
      expect(single.MessageId).toBe(messages[5]?.MessageId);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });

  it('content-based deduplication still deduplicates: trace attributes are not part of the body', async () => {
    const queue = await createQueue(raw, 'fifo-cbd', {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
    });
    try {
      const first = await inRequestSpan(() =>
        sqs.send(
          new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'same', MessageGroupId: 'g' }),
        ),
      );
      const second = await inRequestSpan(() =>
        sqs.send(
          new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'same', MessageGroupId: 'g' }),
        ),
      );
      const sends = tracing.spans().filter(named(`send ${queue.name}`));
      expect(sends).toHaveLength(2);
      expect(sends[0]?.spanContext().spanId).not.toBe(sends[1]?.spanContext().spanId);
      expect(second.MessageId).toBe(first.MessageId);

      const messages = await receiveAll(queue.url, 1);
      expect(messages).toHaveLength(1);
      const message = messages[0] as Message;
      // A hand-written loop: the handler returns the message, the loop deletes it, and the
      // process span ends with the delete.
      expect(traceSqsHandler((m: Message) => m)(message)).toBe(message);
      expect(tracing.openSpans().map((span) => span.name)).toEqual([`process ${queue.name}`]);
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }),
      );
      const [process] = await tracing
        .waitForSpans((all) => all.some(named(`process ${queue.name}`)))
        .then((all) => all.filter(named(`process ${queue.name}`)));
      expect(process?.events.map((event) => event.name)).toEqual(['delete']);
      expect(await messagesLeft(raw, queue.url)).toBe(0);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });
});

/**
 * SNS → SQS fan-out, end to end on the harness's server (fauxqs speaks SNS): tracehop's
 * instrumentSnsClient publishes (Publish and PublishBatch) to a topic with two SQS queues
 * subscribed — one with raw message delivery (the SNS message attributes become SQS message
 * attributes), one without (the body is SNS's JSON envelope, the attributes inside it) — and
 * tracehop's traceSqsHandler, with an instrumented SQS client receiving, processes them.
 * No mocks: every call goes to the real server through the real SDK clients.
 */
import {
  PublishBatchCommand,
  PublishCommand,
  type MessageAttributeValue,
} from '@aws-sdk/client-sns';
import {
  DeleteMessageCommand,
  type Message,
  type ReceiveMessageRequest,
} from '@aws-sdk/client-sqs';
import { context as contextApi, propagation, SpanKind, trace, type Span } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { instrumentSnsClient } from '../../../adapters/sns/index.js';
import { traceSqsHandler } from '../../../adapters/sqs/index.js';
import { resetReports } from '../../../src/report.js';
import {
  captureDiag,
  linkedIds,
  named,
  only,
  parentId,
  spanId,
  traceId,
  useSqsTestbed,
} from '../sqs/sqs-test-kit.js';
import {
  createFanOut,
  newSnsClient,
  receiveMessages,
  recordSnsRequests,
  serializedAttributeNames,
  type SentPublish,
  type SubscribedQueue,
} from './sns-kit.js';

const { tracing, raw, sqs } = useSqsTestbed();
const setup = newSnsClient();
const sns = instrumentSnsClient(newSnsClient());
const sent = recordSnsRequests(sns);
afterAll(() => {
  setup.destroy();
  sns.destroy();
});
beforeEach(() => {
  sent.length = 0;
  resetReports();
});

const traceparentOf = (span: ReadableSpan): string => `00-${traceId(span)}-${spanId(span)}-01`;

/** Runs `fn` inside a `POST /orders` span, as an API handler would. */
function inRequest<T>(fn: () => Promise<T>): Promise<T> {
  return trace.getTracer('test').startActiveSpan('POST /orders', async (span: Span) => {
    try {
      return await fn();
    } finally {
      span.end();
    }
  });
}

/**
 * Receives `count` messages through the instrumented SQS client and runs each in a
 * traceSqsHandler that deletes it (its `process` span ends with the delete).
 */
async function consume(
  queue: SubscribedQueue,
  count: number,
  extra: Partial<ReceiveMessageRequest> = {},
): Promise<Message[]> {
  const messages = await receiveMessages(sqs, queue.url, count, extra);
  const handle = traceSqsHandler((message: Message) =>
    sqs.send(
      new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }),
    ),
  );
  for (const message of messages) await handle(message);
  return messages;
}

/** The one Publish request the instrumented client serialized in this test. */
function onlyPublish(): SentPublish {
  const publishes = sent.filter((request) => request.action === 'Publish');
  expect(publishes).toHaveLength(1);
  return publishes[0] as SentPublish;
}

const processSpans = (spans: readonly ReadableSpan[]): ReadableSpan[] =>
  spans.filter((span) => span.kind === SpanKind.CONSUMER && span.name.startsWith('process '));

/** The `process` span of one received SQS message (it records the SQS message id). */
function processOf(spans: readonly ReadableSpan[], message: Message): ReadableSpan {
  return only(
    processSpans(spans),
    (span) => span.attributes['messaging.message.id'] === message.MessageId,
  );
}

/** What the publisher sent, from a raw-delivered message or an envelope. */
function publishedMessage(queue: SubscribedQueue, message: Message): string | undefined {
  if (queue.rawDelivery) return message.Body;
  return (JSON.parse(message.Body ?? '{}') as { Message?: string }).Message;
}

describe('SNS → SQS with tracehop on both sides (fauxqs), raw delivery and envelope', () => {
  it('Publish: the send span (PRODUCER) carries the semconv attributes, and both queues’ process spans are its children, in the request’s trace', async () => {
    const fan = await createFanOut(raw, setup, 'publish', [true, false]);
    const [rawQueue, envelopeQueue] = fan.queues as [SubscribedQueue, SubscribedQueue];
    try {
      await inRequest(() =>
        sns.send(
          new PublishCommand({
            TopicArn: fan.topicArn,
            Message: '{"orderId":1}',
            MessageAttributes: { tenant: { DataType: 'String', StringValue: 'acme' } },
          }),
        ),
      );
      const [rawMessage] = (await consume(rawQueue, 1)) as [Message];
      const [envelopeMessage] = (await consume(envelopeQueue, 1)) as [Message];

      const spans = await tracing.waitForSpans((all) => processSpans(all).length === 2);
      const request = only(spans, named('POST /orders'));
      const send = only(spans, named(`send ${fan.topicName}`, SpanKind.PRODUCER));
      expect(parentId(send)).toBe(spanId(request));
      expect(send.attributes).toEqual({
        'messaging.system.name': 'aws.sns',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'send',
        'messaging.destination.name': fan.topicName,
        'aws.sns.topic.arn': fan.topicArn,
        'messaging.message.id': send.attributes['messaging.message.id'],
        'aws.request_id': send.attributes['aws.request_id'],
      });
      expect(send.attributes['messaging.message.id']).toMatch(/^[\w-]+$/);
      expect(send.attributes['aws.request_id']).toMatch(/^\w+$/);
      for (const queue of fan.queues) {
        const process = only(spans, named(`process ${queue.name}`, SpanKind.CONSUMER));
        expect(traceId(process)).toBe(traceId(request));
        expect(parentId(process)).toBe(spanId(send));
        expect(linkedIds(process)).toEqual([spanId(send)]);
        expect(linkedIds(only(spans, named(`receive ${queue.name}`)))).toEqual([spanId(send)]);
      }

      // Raw delivery: the SNS attributes are SQS message attributes, the body is the message.
      expect(rawMessage.Body).toBe('{"orderId":1}');
      expect(rawMessage.MessageAttributes?.['traceparent']).toEqual({
        DataType: 'String',
        StringValue: traceparentOf(send),
      });
      // Envelope: the attributes are in the body, beside the topic; the process span names it.
      expect(JSON.parse(envelopeMessage.Body ?? '{}')).toMatchObject({
        Type: 'Notification',
        MessageId: send.attributes['messaging.message.id'],
        TopicArn: fan.topicArn,
        Message: '{"orderId":1}',
        MessageAttributes: {
          tenant: { Type: 'String', Value: 'acme' },
          traceparent: { Type: 'String', Value: traceparentOf(send) },
        },
      });
      const envelopeProcess = only(spans, named(`process ${envelopeQueue.name}`));
      expect(envelopeProcess.attributes['aws.sns.topic.arn']).toBe(fan.topicArn);
    } finally {
      await fan.cleanup();
    }
  });

  it('PublishBatch: a create span per entry and a send span (CLIENT) linking them; each delivered message, raw or envelope, is processed as a child of its own create span', async () => {
    const fan = await createFanOut(raw, setup, 'batch', [true, false]);
    try {
      const { Successful = [] } = await inRequest(() =>
        sns.send(
          new PublishBatchCommand({
            TopicArn: fan.topicArn,
            PublishBatchRequestEntries: [0, 1, 2].map((i) => ({
              Id: `e${i}`,
              Message: `order-${i}`,
            })),
          }),
        ),
      );
      expect(Successful).toHaveLength(3);
      const received = new Map<SubscribedQueue, Message[]>();
      for (const queue of fan.queues) received.set(queue, await consume(queue, 3));

      const spans = await tracing.waitForSpans((all) => processSpans(all).length === 6);
      const request = only(spans, named('POST /orders'));
      const send = only(spans, named(`send ${fan.topicName}`, SpanKind.CLIENT));
      const creates = spans.filter(named(`create ${fan.topicName}`, SpanKind.PRODUCER));
      expect(creates).toHaveLength(3);
      expect(parentId(send)).toBe(spanId(request));
      expect(send.attributes['messaging.batch.message_count']).toBe(3);
      expect(send.attributes['aws.sns.topic.arn']).toBe(fan.topicArn);
      expect(linkedIds(send).sort()).toEqual(creates.map(spanId).sort());
      for (const create of creates) expect(parentId(create)).toBe(spanId(request));

      /** The create span of entry `e{i}`: the one recording the message id SNS gave it. */
      const createOf = (published: string | undefined): ReadableSpan => {
        const messageId = Successful.find(
          (entry) => `order-${entry.Id?.slice(1)}` === published,
        )?.MessageId;
        return only(creates, (span) => span.attributes['messaging.message.id'] === messageId);
      };
      for (const [queue, messages] of received) {
        expect(messages.map((m) => publishedMessage(queue, m)).sort()).toEqual([
          'order-0',
          'order-1',
          'order-2',
        ]);
        for (const message of messages) {
          const process = processOf(spans, message);
          const create = createOf(publishedMessage(queue, message));
          expect(traceId(process)).toBe(traceId(request));
          expect(parentId(process)).toBe(spanId(create));
        }
      }
    } finally {
      await fan.cleanup();
    }
  });
});

describe("SNS's 10 attributes, end to end (raw delivery: what was published is what SQS delivers)", () => {
  const own = (count: number): Record<string, MessageAttributeValue> =>
    Object.fromEntries(
      Array.from({ length: count }, (_, i) => [
        `own${i}`,
        { DataType: 'String', StringValue: `v${i}` },
      ]),
    );
  const withBaggage = <T>(fn: () => Promise<T>): Promise<T> =>
    contextApi.with(
      propagation.setBaggage(
        contextApi.active(),
        propagation.createBaggage({ user: { value: 'alice' } }),
      ),
      () => inRequest(fn),
    );

  it('9 attributes of its own: only traceparent is added (baggage dropped, said once), and the consumer continues the trace', async () => {
    const diagnostics = captureDiag();
    const fan = await createFanOut(raw, setup, 'nine', [true]);
    const [queue] = fan.queues as [SubscribedQueue];
    try {
      await withBaggage(() =>
        sns.send(
          new PublishCommand({
            TopicArn: fan.topicArn,
            Message: 'nine',
            MessageAttributes: own(9),
          }),
        ),
      );
      const request = onlyPublish();
      expect(serializedAttributeNames(request).sort()).toEqual(
        [...Object.keys(own(9)), 'traceparent'].sort(),
      );
      const [message] = (await consume(queue, 1, { MessageAttributeNames: ['All'] })) as [Message];
      expect(Object.keys(message.MessageAttributes ?? {}).sort()).toEqual(
        [...Object.keys(own(9)), 'traceparent'].sort(),
      );

      const spans = await tracing.waitForSpans((all) => processSpans(all).length === 1);
      const send = only(spans, named(`send ${fan.topicName}`));
      expect(parentId(only(processSpans(spans), () => true))).toBe(spanId(send));
      expect(diagnostics.warnings).toEqual([
        'tracehop: aws.sns message over its attribute limits: dropped baggage',
      ]);
    } finally {
      diagnostics.restore();
      await fan.cleanup();
    }
  });

  it('10 attributes of its own: published exactly as it was, without context (SNS has no AWSTraceHeader), said once; the consumer starts a new trace', async () => {
    const diagnostics = captureDiag();
    const fan = await createFanOut(raw, setup, 'ten', [true]);
    const [queue] = fan.queues as [SubscribedQueue];
    try {
      await withBaggage(() =>
        sns.send(
          new PublishCommand({
            TopicArn: fan.topicArn,
            Message: 'ten',
            MessageAttributes: own(10),
          }),
        ),
      );
      const request = onlyPublish();
      expect(serializedAttributeNames(request).sort()).toEqual(Object.keys(own(10)).sort());
      const [message] = (await consume(queue, 1, { MessageAttributeNames: ['All'] })) as [Message];
      expect(Object.keys(message.MessageAttributes ?? {}).sort()).toEqual(
        Object.keys(own(10)).sort(),
      );

      const spans = await tracing.waitForSpans((all) => processSpans(all).length === 1);
      const send = only(spans, named(`send ${fan.topicName}`));
      const process = only(processSpans(spans), () => true);
      expect(parentId(process)).toBeUndefined();
      expect(traceId(process)).not.toBe(traceId(send));
      expect(diagnostics.warnings).toEqual([
        'tracehop: aws.sns message over its attribute limits: dropped baggage, traceparent',
        expect.stringContaining('published without trace context'),
      ]);
    } finally {
      diagnostics.restore();
      await fan.cleanup();
    }
  });
});

import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { traceSqsHandler } from '../../../adapters/sqs/index.js';
import {
  createQueue,
  deleteQueue,
  linkedIds,
  messagesLeft,
  named,
  only,
  parentId,
  recordRequests,
  spanId,
  useSqsTestbed,
} from './sqs-test-kit.js';

const { tracing, raw, sqs } = useSqsTestbed();
const recorder = recordRequests(sqs);

function sendInRequest(queueUrl: string, body: string) {
  return trace.getTracer('test').startActiveSpan('POST /jobs', async (span: Span) => {
    try {
      return await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    } finally {
      span.end();
    }
  });
}

describe('redelivery (fauxqs)', () => {
  it('a handler that throws: the message is not deleted, comes back after the visibility timeout, and its second process span has receive count 2', async () => {
    const queue = await createQueue(raw, 'redeliver');
    try {
      await sendInRequest(queue.url, 'job');
      const boom = new Error('payment service down');
      let attempts = 0;
      const handle = traceSqsHandler(async (message: Message) => {
        attempts++;
        if (attempts === 1) throw boom;
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }),
        );
      });
      const receive = async () => {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            VisibilityTimeout: 1,
            WaitTimeSeconds: 10,
          }),
        );
        expect(Messages).toHaveLength(1);
        return Messages[0] as Message;
      };

      const first = await receive();
      await expect(handle(first)).rejects.toBe(boom);
      expect(await messagesLeft(raw, queue.url)).toBe(1);
      // long-polls until the visibility timeout (1 s) has passed and the message is back
      const second = await receive();
      expect(second.MessageId).toBe(first.MessageId);
      await handle(second);

      const spans = await tracing.waitForSpans(
        (all) => all.filter(named(`process ${queue.name}`)).length === 2,
      );
      const send = only(spans, named(`send ${queue.name}`));
      const [failed, retried] = spans
        .filter(named(`process ${queue.name}`, SpanKind.CONSUMER))
        .sort(
          (a, b) =>
            Number(a.attributes['tracehop.sqs.approximate_receive_count']) -
            Number(b.attributes['tracehop.sqs.approximate_receive_count']),
        );
      expect(failed?.attributes['tracehop.sqs.approximate_receive_count']).toBe(1);
      expect(failed?.status).toEqual({
        code: SpanStatusCode.ERROR,
        message: 'payment service down',
      });
      expect(failed?.attributes['error.type']).toBe('Error');
      expect(failed?.events.map((event) => event.name)).toEqual(['exception']);
      expect(retried?.attributes['tracehop.sqs.approximate_receive_count']).toBe(2);
      expect(retried?.status.code).toBe(SpanStatusCode.UNSET);
      expect(retried?.events.map((event) => event.name)).toEqual(['delete']);
      for (const process of [failed, retried]) {
        expect(process && parentId(process)).toBe(spanId(send));
      }
      expect(await messagesLeft(raw, queue.url)).toBe(0);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });
});

describe('ReceiveMessage (fauxqs)', () => {
  it('long polling: a receive waiting on an empty queue returns the message sent meanwhile, its span linked to the send span', async () => {
    const queue = await createQueue(raw, 'long-poll');
    try {
      const receiving = sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 20 }),
      );
      await recorder.sent('ReceiveMessage');
      const sent = await sendInRequest(queue.url, 'late');
      const { Messages = [] } = await receiving;
      expect(Messages.map((m) => m.MessageId)).toEqual([sent.MessageId]);
      await traceSqsHandler((message: Message) =>
        sqs.send(
          new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }),
        ),
      )(Messages[0] as Message);

      const spans = await tracing.waitForSpans((all) => all.some(named(`process ${queue.name}`)));
      const send = only(spans, named(`send ${queue.name}`));
      const receive = only(spans, named(`receive ${queue.name}`, SpanKind.CLIENT));
      const process = only(spans, named(`process ${queue.name}`));
      expect(receive.attributes['messaging.batch.message_count']).toBe(1);
      expect(linkedIds(receive)).toEqual([spanId(send)]);
      const started = (span: typeof receive) => span.startTime[0] * 1e9 + span.startTime[1];
      // The receive was on the wire before the send (`recorder.sent` above). Its span may
      // end before the send span does: the long poll can answer before the send's own
      // response is handled, so only the start order is fixed.
      expect(started(receive)).toBeLessThanOrEqual(started(send));
      expect(parentId(process)).toBe(spanId(send));
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });

  it('asks for the trace attributes on a copy of the input; the caller then sees them beside its own, and nothing else', async () => {
    const queue = await createQueue(raw, 'ask-attrs');
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: 'with attributes',
          MessageAttributes: {
            orderId: { DataType: 'String', StringValue: '42' },
            secret: { DataType: 'String', StringValue: 'not asked for' },
          },
        }),
      );
      const input = { QueueUrl: queue.url, WaitTimeSeconds: 5, MessageAttributeNames: ['orderId'] };
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand(input));
      expect(input.MessageAttributeNames).toEqual(['orderId']);
      const asked = recorder.requests.filter((r) => r.operation === 'ReceiveMessage').at(-1)?.body;
      expect(asked?.['MessageAttributeNames']).toEqual([
        'orderId',
        'traceparent',
        'tracestate',
        'baggage',
        'TraceParent',
        'Traceparent',
        'TRACEPARENT',
        'TraceState',
        'Tracestate',
        'TRACESTATE',
        'Baggage',
        'BAGGAGE',
      ]);
      expect(asked?.['MessageSystemAttributeNames']).toEqual([
        'AWSTraceHeader',
        'ApproximateReceiveCount',
        'SentTimestamp',
      ]);
      expect(asked?.['WaitTimeSeconds']).toBe(5);

      const message = Messages[0] as Message;
      expect(Object.keys(message.MessageAttributes ?? {}).sort()).toEqual([
        'orderId',
        'traceparent',
      ]);
      expect(message.Attributes).toEqual({
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d+$/) as string,
      });

      await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.url,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const all = recorder.requests.filter((r) => r.operation === 'ReceiveMessage').at(-1)?.body;
      expect(all?.['MessageAttributeNames']).toEqual(['All']);
      expect(all?.['MessageSystemAttributeNames']).toEqual(['All']);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });
});

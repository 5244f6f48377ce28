/**
 * traceLambdaSqsHandler with event records built as AWS documents them
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html): every record is made from a
 * message that really went through the server — sent with an instrumented client, received
 * raw — converted the way Lambda's event source mapping presents it. Messages whose context
 * travels in AWSTraceHeader are received through the proxy that keeps AWSTraceHeader as SQS
 * does (fauxqs drops it).
 */
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  instrumentSqsClient,
  traceLambdaSqsHandler,
  type LambdaSqsRecord,
} from '../../../adapters/sqs/index.js';
import { setupTestTracing, type TestTracing } from '../../../src/testing/index.js';
import { startAwsTraceHeaderProxy, type AwsTraceHeaderProxy } from './aws-trace-header-proxy.js';
import {
  createQueue,
  deleteQueue,
  named,
  newClient,
  only,
  parentId,
  REGION,
  spanId,
} from './sqs-test-kit.js';

let tracing: TestTracing;
let proxy: AwsTraceHeaderProxy;
let raw: SQSClient;
let sqs: SQSClient;

beforeAll(async () => {
  tracing = setupTestTracing();
  proxy = await startAwsTraceHeaderProxy(inject('sqsEndpoint'));
  raw = newClient(proxy.endpoint);
  sqs = instrumentSqsClient(newClient(proxy.endpoint));
});

afterEach(() => {
  expect(tracing.openSpans()).toEqual([]);
  tracing.reset();
});

afterAll(async () => {
  raw.destroy();
  sqs.destroy();
  await proxy.close();
  await tracing.shutdown();
});

/** A received SDK message as Lambda's SQS event source mapping delivers it. */
function toLambdaRecord(message: Message, queueArn: string): LambdaSqsRecord {
  const messageAttributes: LambdaSqsRecord['messageAttributes'] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      stringValue: value.StringValue,
      binaryValue: value.BinaryValue && Buffer.from(value.BinaryValue).toString('base64'),
      stringListValues: [],
      binaryListValues: [],
      dataType: value.DataType ?? 'String',
    };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: { ...message.Attributes },
    messageAttributes,
    md5OfBody: message.MD5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: REGION,
  };
}

async function queueArn(url: string): Promise<string> {
  const { Attributes } = await raw.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return Attributes?.QueueArn ?? '';
}

/** Receives `count` messages raw, with every attribute, as Lambda's poller does. */
async function receiveRaw(url: string, count: number): Promise<Message[]> {
  const all: Message[] = [];
  while (all.length < count) {
    const { Messages = [] } = await raw.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 5,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) throw new Error(`only ${all.length} of ${count} messages arrived`);
    all.push(...Messages);
  }
  return all;
}

function sendInRequest(input: ConstructorParameters<typeof SendMessageCommand>[0]) {
  return trace.getTracer('test').startActiveSpan('POST /orders', async (span: Span) => {
    try {
      return await sqs.send(new SendMessageCommand(input));
    } finally {
      span.end();
    }
  });
}

const tenAttributes = Object.fromEntries(
  Array.from({ length: 10 }, (_, i) => [`own${i}`, { DataType: 'String', StringValue: `${i}` }]),
);

describe('Lambda SQS events (records from fauxqs)', () => {
  it('every record is processed under its own send span — from traceparent or from AWSTraceHeader — and a failed one is reported in batchItemFailures', async () => {
    const queue = await createQueue(raw, 'lambda');
    try {
      const ok = await sendInRequest({ QueueUrl: queue.url, MessageBody: 'ok' });
      const full = await sendInRequest({
        QueueUrl: queue.url,
        MessageBody: 'full',
        MessageAttributes: tenAttributes,
      });
      const bad = await sendInRequest({ QueueUrl: queue.url, MessageBody: 'bad' });
      const arn = await queueArn(queue.url);
      const records = (await receiveRaw(queue.url, 3)).map((message) =>
        toLambdaRecord(message, arn),
      );
      const fullRecord = records.find((record) => record.messageId === full.MessageId);
      expect(fullRecord?.attributes.AWSTraceHeader).toMatch(/^Root=1-/);
      expect(fullRecord?.messageAttributes['traceparent']).toBeUndefined();

      const seen: string[] = [];
      const handler = traceLambdaSqsHandler(async (record: LambdaSqsRecord) => {
        seen.push(`${record.body}@${trace.getActiveSpan()?.spanContext().spanId ?? 'none'}`);
        await Promise.resolve();
        if (record.body === 'bad') throw new Error('rejected by the warehouse');
      });
      const response = await handler(
        { Records: records },
        { getRemainingTimeInMillis: () => 30_000 },
      );
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: bad.MessageId }] });

      const spans = tracing.spans();
      const sends = spans.filter(named(`send ${queue.name}`, SpanKind.PRODUCER));
      const processes = spans.filter(named(`process ${queue.name}`, SpanKind.CONSUMER));
      expect(processes).toHaveLength(3);
      for (const [body, sent] of [
        ['ok', ok],
        ['full', full],
        ['bad', bad],
      ] as const) {
        const send = only(
          sends,
          (span) => span.attributes['messaging.message.id'] === sent.MessageId,
        );
        const process = only(
          processes,
          (span) => span.attributes['messaging.message.id'] === sent.MessageId,
        );
        expect(parentId(process)).toBe(spanId(send));
        expect(process.attributes['messaging.destination.name']).toBe(queue.name);
        expect(process.attributes['tracehop.sqs.approximate_receive_count']).toBe(1);
        expect(seen).toContain(`${body}@${spanId(process)}`);
      }
      const failed = only(processes, (span) => span.status.code === SpanStatusCode.ERROR);
      expect(failed.attributes['messaging.message.id']).toBe(bad.MessageId);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });

  it('a FIFO batch stops at the first failure: later records are reported failed without running', async () => {
    const queue = await createQueue(raw, 'lambda', {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
    });
    try {
      for (const n of [1, 2, 3, 4]) {
        await sendInRequest({
          QueueUrl: queue.url,
          MessageBody: `step ${n}`,
          MessageGroupId: `g${n}`,
        });
      }
      const arn = await queueArn(queue.url);
      const records = (await receiveRaw(queue.url, 4)).map((message) =>
        toLambdaRecord(message, arn),
      );
      const ran: string[] = [];
      const response = await traceLambdaSqsHandler(
        (record: LambdaSqsRecord) => {
          ran.push(record.body);
          if (ran.length === 2) throw new Error('out of stock');
        },
        { parallel: true },
      )({ Records: records }, undefined);
      expect(ran).toEqual(records.slice(0, 2).map((record) => record.body));
      expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(
        records.slice(1).map((record) => record.messageId),
      );
      expect(tracing.spans().filter(named(`process ${queue.name}`))).toHaveLength(2);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });

  it('with reportBatchItemFailures: false, the handler error is rethrown unchanged', async () => {
    const queue = await createQueue(raw, 'lambda-throw');
    try {
      await sendInRequest({ QueueUrl: queue.url, MessageBody: 'bad' });
      const arn = await queueArn(queue.url);
      const records = (await receiveRaw(queue.url, 1)).map((message) =>
        toLambdaRecord(message, arn),
      );
      const boom = new Error('database unavailable');
      const handler = traceLambdaSqsHandler(
        () => {
          throw boom;
        },
        { reportBatchItemFailures: false },
      );
      await expect(handler({ Records: records }, undefined)).rejects.toBe(boom);
      const process = only(tracing.spans(), named(`process ${queue.name}`));
      expect(process.status).toEqual({
        code: SpanStatusCode.ERROR,
        message: 'database unavailable',
      });
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });
});

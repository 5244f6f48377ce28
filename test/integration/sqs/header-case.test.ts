/**
 * Trace attributes in any case on the SQS server (fauxqs; AWSTraceHeader kept by the proxy
 * that gives fauxqs SQS's behaviour there): a plain client writes `TraceParent`,
 * `TraceState`, `Baggage` (or all caps), and tracehop's handler decorators — with
 * sqs-consumer, a receive loop, and Lambda records built from a real receive — continue
 * the trace, keep its tracestate and give the handler its baggage. The context sources keep
 * their order: a mixed-case traceparent attribute wins over AWSTraceHeader, which wins over
 * an SNS envelope, and the envelope's own attributes are read in any case too.
 *
 * SQS returns only the message attributes a receive asks for, by exact (case-sensitive)
 * name: these consumers ask for `All`; one test shows the default receive gets the common
 * spellings too.
 */
import { once } from 'node:events';
import {
  CreateTopicCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { propagation, SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Consumer } from 'sqs-consumer';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  instrumentSqsClient,
  traceLambdaSqsHandler,
  traceSqsHandler,
  type LambdaSqsRecord,
} from '../../../adapters/sqs/index.js';
import { setupTestTracing, type TestTracing } from '../../../src/testing/index.js';
import { startAwsTraceHeaderProxy, type AwsTraceHeaderProxy } from './aws-trace-header-proxy.js';
import {
  createQueue,
  deleteQueue,
  messagesLeft,
  named,
  newClient,
  only,
  recordRequests,
  REGION,
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

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const TRACESTATE = 'vendor=v1,other=o2';
const BAGGAGE = 'tenant=acme,plan=gold';
/** A context of an X-Ray-instrumented producer: another trace altogether. */
const XRAY = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
const XRAY_TRACE_ID = '5759e988bd862e3fe1be46a994272793';

const traceparent = (spanId: string) => `00-${TRACE_ID}-${spanId}-01`;
const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/** One message a plain producer sends, and the span id its trace headers name. */
interface Sent {
  readonly body: string;
  readonly parentSpanId: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  readonly awsTraceHeader?: string;
}

const MIXED: Sent = {
  body: 'mixed case',
  parentSpanId: 'a1a1a1a1a1a1a1a1',
  attributes: {
    TraceParent: text(traceparent('a1a1a1a1a1a1a1a1')),
    TraceState: text(TRACESTATE),
    Baggage: text(BAGGAGE),
  },
};
const ALL_CAPS: Sent = {
  body: 'all caps',
  parentSpanId: 'b2b2b2b2b2b2b2b2',
  attributes: {
    TRACEPARENT: text(traceparent('b2b2b2b2b2b2b2b2')),
    TRACESTATE: text(TRACESTATE),
    BAGGAGE: text(BAGGAGE),
  },
};
const EXACT_AND_MIXED: Sent = {
  body: 'exact and mixed case: the exact one wins',
  parentSpanId: 'c3c3c3c3c3c3c3c3',
  attributes: {
    TraceParent: text(traceparent('d4d4d4d4d4d4d4d4')),
    traceparent: text(traceparent('c3c3c3c3c3c3c3c3')),
    TraceState: text(TRACESTATE),
    Baggage: text(BAGGAGE),
  },
};
const MIXED_OVER_AWS_TRACE_HEADER: Sent = {
  body: 'TraceParent and AWSTraceHeader: the attribute wins',
  parentSpanId: 'e5e5e5e5e5e5e5e5',
  attributes: {
    TraceParent: text(traceparent('e5e5e5e5e5e5e5e5')),
    TraceState: text(TRACESTATE),
    Baggage: text(BAGGAGE),
  },
  awsTraceHeader: XRAY,
};

async function sendPlain(queueUrl: string, message: Sent): Promise<string> {
  const { MessageId } = await raw.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: message.body,
      MessageAttributes: message.attributes,
      ...(message.awsTraceHeader === undefined
        ? {}
        : {
            MessageSystemAttributes: {
              AWSTraceHeader: { DataType: 'String', StringValue: message.awsTraceHeader },
            },
          }),
    }),
  );
  if (MessageId === undefined) throw new Error('no MessageId');
  return MessageId;
}

/** What a handler saw of its context. */
interface Seen {
  readonly attributeNames: string[];
  readonly activeSpanId: string | undefined;
  readonly childTraceState: string | undefined;
  readonly tenant: string | undefined;
  readonly plan: string | undefined;
}

/** Records what the handler sees, from inside the handler's context. */
function observe(attributes: object | undefined): Seen {
  const child = trace.getTracer('test').startSpan('handler work');
  const baggage = propagation.getActiveBaggage();
  const seen = {
    attributeNames: Object.keys(attributes ?? {}).sort(),
    activeSpanId: trace.getActiveSpan()?.spanContext().spanId,
    childTraceState: child.spanContext().traceState?.serialize(),
    tenant: baggage?.getEntry('tenant')?.value,
    plan: baggage?.getEntry('plan')?.value,
  };
  child.end();
  return seen;
}

/** The process span continues the producer's trace with its tracestate, and the handler saw it all. */
function expectContinued(
  process: ReadableSpan,
  seen: Seen | undefined,
  parentSpanId: string,
  attributeNames: string[],
): void {
  const name = String(process.attributes['messaging.message.id']);
  expect(process.spanContext().traceId, name).toBe(TRACE_ID);
  expect(process.parentSpanContext?.spanId, name).toBe(parentSpanId);
  expect(process.parentSpanContext?.isRemote, name).toBe(true);
  expect(process.parentSpanContext?.traceState?.serialize(), name).toBe(TRACESTATE);
  expect(process.spanContext().traceState?.serialize(), name).toBe(TRACESTATE);
  expect(seen, name).toEqual({
    // SQS delivered the names as they were written
    attributeNames: [...attributeNames].sort(),
    activeSpanId: process.spanContext().spanId,
    childTraceState: TRACESTATE,
    tenant: 'acme',
    plan: 'gold',
  });
}

describe('trace attributes in any case (fauxqs)', () => {
  it('sqs-consumer asking for All: TraceParent/TraceState/Baggage, all caps, and exact-beside-mixed each continue their trace', async () => {
    const queue = await createQueue(raw, 'header-case');
    const seen = new Map<string, Seen>();
    const consumer = Consumer.create({
      queueUrl: queue.url,
      sqs,
      batchSize: 10,
      waitTimeSeconds: 1,
      pollingCompleteWaitTimeMs: 5_000,
      messageAttributeNames: ['All'],
      handleMessage: traceSqsHandler(async (message: Message) => {
        seen.set(message.MessageId ?? '', observe(message.MessageAttributes));
        await Promise.resolve();
        return message;
      }),
    });
    try {
      const sent = [MIXED, ALL_CAPS, EXACT_AND_MIXED];
      const ids = await Promise.all(sent.map((message) => sendPlain(queue.url, message)));
      consumer.start();
      const spans = await tracing.waitForSpans(
        (all) => all.filter(named(`process ${queue.name}`)).length === sent.length,
      );
      const stopped = once(consumer, 'stopped');
      consumer.stop();
      await stopped;

      sent.forEach((message, i) => {
        const id = ids[i];
        const process = only(
          spans,
          (span) =>
            named(`process ${queue.name}`, SpanKind.CONSUMER)(span) &&
            span.attributes['messaging.message.id'] === id,
        );
        expectContinued(
          process,
          seen.get(id ?? ''),
          message.parentSpanId,
          Object.keys(message.attributes),
        );
      });
      expect(await messagesLeft(raw, queue.url)).toBe(0);
    } finally {
      if (consumer.status.isRunning) {
        const stopped = once(consumer, 'stopped');
        consumer.stop();
        await stopped;
      }
      await deleteQueue(raw, queue.url);
    }
  });

  it('a TraceParent attribute wins over AWSTraceHeader; without one, AWSTraceHeader wins over a TraceParent in an SNS envelope; alone, the envelope’s TraceParent/TraceState/Baggage are the context', async () => {
    const queue = await createQueue(raw, 'header-case-sources');
    const sns = new SNSClient({
      endpoint: inject('sqsEndpoint'),
      region: REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `${queue.name}-topic` }));
      const { Attributes } = await raw.send(
        new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['QueueArn'] }),
      );
      await sns.send(
        new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }),
      );
      const overAws = await sendPlain(queue.url, MIXED_OVER_AWS_TRACE_HEADER);
      // A plain SNS publisher writing mixed-case attributes; no raw delivery: SQS gets the envelope.
      const { MessageId: snsMessageId } = await sns.send(
        new PublishCommand({
          TopicArn,
          Message: 'via SNS',
          MessageAttributes: {
            TraceParent: text(traceparent('f6f6f6f6f6f6f6f6')),
            TraceState: text(TRACESTATE),
            Baggage: text(BAGGAGE),
          },
        }),
      );
      expect(snsMessageId).toBeDefined();
      const envelopes: Message[] = [];

      const seen = new Map<string, Seen>();
      const awsTraceHeaders = new Map<string, string | undefined>();
      const handle = traceSqsHandler(
        async (message: Message) => {
          awsTraceHeaders.set(message.MessageId ?? '', message.Attributes?.AWSTraceHeader);
          seen.set(message.MessageId ?? '', observe(message.MessageAttributes));
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }),
          );
        },
        { awaitSettle: 'never' },
      );
      const receive = async (count: number): Promise<Message[]> => {
        const all: Message[] = [];
        while (all.length < count) {
          const { Messages = [] } = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: queue.url,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 5,
              MessageAttributeNames: ['All'],
              MessageSystemAttributeNames: ['All'],
            }),
          );
          if (Messages.length === 0) throw new Error(`only ${all.length} of ${count} arrived`);
          all.push(...Messages);
        }
        return all;
      };
      for (const message of await receive(2)) {
        if (message.MessageId !== overAws) envelopes.push(message);
        await handle(message);
      }
      expect(envelopes).toHaveLength(1);
      const envelope = envelopes[0] as Message;
      expect(envelope.Body).toContain('"TraceParent"');
      // The same envelope, sent again with an AWSTraceHeader: X-Ray's context wins over it.
      const xrayOverEnvelope = await sendPlain(queue.url, {
        body: envelope.Body ?? '',
        parentSpanId: '',
        attributes: {},
        awsTraceHeader: XRAY,
      });
      for (const message of await receive(1)) await handle(message);
      expect(await messagesLeft(raw, queue.url)).toBe(0);
      // AWSTraceHeader really arrived where it has to lose, and where it has to win
      expect(awsTraceHeaders.get(overAws)).toBe(XRAY);
      expect(awsTraceHeaders.get(xrayOverEnvelope)).toBe(XRAY);
      expect(awsTraceHeaders.get(envelope.MessageId ?? '')).toBeUndefined();

      const spans = await tracing.waitForSpans(
        (all) => all.filter(named(`process ${queue.name}`)).length === 3,
      );
      const processOf = (id: string | undefined) =>
        only(
          spans,
          (span) =>
            named(`process ${queue.name}`)(span) && span.attributes['messaging.message.id'] === id,
        );

      expect(processOf(overAws).attributes['aws.sns.topic.arn']).toBeUndefined();
      expectContinued(
        processOf(overAws),
        seen.get(overAws),
        MIXED_OVER_AWS_TRACE_HEADER.parentSpanId,
        Object.keys(MIXED_OVER_AWS_TRACE_HEADER.attributes),
      );

      const viaSns = processOf(envelope.MessageId);
      expect(viaSns.attributes['aws.sns.topic.arn']).toBe(TopicArn);
      expectContinued(viaSns, seen.get(envelope.MessageId ?? ''), 'f6f6f6f6f6f6f6f6', []);

      const xray = processOf(xrayOverEnvelope);
      expect(xray.spanContext().traceId).toBe(XRAY_TRACE_ID);
      expect(xray.parentSpanContext?.spanId).toBe('53995c3f42cd8ad8');
      // The envelope's tracestate and baggage belong to the context that lost: not taken.
      expect(xray.parentSpanContext?.traceState).toBeUndefined();
      expect(seen.get(xrayOverEnvelope)?.tenant).toBeUndefined();
    } finally {
      sns.destroy();
      await deleteQueue(raw, queue.url);
    }
  });

  it('the default receive also asks for the common spellings, so TraceParent/TraceState/Baggage arrive and continue the trace', async () => {
    // SQS matches MessageAttributeNames case-sensitively (so does fauxqs): the instrumented
    // client asks for TraceParent, TRACEPARENT… too, so a consumer need not ask for All.
    const queue = await createQueue(raw, 'header-case-default');
    const requests = recordRequests(sqs);
    try {
      const id = await sendPlain(queue.url, MIXED);
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 5 }),
      );
      expect(Messages.map((message) => message.MessageId)).toEqual([id]);
      const received = Messages[0] as Message;
      const receiveRequest = requests.requests.find((r) => r.operation === 'ReceiveMessage');
      expect(receiveRequest?.body['MessageAttributeNames']).toEqual([
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
      expect(Object.keys(received.MessageAttributes ?? {}).sort()).toEqual([
        'Baggage',
        'TraceParent',
        'TraceState',
      ]);
      await traceSqsHandler(
        () =>
          sqs.send(
            new DeleteMessageCommand({
              QueueUrl: queue.url,
              ReceiptHandle: received.ReceiptHandle,
            }),
          ),
        { awaitSettle: 'never' },
      )(received);
      const spans = await tracing.waitForSpans((all) => all.some(named(`process ${queue.name}`)));
      const process = only(spans, named(`process ${queue.name}`));
      expect(process.parentSpanContext?.spanId).toBe(MIXED.parentSpanId);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });
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

describe('Lambda records built from a real receive', () => {
  it('messageAttributes TraceParent/TraceState/Baggage, all caps, and TraceParent beside AWSTraceHeader each continue their trace', async () => {
    const queue = await createQueue(raw, 'header-case-lambda');
    try {
      const sent = [MIXED, ALL_CAPS, MIXED_OVER_AWS_TRACE_HEADER];
      const ids = await Promise.all(sent.map((message) => sendPlain(queue.url, message)));
      const { Attributes } = await raw.send(
        new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['QueueArn'] }),
      );
      const received: Message[] = [];
      while (received.length < sent.length) {
        const { Messages = [] } = await raw.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 5,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
        );
        if (Messages.length === 0) throw new Error(`only ${received.length} arrived`);
        received.push(...Messages);
      }
      const records = received.map((message) =>
        toLambdaRecord(message, Attributes?.QueueArn ?? ''),
      );
      const withXray = records.find((record) => record.messageId === ids[2]);
      expect(withXray?.attributes.AWSTraceHeader).toBe(XRAY);

      const seen = new Map<string, Seen>();
      const handler = traceLambdaSqsHandler(async (record: LambdaSqsRecord) => {
        seen.set(record.messageId, observe(record.messageAttributes));
        await Promise.resolve();
      });
      const response = await handler(
        { Records: records },
        { getRemainingTimeInMillis: () => 30_000 },
      );
      expect(response).toEqual({ batchItemFailures: [] });

      const spans = tracing.spans().filter(named(`process ${queue.name}`, SpanKind.CONSUMER));
      expect(spans).toHaveLength(sent.length);
      sent.forEach((message, i) => {
        const id = ids[i] ?? '';
        const process = only(spans, (span) => span.attributes['messaging.message.id'] === id);
        expectContinued(
          process,
          seen.get(id),
          message.parentSpanId,
          Object.keys(message.attributes),
        );
      });
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });
});

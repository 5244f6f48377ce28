import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import {
  diag,
  DiagLogLevel,
  propagation,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
} from '@opentelemetry/api';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DISABLE_OFFICIAL_AWS_SDK,
  instrumentSqsClient,
  SQS_MIDDLEWARE_NAME,
  traceSqsHandler,
} from '../../../adapters/sqs/index.js';
import { rememberQueueUrl } from '../../../adapters/sqs/in-flight.js';
import { resetReports } from '../../../src/report.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { deepFreeze, fakeSqs, QUEUE_URL, sdkError } from './fake-sqs.js';

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());

const warnings: string[] = [];
beforeEach(() => {
  tracing.reset();
  warnings.length = 0;
  resetReports();
  diag.setLogger(
    {
      error: () => undefined,
      warn: (message: string) => void warnings.push(message),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
});
afterEach(() => {
  diag.disable();
  expect(tracing.openSpans()).toEqual([]);
});

const span = (name: string): ReadableSpan => {
  const found = tracing.spans().filter((s) => s.name === name);
  expect(found, tracing.tree()).toHaveLength(1);
  return found[0] as ReadableSpan;
};

describe('instrumentSqsClient', () => {
  it("never modifies the caller's command input (deeply frozen inputs go through)", async () => {
    const { client, calls } = fakeSqs(({ command }) =>
      command === 'SendMessageBatchCommand' ? { Successful: [], Failed: [] } : {},
    );
    instrumentSqsClient(client);
    const attributes = { own: { DataType: 'String', StringValue: 'v' } };
    await client.send(
      new SendMessageCommand(
        deepFreeze({ QueueUrl: QUEUE_URL, MessageBody: 'b', MessageAttributes: attributes }),
      ),
    );
    await client.send(
      new SendMessageBatchCommand(
        deepFreeze({
          QueueUrl: QUEUE_URL,
          Entries: [{ Id: '1', MessageBody: 'b', MessageAttributes: attributes }],
        }),
      ),
    );
    await client.send(
      new ReceiveMessageCommand(
        deepFreeze({ QueueUrl: QUEUE_URL, MessageAttributeNames: ['own'] }),
      ),
    );
    expect(Object.keys(calls[0]?.input['MessageAttributes'] as object)).toEqual([
      'own',
      'traceparent',
    ]);
    expect(calls[2]?.input['MessageAttributeNames']).toEqual([
      'own',
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
    expect(attributes).toEqual({ own: { DataType: 'String', StringValue: 'v' } });
  });

  it('rethrows a failed send unchanged, with the error and the request id on the send span', async () => {
    const failure = sdkError('QueueDoesNotExist', 'req-failed');
    const { client } = fakeSqs(() => failure);
    instrumentSqsClient(client);
    await expect(
      client.send(new SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: 'b' })),
    ).rejects.toBe(failure);
    const send = span('send orders');
    expect(send.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'QueueDoesNotExist happened',
    });
    expect(send.attributes['error.type']).toBe('QueueDoesNotExist');
    expect(send.attributes['aws.request_id']).toBe('req-failed');
  });

  it("records each batch entry's message id or failure on its create span", async () => {
    const { client } = fakeSqs(() => ({
      Successful: [{ Id: 'a', MessageId: 'mid-a' }],
      Failed: [
        { Id: 'b', Code: 'InvalidMessageContents', SenderFault: true, Message: 'bad chars' },
      ],
    }));
    instrumentSqsClient(client);
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: QUEUE_URL,
        Entries: [
          { Id: 'a', MessageBody: 'ok' },
          { Id: 'b', MessageBody: 'bad' },
        ],
      }),
    );
    const creates = tracing.spans().filter((s) => s.name === 'create orders');
    expect(creates.map((s) => s.attributes['messaging.message.id'])).toEqual(['mid-a', undefined]);
    expect(creates[1]?.attributes['error.type']).toBe('InvalidMessageContents');
    expect(creates[1]?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad chars' });
    const send = span('send orders');
    expect(send.kind).toBe(SpanKind.CLIENT);
    expect(send.status.code).toBe(SpanStatusCode.UNSET);
    expect(send.attributes['aws.request_id']).toBe('req-1');
  });

  it('with createSpans: false, a failed entry marks the one send span', async () => {
    const { client } = fakeSqs(() => ({
      Successful: [],
      Failed: [{ Id: 'a', Code: 'Throttled', SenderFault: false }],
    }));
    instrumentSqsClient(client, { createSpans: false });
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: QUEUE_URL,
        Entries: [{ Id: 'a', MessageBody: 'x' }],
      }),
    );
    expect(span('send orders').attributes['error.type']).toBe('Throttled');
    expect(span('send orders').kind).toBe(SpanKind.PRODUCER);
  });

  it('is added to a client once, however often it is instrumented', () => {
    const { client } = fakeSqs();
    instrumentSqsClient(client);
    instrumentSqsClient(client, { createSpans: false });
    expect(
      client.middlewareStack.identify().filter((entry) => entry.startsWith(SQS_MIDDLEWARE_NAME)),
    ).toHaveLength(1);
  });

  it('sends without trace attributes, and says so once, when the propagator throws', async () => {
    const broken: TextMapPropagator = {
      inject: () => {
        throw new Error('propagator bug');
      },
      extract: (ctx) => ctx,
      fields: () => ['traceparent'],
    };
    propagation.disable();
    propagation.setGlobalPropagator(broken);
    try {
      const { client, calls } = fakeSqs(() => ({ MessageId: 'm' }));
      instrumentSqsClient(client);
      await client.send(new SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: 'b' }));
      await client.send(new SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: 'b' }));
      expect(calls.map((call) => call.input['MessageAttributes'])).toEqual([undefined, undefined]);
      expect(warnings.filter((w) => w.includes('propagator bug'))).toHaveLength(1);
    } finally {
      propagation.disable();
      propagation.setGlobalPropagator(
        new CompositePropagator({
          propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
        }),
      );
    }
  });

  it('asks ReceiveMessage for nothing more when the caller asks for All, uses the legacy name, or opted out', async () => {
    const { client, calls } = fakeSqs(() => ({ Messages: [] }));
    instrumentSqsClient(client);
    const legacy = {
      QueueUrl: QUEUE_URL,
      MessageAttributeNames: ['.*'],
      AttributeNames: ['All' as const],
    };
    await client.send(new ReceiveMessageCommand(legacy));
    expect(calls[0]?.input).toBe(legacy);
    const { client: optedOut, calls: optedOutCalls } = fakeSqs(() => ({ Messages: [] }));
    instrumentSqsClient(optedOut, { requestTraceAttributes: false });
    const input = { QueueUrl: QUEUE_URL };
    await optedOut.send(new ReceiveMessageCommand(input));
    expect(optedOutCalls[0]?.input).toBe(input);
    expect(tracing.spans().filter((s) => s.name === 'receive orders')).toHaveLength(2);
  });

  it('rethrows a failed receive unchanged and ends its span with the error', async () => {
    const failure = sdkError('OverLimit', 'req-2');
    const { client } = fakeSqs(() => failure);
    instrumentSqsClient(client);
    await expect(client.send(new ReceiveMessageCommand({ QueueUrl: QUEUE_URL }))).rejects.toBe(
      failure,
    );
    const receive = span('receive orders');
    expect(receive.status.code).toBe(SpanStatusCode.ERROR);
    expect(receive.attributes['messaging.batch.message_count']).toBe(0);
  });

  it('leaves other commands alone', async () => {
    const { client } = fakeSqs(() => ({ QueueUrl: QUEUE_URL }));
    instrumentSqsClient(client);
    await client.send(new GetQueueUrlCommand({ QueueName: 'orders' }));
    await client.send(new DeleteMessageCommand({ QueueUrl: QUEUE_URL, ReceiptHandle: 'unknown' }));
    expect(tracing.spans()).toEqual([]);
  });

  it('warns once, naming the line that turns it off, when the official instrumentation wrapped the client', () => {
    const { client } = fakeSqs();
    const send = client.send.bind(client);
    Object.assign(send, { __wrapped: true });
    Object.defineProperty(client, 'send', { value: send });
    instrumentSqsClient(client);
    instrumentSqsClient(client);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(DISABLE_OFFICIAL_AWS_SDK);
  });
});

describe('settle calls of a message being processed', () => {
  const message: Message = { MessageId: 'm1', ReceiptHandle: 'rh-1', Body: 'b' };
  // As if received through the instrumented client: only then can its delete be seen.
  rememberQueueUrl([message], QUEUE_URL);

  it('a visibility change while the handler runs extends the lease: an event, the span goes on', async () => {
    const { client } = fakeSqs(() => ({}));
    instrumentSqsClient(client);
    await traceSqsHandler(async (m: Message) => {
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: QUEUE_URL,
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 60,
        }),
      );
      expect(tracing.openSpans()).toHaveLength(1);
      await client.send(
        new DeleteMessageCommand({ QueueUrl: QUEUE_URL, ReceiptHandle: m.ReceiptHandle }),
      );
    })(message);
    const process = span('process orders');
    expect(
      process.events.map((e) => [e.name, e.attributes?.['tracehop.sqs.visibility_timeout']]),
    ).toEqual([
      ['change_visibility', 60],
      ['delete', undefined],
    ]);
    expect(process.events[1]?.attributes?.['aws.request_id']).toBe('req-1');
  });

  it('a DeleteMessageBatch entry SQS refused is recorded with its code, and ends the span all the same', async () => {
    const { client } = fakeSqs(() => ({
      Successful: [{ Id: 'a' }],
      Failed: [{ Id: 'b', Code: 'ReceiptHandleIsInvalid', SenderFault: true }],
    }));
    instrumentSqsClient(client);
    const handle = traceSqsHandler((m: Message) => m, { queueUrl: QUEUE_URL });
    const first = { MessageId: 'a', ReceiptHandle: 'rh-a' };
    const second = { MessageId: 'b', ReceiptHandle: 'rh-b' };
    rememberQueueUrl([first, second], QUEUE_URL);
    handle(first);
    handle(second);
    expect(tracing.openSpans()).toHaveLength(2);
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: QUEUE_URL,
        Entries: [
          { Id: 'a', ReceiptHandle: 'rh-a' },
          { Id: 'b', ReceiptHandle: 'rh-b' },
        ],
      }),
    );
    const processes = tracing.spans().filter((s) => s.name === 'process orders');
    expect(processes.map((s) => s.events[0]?.attributes?.['error.type'])).toEqual([
      undefined,
      'ReceiptHandleIsInvalid',
    ]);
  });

  it('a failed delete is recorded on the span and rethrown unchanged', async () => {
    const failure = sdkError('ReceiptHandleIsInvalid', 'req-9');
    const { client } = fakeSqs(() => failure);
    instrumentSqsClient(client);
    traceSqsHandler((m: Message) => m)(message);
    await expect(
      client.send(new DeleteMessageCommand({ QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-1' })),
    ).rejects.toBe(failure);
    const event = span('process orders').events[0];
    expect(event?.name).toBe('delete');
    expect(event?.attributes?.['error.type']).toBe('ReceiptHandleIsInvalid');
    expect(event?.attributes?.['aws.request_id']).toBe('req-9');
  });
});

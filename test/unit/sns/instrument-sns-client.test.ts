/**
 * instrumentSnsClient against a real SNSClient whose calls are answered in process
 * (fake-sns.ts): the spans, what reaches the SDK's serializer, SNS's limits, hostile input.
 */
import {
  CreateTopicCommand,
  PublishBatchCommand,
  PublishCommand,
  type MessageAttributeValue,
  type PublishBatchRequestEntry,
} from '@aws-sdk/client-sns';
import {
  context as contextApi,
  diag,
  DiagLogLevel,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Context,
} from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DISABLE_OFFICIAL_AWS_SDK,
  instrumentSnsClient,
  SNS_MIDDLEWARE_NAME,
} from '../../../adapters/sns/index.js';
import { resetReports } from '../../../src/report.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { deepFreeze, sdkError } from '../sqs/fake-sqs.js';
import { fakeSns, TOPIC_ARN } from './fake-sns.js';

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

const traceparentOf = (s: ReadableSpan): string =>
  `00-${s.spanContext().traceId}-${s.spanContext().spanId}-01`;

/** `count` attributes of the caller's own. */
function ownAttributes(count: number): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (let i = 0; i < count; i++)
    attributes[`own${i}`] = { DataType: 'String', StringValue: `${i}` };
  return attributes;
}

/** A sampled remote parent, with a tracestate when asked, and baggage `user=alice`. */
function parentContext(withTraceState: boolean): Context {
  const ctx = trace.setSpanContext(contextApi.active(), {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    ...(withTraceState ? { traceState: new TraceState('vendor=opaque') } : {}),
  });
  return propagation.setBaggage(ctx, propagation.createBaggage({ user: { value: 'alice' } }));
}

/** The names of the attributes a call handed on to the SDK. */
function attributeNames(input: Record<string, unknown> | undefined): string[] {
  return Object.keys((input?.['MessageAttributes'] as object | undefined) ?? {});
}

describe('instrumentSnsClient: Publish', () => {
  it('makes one send span (PRODUCER) with the semconv attributes, and the message carries its context', async () => {
    const { client, calls } = fakeSns(() => ({ MessageId: 'mid-1' }));
    instrumentSnsClient(client);
    await client.send(new PublishCommand({ TopicArn: TOPIC_ARN, Message: 'order 1' }));
    const send = span('send orders');
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.attributes).toEqual({
      'messaging.system.name': 'aws.sns',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': 'orders',
      'aws.sns.topic.arn': TOPIC_ARN,
      'messaging.message.id': 'mid-1',
      'aws.request_id': 'req-1',
    });
    expect(calls[0]?.input['MessageAttributes']).toEqual({
      traceparent: { DataType: 'String', StringValue: traceparentOf(send) },
    });
  });

  it("never modifies the caller's input (deeply frozen inputs go through), and keeps every other member", async () => {
    const { client, calls } = fakeSns(() => ({ MessageId: 'm' }));
    instrumentSnsClient(client);
    const attributes = { own: { DataType: 'String', StringValue: 'v' } };
    const input = deepFreeze({
      TopicArn: `${TOPIC_ARN}.fifo`,
      Message: 'b',
      Subject: 's',
      MessageGroupId: 'g',
      MessageDeduplicationId: 'd',
      MessageAttributes: attributes,
    });
    await contextApi.with(parentContext(true), () => client.send(new PublishCommand(input)));
    expect(calls[0]?.input).not.toBe(input);
    expect(calls[0]?.input).toMatchObject({
      TopicArn: `${TOPIC_ARN}.fifo`,
      Message: 'b',
      Subject: 's',
      MessageGroupId: 'g',
      MessageDeduplicationId: 'd',
    });
    expect(attributeNames(calls[0]?.input)).toEqual([
      'own',
      'traceparent',
      'tracestate',
      'baggage',
    ]);
    expect(attributes).toEqual({ own: { DataType: 'String', StringValue: 'v' } });
    expect(span('send orders.fifo').attributes['messaging.destination.name']).toBe('orders.fifo');
  });

  it('rethrows a failed publish unchanged, with the error and the request id on the send span', async () => {
    const failure = sdkError('NotFound', 'req-failed');
    const { client } = fakeSns(() => failure);
    instrumentSnsClient(client);
    await expect(
      client.send(new PublishCommand({ TopicArn: TOPIC_ARN, Message: 'b' })),
    ).rejects.toBe(failure);
    const send = span('send orders');
    expect(send.status).toEqual({ code: SpanStatusCode.ERROR, message: 'NotFound happened' });
    expect(send.attributes['error.type']).toBe('NotFound');
    expect(send.attributes['aws.request_id']).toBe('req-failed');
  });

  it('names platform endpoints without their id and SMS without the number, which is never recorded', async () => {
    const { client } = fakeSns(() => ({ MessageId: 'm' }));
    instrumentSnsClient(client);
    const endpoint = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/5e3e9847-3183-3f18';
    await client.send(new PublishCommand({ TargetArn: endpoint, Message: 'push' }));
    await client.send(new PublishCommand({ PhoneNumber: '+15555550100', Message: 'sms' }));
    const push = span('send endpoint/GCM/app');
    expect(push.attributes['messaging.destination.name']).toBe('endpoint/GCM/app');
    expect(push.attributes['aws.sns.topic.arn']).toBeUndefined();
    const sms = span('send phone_number');
    expect(JSON.stringify(sms.attributes)).not.toContain('5555550100');
    expect(sms.attributes['messaging.destination.name']).toBeUndefined();
  });
});

describe("instrumentSnsClient: SNS's limits (10 attributes, 256 KiB)", () => {
  it.each([
    // own attributes, tracestate in the context?, attributes tracehop adds, what diag says
    [7, true, ['traceparent', 'tracestate', 'baggage'], undefined],
    [8, true, ['traceparent', 'tracestate'], 'dropped baggage'],
    [9, false, ['traceparent'], 'dropped baggage'],
    [9, true, ['traceparent'], 'dropped baggage, tracestate'],
  ] as const)(
    'with %i attributes of its own (tracestate: %s), a Publish gets %j — baggage goes first, then tracestate',
    async (own, withTraceState, added, said) => {
      const { client, calls } = fakeSns(() => ({ MessageId: 'm' }));
      instrumentSnsClient(client);
      const input = deepFreeze({
        TopicArn: TOPIC_ARN,
        Message: 'b',
        MessageAttributes: ownAttributes(own),
      });
      await contextApi.with(parentContext(withTraceState), async () => {
        await client.send(new PublishCommand(input));
        await client.send(new PublishCommand(input));
      });
      for (const call of calls) {
        expect(attributeNames(call.input)).toEqual([...Object.keys(ownAttributes(own)), ...added]);
      }
      const limitWarnings = warnings.filter((w) =>
        w.includes('aws.sns message over its attribute limits'),
      );
      if (said === undefined) expect(limitWarnings).toEqual([]);
      else
        expect(limitWarnings).toEqual([
          `tracehop: aws.sns message over its attribute limits: ${said}`,
        ]);
    },
  );

  it('with 10 attributes of its own, a Publish goes exactly as it was, without context (SNS has no AWSTraceHeader), said once', async () => {
    const { client, calls } = fakeSns(() => ({ MessageId: 'm' }));
    instrumentSnsClient(client);
    const input = deepFreeze({
      TopicArn: TOPIC_ARN,
      Message: 'b',
      MessageAttributes: ownAttributes(10),
    });
    await contextApi.with(parentContext(false), async () => {
      await client.send(new PublishCommand(input));
      await client.send(new PublishCommand(input));
    });
    expect(calls.map((call) => call.input)).toEqual([input, input]);
    expect(calls[0]?.input['MessageSystemAttributes']).toBeUndefined();
    expect(warnings).toEqual([
      'tracehop: aws.sns message over its attribute limits: dropped baggage, traceparent',
      expect.stringContaining(
        'SNS has no system attribute to carry it instead: it was published without trace context',
      ),
    ]);
    expect(tracing.spans().filter((s) => s.name === 'send orders')).toHaveLength(2);
  });

  it('counts the message size as SNS does: traceparent fits where baggage would not, and at the limit nothing is added', async () => {
    const { client, calls } = fakeSns(() => ({ MessageId: 'm' }));
    instrumentSnsClient(client);
    const bigBaggage = propagation.setBaggage(
      parentContext(false),
      propagation.createBaggage({ user: { value: 'x'.repeat(200) } }),
    );
    await contextApi.with(bigBaggage, async () => {
      // 262 000 + traceparent (66 bytes, and its type) ≤ 256 KiB; + 212 bytes of baggage is not.
      await client.send(new PublishCommand({ TopicArn: TOPIC_ARN, Message: 'm'.repeat(262_000) }));
      // Not even traceparent fits.
      await client.send(new PublishCommand({ TopicArn: TOPIC_ARN, Message: 'm'.repeat(262_061) }));
    });
    expect(attributeNames(calls[0]?.input)).toEqual(['traceparent']);
    expect(calls[1]?.input['MessageAttributes']).toBeUndefined();
    expect(warnings).toContainEqual(expect.stringContaining('published without trace context'));
  });

  it('honours maxMessageBytes', async () => {
    const { client, calls } = fakeSns(() => ({ MessageId: 'm' }));
    instrumentSnsClient(client, { maxMessageBytes: 1024 });
    await client.send(new PublishCommand({ TopicArn: TOPIC_ARN, Message: 'm'.repeat(1000) }));
    expect(calls[0]?.input['MessageAttributes']).toBeUndefined();
  });
});

describe('instrumentSnsClient: PublishBatch', () => {
  const entries = (): PublishBatchRequestEntry[] => [
    {
      Id: 'a',
      Message: 'ok',
      MessageAttributes: { own: { DataType: 'String', StringValue: 'v' } },
    },
    { Id: 'b', Message: 'bad' },
  ];

  it("makes a create span (PRODUCER) per entry, each entry carrying its own, and a send span (CLIENT) linking them; the caller's input untouched", async () => {
    const { client, calls } = fakeSns(() => ({
      Successful: [{ Id: 'a', MessageId: 'mid-a' }],
      Failed: [{ Id: 'b', Code: 'InvalidParameter', SenderFault: true, Message: 'bad message' }],
    }));
    instrumentSnsClient(client);
    const input = deepFreeze({ TopicArn: TOPIC_ARN, PublishBatchRequestEntries: entries() });
    await client.send(new PublishBatchCommand(input));
    expect(input).toEqual({ TopicArn: TOPIC_ARN, PublishBatchRequestEntries: entries() });

    const creates = tracing.spans().filter((s) => s.name === 'create orders');
    expect(creates.map((s) => s.kind)).toEqual([SpanKind.PRODUCER, SpanKind.PRODUCER]);
    expect(creates.map((s) => s.attributes['messaging.message.id'])).toEqual(['mid-a', undefined]);
    expect(creates[0]?.attributes['aws.sns.topic.arn']).toBe(TOPIC_ARN);
    expect(creates[1]?.attributes['error.type']).toBe('InvalidParameter');
    expect(creates[1]?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad message' });

    const send = span('send orders');
    expect(send.kind).toBe(SpanKind.CLIENT);
    expect(send.links.map((link) => link.context.spanId)).toEqual(
      creates.map((s) => s.spanContext().spanId),
    );
    expect(send.attributes).toMatchObject({
      'messaging.system.name': 'aws.sns',
      'messaging.operation.type': 'send',
      'messaging.batch.message_count': 2,
      'aws.sns.topic.arn': TOPIC_ARN,
      'aws.request_id': 'req-1',
    });

    const sent = calls[0]?.input['PublishBatchRequestEntries'] as PublishBatchRequestEntry[];
    expect(sent.map((entry) => entry.MessageAttributes?.['traceparent']?.StringValue)).toEqual(
      creates.map(traceparentOf),
    );
    expect(sent[0]?.MessageAttributes?.['own']).toEqual({ DataType: 'String', StringValue: 'v' });
    expect(sent.map((entry) => entry.Id)).toEqual(['a', 'b']);
  });

  it('with createSpans: false, one send span (PRODUCER) whose context every entry carries', async () => {
    const { client, calls } = fakeSns(() => ({
      Successful: [],
      Failed: [{ Id: 'a', Code: 'Throttled', SenderFault: false }],
    }));
    instrumentSnsClient(client, { createSpans: false });
    await client.send(
      new PublishBatchCommand({ TopicArn: TOPIC_ARN, PublishBatchRequestEntries: entries() }),
    );
    const send = span('send orders');
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.attributes['error.type']).toBe('Throttled');
    const sent = calls[0]?.input['PublishBatchRequestEntries'] as PublishBatchRequestEntry[];
    expect(sent.map((entry) => entry.MessageAttributes?.['traceparent']?.StringValue)).toEqual([
      traceparentOf(send),
      traceparentOf(send),
    ]);
  });

  it('counts the whole batch against 256 KiB: the entry that would push it over goes without context', async () => {
    const { client, calls } = fakeSns(() => ({ Successful: [], Failed: [] }));
    instrumentSnsClient(client);
    await client.send(
      new PublishBatchCommand({
        TopicArn: TOPIC_ARN,
        PublishBatchRequestEntries: [
          { Id: 'a', Message: 'a'.repeat(131_000) },
          { Id: 'b', Message: 'b'.repeat(131_000) },
        ],
      }),
    );
    const sent = calls[0]?.input['PublishBatchRequestEntries'] as PublishBatchRequestEntry[];
    expect(sent.map((entry) => Object.keys(entry.MessageAttributes ?? {}))).toEqual([
      ['traceparent'],
      [],
    ]);
    expect(warnings).toContainEqual(expect.stringContaining('published without trace context'));
  });
});

describe('instrumentSnsClient: hostile input goes to SNS as it was', () => {
  it('a Publish without TopicArn: a span named "send", the SDK error rethrown unchanged', async () => {
    const failure = sdkError('InvalidParameter', 'req-x');
    const { client, calls } = fakeSns(() => failure);
    instrumentSnsClient(client);
    const input = deepFreeze({ Message: 'no topic' });
    await expect(client.send(new PublishCommand(input))).rejects.toBe(failure);
    const send = span('send');
    expect(send.attributes['messaging.destination.name']).toBeUndefined();
    expect(send.attributes['error.type']).toBe('InvalidParameter');
    expect(attributeNames(calls[0]?.input)).toEqual(['traceparent']);
  });

  it.each([
    ['a string', 'not attributes'],
    ['a number', 42],
    ['an array', [{ DataType: 'String', StringValue: 'v' }]],
  ])(
    'MessageAttributes that is %s: passed on as it was, without context, said once',
    async (_, attributes) => {
      const { client, calls } = fakeSns(() => ({ MessageId: 'm' }));
      instrumentSnsClient(client);
      const input = { TopicArn: TOPIC_ARN, Message: 'b', MessageAttributes: attributes };
      const command = new PublishCommand(
        input as unknown as ConstructorParameters<typeof PublishCommand>[0],
      );
      await client.send(command);
      await client.send(command);
      expect(calls.map((call) => call.input['MessageAttributes'])).toEqual([
        attributes,
        attributes,
      ]);
      expect(warnings.filter((w) => w.includes('MessageAttributes is not an object'))).toHaveLength(
        1,
      );
      expect(tracing.spans().filter((s) => s.name === 'send orders')).toHaveLength(2);
    },
  );

  it('TopicArn that is not a string, or absurdly long: no destination recorded, the publish goes on', async () => {
    const { client, calls } = fakeSns(() => ({ MessageId: 'm' }));
    instrumentSnsClient(client);
    const odd = { TopicArn: 12, Message: 'b' } as unknown as ConstructorParameters<
      typeof PublishCommand
    >[0];
    await client.send(new PublishCommand(odd));
    await client.send(new PublishCommand({ TopicArn: `arn:${'x'.repeat(5000)}`, Message: 'b' }));
    expect(tracing.spans().map((s) => s.name)).toEqual(['send', 'send']);
    expect(calls[0]?.input['TopicArn']).toBe(12);
  });

  it('a Publish command without input (the SDK makes it {}) is traced; batch entries that are not objects, or no list, are passed on untouched', async () => {
    const { client, calls } = fakeSns(() => ({ Successful: [], Failed: [] }));
    instrumentSnsClient(client);
    const noInput = undefined as unknown as ConstructorParameters<typeof PublishCommand>[0];
    await client.send(new PublishCommand(noInput));
    const odd = [null, 'x', { Id: 'ok', Message: 'm' }] as unknown as PublishBatchRequestEntry[];
    await client.send(
      new PublishBatchCommand({ TopicArn: TOPIC_ARN, PublishBatchRequestEntries: odd }),
    );
    const notAList = {
      TopicArn: TOPIC_ARN,
      PublishBatchRequestEntries: 'x',
    } as unknown as ConstructorParameters<typeof PublishBatchCommand>[0];
    await client.send(new PublishBatchCommand(notAList));

    expect(attributeNames(calls[0]?.input)).toEqual(['traceparent']);
    const sent = calls[1]?.input['PublishBatchRequestEntries'] as unknown[];
    expect(sent.slice(0, 2)).toEqual([null, 'x']);
    expect(attributeNames(sent[2] as Record<string, unknown>)).toEqual(['traceparent']);
    expect(calls[2]?.input).toBe(notAList);
    expect(tracing.spans().filter((s) => s.name === 'create orders')).toHaveLength(3);
  });
});

describe('instrumentSnsClient: the client', () => {
  it('is added to a client once, however often it is instrumented', () => {
    const { client } = fakeSns();
    instrumentSnsClient(client);
    instrumentSnsClient(client, { createSpans: false });
    expect(
      client.middlewareStack.identify().filter((entry) => entry.startsWith(SNS_MIDDLEWARE_NAME)),
    ).toHaveLength(1);
  });

  it('leaves other commands alone', async () => {
    const { client, calls } = fakeSns(() => ({ TopicArn: TOPIC_ARN }));
    instrumentSnsClient(client);
    const input = { Name: 'orders' };
    await client.send(new CreateTopicCommand(input));
    expect(calls[0]?.input).toBe(input);
    expect(tracing.spans()).toEqual([]);
  });

  it('warns once, naming the line that turns it off, when the official instrumentation wrapped the client', () => {
    const { client } = fakeSns();
    const send = client.send.bind(client);
    Object.assign(send, { __wrapped: true });
    Object.defineProperty(client, 'send', { value: send });
    instrumentSnsClient(client);
    instrumentSnsClient(client);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('SNS client');
    expect(warnings[0]).toContain(DISABLE_OFFICIAL_AWS_SDK);
  });
});

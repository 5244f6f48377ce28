/**
 * SQS allows 10 message attributes and 256 KiB per message (and per batch). fauxqs, the
 * harness's server, enforces neither the 10 (it accepts an 11th, real SQS answers
 * `InvalidParameterValue`) nor 256 KiB (its limit is 1 MiB), and drops the `AWSTraceHeader`
 * system attribute. So these tests prove two things separately, and say which in their names:
 * - "request shape": what the client really sends (recorded after serialization) stays
 *   within SQS's limits and carries the context in `AWSTraceHeader` when attributes are full;
 *   fauxqs accepting it proves only that the request is well-formed;
 * - "AWSTraceHeader-keeping server": fauxqs behind a proxy that stores and returns
 *   `AWSTraceHeader` as SQS does, so the context really arrives through it.
 */
import {
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  context as contextApi,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  TraceFlags,
  type Context,
} from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { instrumentSqsClient, traceSqsHandler } from '../../../adapters/sqs/index.js';
import { resetReports } from '../../../src/report.js';
import { setupTestTracing, type TestTracing } from '../../../src/testing/index.js';
import { startAwsTraceHeaderProxy, type AwsTraceHeaderProxy } from './aws-trace-header-proxy.js';
import {
  captureDiag,
  createQueue,
  deleteQueue,
  linkedIds,
  named,
  newClient,
  only,
  parentId,
  recordRequests,
  spanId,
  type SentRequest,
} from './sqs-test-kit.js';

const MAX = 262_144;

let tracing: TestTracing;
let raw: SQSClient;
let diagnostics: ReturnType<typeof captureDiag>;

beforeAll(() => {
  tracing = setupTestTracing();
  raw = newClient();
});

beforeEach(() => {
  resetReports();
  diagnostics = captureDiag();
});

afterEach(() => {
  diagnostics.restore();
  expect(tracing.openSpans()).toEqual([]);
  tracing.reset();
});

afterAll(async () => {
  raw.destroy();
  await tracing.shutdown();
});

function callerAttributes(count: number): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (let i = 0; i < count; i++)
    attributes[`own${i}`] = { DataType: 'String', StringValue: `v${i}` };
  return attributes;
}

/** A context whose span carries a tracestate, with baggage, as an upstream service would. */
function upstreamContext(): Context {
  const remote = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=opaque'),
  });
  return propagation.setBaggage(remote, propagation.createBaggage({ tenant: { value: 'acme' } }));
}

/** The bytes SQS counts for an entry of a recorded request. */
function wireBytes(entry: Record<string, unknown>): number {
  const body = entry['MessageBody'];
  let bytes = Buffer.byteLength(typeof body === 'string' ? body : '');
  const attributes = (entry['MessageAttributes'] ?? {}) as Record<
    string,
    { DataType: string; StringValue?: string }
  >;
  for (const [name, value] of Object.entries(attributes)) {
    bytes +=
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType) +
      Buffer.byteLength(value.StringValue ?? '');
  }
  return bytes;
}

function expectedAwsTraceHeader(traceId: string, spanIdHex: string): string {
  return `Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)};Parent=${spanIdHex};Sampled=1`;
}

async function sendIn(
  ctx: Context,
  sqs: SQSClient,
  command: SendMessageCommand | SendMessageBatchCommand,
) {
  return contextApi.with(ctx, () => sqs.send(command as SendMessageCommand));
}

function lastRequest(requests: readonly SentRequest[], operation: string): Record<string, unknown> {
  const found = requests.filter((request) => request.operation === operation).at(-1);
  if (found === undefined) throw new Error(`no ${operation} request was sent`);
  return found.body;
}

describe('request shape (recorded after serialization, sent to fauxqs)', () => {
  it('a caller already using 10 attributes: the send succeeds with exactly its 10 attributes and the context in AWSTraceHeader, said once through diag', async () => {
    const sqs = instrumentSqsClient(newClient());
    const recorder = recordRequests(sqs);
    const queue = await createQueue(raw, 'ten-attrs');
    try {
      const MessageAttributes = callerAttributes(10);
      const result = await sendIn(
        upstreamContext(),
        sqs,
        new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'full', MessageAttributes }),
      );
      expect(result.MessageId).toBeDefined();
      await sendIn(
        upstreamContext(),
        sqs,
        new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'again', MessageAttributes }),
      );

      const [first] = tracing.spans().filter(named(`send ${queue.name}`, SpanKind.PRODUCER));
      if (first === undefined) throw new Error('no send span');
      const body = recorder.requests.find((request) => request.operation === 'SendMessage')?.body;
      expect(Object.keys(body?.['MessageAttributes'] as object).sort()).toEqual(
        Object.keys(MessageAttributes).sort(),
      );
      expect(body?.['MessageSystemAttributes']).toEqual({
        AWSTraceHeader: {
          DataType: 'String',
          StringValue: expectedAwsTraceHeader(first.spanContext().traceId, spanId(first)),
        },
      });
      expect(MessageAttributes).toEqual(callerAttributes(10));
      expect(diagnostics.warnings.filter((w) => w.includes('dropped'))).toHaveLength(1);
      expect(diagnostics.warnings.filter((w) => w.includes('AWSTraceHeader'))).toHaveLength(1);
    } finally {
      await deleteQueue(raw, queue.url);
      sqs.destroy();
    }
  });

  it('9 caller attributes: traceparent is added, tracestate and baggage are dropped first', async () => {
    const sqs = instrumentSqsClient(newClient());
    const recorder = recordRequests(sqs);
    const queue = await createQueue(raw, 'nine-attrs');
    try {
      await sendIn(
        upstreamContext(),
        sqs,
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: 'nine',
          MessageAttributes: callerAttributes(9),
        }),
      );
      await sendIn(
        upstreamContext(),
        sqs,
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: 'seven',
          MessageAttributes: callerAttributes(7),
        }),
      );
      const [nine, seven] = recorder.requests
        .filter((request) => request.operation === 'SendMessage')
        .map((request) => request.body);
      const nineNames = Object.keys(nine?.['MessageAttributes'] as object);
      expect(nineNames).toHaveLength(10);
      expect(nineNames).toContain('traceparent');
      expect(nineNames).not.toContain('tracestate');
      expect(nineNames).not.toContain('baggage');
      expect(nine?.['MessageSystemAttributes']).toBeUndefined();
      const sevenAttributes = seven?.['MessageAttributes'] as Record<
        string,
        { StringValue: string }
      >;
      expect(Object.keys(sevenAttributes)).toHaveLength(10);
      expect(sevenAttributes['tracestate']?.StringValue).toBe('vendor=opaque');
      expect(sevenAttributes['baggage']?.StringValue).toBe('tenant=acme');
      expect(diagnostics.warnings).toHaveLength(1);
      expect(diagnostics.warnings[0]).toContain('dropped baggage, tracestate');
    } finally {
      await deleteQueue(raw, queue.url);
      sqs.destroy();
    }
  });

  it('a body that leaves no room under 256 KiB: the context goes in AWSTraceHeader and the message stays within the limit', async () => {
    const sqs = instrumentSqsClient(newClient());
    const recorder = recordRequests(sqs);
    const queue = await createQueue(raw, 'big-body');
    try {
      const MessageBody = 'x'.repeat(MAX - 40);
      await sendIn(
        upstreamContext(),
        sqs,
        new SendMessageCommand({ QueueUrl: queue.url, MessageBody }),
      );
      const body = lastRequest(recorder.requests, 'SendMessage');
      expect(body['MessageAttributes']).toBeUndefined();
      expect(body['MessageSystemAttributes']).toHaveProperty('AWSTraceHeader');
      expect(wireBytes(body)).toBeLessThanOrEqual(MAX);
    } finally {
      await deleteQueue(raw, queue.url);
      sqs.destroy();
    }
  });

  it('a batch of 10 entries with 10 attributes each: every entry carries its own create span in AWSTraceHeader', async () => {
    const sqs = instrumentSqsClient(newClient());
    const recorder = recordRequests(sqs);
    const queue = await createQueue(raw, 'batch-full');
    try {
      const Entries = Array.from({ length: 10 }, (_, i) => ({
        Id: `e${i}`,
        MessageBody: `m${i}`,
        MessageAttributes: callerAttributes(10),
      }));
      const result = await sendIn(
        upstreamContext(),
        sqs,
        new SendMessageBatchCommand({ QueueUrl: queue.url, Entries }),
      );
      expect((result as { Successful?: unknown[] }).Successful).toHaveLength(10);
      const creates = tracing.spans().filter(named(`create ${queue.name}`, SpanKind.PRODUCER));
      expect(creates).toHaveLength(10);
      const sent = lastRequest(recorder.requests, 'SendMessageBatch')['Entries'] as Record<
        string,
        unknown
      >[];
      sent.forEach((entry, i) => {
        const messageId = (
          result as { Successful?: { Id?: string; MessageId?: string }[] }
        ).Successful?.find((success) => success.Id === `e${i}`)?.MessageId;
        const create = only(
          creates,
          (span) => span.attributes['messaging.message.id'] === messageId,
        );
        expect(Object.keys(entry['MessageAttributes'] as object)).toHaveLength(10);
        expect(entry['MessageSystemAttributes']).toEqual({
          AWSTraceHeader: {
            DataType: 'String',
            StringValue: expectedAwsTraceHeader(create.spanContext().traceId, spanId(create)),
          },
        });
      });
    } finally {
      await deleteQueue(raw, queue.url);
      sqs.destroy();
    }
  });

  it('a batch near 256 KiB in total: trace attributes are added only while the whole batch fits, the rest falls back to AWSTraceHeader', async () => {
    const sqs = instrumentSqsClient(newClient());
    const recorder = recordRequests(sqs);
    const queue = await createQueue(raw, 'batch-big');
    try {
      // 10 bodies that leave 300 bytes of the batch's 256 KiB: room for a few traceparents only.
      const size = Math.floor((MAX - 300) / 10);
      const Entries = Array.from({ length: 10 }, (_, i) => ({
        Id: `e${i}`,
        MessageBody: String(i).repeat(size),
      }));
      await sendIn(
        ROOT_CONTEXT,
        sqs,
        new SendMessageBatchCommand({ QueueUrl: queue.url, Entries }),
      );
      const sent = lastRequest(recorder.requests, 'SendMessageBatch')['Entries'] as Record<
        string,
        unknown
      >[];
      const total = sent.reduce((sum, entry) => sum + wireBytes(entry), 0);
      expect(total).toBeLessThanOrEqual(MAX);
      const withAttribute = sent.filter((entry) => entry['MessageAttributes'] !== undefined);
      const withHeader = sent.filter((entry) => entry['MessageSystemAttributes'] !== undefined);
      expect(withAttribute.length).toBeGreaterThan(0);
      expect(withHeader.length).toBeGreaterThan(0);
      expect(withAttribute.length + withHeader.length).toBe(10);
    } finally {
      await deleteQueue(raw, queue.url);
      sqs.destroy();
    }
  });
});

describe('AWSTraceHeader-keeping server (fauxqs behind a proxy that keeps AWSTraceHeader as SQS does)', () => {
  let proxy: AwsTraceHeaderProxy;
  beforeAll(async () => {
    proxy = await startAwsTraceHeaderProxy(inject('sqsEndpoint'));
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('a message whose attributes were full arrives with its context in AWSTraceHeader and is processed as a child of its send span', async () => {
    const sqs = instrumentSqsClient(newClient(proxy.endpoint));
    const queue = await createQueue(raw, 'xray-path');
    try {
      await sendIn(
        ROOT_CONTEXT,
        sqs,
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: 'full',
          MessageAttributes: callerAttributes(10),
        }),
      );
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.url,
          WaitTimeSeconds: 5,
          MessageAttributeNames: ['All'],
        }),
      );
      const message = Messages[0] as Message;
      expect(message.Attributes?.AWSTraceHeader).toMatch(
        /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=/,
      );
      expect(Object.keys(message.MessageAttributes ?? {})).toHaveLength(10);
      expect(traceSqsHandler(() => 'ok')(message)).toBe('ok');

      const spans = await tracing.waitForSpans((all) => all.some(named(`process ${queue.name}`)));
      const send = only(spans, named(`send ${queue.name}`));
      const receive = only(spans, named(`receive ${queue.name}`));
      const process = only(spans, named(`process ${queue.name}`));
      expect(parentId(process)).toBe(spanId(send));
      expect(process.spanContext().traceId).toBe(send.spanContext().traceId);
      expect(linkedIds(receive)).toEqual([spanId(send)]);
    } finally {
      await deleteQueue(raw, queue.url);
      sqs.destroy();
    }
  });
});

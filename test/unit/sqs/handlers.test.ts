import { ChangeMessageVisibilityCommand, type Message } from '@aws-sdk/client-sqs';
import { context as contextApi, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  instrumentSqsClient,
  traceLambdaSqsHandler,
  traceSqsBatchHandler,
  traceSqsHandler,
  type LambdaSqsRecord,
} from '../../../adapters/sqs/index.js';
import { byReceiptHandle, rememberQueueUrl } from '../../../adapters/sqs/in-flight.js';
import { ATTR_PROCESS_TIMED_OUT } from '../../../src/process-scope.js';
import { captureDiagWarnings, setupTestTracing } from '../../../src/testing/index.js';
import { fakeSqs, QUEUE_URL } from './fake-sqs.js';

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());
beforeEach(() => tracing.reset());
afterEach(() => expect(tracing.openSpans()).toEqual([]));

const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
let next = 0;
function message(parts: Partial<Message> = {}): Message {
  next++;
  return {
    MessageId: `m${next}`,
    ReceiptHandle: `rh${next}`,
    Body: `body ${next}`,
    MessageAttributes: {
      traceparent: { DataType: 'String', StringValue: PARENT },
      baggage: { DataType: 'String', StringValue: 'tenant=acme,secret=x' },
    },
    ...parts,
  };
}

describe('traceSqsHandler', () => {
  it('keeps a synchronous handler synchronous: its value returned, its throw rethrown', () => {
    const handle = traceSqsHandler((m: Message) => {
      if (m.Body === 'bad') throw new TypeError('bad body');
      return trace.getActiveSpan()?.spanContext().traceId;
    });
    expect(handle(message())).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(() => handle(message({ Body: 'bad' }))).toThrow(TypeError);
    const failed = tracing.spans().find((s) => s.status.code === SpanStatusCode.ERROR);
    expect(failed?.attributes['error.type']).toBe('TypeError');
  });

  it("relation 'link' starts a new trace linked to the producer; baggage follows the policy", () => {
    let baggage: string[] = [];
    traceSqsHandler(
      () => {
        baggage =
          propagation
            .getActiveBaggage()
            ?.getAllEntries()
            .map(([key]) => key) ?? [];
      },
      { relation: 'link', baggage: ['tenant'] },
    )(message());
    const [process] = tracing.spans();
    expect(process?.parentSpanContext).toBeUndefined();
    expect(process?.spanContext().traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
    expect(process?.links.map((l) => l.context.spanId)).toEqual(['b7ad6b7169203331']);
    expect(baggage).toEqual(['tenant']);
  });

  it("awaitSettle 'returned': a returned message keeps the span open until its delete, or the settle timeout", async () => {
    const handle = traceSqsHandler((m: Message) => m, { settleTimeoutMs: 40 });
    const received = message();
    rememberQueueUrl([received], QUEUE_URL);
    handle(received);
    expect(tracing.openSpans()).toHaveLength(1);
    expect(byReceiptHandle.findOpen(received.ReceiptHandle ?? '')).toBeDefined();
    const [process] = await tracing.waitForSpans((spans) => spans.length === 1);
    expect(process?.attributes[ATTR_PROCESS_TIMED_OUT]).toBe(true);
    expect(byReceiptHandle.findOpen(received.ReceiptHandle ?? '')).toBeUndefined();
    // not returning the message ends the span with the handler
    traceSqsHandler(() => undefined)(message());
    expect(tracing.openSpans()).toEqual([]);
  });

  it("awaitSettle 'always': after a failure the span waits for the visibility change that releases the message", async () => {
    const { client } = fakeSqs();
    instrumentSqsClient(client);
    const received = message();
    rememberQueueUrl([received], QUEUE_URL);
    const boom = new Error('down');
    const handle = traceSqsHandler(
      () => {
        throw boom;
      },
      { awaitSettle: 'always', queueUrl: QUEUE_URL },
    );
    expect(() => handle(received)).toThrow(boom);
    expect(tracing.openSpans()).toHaveLength(1);
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: QUEUE_URL,
        ReceiptHandle: received.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const [process] = tracing.spans();
    expect(process?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'down' });
    expect(process?.events.map((e) => e.name)).toEqual(['exception', 'change_visibility']);
  });

  it('never waits for a delete it cannot see: a message not received through an instrumented client ends with its handler, said once', () => {
    const warnings = captureDiagWarnings();
    warnings.start();
    try {
      const handle = traceSqsHandler((m: Message) => m, { queueUrl: QUEUE_URL });
      handle(message());
      handle(message());
      expect(tracing.openSpans()).toEqual([]);
      expect(tracing.spans()).toHaveLength(2);
      expect(tracing.spans().map((s) => s.attributes[ATTR_PROCESS_TIMED_OUT])).toEqual([
        undefined,
        undefined,
      ]);
      expect(warnings.messages.filter((w) => w.includes('its delete cannot be seen'))).toHaveLength(
        1,
      );
    } finally {
      warnings.stop();
    }
  });

  it("awaitSettle 'never': the span ends with the handler even when it returns the message", () => {
    traceSqsHandler((m: Message) => m, { awaitSettle: 'never' })(message());
    expect(tracing.spans()).toHaveLength(1);
  });

  it('runs the handler, once, for anything it is given, and returns what it returns', () => {
    const anyMessage = fc.oneof(
      fc.anything(),
      fc.record({
        MessageId: fc.anything(),
        ReceiptHandle: fc.anything(),
        Body: fc.oneof(
          fc.string(),
          fc.constant('{"Type" : "Notification", "MessageAttributes": 7}'),
          fc.anything(),
        ),
        Attributes: fc.oneof(
          fc.anything(),
          fc.record({ AWSTraceHeader: fc.anything(), ApproximateReceiveCount: fc.anything() }),
        ),
        MessageAttributes: fc.oneof(
          fc.anything(),
          fc.dictionary(
            fc.constantFrom('traceparent', 'tracestate', 'baggage', 'x'),
            fc.anything(),
          ),
        ),
      }),
    );
    fc.assert(
      fc.property(anyMessage, (input) => {
        let calls = 0;
        const result = traceSqsHandler(
          (m: Message) => {
            calls++;
            return m;
          },
          { awaitSettle: 'never' },
        )(input as Message);
        expect(calls).toBe(1);
        expect(result).toBe(input);
      }),
      { numRuns: 300 },
    );
    // and every call got its process span: tracehop never fell back to running untraced
    expect(tracing.spans()).toHaveLength(300);
    tracing.reset();
  });
});

describe('traceSqsBatchHandler', () => {
  it('returns the messages that succeeded; one span per message, each under its own context', async () => {
    const messages = [message(), message({ Body: 'bad' }), message()];
    const handled = await traceSqsBatchHandler(
      (m: Message) => {
        if (m.Body === 'bad') throw new Error('nope');
      },
      { awaitSettle: 'never' },
    )(messages);
    expect(handled).toEqual([messages[0], messages[2]]);
    expect(tracing.spans()).toHaveLength(3);
  });

  it('rethrows the first error unchanged when every message failed', async () => {
    const first = new Error('first');
    const messages = [message(), message()];
    await expect(
      traceSqsBatchHandler((m: Message) => {
        throw m === messages[0] ? first : new Error('second');
      })(messages),
    ).rejects.toBe(first);
  });

  it('runs messages one after the other, or all at once with parallel', async () => {
    const log: string[] = [];
    const handler = async (m: Message) => {
      log.push(`start ${m.Body}`);
      await new Promise((resolve) => setImmediate(resolve));
      log.push(`end ${m.Body}`);
    };
    const messages = [message({ Body: 'a' }), message({ Body: 'b' })];
    await traceSqsBatchHandler(handler, { awaitSettle: 'never' })(messages);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
    log.length = 0;
    await traceSqsBatchHandler(handler, { awaitSettle: 'never', parallel: true })(messages);
    expect(log).toEqual(['start a', 'start b', 'end a', 'end b']);
  });

  it('runs a FIFO batch in order even when asked for parallel, and stops at the first failure', async () => {
    const ran: string[] = [];
    const messages = ['a', 'b', 'c'].map((Body) =>
      message({ Body, Attributes: { MessageGroupId: 'g' } }),
    );
    const handled = await traceSqsBatchHandler(
      (m: Message) => {
        ran.push(m.Body ?? '');
        if (m.Body === 'b') throw new Error('b failed');
      },
      { parallel: true, awaitSettle: 'never' },
    )(messages);
    expect(ran).toEqual(['a', 'b']);
    expect(handled).toEqual([messages[0]]);
  });
});

function record(body: string, parts: Partial<LambdaSqsRecord> = {}): LambdaSqsRecord {
  next++;
  return {
    messageId: `r${next}`,
    receiptHandle: `rh${next}`,
    body,
    attributes: { ApproximateReceiveCount: '1' },
    messageAttributes: { traceparent: { stringValue: PARENT, dataType: 'String' } },
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:orders',
    ...parts,
  };
}

describe('traceLambdaSqsHandler', () => {
  it('answers an event without records with no failures', async () => {
    const handler = traceLambdaSqsHandler(() => undefined, { flushTimeoutMs: 0 });
    await expect(handler({} as { Records: LambdaSqsRecord[] }, undefined)).resolves.toEqual({
      batchItemFailures: [],
    });
  });

  it('flushes the tracer and meter providers before answering, never closer than 500 ms to the deadline', async () => {
    const flush = vi.spyOn(tracing.provider, 'forceFlush');
    const meterProvider = new MeterProvider();
    const flushMetrics = vi.spyOn(meterProvider, 'forceFlush');
    try {
      const handler = traceLambdaSqsHandler(() => undefined, {
        tracerProvider: tracing.provider,
        meterProvider,
      });
      await handler({ Records: [record('a')] }, { getRemainingTimeInMillis: () => 10_000 });
      expect(flush).toHaveBeenCalledTimes(1);
      expect(flushMetrics).toHaveBeenCalledTimes(1);
      await handler({ Records: [record('b')] }, { getRemainingTimeInMillis: () => 400 });
      expect(flush).toHaveBeenCalledTimes(1);
      expect(flushMetrics).toHaveBeenCalledTimes(1);
    } finally {
      flush.mockRestore();
      flushMetrics.mockRestore();
      await meterProvider.shutdown();
    }
    const process = tracing.spans().find((s) => s.name === 'process orders');
    expect(process?.instrumentationScope.name).toBe('tracehop');
  });

  it('without reportBatchItemFailures, stops at the first failure and rethrows it, as a plain loop would', async () => {
    const ran: string[] = [];
    const boom = new Error('boom');
    const handler = traceLambdaSqsHandler(
      (r: LambdaSqsRecord) => {
        ran.push(r.body);
        if (r.body === 'b') throw boom;
      },
      { reportBatchItemFailures: false, flushTimeoutMs: 0 },
    );
    await expect(
      handler({ Records: [record('a'), record('b'), record('c')] }, undefined),
    ).rejects.toBe(boom);
    expect(ran).toEqual(['a', 'b']);
  });

  it('runs every record in its own span under its own context, sync handlers included', async () => {
    const seen: (string | undefined)[] = [];
    const handler = traceLambdaSqsHandler(
      () => void seen.push(trace.getSpan(contextApi.active())?.spanContext().traceId),
      { parallel: true, flushTimeoutMs: 0 },
    );
    const response = await handler(
      {
        Records: [
          record('a'),
          record('b', {
            messageAttributes: {},
            attributes: {
              AWSTraceHeader:
                'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
            },
          }),
          record('c', { messageAttributes: {}, attributes: { AWSTraceHeader: 'Root=garbage' } }),
        ],
      },
      undefined,
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(seen.slice(0, 2)).toEqual([
      '0af7651916cd43dd8448eb211c80319c',
      '5759e988bd862e3fe1be46a994272793',
    ]);
    const processes = tracing.spans().filter((s) => s.name === 'process orders');
    expect(processes.map((s) => s.parentSpanContext?.spanId)).toEqual([
      'b7ad6b7169203331',
      '53995c3f42cd8ad8',
      undefined,
    ]);
  });
});

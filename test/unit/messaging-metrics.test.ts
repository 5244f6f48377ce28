/**
 * The messaging metrics and queue time, in the core, with a small transport of its own: what
 * is recorded with a meter provider, that nothing is recorded (or thrown) without one, the
 * destination template hook, and that a failing meter never reaches messaging.
 */
import { metrics, SpanKind, type MeterProvider } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConsumerLifecycle } from '../../src/consumer-lifecycle.js';
import { ConsumerTracer } from '../../src/consumer-tracer.js';
import {
  ATTR_MESSAGE_QUEUE_TIME,
  METRIC_MESSAGING_QUEUE_TIME,
  MeteredSpan,
  queueTimeSeconds,
} from '../../src/messaging-metrics.js';
import type { TracingOptions } from '../../src/options.js';
import { ProducerTracer } from '../../src/producer-tracer.js';
import { MESSAGING_DURATION_BUCKETS } from '../../src/semconv.js';
import { captureDiagWarnings, setupTestTracing } from '../../src/testing/index.js';
import type { MessagingTransport } from '../../src/transport.js';
import {
  allAttributes,
  count,
  histogramPoints,
  metric,
  operation,
  setupTestMetrics,
  sumPoints,
  total,
  type TestMetrics,
} from '../metrics-kit.js';

interface Outgoing {
  readonly queue: string;
  readonly headers: Record<string, string>;
}
interface Incoming extends Outgoing {
  readonly id: string;
  /** Epoch ms, as a broker would stamp it. */
  readonly sentAt?: number;
}

const transport: MessagingTransport<Outgoing, Incoming> = {
  system: 'memory',
  readHeader: (message, key) => message.headers[key],
  withHeaders: (message, fields) => ({ ...message, headers: { ...message.headers, ...fields } }),
  describeOutgoing(message, attributes) {
    attributes['messaging.destination.name'] = message.queue;
    return message.queue;
  },
  describeIncoming(message, attributes) {
    attributes['messaging.destination.name'] = message.queue;
    attributes['messaging.message.id'] = message.id;
    return message.queue;
  },
  sentAt: (message) => message.sentAt,
};

const awaits: ConsumerLifecycle<Incoming> = { callerAwaits: true };

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());
const diagWarnings = captureDiagWarnings();
let testMetrics: TestMetrics;

beforeEach(() => {
  tracing.reset();
  diagWarnings.start();
  testMetrics = setupTestMetrics();
});
afterEach(async () => {
  diagWarnings.stop();
  metrics.disable();
  await testMetrics.shutdown();
  expect(tracing.openSpans()).toEqual([]);
});

/** Sends `message` through `producer` and returns what the broker would deliver. */
function sendThrough(
  producer: ProducerTracer<Outgoing>,
  message: Outgoing,
  id: string,
  sentAt?: number,
): Incoming {
  let traced: Outgoing | undefined;
  producer.traceSend(message, (copy) => {
    traced = copy;
  });
  if (traced === undefined) throw new Error('the send callback did not run');
  return { ...traced, id, sentAt };
}

const processSpans = (): ReadableSpan[] =>
  tracing.spans().filter((span) => span.kind === SpanKind.CONSUMER);

describe('messaging metrics with a meter provider', () => {
  it('records sent, consumed, send duration, process duration and queue time once per message, with the conventions’ names, units and attributes', async () => {
    const options: TracingOptions = { meterProvider: testMetrics.meterProvider };
    const producer = new ProducerTracer(transport, options);
    const consumer = new ConsumerTracer(transport, options);
    const n = 5;
    const failure = new TypeError('bad order');
    const before = Date.now();
    for (let i = 0; i < n; i++) {
      const incoming = sendThrough(producer, { queue: 'orders', headers: {} }, `m${i}`, before);
      try {
        consumer.process(
          incoming,
          awaits,
          () => {
            if (i === 0) throw failure;
          },
          undefined,
          undefined,
        );
      } catch (error) {
        expect(error).toBe(failure);
      }
    }
    const after = Date.now();
    const collected = await testMetrics.collect();

    const sent = metric(collected, 'messaging.client.sent.messages');
    expect(sent.descriptor.unit).toBe('{message}');
    expect(sent.descriptor.description).toBe(
      'Number of messages producer attempted to send to the broker.',
    );
    expect(sumPoints(sent).map((point) => point.attributes)).toEqual([
      {
        'messaging.system.name': 'memory',
        'messaging.destination.name': 'orders',
        'messaging.operation.name': 'send',
      },
    ]);
    expect(total(sent)).toBe(n);

    const consumed = metric(collected, 'messaging.client.consumed.messages');
    expect(consumed.descriptor.unit).toBe('{message}');
    expect(sumPoints(consumed).map((point) => point.attributes)).toEqual([
      {
        'messaging.system.name': 'memory',
        'messaging.destination.name': 'orders',
        'messaging.operation.name': 'process',
      },
    ]);
    expect(total(consumed)).toBe(n);

    const operationDuration = metric(collected, 'messaging.client.operation.duration');
    expect(operationDuration.descriptor.unit).toBe('s');
    const sends = histogramPoints(operationDuration);
    expect(sends.map((point) => point.attributes)).toEqual([
      {
        'messaging.system.name': 'memory',
        'messaging.destination.name': 'orders',
        'messaging.operation.name': 'send',
        'messaging.operation.type': 'send',
      },
    ]);
    expect(sends[0]?.value.count).toBe(n);
    expect(sends[0]?.value.buckets.boundaries).toEqual(MESSAGING_DURATION_BUCKETS);

    const processDuration = metric(collected, 'messaging.process.duration');
    expect(processDuration.descriptor.unit).toBe('s');
    expect(count(processDuration)).toBe(n);
    const failed = histogramPoints(processDuration).filter(
      (point) => point.attributes['error.type'] !== undefined,
    );
    expect(failed.map((point) => [point.attributes['error.type'], point.value.count])).toEqual([
      ['TypeError', 1],
    ]);
    expect(histogramPoints(processDuration)[0]?.value.buckets.boundaries).toEqual(
      MESSAGING_DURATION_BUCKETS,
    );

    const queueTime = metric(collected, METRIC_MESSAGING_QUEUE_TIME);
    expect(queueTime.descriptor.unit).toBe('s');
    expect(count(queueTime)).toBe(n);
    const waited = histogramPoints(queueTime)[0]?.value;
    expect(waited?.min).toBeGreaterThanOrEqual(0);
    expect(waited?.max).toBeLessThanOrEqual((after - before) / 1000);

    for (const attributes of allAttributes(collected)) {
      expect(attributes).not.toHaveProperty('messaging.message.id');
      expect(attributes).not.toHaveProperty(ATTR_MESSAGE_QUEUE_TIME);
    }
    const spans = processSpans();
    expect(spans).toHaveLength(n);
    for (const span of spans) {
      const value = span.attributes[ATTR_MESSAGE_QUEUE_TIME];
      expect(typeof value).toBe('number');
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual((after - before) / 1000);
    }
  });

  it('records unsampled messages too: metrics do not depend on sampling', async () => {
    const options: TracingOptions = { meterProvider: testMetrics.meterProvider };
    const consumer = new ConsumerTracer(transport, options);
    const unsampled = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
    for (let i = 0; i < 3; i++) {
      consumer.process(
        { queue: 'orders', headers: { traceparent: unsampled }, id: `u${i}` },
        awaits,
        () => undefined,
        undefined,
        undefined,
      );
    }
    expect(processSpans()).toEqual([]);
    const collected = await testMetrics.collect();
    expect(total(metric(collected, 'messaging.client.consumed.messages'))).toBe(3);
    expect(count(metric(collected, 'messaging.process.duration'))).toBe(3);
  });

  it('counts a message received by a pull once: at the receive, not again when processed', async () => {
    const options: TracingOptions = { meterProvider: testMetrics.meterProvider };
    const receiver = new ConsumerTracer(transport, options);
    const handler = new ConsumerTracer(transport, options);
    const messages: Incoming[] = [
      { queue: 'orders', headers: {}, id: 'a' },
      { queue: 'orders', headers: {}, id: 'b' },
    ];
    const span = receiver.startReceive('orders', { 'messaging.destination.name': 'orders' });
    expect(span).toBeInstanceOf(MeteredSpan);
    receiver.endReceive(span, messages);
    for (const message of messages) {
      handler.process(message, awaits, () => undefined, undefined, undefined);
    }
    // A message that arrived otherwise (pushed) is counted when processed.
    handler.process(
      { queue: 'orders', headers: {}, id: 'c' },
      awaits,
      () => undefined,
      undefined,
      undefined,
    );
    const collected = await testMetrics.collect();
    const consumed = metric(collected, 'messaging.client.consumed.messages');
    expect(total(consumed, operation('receive'))).toBe(2);
    // A receive sends nothing: not even a zero is added to the sent counter.
    expect(collected.has('messaging.client.sent.messages')).toBe(false);
    expect(total(consumed, operation('process'))).toBe(1);
    expect(count(metric(collected, 'messaging.process.duration'))).toBe(3);
    expect(
      count(metric(collected, 'messaging.client.operation.duration'), operation('receive')),
    ).toBe(1);
  });

  it('counts a batch once, by its create spans, and records error.type where the broker refused one', async () => {
    const producer = new ProducerTracer(transport, { meterProvider: testMetrics.meterProvider });
    const creates = [0, 1, 2].map(() => producer.startCreate({ queue: 'orders', headers: {} }));
    const batch = producer.startBatchSend(
      'orders',
      { 'messaging.destination.name': 'orders' },
      creates.map((scope) => scope.span.spanContext()),
      creates.length,
    );
    creates[0]?.span.setAttribute('error.type', 'InvalidMessageContents');
    for (const scope of creates) scope.span.end();
    batch.end();
    batch.end(); // ended twice: still recorded once
    const collected = await testMetrics.collect();
    const sent = metric(collected, 'messaging.client.sent.messages');
    expect(total(sent)).toBe(3);
    expect(total(sent, (a) => a['error.type'] === 'InvalidMessageContents')).toBe(1);
    const durations = metric(collected, 'messaging.client.operation.duration');
    expect(count(durations, (a) => a['messaging.operation.type'] === 'create')).toBe(3);
    expect(count(durations, (a) => a['messaging.operation.type'] === 'send')).toBe(1);
  });

  it('records a measured settle in messaging.client.operation.duration, and an unmeasured one nowhere', async () => {
    const consumer = new ConsumerTracer(transport, { meterProvider: testMetrics.meterProvider });
    const scope = consumer.startProcess({ queue: 'orders', headers: {}, id: 's1' });
    scope.settle('delete', undefined, undefined, 0.012);
    scope.handlerFinished(false, undefined);
    scope.end();
    const other = consumer.startProcess({ queue: 'orders', headers: {}, id: 's2' });
    other.settle('ack');
    other.handlerFinished(false, undefined);
    other.end();
    const collected = await testMetrics.collect();
    const settles = histogramPoints(
      metric(collected, 'messaging.client.operation.duration'),
    ).filter((point) => point.attributes['messaging.operation.type'] === 'settle');
    expect(settles.map((point) => [point.attributes, point.value.count, point.value.sum])).toEqual([
      [
        {
          'messaging.system.name': 'memory',
          'messaging.destination.name': 'orders',
          'messaging.operation.name': 'delete',
          'messaging.operation.type': 'settle',
        },
        1,
        0.012,
      ],
    ]);
  });
});

describe('without a meter provider', () => {
  it('records nothing, wraps no span, throws nothing — and starts recording once an SDK registers one', async () => {
    const producer = new ProducerTracer(transport);
    const consumer = new ConsumerTracer(transport);
    const scope = producer.startSend({ queue: 'orders', headers: {} });
    expect(scope.span).not.toBeInstanceOf(MeteredSpan);
    scope.span.end();
    const incoming = sendThrough(producer, { queue: 'orders', headers: {} }, 'x', Date.now());
    expect(() =>
      consumer.process(incoming, awaits, () => undefined, undefined, undefined),
    ).not.toThrow();
    expect(consumer.metrics.instruments).toBeUndefined();
    // Queue time is a span attribute: it does not need metrics.
    expect(processSpans()[0]?.attributes[ATTR_MESSAGE_QUEUE_TIME]).toBeGreaterThanOrEqual(0);
    expect((await testMetrics.collect()).size).toBe(0);

    // The SDK starts after the wrappers were made, as it often does.
    metrics.setGlobalMeterProvider(testMetrics.meterProvider);
    sendThrough(producer, { queue: 'orders', headers: {} }, 'y');
    consumer.process(incoming, awaits, () => undefined, undefined, undefined);
    const collected = await testMetrics.collect();
    expect(total(metric(collected, 'messaging.client.sent.messages'))).toBe(1);
    expect(total(metric(collected, 'messaging.client.consumed.messages'))).toBe(1);
    expect(diagWarnings.messages).toEqual([]);
  });

  it('a meter that throws never reaches messaging: reported once, the message still handled', () => {
    const broken = {
      getMeter: () => {
        throw new Error('meter provider is broken');
      },
    } as unknown as MeterProvider;
    const throwing = new ConsumerTracer(transport, { meterProvider: broken });
    let handled = 0;
    for (let i = 0; i < 2; i++) {
      throwing.process(
        { queue: 'orders', headers: {}, id: `t${i}` },
        awaits,
        () => {
          handled++;
        },
        undefined,
        undefined,
      );
    }
    expect(handled).toBe(2);
    expect(diagWarnings.messages.filter((m) => m.includes('metrics are off'))).toHaveLength(1);

    const instruments = {
      getMeter: () => ({
        createCounter: () => ({
          add: () => {
            throw new Error('counter is broken');
          },
        }),
        createHistogram: () => ({
          record: () => {
            throw new Error('histogram is broken');
          },
        }),
      }),
    } as unknown as MeterProvider;
    const producer = new ProducerTracer(transport, { meterProvider: instruments });
    const consumer = new ConsumerTracer(transport, { meterProvider: instruments });
    const incoming = sendThrough(producer, { queue: 'orders', headers: {} }, 'z', Date.now());
    expect(consumer.process(incoming, awaits, () => 'done', undefined, undefined)).toBe('done');
    expect(
      diagWarnings.messages.filter((m) => m.includes('could not record a messaging metric')),
    ).toHaveLength(1);
  });
});

describe('the destinationTemplate option', () => {
  it('gives metrics the template instead of per-tenant names, spans both, and asks once per name', async () => {
    const asked: string[] = [];
    const options: TracingOptions = {
      meterProvider: testMetrics.meterProvider,
      destinationTemplate: (name) => {
        asked.push(name);
        return name.startsWith('orders-') ? 'orders-{tenant}' : undefined;
      },
    };
    const producer = new ProducerTracer(transport, options);
    const consumer = new ConsumerTracer(transport, options);
    for (const tenant of ['acme', 'globex', 'acme', 'initech', 'acme']) {
      const incoming = sendThrough(producer, { queue: `orders-${tenant}`, headers: {} }, tenant);
      consumer.process(incoming, awaits, () => undefined, undefined, undefined);
    }
    sendThrough(producer, { queue: 'audit', headers: {} }, 'audit');
    // Once per distinct name and tracer (the producer's, the consumer's), never per message.
    expect(asked.sort()).toEqual([
      'audit',
      'orders-acme',
      'orders-acme',
      'orders-globex',
      'orders-globex',
      'orders-initech',
      'orders-initech',
    ]);
    const collected = await testMetrics.collect();
    const sent = metric(collected, 'messaging.client.sent.messages');
    const points = sumPoints(sent).map((point) => [point.attributes, point.value]);
    expect(points).toEqual([
      [
        {
          'messaging.system.name': 'memory',
          'messaging.destination.template': 'orders-{tenant}',
          'messaging.operation.name': 'send',
        },
        5,
      ],
      [
        {
          'messaging.system.name': 'memory',
          'messaging.destination.name': 'audit',
          'messaging.operation.name': 'send',
        },
        1,
      ],
    ]);
    const consumed = sumPoints(metric(collected, 'messaging.client.consumed.messages'));
    expect(consumed.map((point) => point.attributes['messaging.destination.template'])).toEqual([
      'orders-{tenant}',
    ]);
    for (const attributes of allAttributes(collected)) {
      const name = attributes['messaging.destination.name'];
      expect(name === undefined || name === 'audit').toBe(true);
    }
    const process = processSpans()[0];
    expect(process?.attributes).toMatchObject({
      'messaging.destination.name': 'orders-acme',
      'messaging.destination.template': 'orders-{tenant}',
    });
  });

  it('keeps the name when the hook throws, and says so once', async () => {
    const producer = new ProducerTracer(transport, {
      meterProvider: testMetrics.meterProvider,
      destinationTemplate: () => {
        throw new Error('no template');
      },
    });
    sendThrough(producer, { queue: 'orders', headers: {} }, 'a');
    sendThrough(producer, { queue: 'refunds', headers: {} }, 'b');
    const collected = await testMetrics.collect();
    const names = sumPoints(metric(collected, 'messaging.client.sent.messages')).map(
      (point) => point.attributes['messaging.destination.name'],
    );
    expect(names).toEqual(['orders', 'refunds']);
    expect(diagWarnings.messages).toEqual([
      'tracehop: destinationTemplate threw: Error: no template',
    ]);
  });
});

describe('queue time', () => {
  it('is clamped at 0 when the broker’s clock is ahead (skew), and absent when the message has no send time', () => {
    const consumer = new ConsumerTracer(transport);
    consumer.process(
      { queue: 'orders', headers: {}, id: 'future', sentAt: Date.now() + 60_000 },
      awaits,
      () => undefined,
      undefined,
      undefined,
    );
    consumer.process(
      { queue: 'orders', headers: {}, id: 'unknown' },
      awaits,
      () => undefined,
      undefined,
      undefined,
    );
    const [future, unknown] = processSpans();
    expect(future?.attributes[ATTR_MESSAGE_QUEUE_TIME]).toBe(0);
    expect(unknown?.attributes).not.toHaveProperty(ATTR_MESSAGE_QUEUE_TIME);
  });

  it('is in seconds, and ignores what is not a positive finite time', () => {
    expect(queueTimeSeconds(1_000, 3_500)).toBe(2.5);
    for (const nothing of [undefined, null, 0, -1, Number.NaN, Infinity, '1000']) {
      expect(queueTimeSeconds(nothing, 3_500)).toBeUndefined();
    }
  });

  it('a transport whose sentAt throws still gets its message processed, said once', () => {
    const consumer = new ConsumerTracer<Incoming>({
      ...transport,
      sentAt: () => {
        throw new Error('no clock');
      },
    });
    let handled = 0;
    for (let i = 0; i < 2; i++) {
      consumer.process(
        { queue: 'orders', headers: {}, id: `c${i}` },
        awaits,
        () => {
          handled++;
        },
        undefined,
        undefined,
      );
    }
    expect(handled).toBe(2);
    expect(diagWarnings.messages).toEqual([
      'tracehop: could not read when a memory message was sent: Error: no clock',
    ]);
  });
});

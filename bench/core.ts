import { randomBytes } from 'node:crypto';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  ValueType,
  type Attributes,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import type {
  MemoryMessage,
  OutgoingMemoryMessage,
} from '../examples/memory-queue/memory-queue.js';
import { memoryTransport } from '../examples/memory-queue/memory-transport.js';
import type { ConsumerLifecycle } from '../src/consumer-lifecycle.js';
import { ConsumerTracer } from '../src/consumer-tracer.js';
import { ProducerTracer } from '../src/producer-tracer.js';
import { MESSAGING_DURATION_BUCKETS } from '../src/semconv.js';
import { benchProvider } from './sdk.js';
import { median } from './stats.js';

/** ns per operation for each case, bare API calls beside tracehop's, medians of interleaved rounds. */
export interface CoreFigure {
  case: string;
  bareNs: number;
  tracehopNs: number;
}

type Headers = Record<string, string>;
const setter: TextMapSetter<Headers> = { set: (c, k, v) => void (c[k] = v) };
const getter: TextMapGetter<Headers> = { get: (c, k) => c[k], keys: (c) => Object.keys(c) };

/**
 * A reader that is never collected: recording costs what it costs with any reader (the
 * SDK aggregates on record), exporting is not measured.
 */
class UncollectedReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** `count` delivered messages, one in `1 / ratio` with a sampled parent, each its own trace. */
function deliveries(count: number, ratio: number): MemoryMessage[] {
  const every = Math.round(1 / ratio);
  return Array.from({ length: count }, (_, i) => {
    const flags = i % every === 0 ? '01' : '00';
    const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-${flags}`;
    return {
      queue: 'orders',
      body: '{}',
      headers: { user: 'x', traceparent },
      id: String(i),
      attempt: 1,
    };
  });
}

/**
 * What any instrumentation pays for the same process span and metrics, written inline with
 * the API: the span as in the process case, the consumed count and the process duration
 * with a prebuilt attribute set.
 */
function bareProcessWithMetrics(
  apiTracer: Tracer,
  incoming: MemoryMessage,
  instruments: {
    consumed: { add(v: number, a: Attributes): void };
    duration: { record(v: number, a: Attributes): void };
  },
  metricAttributes: Attributes,
): void {
  const started = performance.now();
  bareProcess(apiTracer, incoming);
  instruments.consumed.add(1, metricAttributes);
  instruments.duration.record((performance.now() - started) / 1000, metricAttributes);
}

function bareProcess(apiTracer: Tracer, incoming: MemoryMessage): void {
  const ctx = propagation.extract(ROOT_CONTEXT, incoming.headers, getter);
  const link = trace.getSpanContext(ctx);
  const span = apiTracer.startSpan(
    'process orders',
    {
      kind: SpanKind.CONSUMER,
      links: link ? [{ context: link }] : [],
      attributes: {
        'messaging.system.name': 'memory',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': incoming.queue,
        'messaging.message.id': incoming.id,
      },
    },
    ctx,
  );
  context.with(trace.setSpan(ctx, span), () => undefined);
  span.end();
}

function timeNs(iterations: number, fn: (i: number) => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  return Number(process.hrtime.bigint() - start) / iterations;
}

/** Runs the core benchmark: inject+extract and a process span, bare API vs tracehop. */
export function runCoreBench(iterations = 100_000, rounds = 7): CoreFigure[] {
  const w3c = new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(w3c);
  const { provider } = benchProvider();
  trace.setGlobalTracerProvider(provider);
  const apiTracer = provider.getTracer('bench');
  const messaging = new ProducerTracer(memoryTransport, { tracerProvider: provider });
  const consumer = new ConsumerTracer(memoryTransport, { tracerProvider: provider });
  const meterProvider = new MeterProvider({ readers: [new UncollectedReader()] });
  const metered = new ConsumerTracer(memoryTransport, { tracerProvider: provider, meterProvider });
  const meter = meterProvider.getMeter('bench');
  const bareInstruments = {
    consumed: meter.createCounter('messaging.client.consumed.messages', {
      unit: '{message}',
      valueType: ValueType.INT,
    }),
    duration: meter.createHistogram('messaging.process.duration', {
      unit: 's',
      advice: { explicitBucketBoundaries: [...MESSAGING_DURATION_BUCKETS] },
    }),
  };
  const bareMetricAttributes: Attributes = Object.freeze({
    'messaging.system.name': 'memory',
    'messaging.destination.name': 'orders',
    'messaging.operation.name': 'process',
  });
  const lifecycle: ConsumerLifecycle<MemoryMessage> = { callerAwaits: true };
  const handler = (): undefined => undefined;

  const producer = apiTracer.startSpan('POST /orders');
  const parent: Context = trace.setSpan(ROOT_CONTEXT, producer);
  const outgoing: OutgoingMemoryMessage = { queue: 'orders', body: '{}', headers: { user: 'x' } };
  const incoming: MemoryMessage = {
    ...messaging.inject(outgoing, parent),
    id: '1',
    attempt: 1,
  };
  // Production sampling: ParentBased, and one parent in a hundred sampled.
  const onePercent = deliveries(1000, 0.01);
  const atOnePercent = (i: number) => onePercent[i % onePercent.length] as MemoryMessage;

  const cases: Record<string, { bare: () => number; tracehop: () => number }> = {
    'inject + extract': {
      bare: () =>
        timeNs(iterations, () => {
          const headers: Headers = { ...outgoing.headers };
          propagation.inject(parent, headers, setter);
          propagation.extract(ROOT_CONTEXT, headers, getter);
        }),
      tracehop: () =>
        timeNs(iterations, () => {
          const traced = messaging.inject(outgoing, parent);
          consumer.extract(traced as MemoryMessage, ROOT_CONTEXT);
        }),
    },
    'process span (start, run handler in context, end)': {
      bare: () => timeNs(iterations, () => bareProcess(apiTracer, incoming)),
      tracehop: () =>
        timeNs(iterations, () => {
          consumer.process(incoming, lifecycle, handler, undefined, undefined);
        }),
    },
    'process span + metrics (SDK MeterProvider)': {
      bare: () =>
        timeNs(iterations, () =>
          bareProcessWithMetrics(apiTracer, incoming, bareInstruments, bareMetricAttributes),
        ),
      tracehop: () =>
        timeNs(iterations, () => {
          metered.process(incoming, lifecycle, handler, undefined, undefined);
        }),
    },
    'process span, 1% sampled': {
      bare: () => timeNs(iterations, (i) => bareProcess(apiTracer, atOnePercent(i))),
      tracehop: () =>
        timeNs(iterations, (i) => {
          consumer.process(atOnePercent(i), lifecycle, handler, undefined, undefined);
        }),
    },
    'process span + metrics (SDK MeterProvider), 1% sampled': {
      bare: () =>
        timeNs(iterations, (i) =>
          bareProcessWithMetrics(apiTracer, atOnePercent(i), bareInstruments, bareMetricAttributes),
        ),
      tracehop: () =>
        timeNs(iterations, (i) => {
          metered.process(atOnePercent(i), lifecycle, handler, undefined, undefined);
        }),
    },
  };

  const figures: CoreFigure[] = [];
  for (const [name, variants] of Object.entries(cases)) {
    variants.bare();
    variants.tracehop();
    const bare: number[] = [];
    const ours: number[] = [];
    for (let round = 0; round < rounds; round++) {
      bare.push(variants.bare());
      ours.push(variants.tracehop());
    }
    figures.push({ case: name, bareNs: median(bare), tracehopNs: median(ours) });
  }
  producer.end();
  void meterProvider.shutdown();
  return figures;
}

/** The core figures as a markdown table. */
export function coreTable(figures: readonly CoreFigure[]): string {
  const lines = [
    '### Core (real SDK, batch processor, discarding exporter; ns per message)',
    '',
    '| case | bare @opentelemetry/api | tracehop | × bare |',
    '|---|---:|---:|---:|',
  ];
  for (const f of figures) {
    lines.push(
      `| ${f.case} | ${Math.round(f.bareNs)} | ${Math.round(f.tracehopNs)} | ${(f.tracehopNs / f.bareNs).toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}

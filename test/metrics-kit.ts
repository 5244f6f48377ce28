/**
 * Messaging metrics in tests: an SDK `MeterProvider` whose reader collects when asked (no
 * export timer, so nothing to wait for), and readers of what it collected.
 */
import type { Attributes } from '@opentelemetry/api';
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { expect } from 'vitest';

/** A reader that only collects when a test calls `collect()`. */
class OnDemandReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** An SDK meter provider for one test, and what it recorded. */
export interface TestMetrics {
  /** Pass it as the `meterProvider` option. */
  readonly meterProvider: MeterProvider;
  /** Everything recorded so far (cumulative), by metric name. */
  collect(): Promise<Map<string, MetricData>>;
  shutdown(): Promise<void>;
}

export function setupTestMetrics(): TestMetrics {
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    meterProvider,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      expect(errors).toEqual([]);
      const byName = new Map<string, MetricData>();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
      }
      return byName;
    },
    shutdown: () => meterProvider.shutdown(),
  };
}

/** The metric `name`; fails, naming what there is, when it was not recorded. */
export function metric(collected: Map<string, MetricData>, name: string): MetricData {
  const found = collected.get(name);
  expect(found, `metric ${name} among: ${[...collected.keys()].join(', ')}`).toBeDefined();
  return found as MetricData;
}

/** A counter's data points. */
export function sumPoints(data: MetricData): DataPoint<number>[] {
  expect(data.dataPointType).toBe(DataPointType.SUM);
  return data.dataPoints as DataPoint<number>[];
}

/** A histogram's data points. */
export function histogramPoints(data: MetricData): DataPoint<Histogram>[] {
  expect(data.dataPointType).toBe(DataPointType.HISTOGRAM);
  return data.dataPoints as DataPoint<Histogram>[];
}

/** The total of a counter over the data points whose attributes `match`. */
export function total(data: MetricData, match: (attributes: Attributes) => boolean = () => true) {
  return sumPoints(data)
    .filter((point) => match(point.attributes))
    .reduce((sum, point) => sum + point.value, 0);
}

/** How many values a histogram holds over the data points whose attributes `match`. */
export function count(data: MetricData, match: (attributes: Attributes) => boolean = () => true) {
  return histogramPoints(data)
    .filter((point) => match(point.attributes))
    .reduce((sum, point) => sum + point.value.count, 0);
}

/** Every data point's attributes, of every metric. */
export function allAttributes(collected: Map<string, MetricData>): Attributes[] {
  const all: Attributes[] = [];
  for (const data of collected.values()) {
    for (const point of data.dataPoints) all.push(point.attributes);
  }
  return all;
}

/** What one broker's round trip of `messages` messages must have recorded. */
export interface ExpectedMetrics {
  readonly messages: number;
  /** The one attribute set of `messaging.client.sent.messages`. */
  readonly sent: Attributes;
  /** The attribute set of the producer's `messaging.client.operation.duration` (per message). */
  readonly sendDuration: Attributes;
  /** The one attribute set of `messaging.client.consumed.messages`. */
  readonly consumed: Attributes;
  /** The one attribute set of `messaging.process.duration` and the queue-time histogram. */
  readonly processed: Attributes;
}

const CONVENTION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/**
 * Checks the four semantic-convention metrics and the queue-time histogram after a round
 * trip where every message succeeded: names, units, attribute sets (exactly), counts, and
 * that no data point carries a message id or an `error.type`.
 */
export function expectMessagingMetrics(
  collected: Map<string, MetricData>,
  expected: ExpectedMetrics,
): void {
  const n = expected.messages;
  const sent = metric(collected, 'messaging.client.sent.messages');
  expect(sent.descriptor.unit).toBe('{message}');
  expect(sumPoints(sent).map((p) => [p.attributes, p.value])).toEqual([[expected.sent, n]]);

  const consumed = metric(collected, 'messaging.client.consumed.messages');
  expect(consumed.descriptor.unit).toBe('{message}');
  expect(sumPoints(consumed).map((p) => [p.attributes, p.value])).toEqual([[expected.consumed, n]]);

  const operations = metric(collected, 'messaging.client.operation.duration');
  expect(operations.descriptor.unit).toBe('s');
  const sends = histogramPoints(operations).filter((p) =>
    sameAttributes(p.attributes, expected.sendDuration),
  );
  expect(sends.map((p) => p.value.count)).toEqual([n]);
  expect(sends[0]?.value.buckets.boundaries).toEqual(CONVENTION_BUCKETS);
  expect(sends[0]?.value.min).toBeGreaterThanOrEqual(0);

  for (const name of ['messaging.process.duration', 'tracehop.messaging.queue_time']) {
    const histogram = metric(collected, name);
    expect(histogram.descriptor.unit, name).toBe('s');
    expect(
      histogramPoints(histogram).map((p) => [p.attributes, p.value.count]),
      name,
    ).toEqual([[expected.processed, n]]);
    expect(histogramPoints(histogram)[0]?.value.min, name).toBeGreaterThanOrEqual(0);
  }
  expect(
    histogramPoints(metric(collected, 'messaging.process.duration'))[0]?.value.buckets.boundaries,
  ).toEqual(CONVENTION_BUCKETS);

  for (const attributes of allAttributes(collected)) {
    expect(attributes).not.toHaveProperty('messaging.message.id');
    expect(attributes).not.toHaveProperty('error.type');
    expect(attributes['messaging.system.name']).toBe(expected.sent['messaging.system.name']);
  }
}

function sameAttributes(a: Attributes, b: Attributes): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** The attributes among `keys` that `from` has (the server's address and port of a span…). */
export function pick(from: Attributes, keys: readonly string[]): Attributes {
  const picked: Attributes = {};
  for (const key of keys) if (from[key] !== undefined) picked[key] = from[key];
  return picked;
}

/** Whether a data point's attributes have `operation` as `messaging.operation.name`. */
export const operation =
  (name: string) =>
  (attributes: Attributes): boolean =>
    attributes['messaging.operation.name'] === name;

/**
 * Every `process` span has `tracehop.message.queue_time`: a number of seconds, at least 0,
 * at most `maxSeconds` (the wall time the test measured around the message's trip).
 */
export function expectQueueTimes(
  processSpans: readonly ReadableSpan[],
  messages: number,
  maxSeconds: number,
): void {
  expect(processSpans).toHaveLength(messages);
  for (const span of processSpans) {
    const waited = span.attributes['tracehop.message.queue_time'];
    expect(typeof waited, `${span.name}: ${JSON.stringify(span.attributes)}`).toBe('number');
    expect(waited).toBeGreaterThanOrEqual(0);
    expect(waited).toBeLessThanOrEqual(maxSeconds);
  }
}

/**
 * What the W3C conformance runs on the real brokers share (test/w3c/cases.json): a tracer
 * provider that records every span whatever the flags say (the suites mostly send `-00`,
 * and the outcome is read from the `process` span), the capture a handler makes of the
 * context it runs in, and the checks of the outcomes.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { expect } from 'vitest';
import {
  expectOutcome,
  formatTally,
  loadCases,
  tallySuites,
  tracestateMembers,
  type BaggageExpectation,
  type Broker,
  type Outcome,
  type W3CCase,
} from '../w3c/cases.js';

const CASE_ATTRIBUTE = 'test.w3c.case';

export interface ConformanceRun {
  /** Pass to the decorator: every span recorded, the `process` span's parent readable. */
  readonly tracerProvider: BasicTracerProvider;
  /** The cases this broker can carry. */
  readonly cases: readonly W3CCase[];
  /** Call in the handler, with the case id the message carries (its body). */
  capture(id: string): void;
  /** Resolves once every case's `process` span has ended. */
  finished(): Promise<void>;
  /**
   * Asserts every case's outcome and that the suites' assertions fail only where a deviation
   * is documented; prints the tally. `startedAt` is `performance.now()` at the first send.
   */
  check(startedAt: number): Promise<void>;
}

/** The ids of the cases `broker` cannot carry, as the case file lists them. */
export function notApplicableIds(broker: Broker): string[] {
  return loadCases()
    .cases.filter((c) => c.notApplicable?.[broker] !== undefined)
    .map((c) => c.id);
}

/** The not-applicable cases and their reasons, for the test output. */
export function describeNotApplicable(broker: Broker): string {
  const lines = loadCases()
    .cases.filter((c) => c.notApplicable?.[broker] !== undefined)
    .map((c) => `  ${c.id}: ${c.notApplicable?.[broker] ?? ''}`);
  return [`not applicable on ${broker} (${String(lines.length)}):`, ...lines].join('\n');
}

export function conformanceRun(broker: Broker): ConformanceRun {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const all = loadCases().cases;
  const cases = all.filter((c) => c.notApplicable?.[broker] === undefined);
  const seen = new Map<string, BaggageExpectation[]>();

  const processSpans = (): Map<string, ReadableSpan> => {
    const spans = new Map<string, ReadableSpan>();
    for (const span of exporter.getFinishedSpans()) {
      const id = span.attributes[CASE_ATTRIBUTE];
      if (typeof id === 'string') spans.set(id, span);
    }
    return spans;
  };

  return {
    tracerProvider,
    cases,
    capture(id) {
      trace.getActiveSpan()?.setAttribute(CASE_ATTRIBUTE, id);
      const entries = propagation.getBaggage(context.active())?.getAllEntries() ?? [];
      seen.set(
        id,
        entries.map(([key, entry]) =>
          entry.metadata === undefined
            ? { key, value: entry.value }
            : { key, value: entry.value, metadata: entry.metadata.toString() },
        ),
      );
    },
    async finished() {
      const deadline = Date.now() + 30_000;
      while (processSpans().size < cases.length) {
        if (Date.now() > deadline) {
          const missing = cases.filter((c) => !processSpans().has(c.id)).map((c) => c.id);
          throw new Error(
            `no process span for ${String(missing.length)} cases: ${missing.join(', ')}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async check(startedAt) {
      await this.finished();
      const ms = performance.now() - startedAt;
      const spans = processSpans();
      const outcomes = new Map<string, Outcome>();
      const mismatches: string[] = [];
      for (const c of cases) {
        const span = spans.get(c.id) as ReadableSpan;
        const own = span.spanContext();
        const outcome: Outcome = {
          traceId: own.traceId,
          spanId: own.spanId,
          parentId: span.parentSpanContext?.spanId,
          parentTraceId: span.parentSpanContext?.traceId,
          parentFlags: span.parentSpanContext?.traceFlags,
          flags: own.traceFlags,
          tracestate: tracestateMembers(own.traceState?.serialize()),
          baggage: seen.get(c.id) ?? [],
        };
        outcomes.set(c.id, outcome);
        try {
          expectOutcome(c, outcome);
        } catch (error) {
          mismatches.push(`${c.id}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      expect(mismatches, `outcomes on ${broker}`).toEqual([]);
      console.log(formatTally(broker, tallySuites(all, outcomes, broker), ms));
      console.log(describeNotApplicable(broker));
      await tracerProvider.shutdown();
    },
  };
}

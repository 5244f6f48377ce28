import { context as contextApi, propagation, trace, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type Sampler,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { renderTraceTree } from './trace-tree.js';

/** Options of {@link setupTestTracing}. */
export interface TestTracingOptions {
  /**
   * Register the provider, an AsyncLocalStorage context manager and the W3C
   * propagators globally, as an SDK would.
   * @defaultValue true
   */
  readonly register?: boolean;
  /**
   * The provider's sampler, to test what happens to spans that are not sampled.
   * @defaultValue the SDK's default: ParentBased(AlwaysOn)
   */
  readonly sampler?: Sampler;
}

/** An in-memory tracing setup for tests. */
export interface TestTracing {
  readonly provider: BasicTracerProvider;
  readonly exporter: InMemorySpanExporter;
  /** Ended spans, in the order they ended. */
  spans(): ReadableSpan[];
  /** Spans started and not yet ended: every test should end with none. */
  openSpans(): Span[];
  /** Resolves with the ended spans once `predicate` holds for them; rejects after `timeoutMs`. */
  waitForSpans(
    predicate: (spans: ReadableSpan[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReadableSpan[]>;
  /** The ended spans as an indented tree (see {@link renderTraceTree}). */
  tree(): string;
  /** Forgets the ended spans. */
  reset(): void;
  /** Shuts the provider down and unregisters the globals it registered. */
  shutdown(): Promise<void>;
}

interface Waiter {
  predicate: (spans: ReadableSpan[]) => boolean;
  resolve: (spans: ReadableSpan[]) => void;
}

/**
 * One call to trace into memory: a `BasicTracerProvider` with a simple processor and
 * an in-memory exporter, plus a tracker of open spans and an event-driven wait.
 */
export function setupTestTracing(options: TestTracingOptions = {}): TestTracing {
  const exporter = new InMemorySpanExporter();
  const open = new Set<Span>();
  const waiters = new Set<Waiter>();
  const notify = () => {
    if (waiters.size === 0) return;
    const finished = exporter.getFinishedSpans();
    for (const waiter of waiters) {
      if (waiter.predicate(finished)) {
        waiters.delete(waiter);
        waiter.resolve(finished);
      }
    }
  };
  const tracker: SpanProcessor = {
    onStart: (span: Span, _parent: Context) => void open.add(span),
    onEnd: (span: ReadableSpan) => {
      open.delete(span as Span);
      queueMicrotask(notify);
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const provider = new BasicTracerProvider({
    ...(options.sampler === undefined ? {} : { sampler: options.sampler }),
    spanProcessors: [new SimpleSpanProcessor(exporter), tracker],
  });
  const register = options.register ?? true;
  if (register) {
    trace.disable();
    contextApi.disable();
    propagation.disable();
    trace.setGlobalTracerProvider(provider);
    contextApi.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(
      new CompositePropagator({
        propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
      }),
    );
  }
  return {
    provider,
    exporter,
    spans: () => exporter.getFinishedSpans(),
    openSpans: () => [...open],
    waitForSpans(predicate, timeoutMs = 20_000) {
      const now = exporter.getFinishedSpans();
      if (predicate(now)) return Promise.resolve(now);
      return new Promise<ReadableSpan[]>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(
              `spans did not arrive within ${timeoutMs} ms; have:\n${renderTraceTree(exporter.getFinishedSpans())}`,
            ),
          );
        }, timeoutMs);
        const waiter: Waiter = {
          predicate,
          resolve: (spans) => {
            clearTimeout(timer);
            resolve(spans);
          },
        };
        waiters.add(waiter);
      });
    },
    tree: () => renderTraceTree(exporter.getFinishedSpans()),
    reset: () => exporter.reset(),
    async shutdown() {
      await provider.shutdown();
      if (register) {
        trace.disable();
        contextApi.disable();
        propagation.disable();
      }
    },
  };
}

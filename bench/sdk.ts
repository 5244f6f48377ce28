import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

/** An exporter that drops everything: the benchmark measures producing spans, not shipping them. */
export class DiscardingExporter implements SpanExporter {
  /** How many spans reached the exporter. */
  exported = 0;
  /** The spans themselves, only when asked to keep them (to describe them, never while timing). */
  readonly kept: ReadableSpan[] | undefined;

  constructor(keep = false) {
    this.kept = keep ? [] : undefined;
  }

  export(spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    this.exported += spans.length;
    if (this.kept !== undefined) for (const span of spans) this.kept.push(span);
    done({ code: 0 });
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A sampler setting as the workers get it in `BENCH_SAMPLER`: `always`, or a ratio such as `0.01`. */
export type SamplerSetting = string;

/**
 * The sampler of a setting: `always` is AlwaysOn; a ratio `r` is `ParentBased(TraceIdRatioBased(r))`,
 * the usual production setting (a root span is sampled with probability `r`, every other span
 * follows its parent's flag).
 *
 * @throws Error for anything else
 */
export function samplerOf(setting: SamplerSetting): Sampler {
  if (setting === 'always') return new AlwaysOnSampler();
  const ratio = Number(setting);
  if (!(ratio > 0 && ratio <= 1)) {
    throw new Error(`BENCH_SAMPLER must be 'always' or a ratio in (0, 1], not '${setting}'`);
  }
  return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
}

/** How a sampler setting is shown in the tables: `always on`, `1%`. */
export function samplerLabel(setting: SamplerSetting): string {
  if (setting === 'always') return 'always on';
  return `${+(Number(setting) * 100).toPrecision(3)}%`;
}

/** The sampler setting of this process: `BENCH_SAMPLER`, `always` when unset. */
export function samplerSetting(): SamplerSetting {
  return process.env['BENCH_SAMPLER'] ?? 'always';
}

/**
 * The real SDK as a service would run it: the given sampler (AlwaysOn by default), the batch
 * processor, an exporter that discards (and keeps the spans when `keep`, to describe them).
 */
export function benchProvider(
  sampler: Sampler = new AlwaysOnSampler(),
  keep = false,
): { provider: BasicTracerProvider; exporter: DiscardingExporter } {
  const exporter = new DiscardingExporter(keep);
  const provider = new BasicTracerProvider({
    sampler,
    spanProcessors: [
      new BatchSpanProcessor(exporter, { maxQueueSize: 65_536, maxExportBatchSize: 4096 }),
    ],
  });
  return { provider, exporter };
}

/**
 * Registers `provider` globally with what an SDK setup also registers: the AsyncLocalStorage
 * context manager and the W3C trace-context and baggage propagators.
 */
export function installSdk(provider: BasicTracerProvider): void {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  );
}

import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

/** An exporter that drops everything: the benchmark measures producing spans, not shipping them. */
export class DiscardingExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    this.exported += spans.length;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The real SDK as a service would run it: every span sampled, batch processor. */
export function benchProvider(): { provider: BasicTracerProvider; exporter: DiscardingExporter } {
  const exporter = new DiscardingExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor(exporter, { maxQueueSize: 65_536, maxExportBatchSize: 4096 }),
    ],
  });
  return { provider, exporter };
}

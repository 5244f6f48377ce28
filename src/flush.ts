import { ProxyTracerProvider, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import { reportOnce } from './report.js';

interface Flushable {
  forceFlush(): Promise<void>;
}

function isFlushable(value: unknown): value is Flushable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<Flushable>).forceFlush === 'function'
  );
}

/**
 * Exports what a tracer or meter provider still holds, waiting at most `timeoutMs`.
 * Providers without `forceFlush` (the API's no-op ones) are done at once. Never throws: a
 * failed flush is reported once through `diag`.
 */
export async function flushProvider(
  provider: TracerProvider | MeterProvider,
  timeoutMs: number,
): Promise<void> {
  const target = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  if (!isFlushable(target) || timeoutMs <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([
      target.forceFlush().then(() => 'flushed' as const),
      timeout,
    ]);
    if (outcome === 'timeout') {
      reportOnce(
        'flush-timeout',
        `flushing spans took longer than ${timeoutMs} ms; gave up waiting`,
      );
    }
  } catch (error) {
    reportOnce('flush', `flushing spans failed: ${String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

import { SpanStatusCode, type Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from './semconv.js';

/** The `error.type` of a thrown value: its class name, or `_OTHER` for non-errors. */
export function errorType(error: unknown): string {
  if (error instanceof Error) {
    const ctor = (error.constructor as { name?: unknown } | undefined)?.name;
    if (typeof ctor === 'string' && ctor !== '' && ctor !== 'Error') return ctor;
    return error.name || 'Error';
  }
  return '_OTHER';
}

/** Records a failure on a span: `error.type`, an exception event and status ERROR. */
export function recordError(span: Span, error: unknown): void {
  span.setAttribute(ATTR_ERROR_TYPE, errorType(error));
  if (error instanceof Error || typeof error === 'string') span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/** True for promises and other thenables. */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * What the `sdk-floor` variants share: their tracer and the setter that writes trace
 * headers into a plain object.
 *
 * @packageDocumentation
 */
import { trace, type TextMapSetter, type Tracer } from '@opentelemetry/api';

/** Writes a header into a plain string record. */
export const floorSetter: TextMapSetter<Record<string, string>> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

/** The floor's tracer, from the registered provider (the real one, not a proxy per call). */
export function floorTracer(): Tracer {
  return trace.getTracerProvider().getTracer('tracehop-bench-sdk-floor');
}

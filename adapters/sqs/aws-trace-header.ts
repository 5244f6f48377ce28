import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import { fromTraceparent } from '../../src/span-context-text.js';

/**
 * X-Ray's trace header, which SQS carries in the `AWSTraceHeader` message system
 * attribute: `Root=1-{8 hex}-{24 hex};Parent={16 hex};Sampled={0|1}`. The 8 + 24 hex
 * digits of `Root` are the 32 of a W3C trace id, `Parent` is the span id and `Sampled`
 * the sampled flag, so a span context goes through it and back unchanged.
 *
 * @packageDocumentation
 */

/** The name of the SQS message system attribute that carries the X-Ray header. */
export const AWS_TRACE_HEADER = 'AWSTraceHeader';

/** Longer than any X-Ray header tracehop reads (X-Ray allows a few optional fields). */
const MAX_HEADER_LENGTH = 256;

/**
 * The X-Ray trace header of a span context:
 * `Root=1-{trace id 0..8}-{trace id 8..32};Parent={span id};Sampled={1|0}`.
 */
export function toAwsTraceHeader(spanContext: SpanContext): string {
  const traceId = spanContext.traceId;
  const sampled = spanContext.traceFlags & TraceFlags.SAMPLED ? '1' : '0';
  return `Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)};Parent=${spanContext.spanId};Sampled=${sampled}`;
}

/**
 * The W3C `traceparent` an X-Ray trace header stands for, or `undefined` when it is not
 * one (no `Root` or `Parent`, wrong lengths, not a string). `Sampled=1` maps to the
 * sampled flag; `Sampled=0`, `Sampled=?` (decision deferred) and a missing `Sampled` to
 * not sampled, as OpenTelemetry's X-Ray propagators do. Hex digits are not checked here:
 * the W3C propagator that reads the result rejects anything but lowercase hex.
 */
export function awsTraceHeaderToTraceparent(header: unknown): string | undefined {
  if (typeof header !== 'string' || header.length > MAX_HEADER_LENGTH) return undefined;
  const root = field(header, 'Root');
  const parent = field(header, 'Parent');
  if (root === undefined || parent === undefined || parent.length !== 16) return undefined;
  // 1-{8 hex}-{24 hex}
  if (root.length !== 35 || root.charCodeAt(0) !== 0x31 || root.charCodeAt(1) !== 0x2d) {
    return undefined;
  }
  if (root.charCodeAt(10) !== 0x2d) return undefined;
  const flags = field(header, 'Sampled') === '1' ? '01' : '00';
  return `00-${root.slice(2, 10)}${root.slice(11)}-${parent}-${flags}`;
}

/** The remote span context of an X-Ray trace header, or `undefined` when it is not one. */
export function fromAwsTraceHeader(header: unknown): SpanContext | undefined {
  const traceparent = awsTraceHeaderToTraceparent(header);
  return traceparent === undefined ? undefined : fromTraceparent(traceparent);
}

/** The value of `key=` among the `;`-separated fields of `header`, without allocating a list. */
function field(header: string, key: string): string | undefined {
  let start = 0;
  const length = header.length;
  while (start < length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = length;
    while (start < end && header.charCodeAt(start) === 0x20) start++;
    if (
      header.charCodeAt(start + key.length) === 0x3d &&
      start + key.length < end &&
      header.startsWith(key, start)
    ) {
      return header.slice(start + key.length + 1, end).trim();
    }
    start = end + 1;
  }
  return undefined;
}

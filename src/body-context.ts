import { context as contextApi, type Context } from '@opentelemetry/api';
import { MAX_CONTEXT_BODY_BYTES } from './context-source.js';
import { injectTraceFields, TRACEPARENT, type TraceFields } from './propagation.js';
import { reportOnce } from './report.js';

const CLOSE_BRACE = 0x7d;
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * For the transition from a hand-rolled producer: returns a copy of a JSON object body
 * with the trace context also in a top-level field, `{ …, "<field>": { "traceparent",
 * "tracestate"?, "baggage"? } }` — the shape `fromBodyField(field)` reads — so consumers
 * not yet switched to tracehop keep continuing the trace while the standard headers carry
 * it for those that are. Never by default: call it where the body is built.
 *
 * ```ts
 * channel.sendToQueue('orders', toBodyField(Buffer.from(JSON.stringify(order)), 'traceContext'));
 * ```
 *
 * - The caller's string or buffer is never modified: a new one is returned. The body's own
 *   bytes are kept exactly (the field is inserted before the closing `}`, nothing is
 *   re-serialized), so formatting and large numbers survive.
 * - The context is `ctx`'s (the active one by default): the request's span, around the
 *   send. Consumers reading the body get it as parent; consumers reading the headers get
 *   tracehop's `send` span, a child of it — one trace either way.
 * - Only for a JSON object body of at most {@link MAX_CONTEXT_BODY_BYTES}: anything else
 *   (not JSON, not an object, not UTF-8, too large, the field already there — a body
 *   forwarded as it was received) is returned as it is, said once through `diag`. Without
 *   a span in `ctx` the body is returned as it is. Never throws.
 *
 * @param field - a top-level key (no dots: it is not a path)
 */
export function toBodyField(body: string, field: string, ctx?: Context): string;
export function toBodyField(body: Buffer, field: string, ctx?: Context): Buffer;
export function toBodyField(body: Uint8Array, field: string, ctx?: Context): Uint8Array;
export function toBodyField(
  body: string | Uint8Array,
  field: string,
  ctx: Context = contextApi.active(),
): string | Uint8Array {
  try {
    if (typeof field !== 'string' || field === '' || field.includes('.')) {
      reportOnce(
        'body-field:name',
        `toBodyField(body, field): field must be one top-level key without dots, got ${JSON.stringify(field)}; the body was sent as it was`,
      );
      return body;
    }
    const fields = injectTraceFields(ctx);
    if (fields[TRACEPARENT] === undefined) return body;
    return addFieldToJsonBody(body, field, fields) ?? body;
  } catch (error) {
    reportOnce('body-field:error', `could not add a trace context to a body: ${String(error)}`);
    return body;
  }
}

/**
 * `body` with `"field": fields` inserted before its closing `}`, or `undefined` (said once)
 * when `body` is not a JSON object within the bound or already has `field`.
 */
function addFieldToJsonBody(
  body: string | Uint8Array,
  field: string,
  fields: TraceFields,
): string | Uint8Array | undefined {
  let text: string;
  if (typeof body === 'string') {
    if (body.length > MAX_CONTEXT_BODY_BYTES)
      return skip('too-large', `is over ${MAX_CONTEXT_BODY_BYTES} bytes`);
    text = body;
  } else if (body instanceof Uint8Array) {
    if (body.byteLength > MAX_CONTEXT_BODY_BYTES)
      return skip('too-large', `is over ${MAX_CONTEXT_BODY_BYTES} bytes`);
    try {
      text = strictDecoder.decode(body);
    } catch {
      return skip('not-json', 'is not UTF-8 text');
    }
  } else {
    return skip('not-json', 'is neither a string nor bytes');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return skip('not-json', 'is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return skip('not-json', 'is JSON but not an object');
  }
  if (Object.hasOwn(parsed, field)) {
    return skip('present', `already has a '${field}' field (left as it was)`);
  }
  const empty = Object.keys(parsed).length === 0;
  const member = `${empty ? '' : ','}${JSON.stringify(field)}:${JSON.stringify(fields)}`;
  if (typeof body === 'string') {
    const at = body.lastIndexOf('}');
    return `${body.slice(0, at)}${member}${body.slice(at)}`;
  }
  const at = body.lastIndexOf(CLOSE_BRACE);
  return Buffer.concat([body.subarray(0, at), encoder.encode(member), body.subarray(at)]);
}

function skip(kind: string, what: string): undefined {
  reportOnce(
    `body-field:${kind}`,
    `toBodyField: a message body ${what}: it was sent without the trace context in its body (the headers still carry it)`,
  );
  return undefined;
}

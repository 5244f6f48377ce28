import { reportOnce } from './report.js';

/**
 * Header and attribute names in any case: `TraceParent`, `TRACESTATE`, `Baggage`, as
 * hand-rolled producers, other frameworks and HTTP headers copied into a message write
 * them. W3C trace context names are lower case, but HTTP field names are case-insensitive,
 * and what crossed HTTP keeps whatever case its writer chose.
 *
 * @packageDocumentation
 */

/**
 * The most names a header map may have for the case-insensitive search to run; a larger map
 * answers for its exact names only. Above every broker's own limit on what a message can
 * carry (SQS and SNS: 10 message attributes, Pub/Sub: 100 attributes), so only AMQP tables,
 * which have no such limit, can exceed it: a producer that writes more than 128 headers is
 * not one whose trace header case needs forgiving, and the bound keeps a hostile map from
 * costing more than 128 name comparisons per lookup.
 */
export const MAX_HEADER_NAMES_SEARCHED = 128;

/**
 * Maps found to have more than {@link MAX_HEADER_NAMES_SEARCHED} names. V8 gathers all of an
 * object's keys before the first iteration of `for…in`, whenever it stops, so a map of a
 * million names costs a million however early the search gives up: remembering the map
 * makes that happen once per map (per message), not once per header looked up.
 */
const oversized = new WeakSet<object>();
/** Whether {@link oversized} ever held a map: until then, a miss does not pay for asking it. */
let sawOversized = false;

/**
 * A header or attribute of `headers`: the value under exactly `key` when there is one (one
 * property read: the cost of a plain lookup), and only when that is `undefined`, the value
 * of the first own name that equals `key` ignoring ASCII case, in the map's enumeration
 * order. So of `traceparent` and `TraceParent`, the exact `traceparent` wins.
 *
 * Never throws: `headers` that is not an object (or is an array or binary data, whose names
 * are indices) has no headers; a getter, proxy trap or anything else that throws is reported
 * once through `diag`, and the header is absent. Maps of more than
 * {@link MAX_HEADER_NAMES_SEARCHED} names are searched for the exact name only. Only ASCII
 * letters fold (`K` matches `k`, the Kelvin sign does not): header names are ASCII tokens.
 *
 * @param key - the name to look for: a propagator's field name (`traceparent`…)
 */
export function readHeaderIgnoringCase(
  headers: Readonly<Record<string, unknown>> | undefined | null,
  key: string,
): unknown {
  if (typeof headers !== 'object' || headers === null) return undefined;
  try {
    const exact = headers[key];
    return exact !== undefined ? exact : searchIgnoringCase(headers, key);
  } catch (error) {
    return unreadable(key, error);
  }
}

// Out of line, like the search: keeps the function that every lookup runs small.
function unreadable(key: string, error: unknown): undefined {
  reportOnce(`read:${key}`, `could not read the '${key}' header: ${String(error)}`);
  return undefined;
}

/**
 * Whether `headers` has `key` in any case (see {@link readHeaderIgnoringCase}): what SQS's
 * context sources ask to decide which one holds the trace context.
 */
export function hasHeaderIgnoringCase(
  headers: Readonly<Record<string, unknown>> | undefined | null,
  key: string,
): boolean {
  return readHeaderIgnoringCase(headers, key) !== undefined;
}

/** Whether `name` equals `key` when ASCII letters are folded to lower case. */
export function equalsIgnoringAsciiCase(name: string, key: string): boolean {
  const length = key.length;
  if (name.length !== length) return false;
  for (let i = 0; i < length; i++) {
    const a = name.charCodeAt(i);
    const b = key.charCodeAt(i);
    if (a !== b && foldAscii(a) !== foldAscii(b)) return false;
  }
  return true;
}

// Kept out of readHeaderIgnoringCase so that function stays small enough to inline: the
// exact read is what nearly every lookup of a present header costs.
function searchIgnoringCase(headers: Readonly<Record<string, unknown>>, key: string): unknown {
  if (
    Array.isArray(headers) ||
    ArrayBuffer.isView(headers) ||
    (sawOversized && oversized.has(headers))
  ) {
    return undefined;
  }
  let found: unknown = undefined;
  let names = 0;
  for (const name in headers) {
    if (++names > MAX_HEADER_NAMES_SEARCHED) {
      // Decided on the whole map's size, so every key gets the same answer from it.
      oversized.add(headers);
      sawOversized = true;
      return undefined;
    }
    if (found !== undefined || !equalsIgnoringAsciiCase(name, key)) continue;
    if (!Object.hasOwn(headers, name)) continue;
    found = headers[name];
  }
  return found;
}

function foldAscii(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code | 0x20 : code;
}

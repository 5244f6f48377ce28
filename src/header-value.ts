import { reportOnce } from './report.js';

/**
 * The longest header value tracehop reads, in characters. W3C baggage is bounded at
 * 8192 bytes; anything longer cannot be a valid trace header and is treated as absent.
 */
export const MAX_HEADER_LENGTH = 8192;

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Turns whatever a broker delivers as a header value into a string, or `undefined`
 * when it cannot be a trace header. Brokers and other clients really deliver strings,
 * Buffers and byte arrays (AMQP `longstr`, Kafka), numbers and booleans, arrays and
 * missing values. Never throws.
 *
 * Arrays of one element read as that element; longer arrays are joined with `,`, as
 * repeated HTTP fields combine (right for `tracestate` and `baggage`). A `traceparent`
 * given more than once is absent, as the W3C specification requires, even when all but
 * one of its values are empty.
 */
export function headerToString(value: unknown, key: string): string | undefined {
  let text: string | undefined;
  if (typeof value === 'string') {
    text = value;
  } else if (value === undefined || value === null) {
    return undefined;
  } else if (value instanceof Uint8Array) {
    if (value.byteLength > MAX_HEADER_LENGTH * 4) return tooLong(key);
    text = decoder.decode(value);
  } else if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    text = String(value);
  } else if (Array.isArray(value)) {
    text = arrayToString(value, key);
  } else {
    reportOnce(`type:${key}`, `ignored a '${key}' header of type ${typeof value}`);
    return undefined;
  }
  if (text === undefined) return undefined;
  if (text.length > MAX_HEADER_LENGTH) return shorten(text, key);
  return text;
}

/**
 * List-valued headers (`baggage`, `tracestate`) over the bound keep their leading
 * members, as the W3C specifications let a receiver do; anything else is dropped.
 */
function shorten(text: string, key: string): string | undefined {
  if (key === 'baggage' || key === 'tracestate') {
    const cut = text.lastIndexOf(',', MAX_HEADER_LENGTH);
    reportOnce(
      `length:${key}`,
      `kept the first ${MAX_HEADER_LENGTH} characters of a '${key}' header`,
    );
    return cut > 0 ? text.slice(0, cut) : undefined;
  }
  return tooLong(key);
}

function arrayToString(values: readonly unknown[], key: string): string | undefined {
  if (values.length === 1) return headerToString(values[0], key);
  if (key === 'traceparent') return undefined;
  let joined = '';
  for (const item of values) {
    const part = headerToString(item, key);
    if (part === undefined) continue;
    joined = joined === '' ? part : `${joined},${part}`;
    if (joined.length > MAX_HEADER_LENGTH) return shorten(joined, key);
  }
  return joined === '' ? undefined : joined;
}

function tooLong(key: string): undefined {
  reportOnce(`length:${key}`, `ignored a '${key}' header longer than ${MAX_HEADER_LENGTH}`);
  return undefined;
}

import { BAGGAGE, TRACEPARENT, TRACESTATE, type TraceFields } from './propagation.js';

/**
 * What a broker allows on one message's headers or attributes. tracehop counts what
 * the caller already put there, adds its own fields only while they fit, and drops
 * {@link CarrierLimits.copies} first (they only repeat a field), then `baggage` members, then
 * `tracestate` members, and `traceparent` last — never the caller's own entries, and
 * never the send.
 */
export interface CarrierLimits {
  /**
   * How many headers or attributes one message may carry in all, the caller's own
   * included. SQS: 10 message attributes; Pub/Sub: 100 attributes.
   * @defaultValue no limit
   */
  readonly maxEntries?: number;
  /**
   * Largest key, in UTF-8 bytes. Pub/Sub: 256.
   * @defaultValue no limit
   */
  readonly maxKeyBytes?: number;
  /**
   * Largest value, in UTF-8 bytes. Pub/Sub: 1024.
   * @defaultValue no limit
   */
  readonly maxValueBytes?: number;
  /**
   * Most bytes of keys plus values that all entries together may take, when the broker
   * counts them against the message size (SQS: 256 KiB for body and attributes).
   * @defaultValue no limit
   */
  readonly maxTotalBytes?: number;
  /**
   * Second names some readers look for a trace field under, by field: Pub/Sub's built-in
   * tracing reads only `googclient_traceparent` and `googclient_tracestate`. Each field
   * tracehop writes is also written under its copy's name, with the same (possibly trimmed)
   * value, while there is room; the copies are the first to go when there is not, the copy
   * of `tracestate` before the copy of `traceparent`, and a copy never outlives the field it
   * repeats unless its room is {@link CarrierUsage.reserved | reserved}.
   * @defaultValue no copies
   */
  readonly copies?: Readonly<Record<string, string>>;
}

/** What the caller's own message already uses of the limits. */
export interface CarrierUsage {
  /** Headers or attributes the caller set itself. */
  readonly entries: number;
  /** Bytes already counted against {@link CarrierLimits.maxTotalBytes} (body and attributes). */
  readonly bytes?: number;
  /**
   * Whether this message gets the {@link CarrierLimits.copies}. `false` when the caller set
   * an entry under a copy's name itself (tracehop never replaces it, nor pairs it with a copy
   * of another context), or when another library writes them anyway.
   * @defaultValue true
   */
  readonly copies?: boolean;
  /**
   * Copy names whose room {@link entries} already counts, because another library may add
   * them after tracehop whatever tracehop does (Pub/Sub's built-in tracing writes its own
   * `googclient_traceparent`). tracehop's copy under such a name takes that room: it costs
   * no further entry and is never dropped to make room, so it stays — even when the field it
   * repeats did not fit — and carries the context there.
   * @defaultValue none
   */
  readonly reserved?: readonly string[];
}

/** The outcome of fitting trace headers into a message. */
export interface FittedFields {
  /**
   * The fields that fit, copies included; the same object as the input when nothing had
   * to go and there were no copies to add.
   */
  readonly fields: TraceFields;
  /**
   * What was dropped, for the one `diag` report: copies (`googclient_traceparent`…),
   * `baggage`, `tracestate`, `traceparent` or members of them.
   */
  readonly dropped: readonly string[];
}

const NOTHING_DROPPED: readonly string[] = Object.freeze([]);

/**
 * Order in which whole fields are given up, the least important first: copies (they only
 * repeat a field: the copy of `tracestate` before the copy of `traceparent`), then `baggage`,
 * `tracestate`, any other field, and `traceparent` last.
 */
function dropRank(key: string, copies: Readonly<Record<string, string>> | undefined): number {
  if (key === BAGGAGE) return 0;
  if (key === TRACESTATE) return 1;
  if (key === TRACEPARENT) return 3;
  if (copies !== undefined) {
    for (const source in copies) if (copies[source] === key) return dropRank(source, undefined) - 4;
  }
  return 2;
}

function utf8Bytes(text: string): number {
  // Every UTF-16 unit encodes to at most 3 bytes, so short strings skip the count.
  return text.length <= 0x7fff ? Buffer.byteLength(text, 'utf8') : Buffer.byteLength(text);
}

/**
 * Fits trace fields, and the copies `limits` asks for, into what the message has left under
 * `limits`. Allocates only when something must go or copies are added.
 */
export function fitTraceFields(
  fields: TraceFields,
  limits: CarrierLimits | undefined,
  usage: CarrierUsage,
): FittedFields {
  if (limits === undefined) return { fields, dropped: NOTHING_DROPPED };
  const copies = usage.copies === false ? undefined : limits.copies;
  const reserved = usage.reserved;
  const withCopies = copies === undefined ? fields : addCopies(fields, copies);
  if (fitsAsIs(withCopies, limits, usage, reserved)) {
    return { fields: withCopies, dropped: NOTHING_DROPPED };
  }
  const kept: TraceFields = {};
  const dropped: string[] = [];
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value === undefined) continue;
    if (limits.maxKeyBytes !== undefined && utf8Bytes(key) > limits.maxKeyBytes) {
      dropped.push(key);
      continue;
    }
    const trimmed = trimToBytes(key, value, limits.maxValueBytes);
    if (trimmed === undefined) {
      dropped.push(key);
      continue;
    }
    if (trimmed !== value) dropped.push(`${key} members`);
    kept[key] = trimmed;
  }
  if (copies !== undefined) {
    // Copies of what was kept, as it was kept (a trimmed tracestate is copied trimmed).
    for (const source in copies) {
      const copy = copies[source] as string;
      const value = kept[source];
      if (value === undefined || Object.hasOwn(kept, copy)) continue;
      if (limits.maxKeyBytes !== undefined && utf8Bytes(copy) > limits.maxKeyBytes) {
        dropped.push(copy);
        continue;
      }
      kept[copy] = value;
    }
  }
  const order = Object.keys(kept).sort((a, b) => dropRank(a, copies) - dropRank(b, copies));
  // Reserved room is real only when the caller's entries leave it: a message already full
  // without tracehop gets nothing from it.
  const roomIsReal = limits.maxEntries === undefined || usage.entries <= limits.maxEntries;
  let fitted = kept;
  for (const key of order) {
    const overCount =
      limits.maxEntries !== undefined && entriesOf(fitted, usage, reserved) > limits.maxEntries;
    const overBytes =
      limits.maxTotalBytes !== undefined && bytesOf(fitted, usage) > limits.maxTotalBytes;
    if (!overCount && !overBytes) break;
    // A copy in reserved room frees no entry when dropped: its room stays taken either way.
    if (roomIsReal && !overBytes && reserved !== undefined && reserved.includes(key)) continue;
    fitted = without(fitted, key);
    dropped.push(key);
  }
  return { fields: fitted, dropped };
}

/** `fields` plus a copy of each field `copies` names, in a new object; `fields` if none. */
function addCopies(fields: TraceFields, copies: Readonly<Record<string, string>>): TraceFields {
  let result = fields;
  for (const source in copies) {
    const value = fields[source];
    const copy = copies[source] as string;
    if (value === undefined || Object.hasOwn(fields, copy)) continue;
    if (result === fields) result = { ...fields };
    result[copy] = value;
  }
  return result;
}

function without(fields: TraceFields, key: string): TraceFields {
  const rest: TraceFields = {};
  for (const other in fields) if (other !== key) rest[other] = fields[other] as string;
  return rest;
}

function fitsAsIs(
  fields: TraceFields,
  limits: CarrierLimits,
  usage: CarrierUsage,
  reserved: readonly string[] | undefined,
): boolean {
  let count = usage.entries;
  let bytes = usage.bytes ?? 0;
  for (const key in fields) {
    const value = fields[key] as string;
    if (reserved === undefined || !reserved.includes(key)) count++;
    if (limits.maxKeyBytes !== undefined && key.length * 3 > limits.maxKeyBytes) {
      if (utf8Bytes(key) > limits.maxKeyBytes) return false;
    }
    if (limits.maxValueBytes !== undefined && value.length * 3 > limits.maxValueBytes) {
      if (utf8Bytes(value) > limits.maxValueBytes) return false;
    }
    if (limits.maxTotalBytes !== undefined) bytes += utf8Bytes(key) + utf8Bytes(value);
  }
  if (limits.maxEntries !== undefined && count > limits.maxEntries) return false;
  if (limits.maxTotalBytes !== undefined && bytes > limits.maxTotalBytes) return false;
  return true;
}

/** Entries the message would have with `fields`: a copy in reserved room is counted already. */
function entriesOf(
  fields: TraceFields,
  usage: CarrierUsage,
  reserved: readonly string[] | undefined,
): number {
  let count = usage.entries;
  for (const key in fields) if (reserved === undefined || !reserved.includes(key)) count++;
  return count;
}

function bytesOf(fields: TraceFields, usage: CarrierUsage): number {
  let bytes = usage.bytes ?? 0;
  for (const key in fields) bytes += utf8Bytes(key) + utf8Bytes(fields[key] as string);
  return bytes;
}

/**
 * Shortens a list-valued field (`baggage`, `tracestate`: comma-separated members) by
 * removing members from the right until it fits, as the W3C specifications allow.
 * `traceparent` and other single values are kept whole or not at all.
 */
function trimToBytes(key: string, value: string, maxBytes: number | undefined) {
  if (maxBytes === undefined || utf8Bytes(value) <= maxBytes) return value;
  if (key !== BAGGAGE && key !== TRACESTATE) return undefined;
  let end = value.length;
  while (end > 0) {
    end = value.lastIndexOf(',', end - 1);
    if (end <= 0) return undefined;
    const candidate = value.slice(0, end);
    if (utf8Bytes(candidate) <= maxBytes) return candidate;
  }
  return undefined;
}

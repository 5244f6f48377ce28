import { BAGGAGE, TRACEPARENT, TRACESTATE, type TraceFields } from './propagation.js';

/**
 * What a broker allows on one message's headers or attributes. tracehop counts what
 * the caller already put there, adds its own fields only while they fit, and drops
 * `baggage` members first, then `tracestate` members, and `traceparent` last — never
 * the caller's own entries, and never the send.
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
}

/** What the caller's own message already uses of the limits. */
export interface CarrierUsage {
  /** Headers or attributes the caller set itself. */
  readonly entries: number;
  /** Bytes already counted against {@link CarrierLimits.maxTotalBytes} (body and attributes). */
  readonly bytes?: number;
}

/** The outcome of fitting trace headers into a message. */
export interface FittedFields {
  /** The fields that fit; the same object as the input when nothing had to go. */
  readonly fields: TraceFields;
  /** What was dropped, for the one `diag` report: `baggage`, `tracestate`, `traceparent` or members of them. */
  readonly dropped: readonly string[];
}

const NOTHING_DROPPED: readonly string[] = Object.freeze([]);

/** Order in which whole fields are given up: the least important first. */
function dropRank(key: string): number {
  if (key === BAGGAGE) return 0;
  if (key === TRACESTATE) return 1;
  if (key === TRACEPARENT) return 3;
  return 2;
}

function utf8Bytes(text: string): number {
  // Every UTF-16 unit encodes to at most 3 bytes, so short strings skip the count.
  return text.length <= 0x7fff ? Buffer.byteLength(text, 'utf8') : Buffer.byteLength(text);
}

/**
 * Fits trace fields into what the message has left under `limits`. Allocates only
 * when something must go.
 */
export function fitTraceFields(
  fields: TraceFields,
  limits: CarrierLimits | undefined,
  usage: CarrierUsage,
): FittedFields {
  if (limits === undefined || fitsAsIs(fields, limits, usage)) {
    return { fields, dropped: NOTHING_DROPPED };
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
  const order = Object.keys(kept).sort((a, b) => dropRank(a) - dropRank(b));
  let fitted = kept;
  for (const key of order) {
    if (withinCountAndSize(fitted, limits, usage)) break;
    fitted = without(fitted, key);
    dropped.push(key);
  }
  return { fields: fitted, dropped };
}

function without(fields: TraceFields, key: string): TraceFields {
  const rest: TraceFields = {};
  for (const other in fields) if (other !== key) rest[other] = fields[other] as string;
  return rest;
}

function fitsAsIs(fields: TraceFields, limits: CarrierLimits, usage: CarrierUsage): boolean {
  let count = usage.entries;
  let bytes = usage.bytes ?? 0;
  for (const key in fields) {
    const value = fields[key] as string;
    count++;
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

function withinCountAndSize(fields: TraceFields, limits: CarrierLimits, usage: CarrierUsage) {
  let count = usage.entries;
  let bytes = usage.bytes ?? 0;
  for (const key in fields) {
    count++;
    if (limits.maxTotalBytes !== undefined) {
      bytes += utf8Bytes(key) + utf8Bytes(fields[key] as string);
    }
  }
  if (limits.maxEntries !== undefined && count > limits.maxEntries) return false;
  return limits.maxTotalBytes === undefined || bytes <= limits.maxTotalBytes;
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

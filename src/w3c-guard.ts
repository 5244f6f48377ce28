import {
  baggageEntryMetadataFromString,
  propagation,
  type Baggage,
  type BaggageEntry,
  type TraceState,
} from '@opentelemetry/api';

/**
 * The W3C rules tracehop applies to what a message carries, between the carrier and
 * whatever propagator is installed: W3C Trace Context Level 2 for `traceparent` and
 * `tracestate`, W3C Baggage for `baggage`. Each function reads a header value as
 * `headerToString` delivered it and never throws. docs/conformance.md lists the
 * suites these rules are tested against and every remaining deviation.
 *
 * @packageDocumentation
 */

const DASH = 0x2d;
const SPACE = 0x20;
const TAB = 0x09;

/** Trace flags this version of the specification defines: sampled (bit 0) and random (bit 1). */
export const KNOWN_TRACE_FLAGS = 0x03;

/** The length of a version-00 `traceparent`: `vv-` + 32 + `-` + 16 + `-` + 2. */
const TRACEPARENT_LENGTH = 55;

/** Lower-case hex digits by character code: their value, -1 for anything else. */
const HEX_VALUES = new Int8Array(0x80).fill(-1);
for (let code = 0x30; code <= 0x39; code++) HEX_VALUES[code] = code - 0x30;
for (let code = 0x61; code <= 0x66; code++) HEX_VALUES[code] = code - 0x57;

/** `0`–`9`, `a`–`f` as their value, anything else (upper case included) as -1. */
function hexValue(code: number): number {
  return code < 0x80 ? (HEX_VALUES[code] as number) : -1;
}

/** Whether `length` characters of `text` from `start` are lower-case hex, not all `0`. */
function isNonZeroHex(text: string, start: number, length: number): boolean {
  let bits = 0;
  for (let i = start; i < start + length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80 || (HEX_VALUES[code] as number) < 0) return false;
    bits |= code ^ 0x30;
  }
  return bits !== 0;
}

/** OWS of RFC 9110: spaces and horizontal tabs, nothing else. */
function isOws(code: number): boolean {
  return code === SPACE || code === TAB;
}

/**
 * The first index of `code` in `text[from, to)`, or -1. Searching one member, never the
 * rest of the header, keeps a header of thousands of members linear to read.
 */
function indexBetween(text: string, code: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === code) return i;
  return -1;
}

const COMMA = 0x2c;
const EQUALS = 0x3d;
const SEMICOLON = 0x3b;

/**
 * The `traceparent` to hand the propagator, or `undefined` when the value is not a valid
 * W3C Trace Context Level 2 `traceparent` and the trace must restart (the header is
 * treated as absent):
 *
 * - a plain version-00 header (lower-case hex, non-zero ids, defined flags only) comes
 *   back as the same string: nothing is allocated;
 * - spaces and tabs around the value (OWS) are trimmed; any other character around it
 *   (a newline, a non-breaking space…) makes it invalid;
 * - a higher version is read as the specification's versioning rules say (at least 55
 *   characters, the flags followed by the end or a dash) and handed over downgraded to
 *   version 00, and version `ff` is invalid;
 * - flags this version does not define are set to 0, as the specification requires of
 *   what a participant sends on.
 */
export function guardTraceparent(value: string): string | undefined {
  // What every W3C propagator writes, checked in one pass by V8's regexp engine: about half
  // the time of the scan below, which handles everything else.
  if (
    value.length === TRACEPARENT_LENGTH &&
    CANONICAL_TRACEPARENT.test(value) &&
    !value.startsWith(ZERO_TRACE_ID, 3) &&
    !value.startsWith(ZERO_SPAN_ID, 36)
  ) {
    return value;
  }
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  if (end - start < TRACEPARENT_LENGTH) return undefined;
  const high = hexValue(value.charCodeAt(start));
  const low = hexValue(value.charCodeAt(start + 1));
  if (high < 0 || low < 0 || value.charCodeAt(start + 2) !== DASH) return undefined;
  const version = high * 16 + low;
  if (version === 0xff) return undefined;
  if (version === 0 && end - start !== TRACEPARENT_LENGTH) return undefined;
  if (
    !isNonZeroHex(value, start + 3, 32) ||
    value.charCodeAt(start + 35) !== DASH ||
    !isNonZeroHex(value, start + 36, 16) ||
    value.charCodeAt(start + 52) !== DASH
  ) {
    return undefined;
  }
  const flagsHigh = hexValue(value.charCodeAt(start + 53));
  const flagsLow = hexValue(value.charCodeAt(start + 54));
  if (flagsHigh < 0 || flagsLow < 0) return undefined;
  if (end - start > TRACEPARENT_LENGTH && !isFutureTail(value, start + TRACEPARENT_LENGTH, end)) {
    return undefined;
  }
  const flags = flagsHigh * 16 + flagsLow;
  if (version === 0 && start === 0 && end === value.length && flags <= KNOWN_TRACE_FLAGS) {
    return value;
  }
  return (
    `00-${value.slice(start + 3, start + 35)}-${value.slice(start + 36, start + 52)}` +
    `-0${String(flags & KNOWN_TRACE_FLAGS)}`
  );
}

/** Version 00 with only the flags this version defines: returned as it is. */
const CANONICAL_TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** After a higher version's flags: a dash, then fields this version knows nothing about. */
function isFutureTail(value: string, from: number, end: number): boolean {
  if (value.charCodeAt(from) !== DASH) return false;
  for (let i = from + 1; i < end; i++) {
    const code = value.charCodeAt(i);
    // Visible ASCII, spaces and tabs: what an HTTP field value may hold.
    if ((code < SPACE && code !== TAB) || code > 0x7e) return false;
  }
  return true;
}

/** Whether `traceparent` (as {@link guardTraceparent} returned it) names this trace and parent. */
export function isSameParent(traceparent: string, traceId: string, spanId: string): boolean {
  return traceparent.startsWith(traceId, 3) && traceparent.startsWith(spanId, 36);
}

// ---------------------------------------------------------------------------------------
// tracestate

/** The most list-members a `tracestate` holds. */
export const MAX_TRACESTATE_MEMBERS = 32;
/**
 * The longest `tracestate` tracehop propagates, in characters: the specification's
 * minimum. Longer ones are truncated by its rule (see {@link truncateTracestate}).
 */
export const MAX_TRACESTATE_LENGTH = 512;
/** Members longer than this are the first removed when a `tracestate` is too long. */
export const LONG_TRACESTATE_MEMBER = 128;

/** lcalpha, DIGIT: what a key starts with. */
function isKeyStart(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39);
}

/** keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@" (Level 2). */
function isKeyChar(code: number): boolean {
  return (
    isKeyStart(code) ||
    code === 0x5f ||
    code === DASH ||
    code === 0x2a ||
    code === 0x2f ||
    code === 0x40
  );
}

/** key = ( lcalpha / DIGIT ) 0*255 ( keychar ) — Trace Context Level 2. */
export function isTracestateKey(key: string, start = 0, end = key.length): boolean {
  const length = end - start;
  if (length < 1 || length > 256 || !isKeyStart(key.charCodeAt(start))) return false;
  for (let i = start + 1; i < end; i++) if (!isKeyChar(key.charCodeAt(i))) return false;
  return true;
}

/**
 * value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr;
 * nblk-chr = %x21-2B / %x2D-3C / %x3E-7E.
 */
export function isTracestateValue(value: string, start = 0, end = value.length): boolean {
  const length = end - start;
  if (length < 1 || length > 256 || value.charCodeAt(end - 1) === SPACE) return false;
  for (let i = start; i < end; i++) {
    const code = value.charCodeAt(i);
    if (code < SPACE || code > 0x7e || code === COMMA || code === EQUALS) return false;
  }
  return true;
}

/**
 * A `tracestate` under the Level-2 rules: an immutable list of key/value pairs, left-most
 * first, that serializes to its normalized header. Returned by {@link parseTracestate}
 * and carried by the span context tracehop continues, whatever propagator read the header.
 */
export class W3CTraceState implements TraceState {
  private serialized: string | undefined;

  /** @param entries - keys and values alternating: `[k0, v0, k1, v1, …]`, valid and unique. */
  private constructor(
    private readonly entries: readonly string[],
    serialized?: string,
  ) {
    this.serialized = serialized;
  }

  /**
   * A state of `entries` (`[k0, v0, k1, v1, …]`), which must be valid, unique and within the
   * limits; `serialized` is their header when the caller has it.
   */
  static of(entries: readonly string[], serialized?: string): W3CTraceState {
    return new W3CTraceState(entries, serialized);
  }

  get size(): number {
    return this.entries.length / 2;
  }

  get(key: string): string | undefined {
    for (let i = 0; i < this.entries.length; i += 2) {
      if (this.entries[i] === key) return this.entries[i + 1];
    }
    return undefined;
  }

  /**
   * A state with `key` set to `value` as its left-most entry. An invalid key or value, or an
   * entry longer than 512 characters on its own, leaves the state as it is; other entries
   * make room beyond 32 entries or 512 characters, by the truncation rule.
   */
  set(key: string, value: string): W3CTraceState {
    if (!isTracestateKey(key) || !isTracestateValue(value)) return this;
    if (key.length + 1 + value.length > MAX_TRACESTATE_LENGTH) return this;
    const next = [key, value];
    for (let i = 0; i < this.entries.length; i += 2) {
      if (this.entries[i] !== key)
        next.push(this.entries[i] as string, this.entries[i + 1] as string);
    }
    return new W3CTraceState(truncateTracestate(next, 1));
  }

  unset(key: string): W3CTraceState {
    const next: string[] = [];
    for (let i = 0; i < this.entries.length; i += 2) {
      if (this.entries[i] !== key)
        next.push(this.entries[i] as string, this.entries[i + 1] as string);
    }
    return next.length === this.entries.length ? this : new W3CTraceState(next);
  }

  serialize(): string {
    if (this.serialized === undefined) this.serialized = serializeEntries(this.entries);
    return this.serialized;
  }
}

function serializeEntries(entries: readonly string[]): string {
  let text = '';
  for (let i = 0; i < entries.length; i += 2) {
    text += `${i === 0 ? '' : ','}${entries[i] as string}=${entries[i + 1] as string}`;
  }
  return text;
}

/**
 * Makes `entries` (`[k0, v0, …]`) fit 32 entries and 512 characters by the specification's
 * rule: whole entries only; entries longer than 128 characters go first, then entries from
 * the right. The first `keep` entries are never removed. Returns `entries` itself when it
 * fits.
 */
export function truncateTracestate(entries: string[], keep = 0): string[] {
  while (entries.length > MAX_TRACESTATE_MEMBERS * 2) entries.splice(entries.length - 2, 2);
  let length = serializedLength(entries);
  if (length <= MAX_TRACESTATE_LENGTH) return entries;
  // Entries longer than 128 characters, right-most first.
  for (let i = entries.length - 2; i >= keep * 2 && length > MAX_TRACESTATE_LENGTH; i -= 2) {
    const size = memberLength(entries, i);
    if (size > LONG_TRACESTATE_MEMBER) {
      entries.splice(i, 2);
      length -= size + (entries.length > 0 ? 1 : 0);
    }
  }
  // Then from the right.
  while (length > MAX_TRACESTATE_LENGTH && entries.length > keep * 2) {
    const i = entries.length - 2;
    length -= memberLength(entries, i) + (i > 0 ? 1 : 0);
    entries.splice(i, 2);
  }
  return entries;
}

function memberLength(entries: readonly string[], i: number): number {
  return (entries[i] as string).length + 1 + (entries[i + 1] as string).length;
}

function serializedLength(entries: readonly string[]): number {
  let length = entries.length > 0 ? entries.length / 2 - 1 : 0;
  for (let i = 0; i < entries.length; i += 2) length += memberLength(entries, i);
  return length;
}

/**
 * A received `tracestate` under the Level-2 rules, or `undefined` when it holds no valid
 * entry:
 *
 * - members are separated by commas; spaces and tabs around a member are ignored, and
 *   empty members are allowed;
 * - a member that breaks the grammar (key, value, or anything but spaces and tabs around
 *   it, like a newline) is discarded, and the others are kept (the specification lets a
 *   receiver discard invalid entries or the whole header; tracehop keeps what is valid);
 * - of a repeated key the first (left-most) entry is kept;
 * - beyond 32 entries the right-most are dropped, beyond 512 characters the specification's
 *   truncation rule applies (see {@link truncateTracestate}).
 *
 * When nothing had to change, the state serializes to `header` itself.
 */
export function parseTracestate(header: string): W3CTraceState | undefined {
  const entries: string[] = [];
  let changed = false;
  let start = 0;
  const length = header.length;
  while (start <= length) {
    if (entries.length === MAX_TRACESTATE_MEMBERS * 2) {
      // Right-most members beyond 32 are removed, so there is no need to read them.
      changed = true;
      break;
    }
    let end = header.indexOf(',', start);
    if (end === -1) end = length;
    let from = start;
    let to = end;
    while (from < to && isOws(header.charCodeAt(from))) from++;
    while (to > from && isOws(header.charCodeAt(to - 1))) to--;
    if (from !== start || to !== end) changed = true;
    if (from === to) {
      // An empty member: allowed, and nothing to keep.
      changed = true;
    } else if (!addTracestateMember(header, from, to, entries)) {
      changed = true;
    }
    start = end + 1;
  }
  if (entries.length === 0) return undefined;
  const collected = entries.length;
  truncateTracestate(entries);
  if (entries.length !== collected) changed = true;
  return W3CTraceState.of(entries, changed ? undefined : header);
}

/** Adds the member `header[from, to)` to `entries`; `false` when it is invalid or repeated. */
function addTracestateMember(header: string, from: number, to: number, entries: string[]): boolean {
  const equals = indexBetween(header, EQUALS, from, to);
  if (equals === -1) return false;
  if (!isTracestateKey(header, from, equals) || !isTracestateValue(header, equals + 1, to)) {
    return false;
  }
  const key = header.slice(from, equals);
  for (let i = 0; i < entries.length; i += 2) if (entries[i] === key) return false;
  // Collected beyond 512 characters on purpose: the truncation rule decides which go.
  entries.push(key, header.slice(equals + 1, to));
  return true;
}

// ---------------------------------------------------------------------------------------
// baggage

/** The most list-members a baggage-string holds (its grammar: 1 + 0*179). */
export const MAX_BAGGAGE_MEMBERS = 180;

/** tchar of RFC 9110: `!#$%&'*+-.^_\`|~`, digits, letters. */
function isTchar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x21 ||
    (code >= 0x23 && code <= 0x27) ||
    code === 0x2a ||
    code === 0x2b ||
    code === DASH ||
    code === 0x2e ||
    code === 0x5e ||
    code === 0x5f ||
    code === 0x60 ||
    code === 0x7c ||
    code === 0x7e
  );
}

/** key = token. */
function isToken(text: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) if (!isTchar(text.charCodeAt(i))) return false;
  return true;
}

/** value = *baggage-octet; baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E. */
function isBaggageValue(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x21 || code > 0x7e) return false;
    // DQUOTE, comma, semicolon, backslash
    if (code === 0x22 || code === COMMA || code === SEMICOLON || code === 0x5c) return false;
  }
  return true;
}

const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Percent-decodes a baggage value: `%XX` octets are read as UTF-8, and sequences that are
 * not UTF-8 become U+FFFD, as the specification requires; a `%` not followed by two hex
 * digits stays as it is. A value without `%` is returned as it is.
 */
export function decodeBaggageValue(value: string): string {
  if (!value.includes('%')) return value;
  const bytes = new Uint8Array(value.length);
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x25 && i + 2 < value.length) {
      const high = hexDigit(value.charCodeAt(i + 1));
      const low = hexDigit(value.charCodeAt(i + 2));
      if (high >= 0 && low >= 0) {
        bytes[n++] = high * 16 + low;
        i += 2;
        continue;
      }
    }
    // Only baggage-octets (ASCII) reach here.
    bytes[n++] = code;
  }
  return utf8.decode(bytes.subarray(0, n));
}

/** A hex digit in either case as its value, anything else as -1. */
function hexDigit(code: number): number {
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  return hexValue(code);
}

/** A received `baggage` header read under the W3C Baggage rules. */
export interface ParsedBaggage {
  /** The members, normalized, as a header: `header` itself when nothing had to change. */
  readonly header: string;
  /** The entries, by key, in the order of their first member; of a repeated key, the last value. */
  readonly entries: Readonly<Record<string, BaggageEntry>>;
  readonly count: number;
  /**
   * Whether a key is an array index (`7`, `180`): objects list those first, so the
   * entries' order is kept another way (see {@link toBaggage}).
   */
  readonly indexKeys: boolean;
  /** The keys in order, when {@link indexKeys}. */
  readonly order: readonly string[] | undefined;
}

/**
 * A received `baggage` header under the W3C Baggage rules, or `undefined` when it holds no
 * valid list-member:
 *
 * - `key OWS "=" OWS value *( OWS ";" OWS property )`, spaces and tabs only as OWS; keys
 *   are tokens and are not percent-decoded; values may be empty and are percent-decoded
 *   (invalid UTF-8 → U+FFFD);
 * - a member that breaks the grammar (no `=`, a space, quote or non-ASCII character in a
 *   value, an empty property…) is discarded, and the others are kept;
 * - properties are kept as the entry's metadata, normalized (`k=v;k2`) and not decoded;
 * - there is no limit per member; the first 180 members are read (the header itself is
 *   bounded at 8192 characters, whole members, by `headerToString`).
 */
export function parseBaggage(header: string): ParsedBaggage | undefined {
  const entries = Object.create(null) as Record<string, BaggageEntry>;
  const order: string[] = [];
  let indexKeys = false;
  let normalized = '';
  let changed = false;
  let count = 0;
  let start = 0;
  const length = header.length;
  while (start <= length && count < MAX_BAGGAGE_MEMBERS) {
    let end = header.indexOf(',', start);
    if (end === -1) end = length;
    const member = parseBaggageMember(header, start, end);
    if (member === undefined) {
      changed = true;
    } else {
      if (member.text.length !== end - start || !header.startsWith(member.text, start)) {
        changed = true;
      }
      if (entries[member.key] === undefined) order.push(member.key);
      if (!indexKeys && isArrayIndex(member.key)) indexKeys = true;
      entries[member.key] =
        member.metadata === undefined
          ? { value: member.value }
          : { value: member.value, metadata: baggageEntryMetadataFromString(member.metadata) };
      normalized = count === 0 ? member.text : `${normalized},${member.text}`;
      count++;
    }
    start = end + 1;
  }
  if (start <= length) changed = true;
  if (count === 0) return undefined;
  return {
    header: changed ? normalized : header,
    entries,
    count,
    indexKeys,
    order: indexKeys ? order : undefined,
  };
}

/** Whether `key` is a canonical array index, which objects enumerate before other keys. */
function isArrayIndex(key: string): boolean {
  const code = key.charCodeAt(0);
  if (code < 0x30 || code > 0x39 || (code === 0x30 && key.length > 1) || key.length > 10) {
    return false;
  }
  for (let i = 1; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return Number(key) < 4294967295;
}

interface BaggageMember {
  key: string;
  value: string;
  metadata: string | undefined;
  /** The member normalized: no OWS, properties as `k=v;k2`. */
  text: string;
}

function trimOws(text: string, range: [number, number]): [number, number] {
  let [from, to] = range;
  while (from < to && isOws(text.charCodeAt(from))) from++;
  while (to > from && isOws(text.charCodeAt(to - 1))) to--;
  return [from, to];
}

function parseBaggageMember(header: string, start: number, end: number): BaggageMember | undefined {
  let semicolon = indexBetween(header, SEMICOLON, start, end);
  if (semicolon === -1) semicolon = end;
  const equals = indexBetween(header, EQUALS, start, semicolon);
  if (equals === -1) return undefined;
  const [keyFrom, keyTo] = trimOws(header, [start, equals]);
  const [valueFrom, valueTo] = trimOws(header, [equals + 1, semicolon]);
  if (!isToken(header, keyFrom, keyTo) || !isBaggageValue(header, valueFrom, valueTo)) {
    return undefined;
  }
  const key = header.slice(keyFrom, keyTo);
  const rawValue = header.slice(valueFrom, valueTo);
  let metadata: string | undefined;
  let from = semicolon;
  while (from < end) {
    let next = indexBetween(header, SEMICOLON, from + 1, end);
    if (next === -1) next = end;
    const property = parseProperty(header, from + 1, next);
    if (property === undefined) return undefined;
    metadata = metadata === undefined ? property : `${metadata};${property}`;
    from = next;
  }
  const text = `${key}=${rawValue}${metadata === undefined ? '' : `;${metadata}`}`;
  return { key, value: decodeBaggageValue(rawValue), metadata, text };
}

/** property = key OWS "=" OWS value / key OWS, normalized to `key=value` or `key`. */
function parseProperty(header: string, start: number, end: number): string | undefined {
  const equals = indexBetween(header, EQUALS, start, end);
  if (equals === -1) {
    const [from, to] = trimOws(header, [start, end]);
    return isToken(header, from, to) ? header.slice(from, to) : undefined;
  }
  const [keyFrom, keyTo] = trimOws(header, [start, equals]);
  const [valueFrom, valueTo] = trimOws(header, [equals + 1, end]);
  if (!isToken(header, keyFrom, keyTo) || !isBaggageValue(header, valueFrom, valueTo)) {
    return undefined;
  }
  return `${header.slice(keyFrom, keyTo)}=${header.slice(valueFrom, valueTo)}`;
}

/** The baggage a parsed header makes, its entries in the header's order. */
export function toBaggage(parsed: ParsedBaggage): Baggage {
  if (parsed.order === undefined) return propagation.createBaggage(parsed.entries);
  // Rare: entry by entry, as a record would put the array-index keys first.
  let baggage = propagation.createBaggage();
  for (const key of parsed.order)
    baggage = baggage.setEntry(key, parsed.entries[key] as BaggageEntry);
  return baggage;
}

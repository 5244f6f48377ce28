import { CloudEvent, ValidationError } from 'cloudevents';
import type { CloudEventLike } from './types.js';

/**
 * The parts every binding shares, so each attribute — the Distributed Tracing extension's
 * `traceparent` and `tracestate` included — is mapped by one code path, whichever broker the
 * event travels on. A binding only chooses the prefix and where the pairs go.
 */

/** Content type of a structured-mode event in the JSON event format. */
export const CLOUDEVENTS_JSON_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';
const CLOUDEVENTS_MEDIA_TYPE = 'application/cloudevents';
const CLOUDEVENTS_JSON_MEDIA_TYPE = 'application/cloudevents+json';
const CLOUDEVENTS_BATCH_MEDIA_TYPE = 'application/cloudevents-batch';

/** Binary mode carries these in the body and the content type, not as attributes. */
const NOT_ATTRIBUTES = new Set(['data', 'data_base64', 'datacontenttype']);

/** One context attribute or extension, named without prefix, in canonical string form. */
export type AttributePair = readonly [name: string, value: string];

/**
 * The event's context attributes and extensions (everything but data and
 * `datacontenttype`) in their canonical string form (CloudEvents type system): strings as
 * they are, integers in decimal, booleans `true`/`false`, binary in base64, timestamps in
 * RFC 3339. Values of other types cannot be event attributes and are left out.
 */
export function eventAttributes(event: CloudEventLike): AttributePair[] {
  const pairs: AttributePair[] = [];
  for (const name of Object.keys(event)) {
    if (NOT_ATTRIBUTES.has(name)) continue;
    const text = canonicalString(event[name]);
    if (text !== undefined) pairs.push([name, text]);
  }
  return pairs;
}

function canonicalString(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isInteger(value) ? String(value) : undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
      if (value instanceof Date) return value.toISOString();
      return undefined;
    default:
      return undefined;
  }
}

/** The body and content type of a binary-mode message. */
export interface BinaryData {
  /** The event's data as bytes: binary as-is, strings in UTF-8, anything else as JSON. */
  readonly body: Buffer;
  /** `datacontenttype`, or `application/json` for data that was serialised as JSON. */
  readonly contentType: string | undefined;
}

/** The event's data for the body of a binary-mode message. */
export function binaryData(event: CloudEventLike): BinaryData {
  const declared = typeof event.datacontenttype === 'string' ? event.datacontenttype : undefined;
  const data = event.data;
  if (data === undefined || data === null) {
    const base64 = event.data_base64;
    const body = typeof base64 === 'string' ? Buffer.from(base64, 'base64') : Buffer.alloc(0);
    return { body, contentType: declared };
  }
  if (data instanceof Uint8Array) {
    return {
      body: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      contentType: declared,
    };
  }
  if (typeof data === 'string') return { body: Buffer.from(data, 'utf8'), contentType: declared };
  return {
    body: Buffer.from(JSON.stringify(data), 'utf8'),
    contentType: declared ?? 'application/json',
  };
}

/**
 * The body of a structured-mode message: the event in the JSON event format. Binary data
 * goes in `data_base64`, as the format requires.
 */
export function structuredBody(event: CloudEventLike): string {
  const data = event.data;
  if (data instanceof Uint8Array && typeof (event as { toJSON?: unknown }).toJSON !== 'function') {
    return JSON.stringify({
      ...event,
      data: undefined,
      data_base64: Buffer.from(data).toString('base64'),
    });
  }
  return JSON.stringify(event);
}

/** How a received message carries an event, from its content type. */
export type ReceivedMode = 'structured' | 'binary' | 'batch';

/**
 * `structured` when the content type is a CloudEvents media type
 * (`application/cloudevents…`), `batch` for `application/cloudevents-batch…`, otherwise
 * `binary`.
 */
export function modeOf(contentType: string | undefined): ReceivedMode {
  if (contentType === undefined) return 'binary';
  const lower = contentType.trimStart().toLowerCase();
  if (lower.startsWith(CLOUDEVENTS_BATCH_MEDIA_TYPE)) return 'batch';
  if (lower.startsWith(CLOUDEVENTS_MEDIA_TYPE)) return 'structured';
  return 'binary';
}

/**
 * `name` without `prefix` (compared case-insensitively, as the bindings ask) in lower case,
 * or `undefined` when it does not start with it.
 */
export function unprefixed(name: string, prefix: string): string | undefined {
  if (name.length <= prefix.length) return undefined;
  // Most attributes are not the event's: reject them on the first letter without allocating.
  if ((name.charCodeAt(0) | 0x20) !== prefix.charCodeAt(0)) return undefined;
  if (name.slice(0, prefix.length).toLowerCase() !== prefix) return undefined;
  return name.slice(prefix.length).toLowerCase();
}

/** True when binary-mode attributes hold an event: it has a `specversion` or an `id`. */
export function looksLikeEvent(attributes: Readonly<Record<string, unknown>>): boolean {
  return attributes['specversion'] !== undefined || attributes['id'] !== undefined;
}

/**
 * Builds the event of a binary-mode message from its unprefixed attributes, content type and
 * body. JSON data (`application/json`, `…+json`) is parsed, text (`text/…`, a `charset`)
 * decoded, anything else kept as bytes.
 */
export function decodeBinary<T>(
  attributes: Readonly<Record<string, unknown>>,
  contentType: string | undefined,
  body: Uint8Array | string | undefined,
  strict: boolean,
): CloudEvent<T> {
  if (!looksLikeEvent(attributes)) throw new ValidationError('no CloudEvent in the message');
  const properties: Record<string, unknown> = { ...attributes };
  if (contentType !== undefined) properties['datacontenttype'] = contentType;
  const data = decodeData(body, contentType ?? stringOrUndefined(attributes['datacontenttype']));
  if (data !== undefined) properties['data'] = data;
  return new CloudEvent<T>(properties, strict);
}

/** Builds the event of a structured-mode message (JSON event format only). */
export function decodeStructured<T>(
  contentType: string,
  body: Uint8Array | string | undefined,
  strict: boolean,
): CloudEvent<T> {
  return new CloudEvent<T>(parseStructured(contentType, body), strict);
}

/**
 * The JSON object a structured-mode body holds, not yet validated as an event. Throws the
 * SDK's `ValidationError` for another format or JSON that is not an object, and
 * `SyntaxError` for a body that is not JSON.
 */
export function parseStructured(
  contentType: string,
  body: Uint8Array | string | undefined,
): Readonly<Record<string, unknown>> {
  if (!contentType.trimStart().toLowerCase().startsWith(CLOUDEVENTS_JSON_MEDIA_TYPE)) {
    throw new ValidationError(`unsupported CloudEvents format: ${contentType}`);
  }
  const text = typeof body === 'string' ? body : body ? Buffer.from(body).toString('utf8') : '';
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError('a structured CloudEvent must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/**
 * What a binding reads from a received message, whatever the broker: everything the codec
 * needs to tell the mode, detect and decode the event.
 */
export interface ReceivedParts {
  /**
   * The binary-mode attributes, named without their prefix in lower case, values as the
   * broker delivered them (strings, or numbers and booleans on AMQP).
   */
  readonly attributes: Readonly<Record<string, unknown>>;
  /** The message's content type: `datacontenttype` in binary mode, the format in structured. */
  readonly contentType: string | undefined;
  /** The message body: the data in binary mode, the whole event in structured mode. */
  readonly body: Uint8Array | string | undefined;
}

/** The event a received message carries, in either mode; see `CloudEventBinding.toEvent`. */
export function decodeEvent<T>(parts: ReceivedParts, strict: boolean): CloudEvent<T> {
  const { attributes, contentType, body } = parts;
  switch (modeOf(contentType)) {
    case 'structured':
      return decodeStructured<T>(contentType as string, body, strict);
    case 'batch':
      return batchNotSupported();
    default:
      return decodeBinary<T>(attributes, contentType, body, strict);
  }
}

/** Whether a received message carries an event; see `CloudEventBinding.isEvent`. */
export function carriesEvent(parts: ReceivedParts): boolean {
  return modeOf(parts.contentType) !== 'binary' || looksLikeEvent(parts.attributes);
}

/** Throws the error the bindings give for a batch: tracehop decodes single events only. */
export function batchNotSupported(): never {
  throw new ValidationError(
    'batched CloudEvents (application/cloudevents-batch) are not supported',
  );
}

function decodeData(body: Uint8Array | string | undefined, contentType: string | undefined) {
  if (body === undefined || body.length === 0) return undefined;
  const type = contentType?.toLowerCase();
  if (type !== undefined && type.includes('json')) {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  if (typeof body === 'string') return body;
  if (type !== undefined && (type.startsWith('text/') || type.includes('charset='))) {
    return Buffer.from(body).toString('utf8');
  }
  return Buffer.isBuffer(body) ? body : Buffer.from(body);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

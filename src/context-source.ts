import { trace, type Context, type TextMapGetter } from '@opentelemetry/api';
import { isPromiseLike } from './errors.js';
import { extractMessageContext, safeGetter, TRACEPARENT } from './propagation.js';
import { reportOnce } from './report.js';
import type { ConsumerTransport } from './transport.js';

/**
 * On a `process` span whose parent context did not come from the message's standard trace
 * headers but from a `contextSource`: which kind of source found it.
 * - `body`: a field of the JSON body ({@link fromBodyField});
 * - `header-alias`: headers under other names ({@link fromHeaders});
 * - `custom`: the application's own function.
 *
 * A message whose standard headers carry the context never has it, so the attribute tells
 * from the spans which producers still propagate the old way.
 */
export const ATTR_CONTEXT_SOURCE = 'tracehop.context.source';

/** The values of {@link ATTR_CONTEXT_SOURCE}. */
export type ContextSourceKind = 'body' | 'header-alias' | 'custom';

/**
 * The largest message body tracehop parses while looking for a trace context, in bytes (in
 * UTF-16 code units for a body the client delivers as a string, like SQS's `Body`): 64 KiB.
 * A body over it is never parsed — a context source then finds nothing in it, the message
 * is processed on a new trace, and that is said once through `diag` — so a worker never
 * spends a large parse on every message only to look for 55 characters of `traceparent`.
 * The same bound holds for `toBodyField` on the producer side.
 */
export const MAX_CONTEXT_BODY_BYTES = 65_536;

/**
 * A trace context in the W3C fields, as text: what a context source returns. Values are
 * validated exactly like the standard headers: anything malformed is treated as absent.
 */
export interface ContextCarrier {
  /** A W3C `traceparent` (`00-{trace id}-{span id}-{flags}`). */
  readonly traceparent: string;
  /** A W3C `tracestate`, when the producer wrote one. */
  readonly tracestate?: string | undefined;
  /** A W3C `baggage`, when the producer wrote one (subject to the `baggage` policy). */
  readonly baggage?: string | undefined;
}

/** What a context source can read of a message besides the message itself. */
export interface ContextSourceInput {
  /**
   * The message body parsed as JSON, parsed on the first call only (later calls return the
   * same value): `undefined` when the message has no body, the body is not JSON, or it is
   * over {@link MAX_CONTEXT_BODY_BYTES} (then it is not parsed at all). Never throws.
   */
  json(): unknown;
  /**
   * One header or attribute of the message, read the way tracehop reads `traceparent`
   * (the transport's `readHeader`, then made a bounded string): `undefined` when absent or
   * unusable. Never throws.
   */
  header(name: string): string | undefined;
}

/**
 * Finds the trace context of a message whose standard trace headers carry none: returns
 * the W3C fields, or nothing. Called synchronously, at most once per message, and only for
 * messages without a valid context in their headers; what it returns is validated like
 * headers. It must not throw (a throw is caught, said once through `diag`, and the message
 * is processed on a new trace).
 *
 * @typeParam TMessage - the message as the decorator's handler gets it (an amqplib
 * `Message`, an SQS `Message`, a Lambda SQS record, a Pub/Sub `Message`). The ready-made
 * sources ({@link fromBodyField}, {@link fromHeaders}) work with every adapter.
 */
// Declared through a method so that a source for one adapter's messages fits option types
// that predate the type parameter (method parameters are bivariant).
export type ContextSource<TMessage = unknown> = {
  source(message: TMessage, input: ContextSourceInput): ContextCarrier | null | undefined;
}['source'];

const KIND = Symbol.for('tracehop.contextSource.kind');

function tagged<T extends object>(source: T, kind: ContextSourceKind): T {
  Object.defineProperty(source, KIND, { value: kind });
  return source;
}

function kindOf(source: object): ContextSourceKind {
  const kind: unknown = Reflect.get(source, KIND);
  return kind === 'body' || kind === 'header-alias' ? kind : 'custom';
}

/** A path in a JSON body: dot-separated keys, or the keys themselves (for keys with a dot). */
export type BodyPath = string | readonly string[];

/**
 * A context source that reads a field of the message's JSON body, for producers that
 * put the context there themselves. `path` names either
 * - an object holding the W3C fields: `fromBodyField('traceContext')` reads
 *   `{ "traceContext": { "traceparent": "00-…", "tracestate": "…", "baggage": "…" } }`; or
 * - the `traceparent` string itself: `fromBodyField('meta.traceparent')` reads
 *   `{ "meta": { "traceparent": "00-…" } }`.
 *
 * Which one is decided by the value found there: a string is a `traceparent`, an object
 * holds the fields. Paths are dot-separated keys; pass an array for keys that contain a
 * dot (`['meta', 'trace.context']`). Only own properties of plain JSON objects are
 * followed. The body is parsed only when the standard headers carry no context, and never
 * when it is over {@link MAX_CONTEXT_BODY_BYTES}. For CloudEvents in structured mode the
 * body is the whole event: `fromBodyField('data.traceContext')`.
 *
 * @throws TypeError when `path` is empty or has an empty key — when the decorator is made
 */
export function fromBodyField(path: BodyPath): ContextSource {
  const keys = typeof path === 'string' ? path.split('.') : [...path];
  if (keys.length === 0 || keys.some((key) => typeof key !== 'string' || key === '')) {
    throw new TypeError(
      `fromBodyField(path): path must be dot-separated keys or an array of keys, got ${JSON.stringify(path)}`,
    );
  }
  return tagged((_message: unknown, input: ContextSourceInput) => {
    let value = input.json();
    for (const key of keys) {
      if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) {
        return undefined;
      }
      value = (value as Record<string, unknown>)[key];
    }
    if (typeof value === 'string') return { traceparent: value };
    if (typeof value !== 'object' || value === null) return undefined;
    const fields = value as Record<string, unknown>;
    const traceparent = ownString(fields, 'traceparent');
    if (traceparent === undefined) return undefined;
    return {
      traceparent,
      tracestate: ownString(fields, 'tracestate'),
      baggage: ownString(fields, 'baggage'),
    };
  }, 'body');
}

function ownString(object: Record<string, unknown>, key: string): string | undefined {
  if (!Object.hasOwn(object, key)) return undefined;
  const value = object[key];
  return typeof value === 'string' ? value : undefined;
}

/** Which header or attribute holds each W3C field, for {@link fromHeaders}. */
export interface HeaderAliases {
  /** The header that holds a W3C `traceparent` (`x-trace-parent`, `X-Amzn-Traceparent`…). */
  readonly traceparent: string;
  /** The header that holds a `tracestate`. @defaultValue none */
  readonly tracestate?: string;
  /** The header that holds a `baggage`. @defaultValue none */
  readonly baggage?: string;
}

/**
 * A context source that reads the W3C fields from headers (message attributes) of other
 * names, for producers that wrote a W3C `traceparent` under their own header name:
 * `fromHeaders({ traceparent: 'x-trace-parent' })`. Headers are read through the adapter,
 * exactly as `traceparent` is (case as the broker delivers it). A header holding only a
 * trace id or a request id is not a `traceparent`: see docs/migration.md for a custom source.
 * On SQS, the receive must ask for these attributes (`MessageAttributeNames`).
 *
 * @throws TypeError when `aliases.traceparent` is not a non-empty string
 */
export function fromHeaders(aliases: HeaderAliases): ContextSource {
  const traceparentKey = aliases?.traceparent;
  if (typeof traceparentKey !== 'string' || traceparentKey === '') {
    throw new TypeError('fromHeaders({ traceparent }): traceparent must name a header');
  }
  const tracestateKey = aliases.tracestate;
  const baggageKey = aliases.baggage;
  return tagged((_message: unknown, input: ContextSourceInput) => {
    const traceparent = input.header(traceparentKey);
    if (traceparent === undefined) return undefined;
    return {
      traceparent,
      tracestate: tracestateKey === undefined ? undefined : input.header(tracestateKey),
      baggage: baggageKey === undefined ? undefined : input.header(baggageKey),
    };
  }, 'header-alias');
}

/** What a context source found: the context to process the message in, and who found it. */
export interface FoundContext {
  readonly context: Context;
  readonly kind: ContextSourceKind;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

const carrierGetter: TextMapGetter<object> = safeGetter((carrier: object, key: string) =>
  Object.hasOwn(carrier, key) ? (carrier as Record<string, unknown>)[key] : undefined,
);

interface Entry<TMessage> {
  readonly source: ContextSource<TMessage>;
  readonly kind: ContextSourceKind;
}

/**
 * The `contextSource` option of one consumer, ready to consult: made once per
 * `ConsumerTracer`, consulted only for messages whose headers carry no context.
 * @internal
 */
export class ContextSources<TMessage> {
  private constructor(
    private readonly entries: readonly Entry<TMessage>[],
    private readonly transport: ConsumerTransport<TMessage>,
    private readonly headers: TextMapGetter<TMessage>,
  ) {}

  /**
   * The option's sources, or `undefined` when there are none (the fast path stays a field
   * check).
   * @throws TypeError when the option is neither a function nor an array of functions
   */
  static of<TMessage>(
    option: ContextSource<TMessage> | readonly ContextSource<TMessage>[] | undefined,
    transport: ConsumerTransport<TMessage>,
    headers: TextMapGetter<TMessage>,
  ): ContextSources<TMessage> | undefined {
    if (option === undefined || option === null) return undefined;
    const list: readonly unknown[] = Array.isArray(option) ? option : [option];
    const entries: Entry<TMessage>[] = [];
    for (const source of list) {
      if (typeof source !== 'function') {
        throw new TypeError(
          'contextSource must be a function (message, input) => ({ traceparent }) or an array of them',
        );
      }
      const typed = source as ContextSource<TMessage>;
      entries.push({ source: typed, kind: kindOf(typed) });
    }
    return entries.length === 0 ? undefined : new ContextSources(entries, transport, headers);
  }

  /**
   * Asks each source in turn for the context of `message`, on top of `base`; the first
   * that yields a valid span context wins. Never throws: a source that throws, or returns
   * something malformed, is said once through `diag` and skipped.
   */
  find(message: TMessage, base: Context): FoundContext | undefined {
    const system = this.transport.system;
    let parsed = false;
    let body: unknown;
    const input: ContextSourceInput = {
      json: () => {
        if (!parsed) {
          parsed = true;
          body = parseBody(this.transport, message);
        }
        return body;
      },
      header: (name) => {
        const value = typeof name === 'string' ? this.headers.get(message, name) : undefined;
        return typeof value === 'string' ? value : undefined;
      },
    };
    const before = trace.getSpanContext(base);
    for (const entry of this.entries) {
      let carrier: unknown;
      try {
        carrier = entry.source(message, input);
      } catch (error) {
        reportOnce(
          `context-source:${system}:threw`,
          `a contextSource threw on a ${system} message (${String(error)}); it was processed on a new trace`,
        );
        continue;
      }
      if (carrier === undefined || carrier === null) continue;
      if (typeof carrier !== 'object' || isPromiseLike(carrier)) {
        reportOnce(
          `context-source:${system}:shape`,
          `a contextSource returned ${isPromiseLike(carrier) ? 'a promise' : `a ${typeof carrier}`} ` +
            `for a ${system} message instead of { traceparent } or nothing (sources are synchronous); ` +
            'it was processed on a new trace',
        );
        continue;
      }
      const context = extractMessageContext(carrier, carrierGetter, base);
      const found = trace.getSpanContext(context);
      if (
        found !== undefined &&
        found !== before &&
        found.isRemote &&
        trace.isSpanContextValid(found)
      ) {
        return { context, kind: entry.kind };
      }
      if (Object.hasOwn(carrier, TRACEPARENT)) {
        reportOnce(
          `context-source:${system}:invalid`,
          `a contextSource (${entry.kind}) found a malformed traceparent on a ${system} message; ` +
            'it was processed on a new trace',
        );
      }
    }
    return undefined;
  }
}

/** The message's body as JSON, or `undefined`; never parses a body over the bound. */
function parseBody<TMessage>(transport: ConsumerTransport<TMessage>, message: TMessage): unknown {
  const system = transport.system;
  if (transport.body === undefined) {
    reportOnce(
      `context-source:${system}:no-body`,
      `the ${system} transport cannot read message bodies: a contextSource cannot read the body`,
    );
    return undefined;
  }
  let raw: unknown;
  try {
    raw = transport.body(message);
  } catch (error) {
    reportOnce(
      `context-source:${system}:body`,
      `could not read a ${system} body: ${String(error)}`,
    );
    return undefined;
  }
  let text: string;
  if (typeof raw === 'string') {
    if (raw.length > MAX_CONTEXT_BODY_BYTES) return tooLarge(system);
    text = raw;
  } else if (raw instanceof Uint8Array) {
    if (raw.byteLength > MAX_CONTEXT_BODY_BYTES) return tooLarge(system);
    text = decoder.decode(raw);
  } else {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    reportOnce(
      `context-source:${system}:not-json`,
      `a ${system} message body without trace headers is not JSON: no trace context read from it; ` +
        'it was processed on a new trace',
    );
    return undefined;
  }
}

function tooLarge(system: string): undefined {
  reportOnce(
    `context-source:${system}:too-large`,
    `a ${system} message body without trace headers is over ${MAX_CONTEXT_BODY_BYTES} bytes: ` +
      'it was not parsed for a trace context, and the message was processed on a new trace',
  );
  return undefined;
}

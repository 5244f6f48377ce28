/**
 * What the `contextSource` integration tests share: the messages an old producer (a plain
 * client, context hand-rolled into a JSON body field) sends through each real broker, a
 * probe source that records which messages reached the sources and what the lazy body
 * accessor gave, and the outcome every broker must show.
 */
import { type SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { expect, vi, type MockInstance } from 'vitest';
import {
  ATTR_CONTEXT_SOURCE,
  fromBodyField,
  MAX_CONTEXT_BODY_BYTES,
  type ContextSource,
} from '../../src/context-source.js';
import { TRACEPARENT } from './traceparent.js';

/** The span an old producer wrote into the body. */
export const BODY_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
export const BODY_SPAN_ID = '00f067aa0ba902b7';
const BODY_TRACEPARENT = `00-${BODY_TRACE_ID}-${BODY_SPAN_ID}-01`;
/** The span in the standard `traceparent` header of the one migrated message. */
const HEADER_SPAN_ID = TRACEPARENT.split('-')[2];

const json = (value: unknown): string => JSON.stringify(value);

/** Valid JSON, a valid body context — and over the bound, so it must never be parsed. */
export const HUGE_BODY = json({
  orderId: 5,
  traceContext: { traceparent: BODY_TRACEPARENT },
  padding: 'x'.repeat(MAX_CONTEXT_BODY_BYTES),
});

/** One message as an old producer sends it: a case name (header `case`), body, headers. */
export interface OldMessage {
  readonly id: string;
  readonly body: string;
  /** Standard trace headers, for the one message from a producer already switched. */
  readonly traceHeaders?: Readonly<Record<string, string>>;
}

export const OLD_MESSAGES: readonly OldMessage[] = [
  { id: 'body', body: json({ orderId: 1, traceContext: { traceparent: BODY_TRACEPARENT } }) },
  { id: 'malformed-1', body: json({ orderId: 2, traceContext: { traceparent: '00-zz-01' } }) },
  {
    id: 'malformed-2',
    body: json({
      orderId: 3,
      traceContext: { traceparent: `00-${'0'.repeat(32)}-${BODY_SPAN_ID}-01` },
    }),
  },
  { id: 'not-json', body: 'order 4, plain text' },
  { id: 'huge', body: HUGE_BODY },
  {
    id: 'headers',
    body: json({ orderId: 6, traceContext: { traceparent: BODY_TRACEPARENT } }),
    traceHeaders: { traceparent: TRACEPARENT },
  },
];

/** Records, per case, that the sources were consulted and what `input.json()` returned. */
export interface Probe<M> {
  /** Put it first in `contextSource`: it only looks, and returns nothing. */
  readonly sources: ContextSource<M>[];
  readonly consulted: Map<string, unknown>;
}

export function probe<M>(caseOf: (message: M) => string | undefined): Probe<M> {
  const consulted = new Map<string, unknown>();
  const look: ContextSource<M> = (message, input) => {
    consulted.set(caseOf(message) ?? '?', input.json());
    return undefined;
  };
  return { sources: [look, fromBodyField('traceContext')], consulted };
}

/**
 * Watches `JSON.parse` (the clients' own calls included) until `stop()`, which restores it
 * and returns the first argument of every call made meanwhile.
 */
export function watchParse(): { stop(): unknown[] } {
  const spy: MockInstance<typeof JSON.parse> = vi.spyOn(JSON, 'parse');
  return {
    stop() {
      const texts = spy.mock.calls.map(([text]) => text as unknown);
      spy.mockRestore();
      return texts;
    },
  };
}

/** The warnings the context sources said (other parts of tracehop may say other things). */
export function sourceWarnings(warnings: readonly string[]): string[] {
  return warnings
    .filter((w) => w.includes('contextSource') || w.includes('message body without trace headers'))
    .sort();
}

/**
 * What every broker must show for {@link OLD_MESSAGES}: the body context continued (and
 * named), the bad ones on new traces, the header one from its header without asking a
 * source, the huge body never parsed, and each problem said once.
 */
export function expectOldProducerOutcome(options: {
  readonly system: string;
  /** The `process` span of each case, found by the span its handler ran in. */
  readonly spans: ReadonlyMap<string, ReadableSpan>;
  readonly consulted: ReadonlyMap<string, unknown>;
  /** What `JSON.parse` was called with meanwhile (see {@link watchParse}). */
  readonly parsed: readonly unknown[];
  readonly warnings: readonly string[];
}): void {
  const { spans, consulted, parsed, system } = options;
  expect([...spans.keys()].sort()).toEqual(OLD_MESSAGES.map((m) => m.id).sort());
  const span = (id: string): ReadableSpan => spans.get(id) as ReadableSpan;
  const linked = (s: ReadableSpan) => s.links.map((link) => link.context.spanId);
  const parent = (s: ReadableSpan): SpanContext | undefined => s.parentSpanContext;

  const continued = span('body');
  expect(continued.spanContext().traceId).toBe(BODY_TRACE_ID);
  expect(parent(continued)?.spanId).toBe(BODY_SPAN_ID);
  expect(linked(continued)).toEqual([BODY_SPAN_ID]);
  expect(continued.attributes[ATTR_CONTEXT_SOURCE]).toBe('body');

  for (const id of ['malformed-1', 'malformed-2', 'not-json', 'huge']) {
    const fresh = span(id);
    expect(parent(fresh), id).toBeUndefined();
    expect(fresh.spanContext().traceId, id).not.toBe(BODY_TRACE_ID);
    expect(linked(fresh), id).toEqual([]);
    expect(fresh.attributes[ATTR_CONTEXT_SOURCE], id).toBeUndefined();
  }

  const migrated = span('headers');
  expect(parent(migrated)?.spanId).toBe(HEADER_SPAN_ID);
  expect(migrated.attributes[ATTR_CONTEXT_SOURCE]).toBeUndefined();

  // The header message never reached a source; the others did, once each.
  expect([...consulted.keys()].sort()).toEqual([
    'body',
    'huge',
    'malformed-1',
    'malformed-2',
    'not-json',
  ]);
  expect(consulted.get('body')).toMatchObject({ orderId: 1 });
  expect(consulted.get('not-json')).toBeUndefined();
  // The huge body is valid JSON holding a valid context: had it been parsed, the probe
  // would have seen the object and the span would continue the body's trace.
  expect(consulted.get('huge')).toBeUndefined();
  expect(parsed.filter((text) => text === HUGE_BODY)).toHaveLength(0);
  // The control: the same spy did see the small bodies being parsed.
  expect(parsed.filter((text) => text === OLD_MESSAGES[0]?.body)).toHaveLength(1);

  expect(sourceWarnings(options.warnings)).toEqual(
    [
      `tracehop: a contextSource (body) found a malformed traceparent on a ${system} message; it was processed on a new trace`,
      `tracehop: a ${system} message body without trace headers is not JSON: no trace context read from it; it was processed on a new trace`,
      `tracehop: a ${system} message body without trace headers is over ${MAX_CONTEXT_BODY_BYTES} bytes: it was not parsed for a trace context, and the message was processed on a new trace`,
    ].sort(),
  );
}

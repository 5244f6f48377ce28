/**
 * Every W3C conformance case (test/w3c/cases.json) through extractMessageContext with a
 * plain object carrier, under the propagators tracehop meets: none registered (tracehop's
 * own W3C pair) and the W3C pair registered globally, as NodeSDK does. A `process`-like
 * span is started in the extracted context with the SDK, as the consumer does, so the
 * outcome is what a handler would see and send on.
 */
import {
  propagation,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type Context,
  type TextMapPropagator,
} from '@opentelemetry/api';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { AlwaysOnSampler, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerToString } from '../../src/header-value.js';
import { extractMessageContext, injectTraceFields, safeGetter } from '../../src/propagation.js';
import {
  guardTraceparent,
  parseBaggage,
  parseTracestate,
  truncateTracestate,
  W3CTraceState,
} from '../../src/w3c-guard.js';
import {
  expectOutcome,
  formatTally,
  headerRecord,
  loadCases,
  tallySuites,
  tracestateMembers,
  type Outcome,
} from '../w3c/cases.js';

type Carrier = Record<string, string | string[]>;

/** A reader like the transports': the exact name, else the name ignoring ASCII case. */
function readIgnoringCase(carrier: Carrier, key: string): unknown {
  const exact = carrier[key];
  if (exact !== undefined) return exact;
  for (const name of Object.keys(carrier)) {
    if (name.toLowerCase() === key) return carrier[name];
  }
  return undefined;
}

const getter = safeGetter(readIgnoringCase);
const tracer = new BasicTracerProvider({ sampler: new AlwaysOnSampler() }).getTracer('w3c');
const { cases } = loadCases();

function outcomeOf(extracted: Context): Outcome {
  const parent = trace.getSpanContext(extracted);
  const span = tracer.startSpan('process', {}, extracted);
  span.end();
  const own = span.spanContext();
  return {
    traceId: own.traceId,
    spanId: own.spanId,
    parentId: parent?.spanId,
    parentTraceId: parent?.traceId,
    parentFlags: parent?.traceFlags,
    flags: own.traceFlags,
    tracestate: tracestateMembers(own.traceState?.serialize()),
    baggage: (propagation.getBaggage(extracted)?.getAllEntries() ?? []).map(([key, entry]) =>
      entry.metadata === undefined
        ? { key, value: entry.value }
        : { key, value: entry.value, metadata: entry.metadata.toString() },
    ),
  };
}

const nodeSdkPropagator = (): TextMapPropagator =>
  new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  });

describe.each([
  ['no global propagator (tracehop’s W3C pair)', undefined],
  ['the W3C pair registered globally, as NodeSDK does', nodeSdkPropagator],
] as const)('W3C conformance cases with %s', (_name, propagator) => {
  const outcomes = new Map<string, Outcome>();
  beforeAll(() => {
    propagation.disable();
    if (propagator !== undefined) propagation.setGlobalPropagator(propagator());
  });
  afterAll(() => propagation.disable());

  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const outcome = outcomeOf(extractMessageContext(headerRecord(c.headers), getter, ROOT_CONTEXT));
    outcomes.set(c.id, outcome);
    expectOutcome(c, outcome);
  });

  it('fails the suites’ own assertions only where a deviation is documented', () => {
    expect(outcomes.size).toBe(cases.length);
    console.log(formatTally('unit', tallySuites(cases, outcomes, 'unit')));
  });
});

describe('the guard follows the propagator that is installed', () => {
  afterAll(() => propagation.disable());

  it('adds no baggage when the installed propagator does not read baggage', () => {
    propagation.disable();
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const extracted = extractMessageContext(
      { traceparent: ' 00-12345678901234567890123456789012-1234567890123456-01', baggage: 'a=' },
      getter,
      ROOT_CONTEXT,
    );
    expect(trace.getSpanContext(extracted)?.traceId).toBe('12345678901234567890123456789012');
    expect(propagation.getBaggage(extracted)).toBeUndefined();
  });

  it('leaves a span context another propagator made alone', () => {
    propagation.disable();
    const spanContext = {
      traceId: 'abcdefabcdefabcdefabcdefabcdefab',
      spanId: 'abcdefabcdefabcd',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    };
    propagation.setGlobalPropagator({
      inject: () => undefined,
      extract: (ctx, carrier, g) => {
        g.get(carrier, 'tracestate');
        return trace.setSpanContext(ctx, spanContext);
      },
      fields: () => ['x-mine'],
    });
    const extracted = extractMessageContext(
      { traceparent: `00-12345678901234567890123456789012-1234567890123456-01`, tracestate: 'a=1' },
      getter,
      ROOT_CONTEXT,
    );
    expect(trace.getSpanContext(extracted)).toBe(spanContext);
  });

  it('keeps the base baggage when the header holds nothing valid', () => {
    propagation.disable();
    const base = propagation.setBaggage(
      ROOT_CONTEXT,
      propagation.createBaggage({ mine: { value: '1' } }),
    );
    const extracted = extractMessageContext({ baggage: 'a b=1,=2' }, getter, base);
    expect(propagation.getBaggage(extracted)?.getAllEntries()).toEqual([['mine', { value: '1' }]]);
  });

  it('guards a getter it did not make', () => {
    propagation.disable();
    const plain = { get: (c: Carrier, k: string) => c[k], keys: () => [] };
    const extracted = extractMessageContext(
      { traceparent: `00-12345678901234567890123456789012-1234567890123456-01\n` },
      plain,
      ROOT_CONTEXT,
    );
    expect(trace.getSpanContext(extracted)).toBeUndefined();
  });

  it('sends on the normalized tracestate of the trace it continued', () => {
    propagation.disable();
    const extracted = extractMessageContext(
      {
        traceparent: '00-12345678901234567890123456789012-1234567890123456-01',
        tracestate: ' foo@=1 ,, 1abc=2\t',
      },
      getter,
      ROOT_CONTEXT,
    );
    expect(injectTraceFields(extracted)).toEqual({
      traceparent: '00-12345678901234567890123456789012-1234567890123456-01',
      tracestate: 'foo@=1,1abc=2',
    });
  });
});

describe('a traceparent given more than once', () => {
  it('is absent, even when all but one of its values are empty', () => {
    const valid = '00-12345678901234567890123456789012-1234567890123456-01';
    expect(headerToString(['', valid], 'traceparent')).toBeUndefined();
    expect(headerToString([valid, valid], 'traceparent')).toBeUndefined();
    expect(headerToString([valid], 'traceparent')).toBe(valid);
    expect(headerToString(['a=1', ''], 'tracestate')).toBe('a=1,');
  });
});

describe('guardTraceparent', () => {
  const plain = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('hands a plain header over as the same string (the fast path allocates nothing)', () => {
    expect(guardTraceparent(plain)).toBe(plain);
  });

  it('downgrades a higher version and clears flags this version does not define', () => {
    expect(guardTraceparent(`fe${plain.slice(2, 53)}ff-x`)).toBe(`00${plain.slice(2, 53)}03`);
  });

  it.each([
    ['an empty value', ''],
    ['only OWS', ' \t '],
    ['a vertical tab', `${plain}\v`],
    ['a form feed', `\f${plain}`],
    ['a control character in a future version’s fields', `01${plain.slice(2)}-a\u0000b`],
    ['non-ASCII in a future version’s fields', `01${plain.slice(2)}-é`],
  ])('treats %s as invalid', (_label, value) => {
    expect(guardTraceparent(value)).toBeUndefined();
  });
});

describe('W3CTraceState', () => {
  const state = parseTracestate('a=1,b=2') as W3CTraceState;

  it('serializes an unchanged header as it came', () => {
    const header = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7';
    expect(parseTracestate(header)?.serialize()).toBe(header);
  });

  it('sets a key at the left, moving it when it was there, and refuses invalid ones', () => {
    expect(state.set('b', '3').serialize()).toBe('b=3,a=1');
    expect(state.set('c@x', '4').serialize()).toBe('c@x=4,a=1,b=2');
    expect(state.set('C', '4')).toBe(state);
    expect(state.set('c', 'x,y')).toBe(state);
    expect(state.get('a')).toBe('1');
    expect(state.get('z')).toBeUndefined();
    expect(state.set('k'.repeat(256), 'v'.repeat(256))).toBe(state);
  });

  it('unsets a key', () => {
    expect(state.unset('a').serialize()).toBe('b=2');
    expect(state.unset('z')).toBe(state);
  });

  it('keeps 32 entries and 512 characters when set, never dropping the new one', () => {
    let grown: W3CTraceState = state;
    for (let i = 0; i < 40; i++) grown = grown.set(`k${String(i)}`, 'v');
    expect(grown.size).toBe(32);
    expect(grown.get('k39')).toBe('v');
    const long = grown.set('big', 'x'.repeat(256));
    expect(long.serialize().length).toBeLessThanOrEqual(512);
    expect(long.get('big')).toBe('x'.repeat(256));
  });

  it('truncates by the specification’s rule: long entries first, then from the end', () => {
    const v = (n: number) => 'v'.repeat(n);
    expect(
      truncateTracestate(['a', v(120), 'big', v(200), 'c', v(120), 'd', v(120)]).filter(
        (_, i) => i % 2 === 0,
      ),
    ).toEqual(['a', 'c', 'd']);
  });
});

describe('parseBaggage', () => {
  it('hands an unchanged header over as it came', () => {
    const header = 'userId=alice,serverNode=DF%2028,isProduction=false';
    expect(parseBaggage(header)?.header).toBe(header);
  });

  it('normalizes OWS and properties', () => {
    expect(parseBaggage('k1 = v1 ; p1 ; p2 = x , k2=v2')?.header).toBe('k1=v1;p1;p2=x,k2=v2');
  });

  it('keeps the entry of a repeated key where it first was, with its last value', () => {
    const parsed = parseBaggage('a=1,b=2,a=3');
    expect(Object.entries(parsed?.entries ?? {})).toEqual([
      ['a', { value: '3' }],
      ['b', { value: '2' }],
    ]);
  });

  it('reads __proto__ as a key like any other', () => {
    const parsed = parseBaggage('__proto__=1');
    expect(parsed?.count).toBe(1);
    expect(Object.keys(parsed?.entries ?? {})).toEqual(['__proto__']);
  });
});

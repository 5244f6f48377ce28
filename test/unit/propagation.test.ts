import { propagation, ROOT_CONTEXT, trace, TraceFlags, type Context } from '@opentelemetry/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractMessageContext, injectTraceFields, safeGetter } from '../../src/propagation.js';

type Headers = Record<string, unknown>;
const getter = safeGetter((headers: Headers, key: string) => headers[key]);
const extract = (headers: Headers): Context => extractMessageContext(headers, getter, ROOT_CONTEXT);
const spanOf = (headers: Headers) => trace.getSpanContext(extract(headers));

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';
const VALID = `00-${TRACE}-${SPAN}-01`;

describe('extracting traceparent follows the W3C trace-context rules', () => {
  it('reads a valid header', () => {
    expect(spanOf({ traceparent: VALID })).toMatchObject({
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
  });

  it.each([
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['version 00 with extra fields', `${VALID}-extra`],
    ['short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['long span id', `00-${TRACE}-${SPAN}0-01`],
    ['non-hex', `00-${TRACE.replace('a', 'g')}-${SPAN}-01`],
    ['uppercase hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['empty', ''],
    ['garbage', 'hello'],
    ['two headers joined', [VALID, VALID]],
    ['a number', 123],
    ['an object', { traceparent: VALID }],
  ])('treats %s as absent', (_label, value) => {
    expect(spanOf({ traceparent: value })).toBeUndefined();
  });

  it('reads the first four fields of an unknown future version', () => {
    expect(spanOf({ traceparent: `cc-${TRACE}-${SPAN}-01-what-the-future-holds` })).toMatchObject({
      traceId: TRACE,
      spanId: SPAN,
    });
  });

  it('reads a traceparent delivered as a Buffer', () => {
    expect(spanOf({ traceparent: Buffer.from(VALID) })?.traceId).toBe(TRACE);
  });
});

describe('extracting tracestate and baggage', () => {
  it('keeps at most 32 tracestate members', () => {
    const members = Array.from({ length: 40 }, (_, i) => `k${i}=v${i}`).join(',');
    const state = spanOf({ traceparent: VALID, tracestate: members })?.traceState;
    expect(state?.serialize().split(',')).toHaveLength(32);
  });

  it('drops tracestate members with invalid keys and keeps the valid ones', () => {
    const state = spanOf({
      traceparent: VALID,
      tracestate: 'ok=1,BAD KEY=2,also@vendor=3',
    })?.traceState;
    expect(state?.get('ok')).toBe('1');
    expect(state?.get('also@vendor')).toBe('3');
    expect(state?.get('BAD KEY')).toBeUndefined();
  });

  it('reads baggage, ignores members that break the grammar, and keeps keys as written', () => {
    const baggage = propagation.getBaggage(
      extract({ traceparent: VALID, baggage: 'user=ann,broken,%E0%A4%A=x,tenant=acme' }),
    );
    expect(baggage?.getEntry('user')?.value).toBe('ann');
    expect(baggage?.getEntry('tenant')?.value).toBe('acme');
    // `%` is a token character: W3C Baggage keys are never percent-decoded.
    expect(baggage?.getEntry('%E0%A4%A')?.value).toBe('x');
    expect(baggage?.getAllEntries()).toHaveLength(3);
  });

  it('bounds oversized baggage', () => {
    const huge = Array.from({ length: 2000 }, (_, i) => `key${i}=${'v'.repeat(3)}`).join(',');
    const entries = propagation.getBaggage(extract({ baggage: huge }))?.getAllEntries() ?? [];
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.length).toBeLessThanOrEqual(180);
  });
});

describe('injection', () => {
  it('writes traceparent, tracestate and baggage of the context', () => {
    const ctx = propagation.setBaggage(
      extract({ traceparent: VALID, tracestate: 'vendor=1' }),
      propagation.createBaggage({ user: { value: 'ann' } }),
    );
    expect(injectTraceFields(ctx)).toEqual({
      traceparent: VALID,
      tracestate: 'vendor=1',
      baggage: 'user=ann',
    });
  });

  it('writes nothing for a context without a span', () => {
    expect(injectTraceFields(ROOT_CONTEXT)).toEqual({});
  });
});

describe('extraction never throws and never yields an invalid context (fuzzed)', () => {
  const headerValue = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.stringMatching(/^[0-9a-fA-F-]{0,70}$/),
    fc
      .tuple(
        fc.stringMatching(/^[0-9a-f]{2}$/),
        fc.stringMatching(/^[0-9a-f]{32}$/),
        fc.stringMatching(/^[0-9a-f]{16}$/),
        fc.stringMatching(/^[0-9a-f]{2}$/),
        fc.option(fc.string({ maxLength: 10 })),
      )
      .map(([v, t, s, f, rest]) => `${v}-${t}-${s}-${f}${rest === null ? '' : `-${rest}`}`),
    fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes)),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string({ maxLength: 60 }), { maxLength: 3 }),
    fc.object({ maxDepth: 1 }),
  );
  const headers = fc.record(
    { traceparent: headerValue, tracestate: headerValue, baggage: headerValue },
    { requiredKeys: [] },
  );

  it('holds for arbitrary header maps', () => {
    fc.assert(
      fc.property(headers, (carrier) => {
        const ctx = extract(carrier);
        const spanContext = trace.getSpanContext(ctx);
        if (spanContext !== undefined) {
          expect(trace.isSpanContextValid(spanContext)).toBe(true);
          expect(spanContext.traceId).toMatch(/^[0-9a-f]{32}$/);
          expect(spanContext.spanId).toMatch(/^[0-9a-f]{16}$/);
        }
        // Whatever was extracted can be injected again without throwing.
        injectTraceFields(ctx);
      }),
      { numRuns: 3000 },
    );
  });
});

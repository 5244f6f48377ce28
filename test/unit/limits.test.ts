import { describe, expect, it } from 'vitest';
import { fitTraceFields } from '../../src/limits.js';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const fields = { traceparent: TP, tracestate: 'a=1,b=2', baggage: 'user=ann,tenant=acme' };

describe('fitting trace headers into a broker limit', () => {
  it('returns the same object, allocating nothing, when everything fits', () => {
    const fitted = fitTraceFields(fields, { maxEntries: 10 }, { entries: 7 });
    expect(fitted.fields).toBe(fields);
    expect(fitted.dropped).toEqual([]);
  });

  it('drops baggage first, then tracestate, when entries run out', () => {
    expect(fitTraceFields(fields, { maxEntries: 10 }, { entries: 8 })).toEqual({
      fields: { traceparent: TP, tracestate: 'a=1,b=2' },
      dropped: ['baggage'],
    });
    expect(fitTraceFields(fields, { maxEntries: 10 }, { entries: 9 })).toEqual({
      fields: { traceparent: TP },
      dropped: ['baggage', 'tracestate'],
    });
  });

  it('gives up traceparent last, so the caller can fall back', () => {
    expect(fitTraceFields(fields, { maxEntries: 10 }, { entries: 10 }).fields).toEqual({});
  });

  it('trims list members from the right to fit a value limit, counting UTF-8 bytes', () => {
    const baggage = 'a=1,name=%C3%A9%C3%A9,tenant=' + 'x'.repeat(50);
    const fitted = fitTraceFields(
      { traceparent: TP, baggage },
      { maxValueBytes: 60 },
      { entries: 0 },
    );
    expect(fitted.fields).toEqual({ traceparent: TP, baggage: 'a=1,name=%C3%A9%C3%A9' });
    expect(fitted.dropped).toEqual(['baggage members']);
  });

  it('counts multi-byte characters as bytes, not characters', () => {
    const state = 'k=' + 'é'.repeat(20); // 42 bytes, 22 characters
    const fitted = fitTraceFields({ tracestate: state }, { maxValueBytes: 30 }, { entries: 0 });
    expect(fitted.fields).toEqual({});
    expect(fitted.dropped).toEqual(['tracestate']);
  });

  it('respects a total byte budget', () => {
    const fitted = fitTraceFields(fields, { maxTotalBytes: 1000 }, { entries: 0, bytes: 930 });
    expect(Object.keys(fitted.fields)).toEqual(['traceparent']);
  });

  it('drops keys over the key limit', () => {
    const fitted = fitTraceFields({ traceparent: TP }, { maxKeyBytes: 5 }, { entries: 0 });
    expect(fitted.fields).toEqual({});
  });
});

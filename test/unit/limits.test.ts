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

describe('copies of trace fields under second names (Pub/Sub: googclient_*)', () => {
  const copies = { traceparent: 'googclient_traceparent', tracestate: 'googclient_tracestate' };
  const limits = { maxEntries: 10, copies };
  const all = {
    ...fields,
    googclient_traceparent: TP,
    googclient_tracestate: 'a=1,b=2',
  };

  it('adds each copy, with the same value, when everything fits', () => {
    expect(fitTraceFields(fields, limits, { entries: 5 })).toEqual({
      fields: all,
      dropped: [],
    });
    // Nothing to copy: the input itself, nothing allocated.
    const baggageOnly = { baggage: 'a=1' };
    expect(fitTraceFields(baggageOnly, limits, { entries: 0 }).fields).toBe(baggageOnly);
  });

  it('drops the copies first (googclient_tracestate, then googclient_traceparent), then baggage, tracestate, traceparent', () => {
    const dropOrder = [
      'googclient_tracestate',
      'googclient_traceparent',
      'baggage',
      'tracestate',
      'traceparent',
    ];
    for (let over = 0; over <= dropOrder.length; over++) {
      const dropped = dropOrder.slice(0, over);
      const kept = Object.fromEntries(Object.entries(all).filter(([k]) => !dropped.includes(k)));
      expect(fitTraceFields(fields, limits, { entries: 5 + over }), `${over} over`).toEqual({
        fields: kept,
        dropped,
      });
    }
  });

  it('copies a trimmed tracestate as trimmed, and no copy outlives the field it repeats', () => {
    // 65 bytes: over a 60-byte value limit (traceparent is 55).
    const state = 'a=' + 'x'.repeat(30) + ',b=' + 'y'.repeat(30);
    expect(
      fitTraceFields(
        { traceparent: TP, tracestate: state },
        { maxValueBytes: 60, copies },
        {
          entries: 0,
        },
      ),
    ).toEqual({
      fields: {
        traceparent: TP,
        tracestate: 'a=' + 'x'.repeat(30),
        googclient_traceparent: TP,
        googclient_tracestate: 'a=' + 'x'.repeat(30),
      },
      dropped: ['tracestate members'],
    });
    // A tracestate with no member short enough goes, and its copy with it.
    const gone = fitTraceFields(
      { traceparent: TP, tracestate: 'k=' + 'z'.repeat(70) },
      { maxValueBytes: 60, copies },
      { entries: 0 },
    );
    expect(gone).toEqual({
      fields: { traceparent: TP, googclient_traceparent: TP },
      dropped: ['tracestate'],
    });
  });

  it('adds no copies when the usage says so (the caller set its own), and allocates nothing', () => {
    const fitted = fitTraceFields(fields, limits, { entries: 0, copies: false });
    expect(fitted.fields).toBe(fields);
    expect(fitted.dropped).toEqual([]);
  });

  it('a copy in reserved room costs no entry and is kept even when its field must go', () => {
    const reserved = ['googclient_traceparent'];
    // The room (counted in entries) holds the copy; the rest goes as usual, copies first.
    expect(fitTraceFields(fields, limits, { entries: 8, reserved })).toEqual({
      fields: { traceparent: TP, tracestate: 'a=1,b=2', googclient_traceparent: TP },
      dropped: ['googclient_tracestate', 'baggage'],
    });
    // Not even traceparent fits beside the caller's 9 and the room: the copy carries the context.
    expect(fitTraceFields(fields, limits, { entries: 10, reserved })).toEqual({
      fields: { googclient_traceparent: TP },
      dropped: ['googclient_tracestate', 'baggage', 'tracestate', 'traceparent'],
    });
    // A message already full without tracehop has no real room: nothing is added.
    expect(fitTraceFields(fields, limits, { entries: 11, reserved }).fields).toEqual({});
  });

  it('a copy whose name is over the key limit is not written', () => {
    const fitted = fitTraceFields(
      { traceparent: TP },
      { maxKeyBytes: 12, copies: { traceparent: 'a-very-long-copy-name' } },
      { entries: 0 },
    );
    expect(fitted).toEqual({ fields: { traceparent: TP }, dropped: ['a-very-long-copy-name'] });
  });
});

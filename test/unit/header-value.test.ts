import { describe, expect, it } from 'vitest';
import { headerToString, MAX_HEADER_LENGTH } from '../../src/header-value.js';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('headerToString reads what brokers really deliver', () => {
  it('keeps strings', () => expect(headerToString(TP, 'traceparent')).toBe(TP));
  it('decodes Buffers and byte arrays as UTF-8', () => {
    expect(headerToString(Buffer.from(TP), 'traceparent')).toBe(TP);
    expect(headerToString(new TextEncoder().encode(TP), 'traceparent')).toBe(TP);
  });
  it('turns numbers and booleans into text that no trace header matches', () => {
    expect(headerToString(42, 'traceparent')).toBe('42');
    expect(headerToString(true, 'traceparent')).toBe('true');
  });
  it('treats missing values as absent', () => {
    expect(headerToString(undefined, 'traceparent')).toBeUndefined();
    expect(headerToString(null, 'traceparent')).toBeUndefined();
  });
  it('reads one-element arrays as their element and joins longer ones', () => {
    expect(headerToString([Buffer.from(TP)], 'traceparent')).toBe(TP);
    expect(headerToString(['a=1', 'b=2'], 'tracestate')).toBe('a=1,b=2');
  });
  it('ignores objects and over-long values', () => {
    expect(headerToString({ toString: () => TP }, 'traceparent')).toBeUndefined();
    expect(headerToString('x'.repeat(MAX_HEADER_LENGTH + 1), 'traceparent')).toBeUndefined();
    expect(headerToString(Buffer.alloc(MAX_HEADER_LENGTH * 5), 'baggage')).toBeUndefined();
  });
  it('keeps the leading members of an over-long baggage header', () => {
    const long = Array.from({ length: 2000 }, (_, i) => `k${i}=v`).join(',');
    const kept = headerToString(long, 'baggage');
    expect(kept?.length).toBeLessThanOrEqual(MAX_HEADER_LENGTH);
    expect(kept?.startsWith('k0=v,k1=v')).toBe(true);
    expect(kept?.endsWith('=v')).toBe(true);
  });
});

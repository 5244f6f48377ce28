/**
 * The case-insensitive header lookup every transport reads trace headers with: exact name
 * first, any case only when the exact name is missing, and never a throw or an unbounded
 * scan whatever the header map is.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_HEADER_NAMES_SEARCHED,
  equalsIgnoringAsciiCase,
  hasHeaderIgnoringCase,
  readHeaderIgnoringCase,
} from '../../src/header-names.js';
import { captureDiagWarnings } from '../../src/testing/index.js';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const OTHER = '00-11111111111111111111111111111111-2222222222222222-01';

const warnings = captureDiagWarnings();
beforeEach(() => warnings.start());
afterEach(() => warnings.stop());

/** A map with `count` filler names, then `extra`. */
function mapWith(count: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) map[`x-filler-${i}`] = i;
  return Object.assign(map, extra);
}

describe('readHeaderIgnoringCase', () => {
  it('reads the exact name, whatever its value type', () => {
    const bytes = Buffer.from(TP);
    expect(readHeaderIgnoringCase({ traceparent: TP }, 'traceparent')).toBe(TP);
    expect(readHeaderIgnoringCase({ traceparent: bytes }, 'traceparent')).toBe(bytes);
    expect(readHeaderIgnoringCase({ traceparent: 0 }, 'traceparent')).toBe(0);
    expect(readHeaderIgnoringCase({ traceparent: '' }, 'traceparent')).toBe('');
    // null is a value the broker delivered (AMQP void): present, not searched past
    expect(readHeaderIgnoringCase({ traceparent: null, TraceParent: TP }, 'traceparent')).toBe(
      null,
    );
  });

  it.each([
    ['TraceParent', 'traceparent'],
    ['TRACEPARENT', 'traceparent'],
    ['traceParent', 'traceparent'],
    ['TraceState', 'tracestate'],
    ['TRACESTATE', 'tracestate'],
    ['Baggage', 'baggage'],
    ['BAGGAGE', 'baggage'],
  ])('finds %s for %s', (name, key) => {
    expect(readHeaderIgnoringCase({ 'x-tenant': 'acme', [name]: 'v' }, key)).toBe('v');
    expect(hasHeaderIgnoringCase({ [name]: 'v' }, key)).toBe(true);
  });

  it('folds the key too: a propagator field in mixed case finds a lower-case header', () => {
    expect(readHeaderIgnoringCase({ 'x-b3-traceid': 'abc' }, 'X-B3-TraceId')).toBe('abc');
  });

  it('of traceparent and TraceParent, the exact one wins, whichever was written first', () => {
    expect(readHeaderIgnoringCase({ TraceParent: OTHER, traceparent: TP }, 'traceparent')).toBe(TP);
    expect(readHeaderIgnoringCase({ traceparent: TP, TraceParent: OTHER }, 'traceparent')).toBe(TP);
    expect(readHeaderIgnoringCase({ TRACEPARENT: OTHER, traceparent: TP }, 'traceparent')).toBe(TP);
  });

  it('without the exact name, the first match in the map’s order wins', () => {
    expect(readHeaderIgnoringCase({ TRACEPARENT: TP, TraceParent: OTHER }, 'traceparent')).toBe(TP);
    expect(readHeaderIgnoringCase({ TraceParent: OTHER, TRACEPARENT: TP }, 'traceparent')).toBe(
      OTHER,
    );
  });

  it('an exact name holding undefined counts as missing', () => {
    expect(readHeaderIgnoringCase({ traceparent: undefined, TraceParent: TP }, 'traceparent')).toBe(
      TP,
    );
    expect(readHeaderIgnoringCase({ traceparent: undefined }, 'traceparent')).toBeUndefined();
  });

  it('does not confuse names that only look alike', () => {
    const map = {
      'trace-parent': 'a',
      traceparent_: 'b',
      ' traceparent': 'c',
      traceparen: 'd',
      // Unicode case folding would make these match; header names are ASCII tokens.
      'trace\u017Ftate': 'e', // ſ, LATIN SMALL LETTER LONG S, upper-cases to S
      '\u212Aey': 'f', // K, KELVIN SIGN, lower-cases to k
    };
    expect(readHeaderIgnoringCase(map, 'traceparent')).toBeUndefined();
    expect(readHeaderIgnoringCase(map, 'tracestate')).toBeUndefined();
    expect(readHeaderIgnoringCase(map, 'key')).toBeUndefined();
    expect(hasHeaderIgnoringCase(map, 'baggage')).toBe(false);
  });

  it('agrees with lower-casing on ASCII names, and with nothing else', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary-ascii', maxLength: 12 }),
        fc.string({ unit: 'binary-ascii', maxLength: 12 }),
        (a, b) => equalsIgnoringAsciiCase(a, b) === (a.toLowerCase() === b.toLowerCase()),
      ),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 24 }), (name) => {
        const upper = name.toUpperCase();
        expect(readHeaderIgnoringCase({ [upper]: 'v' }, name.toLowerCase())).toBe('v');
      }),
    );
  });
});

describe('readHeaderIgnoringCase on hostile input', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'traceparent'],
    ['a number', 42],
    ['a boolean', true],
    ['a symbol', Symbol('traceparent')],
    ['a function with the name as a property', Object.assign(() => 1, { traceparent: TP })],
  ])('treats %s as no headers', (_, headers) => {
    expect(
      readHeaderIgnoringCase(headers as Record<string, unknown> | undefined, 'traceparent'),
    ).toBeUndefined();
  });

  it('does not search arrays and binary data, whose names are indices', () => {
    // Enumerating 20 M indices takes V8 about 2 s, however early the loop stops; not
    // enumerating them takes microseconds. The bound would give the same answer: only
    // the time tells them apart.
    const big = new Uint8Array(20_000_000);
    const started = performance.now();
    expect(
      readHeaderIgnoringCase(big as unknown as Record<string, unknown>, 'traceparent'),
    ).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(250);
    expect(
      readHeaderIgnoringCase(['TraceParent'] as unknown as Record<string, unknown>, 'traceparent'),
    ).toBeUndefined();
    expect(
      readHeaderIgnoringCase(Buffer.from(TP) as unknown as Record<string, unknown>, 'traceparent'),
    ).toBeUndefined();
  });

  it('reads null-prototype maps, and own __proto__ names from JSON, as plain names', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare['TraceParent'] = TP;
    expect(readHeaderIgnoringCase(bare, 'traceparent')).toBe(TP);

    const parsed = JSON.parse(
      '{"__proto__": {"traceparent": "polluted"}, "constructor": "c", "TraceState": "a=1"}',
    ) as Record<string, unknown>;
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    expect(readHeaderIgnoringCase(parsed, 'traceparent')).toBeUndefined();
    expect(readHeaderIgnoringCase(parsed, 'tracestate')).toBe('a=1');
    expect(readHeaderIgnoringCase(parsed, '__PROTO__')).toEqual({ traceparent: 'polluted' });
    // nothing leaked onto prototypes
    expect(({} as Record<string, unknown>)['traceparent']).toBeUndefined();
    expect(() => readHeaderIgnoringCase({}, '__proto__')).not.toThrow();
    expect(() => readHeaderIgnoringCase({}, 'constructor')).not.toThrow();
  });

  it('searches own names only: an inherited TraceParent is no header', () => {
    const inheriting = Object.create({ TraceParent: OTHER }) as Record<string, unknown>;
    inheriting['tenant'] = 'acme';
    expect(readHeaderIgnoringCase(inheriting, 'traceparent')).toBeUndefined();
  });

  it('never throws: a throwing getter or proxy trap is reported once, and the header is absent', () => {
    const exactGetter = Object.defineProperty({}, 'traceparent', {
      enumerable: true,
      get() {
        throw new Error('exact getter');
      },
    }) as Record<string, unknown>;
    const mixedGetter = Object.defineProperty({ tracestate: 'a=1' }, 'TraceParent', {
      enumerable: true,
      get() {
        throw new Error('mixed getter');
      },
    }) as Record<string, unknown>;
    const throwingKeys = new Proxy<Record<string, unknown>>(
      {},
      {
        ownKeys() {
          throw new Error('ownKeys trap');
        },
      },
    );
    const throwingGet = new Proxy<Record<string, unknown>>(
      { Baggage: 'k=v' },
      {
        get() {
          throw new Error('get trap');
        },
      },
    );
    expect(readHeaderIgnoringCase(exactGetter, 'traceparent')).toBeUndefined();
    expect(readHeaderIgnoringCase(mixedGetter, 'traceparent')).toBeUndefined();
    expect(readHeaderIgnoringCase(mixedGetter, 'tracestate')).toBe('a=1');
    expect(readHeaderIgnoringCase(throwingKeys, 'tracestate')).toBeUndefined();
    expect(readHeaderIgnoringCase(throwingGet, 'baggage')).toBeUndefined();
    expect(hasHeaderIgnoringCase(throwingGet, 'baggage')).toBe(false);
    expect(warnings.messages).toEqual([
      "tracehop: could not read the 'traceparent' header: Error: exact getter",
      "tracehop: could not read the 'tracestate' header: Error: ownKeys trap",
      "tracehop: could not read the 'baggage' header: Error: get trap",
    ]);
  });
});

describe('readHeaderIgnoringCase on huge maps', () => {
  it(`searches maps of up to ${MAX_HEADER_NAMES_SEARCHED} names in any case, larger ones by exact name only`, () => {
    const last = MAX_HEADER_NAMES_SEARCHED - 1;
    expect(readHeaderIgnoringCase(mapWith(last, { TraceParent: TP }), 'traceparent')).toBe(TP);
    const over = mapWith(MAX_HEADER_NAMES_SEARCHED, { TraceParent: TP });
    expect(readHeaderIgnoringCase(over, 'traceparent')).toBeUndefined();
    // The answer is the map's, not the position's: a match early in an oversized map is
    // not taken either, so every key gets the same treatment.
    const early = { TraceParent: TP, ...mapWith(MAX_HEADER_NAMES_SEARCHED) };
    expect(readHeaderIgnoringCase(early, 'traceparent')).toBeUndefined();
    // Exact names are still read, at any size.
    const huge = mapWith(200_000, { traceparent: TP });
    expect(readHeaderIgnoringCase(huge, 'traceparent')).toBe(TP);
  });

  it('enumerates an oversized map once, not once per header looked up', () => {
    let enumerations = 0;
    const target = mapWith(100_000, { TraceParent: TP });
    const counted = new Proxy(target, {
      ownKeys(object) {
        enumerations++;
        return Reflect.ownKeys(object);
      },
    });
    for (const key of ['traceparent', 'tracestate', 'baggage', 'traceparent']) {
      expect(readHeaderIgnoringCase(counted, key)).toBeUndefined();
    }
    expect(enumerations).toBe(1);
  });

  it('enumerates a small map on each miss, and not at all when the exact name is there', () => {
    let enumerations = 0;
    const counted = new Proxy<Record<string, unknown>>(
      { traceparent: TP, TraceState: 'a=1' },
      {
        ownKeys(object) {
          enumerations++;
          return Reflect.ownKeys(object);
        },
      },
    );
    expect(readHeaderIgnoringCase(counted, 'traceparent')).toBe(TP);
    expect(enumerations).toBe(0);
    expect(readHeaderIgnoringCase(counted, 'tracestate')).toBe('a=1');
    expect(readHeaderIgnoringCase(counted, 'baggage')).toBeUndefined();
    expect(enumerations).toBe(2);
  });
});

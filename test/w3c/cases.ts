/**
 * The W3C conformance cases (cases.json, written by generate.ts; README.md says where each
 * comes from) and what the unit and integration tests share to run them: the carriers each
 * broker gets, what a broker cannot carry, the outcome a case must have, and the suite's
 * own assertions.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

/** A header as the suites send it: name (any case) and value. Repeated names are allowed. */
export type Header = [string, string];
export type SuiteName = 'trace-context' | 'trace-context-level1-data' | 'baggage' | 'spec';
/** Where a case runs: `unit` is extractMessageContext with a plain object carrier. */
export type Broker = 'unit' | 'rabbitmq' | 'sqs' | 'pubsub';

/** A baggage entry the handler sees: `metadata` is the entry's properties as tracehop keeps them. */
export interface BaggageExpectation {
  key: string;
  value: string;
  metadata?: string;
}

/** A baggage entry as the baggage suite asserts it: properties decoded. */
export interface SuiteBaggageEntry {
  key: string;
  value: string;
  properties: [string, string | null][];
}

/**
 * What the suite itself asserts about a case (the harness looks at what the service sends
 * on; here, the `process` span and the context the handler runs in).
 */
export interface SuiteChecks {
  /** assertEqual(trace_id): the trace continues. */
  traceIdIs?: string;
  /** assertNotEqual(trace_id, each): the trace restarts. */
  traceIdNot?: string[];
  /** assertNotEqual(parent_id, this): the span sent on has its own id. */
  parentChanged?: string;
  /** Level 2: the random flag is set on what is sent on. */
  randomFlag?: boolean;
  /** The flags of the parent continued from (unknown flags set to 0). */
  parentFlags?: number;
  tracestateHas?: [string, string][];
  tracestateHasOneOf?: [string, string][];
  tracestateLacks?: string[];
  /** Members (`k=v`) that appear in this order. */
  tracestateInOrder?: string[];
  tracestateSize?: number;
  tracestateIs?: [string, string][];
  /** Exactly these entries, in order. */
  baggage?: SuiteBaggageEntry[];
  /** Every entry seen is one of these, whole. */
  baggageSubsetOf?: SuiteBaggageEntry[];
  baggageMinCount?: number;
}

export interface W3CCase {
  id: string;
  suite: SuiteName;
  /** Where in the suite: file, test and request. */
  source: string;
  /** The harness runs it at STRICT_LEVEL 2 (its default) only. */
  strict?: boolean;
  headers: Header[];
  /** The exact outcome tracehop must have. */
  expect: {
    trace: 'continue' | 'restart';
    traceId?: string;
    parentId?: string;
    parentFlags?: number;
    /** The tracestate the process span carries, left-most first; `[]`: none. */
    tracestate: [string, string][];
    /** The baggage the handler sees, in order; `[]`: none. */
    baggage: BaggageExpectation[];
  };
  suiteChecks: SuiteChecks;
  /** Why tracehop's outcome fails the suite's assertion: a known, documented deviation. */
  deviation?: string;
  /** Brokers that cannot carry the case's headers unchanged, and why. */
  notApplicable?: Partial<Record<Broker, string>>;
}

export interface CaseSource {
  repo: string;
  branch: string;
  commit: string;
  path: string;
}

export interface CaseFile {
  sources: Record<SuiteName, CaseSource>;
  cases: W3CCase[];
}

let loaded: CaseFile | undefined;

export function loadCases(): CaseFile {
  loaded ??= JSON.parse(
    readFileSync(new URL('./cases.json', import.meta.url), 'utf8'),
  ) as unknown as CaseFile;
  return loaded;
}

const PUBSUB_MAX_VALUE_BYTES = 1024;

/** Why `headers` cannot reach a handler through `broker` unchanged, or `undefined`. */
export function notCarried(broker: Broker, headers: readonly Header[]): string | undefined {
  if (broker === 'unit' || broker === 'rabbitmq') return undefined;
  const names = headers.map(([name]) => name);
  if (new Set(names).size !== names.length) {
    return `${broker === 'sqs' ? 'SQS message attributes' : 'Pub/Sub attributes'} are a map: a name cannot repeat`;
  }
  if (broker === 'sqs' && headers.some(([, value]) => value === '')) {
    return 'SQS rejects an empty message attribute value ("Name, type, value and the message body must not be empty")';
  }
  if (
    broker === 'pubsub' &&
    headers.some(([, value]) => Buffer.byteLength(value) > PUBSUB_MAX_VALUE_BYTES)
  ) {
    return 'Pub/Sub rejects attribute values over 1024 bytes (the emulator does not check)';
  }
  return undefined;
}

/**
 * The headers as one map: a repeated name becomes an array of its values, in order (an AMQP
 * field array; tracehop joins them with `,` as repeated HTTP fields combine).
 */
export function headerRecord(headers: readonly Header[]): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  for (const [name, value] of headers) {
    const seen = record[name];
    record[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return record;
}

/** What one case came to: the process span and the context its handler ran in. */
export interface Outcome {
  traceId: string;
  spanId: string;
  /** The parent of the process span; `undefined` when it is a root (the trace restarted). */
  parentId: string | undefined;
  parentTraceId: string | undefined;
  parentFlags: number | undefined;
  /** The process span's own flags: what the handler sends on. */
  flags: number;
  tracestate: [string, string][];
  baggage: BaggageExpectation[];
}

/** A serialized tracestate as its members. */
export function tracestateMembers(serialized: string | undefined): [string, string][] {
  if (serialized === undefined || serialized === '') return [];
  return serialized.split(',').map((member): [string, string] => {
    const equals = member.indexOf('=');
    return [member.slice(0, equals), member.slice(equals + 1)];
  });
}

/** Asserts the exact outcome the case file gives. */
export function expectOutcome(c: W3CCase, outcome: Outcome): void {
  const label = `${c.id} (${c.source})`;
  if (c.expect.trace === 'continue') {
    expect(
      {
        traceId: outcome.traceId,
        parentTraceId: outcome.parentTraceId,
        parentId: outcome.parentId,
        parentFlags: outcome.parentFlags,
      },
      label,
    ).toEqual({
      traceId: c.expect.traceId,
      parentTraceId: c.expect.traceId,
      parentId: c.expect.parentId,
      parentFlags: c.expect.parentFlags,
    });
  } else {
    expect(outcome.parentId, `${label}: restarts, a root span`).toBeUndefined();
  }
  expect(outcome.tracestate, `${label}: tracestate`).toEqual(c.expect.tracestate);
  expect(outcome.baggage, `${label}: baggage`).toEqual(c.expect.baggage);
}

/** Percent-decoding of the baggage suite's reference class: `unquote`, UTF-8, U+FFFD. */
export function percentDecode(value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    if (/^%[0-9a-fA-F]{2}$/.test(value.slice(i, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(value.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function suiteEntry(entry: BaggageExpectation): SuiteBaggageEntry {
  const properties: [string, string | null][] = [];
  if (entry.metadata !== undefined) {
    for (const property of entry.metadata.split(';')) {
      const equals = property.indexOf('=');
      properties.push(
        equals === -1
          ? [property, null]
          : [property.slice(0, equals), percentDecode(property.slice(equals + 1))],
      );
    }
  }
  return { key: entry.key, value: entry.value, properties };
}

/** The suite's assertions that `outcome` fails, as messages; `[]` when it passes. */
export function suiteFailures(c: W3CCase, outcome: Outcome): string[] {
  const checks = c.suiteChecks;
  const failures: string[] = [];
  const members = outcome.tracestate.map(([k, v]) => `${k}=${v}`);
  const has = ([k, v]: [string, string]) => members.includes(`${k}=${v}`);
  const fail = (condition: boolean, message: string) => {
    if (!condition) failures.push(message);
  };
  if (checks.traceIdIs !== undefined) {
    fail(outcome.traceId === checks.traceIdIs, `trace id is ${checks.traceIdIs}`);
  }
  if (checks.traceIdNot !== undefined) {
    fail(
      !checks.traceIdNot.includes(outcome.traceId),
      `trace id is none of ${String(checks.traceIdNot)}`,
    );
  }
  if (checks.parentChanged !== undefined) {
    fail(outcome.spanId !== checks.parentChanged, 'the span sent on has a new id');
  }
  if (checks.randomFlag === true) fail((outcome.flags & 0x02) === 0x02, 'random flag set');
  if (checks.parentFlags !== undefined) {
    fail(outcome.parentFlags === checks.parentFlags, `parent flags ${String(checks.parentFlags)}`);
  }
  for (const member of checks.tracestateHas ?? [])
    fail(has(member), `tracestate has ${member.join('=')}`);
  if (checks.tracestateHasOneOf !== undefined) {
    fail(checks.tracestateHasOneOf.some(has), 'tracestate has one of them');
  }
  for (const key of checks.tracestateLacks ?? []) {
    fail(!outcome.tracestate.some(([k]) => k === key), `tracestate lacks ${key}`);
  }
  if (checks.tracestateInOrder !== undefined) {
    const positions = checks.tracestateInOrder.map((m) => members.indexOf(m));
    fail(
      positions.every((p, i) => p >= 0 && (i === 0 || p > (positions[i - 1] as number))),
      `tracestate holds ${checks.tracestateInOrder.join(',')} in this order`,
    );
  }
  if (checks.tracestateSize !== undefined) {
    fail(
      members.length === checks.tracestateSize,
      `tracestate of ${String(checks.tracestateSize)}`,
    );
  }
  if (checks.tracestateIs !== undefined) {
    fail(
      JSON.stringify(outcome.tracestate) === JSON.stringify(checks.tracestateIs),
      'tracestate is exactly the expected one',
    );
  }
  const seen = outcome.baggage.map(suiteEntry);
  if (checks.baggage !== undefined) {
    fail(
      JSON.stringify(seen) === JSON.stringify(checks.baggage),
      'baggage is exactly the expected one',
    );
  }
  if (checks.baggageSubsetOf !== undefined) {
    const allowed = new Set(checks.baggageSubsetOf.map((e) => JSON.stringify(e)));
    fail(
      seen.every((e) => allowed.has(JSON.stringify(e))),
      'every baggage entry is whole',
    );
  }
  if (checks.baggageMinCount !== undefined) {
    fail(
      seen.length >= checks.baggageMinCount,
      `at least ${String(checks.baggageMinCount)} entries`,
    );
  }
  return failures;
}

/** Pass counts per suite, for the report and docs/conformance.md. */
export interface SuiteTally {
  suite: SuiteName;
  cases: number;
  passed: number;
  deviations: number;
  notApplicable: number;
}

/**
 * Checks every outcome against its suite's assertions: the cases that fail them must be
 * exactly the documented deviations. Returns the tally per suite.
 */
export function tallySuites(
  cases: readonly W3CCase[],
  outcomes: ReadonlyMap<string, Outcome>,
  broker: Broker,
): SuiteTally[] {
  const failing: Record<string, string[]> = {};
  for (const c of cases) {
    const outcome = outcomes.get(c.id);
    if (outcome === undefined) continue;
    const failures = suiteFailures(c, outcome);
    if (failures.length > 0) failing[c.id] = failures;
  }
  const documented = cases
    .filter((c) => c.deviation !== undefined && outcomes.has(c.id))
    .map((c) => c.id);
  expect(Object.keys(failing).sort(), `suite assertions failed on ${broker}`).toEqual(
    documented.sort(),
  );
  const suites: SuiteName[] = ['trace-context', 'trace-context-level1-data', 'baggage', 'spec'];
  return suites.map((suite) => {
    const of = cases.filter((c) => c.suite === suite);
    const ran = of.filter((c) => outcomes.has(c.id));
    const deviations = ran.filter((c) => failing[c.id] !== undefined).length;
    return {
      suite,
      cases: of.length,
      passed: ran.length - deviations,
      deviations,
      notApplicable: of.length - ran.length,
    };
  });
}

/** The tally as lines, for the test output. */
export function formatTally(broker: Broker, tally: readonly SuiteTally[], ms?: number): string {
  const lines = tally.map(
    (t) =>
      `  ${t.suite.padEnd(26)} ${String(t.passed).padStart(3)} passed, ${String(t.deviations)} deviations, ${String(t.notApplicable)} not applicable (of ${String(t.cases)})`,
  );
  return [
    `W3C conformance on ${broker}${ms === undefined ? '' : ` (${String(Math.round(ms))} ms)`}:`,
    ...lines,
  ].join('\n');
}

/**
 * What a benchmark run exported, in a form two runs can be compared by: the spans grouped
 * into shapes (same name, kind, parent, link targets, attribute keys, events and status),
 * each with its count per message and the attribute values that were the same on every span
 * of the shape. Used by `bench/telemetry.ts` to show that the traced variants record the same
 * telemetry.
 */
import { SpanKind, SpanStatusCode, type AttributeValue } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** One shape of span a run exported. */
export interface SpanShape {
  /** `KIND name`. */
  readonly span: string;
  /** `root`, `child of <name>`, `child of an unexported span`. */
  readonly parent: string;
  /** How many spans of this shape per message. */
  readonly perMessage: number;
  /** `key=value` where every span had the same value, else `key=<type>`; sorted by key. */
  readonly attributes: readonly string[];
  /** The names of the linked spans, with the mean number of links per span. */
  readonly links: string;
  /** The events in order, each `name {key=value, …}` as for the attributes. */
  readonly events: readonly string[];
  /** The status code, when not UNSET. */
  readonly status: string;
}

interface Group {
  readonly span: string;
  readonly parent: string;
  readonly linkTargets: string;
  readonly status: string;
  count: number;
  links: number;
  readonly attributes: Map<string, Values>;
  readonly events: { readonly name: string; readonly attributes: Map<string, Values> }[];
}

/** The values seen for one key: the first, and whether any other differed. */
interface Values {
  readonly first: string;
  readonly type: string;
  varies: boolean;
}

/**
 * Groups `spans` into shapes. `rename` replaces run-specific text (a queue named after the
 * process) in names and string values, so that two runs' shapes compare equal.
 */
export function describeSpans(
  spans: readonly ReadableSpan[],
  messages: number,
  rename: Readonly<Record<string, string>>,
): SpanShape[] {
  const replacements = Object.entries(rename).sort(([a], [b]) => b.length - a.length);
  const normalize = (text: string): string =>
    replacements.reduce((result, [from, to]) => result.split(from).join(to), text);
  const byId = new Map<string, ReadableSpan>();
  for (const span of spans) byId.set(span.spanContext().spanId, span);
  const nameOf = (spanId: string): string | undefined => {
    const span = byId.get(spanId);
    return span === undefined ? undefined : normalize(span.name);
  };

  const groups = new Map<string, Group>();
  for (const span of spans) {
    const parentContext = span.parentSpanContext;
    const parentName = parentContext === undefined ? undefined : nameOf(parentContext.spanId);
    const parent =
      parentContext === undefined
        ? 'root'
        : parentName !== undefined
          ? `child of ${parentName}`
          : 'child of an unexported span';
    const targets = [
      ...new Set(span.links.map((link) => nameOf(link.context.spanId) ?? 'an unexported span')),
    ].sort();
    const status =
      span.status.code === SpanStatusCode.UNSET ? '' : SpanStatusCode[span.status.code];
    const attributeKeys = Object.keys(span.attributes).sort();
    const eventKeys = span.events.map(
      (event) =>
        `${event.name}(${Object.keys(event.attributes ?? {})
          .sort()
          .join(',')})`,
    );
    const spanText = `${SpanKind[span.kind]} ${normalize(span.name)}`;
    const key = JSON.stringify([spanText, parent, targets, status, attributeKeys, eventKeys]);
    let group = groups.get(key);
    if (group === undefined) {
      group = {
        span: spanText,
        parent,
        linkTargets: targets.join(', '),
        status,
        count: 0,
        links: 0,
        attributes: new Map(),
        events: span.events.map((event) => ({ name: event.name, attributes: new Map() })),
      };
      groups.set(key, group);
    }
    group.count++;
    group.links += span.links.length;
    for (const name of attributeKeys) {
      see(group.attributes, name, span.attributes[name], normalize);
    }
    span.events.forEach((event, index) => {
      const seen = group.events[index];
      if (seen === undefined) return;
      for (const [name, value] of Object.entries(event.attributes ?? {})) {
        see(seen.attributes, name, value, normalize);
      }
    });
  }

  return [...groups.values()]
    .sort(
      (a, b) =>
        a.span.localeCompare(b.span) ||
        a.parent.localeCompare(b.parent) ||
        [...a.attributes.keys()].join().localeCompare([...b.attributes.keys()].join()) ||
        a.linkTargets.localeCompare(b.linkTargets) ||
        b.count - a.count,
    )
    .map((group) => ({
      span: group.span,
      parent: group.parent,
      perMessage: group.count / messages,
      attributes: shown(group.attributes),
      links:
        group.links === 0
          ? 'none'
          : `${(group.links / group.count).toFixed(2)} per span, to ${group.linkTargets}`,
      events: group.events.map((event) => `${event.name} {${shown(event.attributes).join(', ')}}`),
      status: group.status,
    }));
}

function see(
  values: Map<string, Values>,
  key: string,
  value: AttributeValue | undefined,
  normalize: (text: string) => string,
): void {
  const text = typeof value === 'string' ? normalize(value) : JSON.stringify(value);
  const known = values.get(key);
  if (known === undefined) {
    values.set(key, {
      first: text,
      type: Array.isArray(value) ? 'array' : typeof value,
      varies: false,
    });
  } else if (known.first !== text) {
    known.varies = true;
  }
}

function shown(values: Map<string, Values>): string[] {
  return [...values.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, seen]) => (seen.varies ? `${key}=<${seen.type}>` : `${key}=${seen.first}`));
}

/** The shapes as indented text, one block per shape. */
export function formatShapes(shapes: readonly SpanShape[]): string {
  const lines: string[] = [];
  for (const shape of shapes) {
    lines.push(
      `  ${shape.perMessage.toFixed(3)}/msg  ${shape.span}  (${shape.parent})${shape.status ? ` status ${shape.status}` : ''}`,
    );
    lines.push(`      attributes: ${shape.attributes.join(', ') || 'none'}`);
    lines.push(`      links: ${shape.links}`);
    for (const event of shape.events) lines.push(`      event: ${event}`);
  }
  return lines.join('\n');
}

/**
 * Where two runs' shapes differ, as lines of text (empty when they match): a shape only one
 * run has, or a shape both have whose attributes, events or links differ, or whose count per
 * message differs by more than 0.05 (how many receives come back empty varies from run to run).
 */
export function compareShapes(
  expected: readonly SpanShape[],
  actual: readonly SpanShape[],
  expectedName: string,
  actualName: string,
): string[] {
  const mineByKey = keyed(expected);
  const theirs = keyed(actual);
  const differences: string[] = [];
  for (const [key, shape] of mineByKey) {
    const other = theirs.get(key);
    theirs.delete(key);
    if (other === undefined) {
      differences.push(`only ${expectedName}: ${key} ${shape.attributes.join(', ')}`);
      continue;
    }
    // Spans made per call rather than per message are compared by shape, not count: how
    // many polls of an SQS queue come back empty depends on timing.
    const perCall = shape.perMessage < 0.5 && other.perMessage < 0.5;
    if (!perCall && Math.abs(shape.perMessage - other.perMessage) > 0.05) {
      differences.push(
        `${key}: ${shape.perMessage.toFixed(3)}/msg in ${expectedName}, ${other.perMessage.toFixed(3)}/msg in ${actualName}`,
      );
    }
    const fields: [string, string, string, boolean][] = [
      [
        'attributes',
        shape.attributes.join(', '),
        other.attributes.join(', '),
        sameValues(shape.attributes, other.attributes),
      ],
      ['links', linkTargets(shape), linkTargets(other), linkTargets(shape) === linkTargets(other)],
      [
        'events',
        shape.events.join(' | '),
        other.events.join(' | '),
        sameEvents(shape.events, other.events),
      ],
      ['status', shape.status, other.status, shape.status === other.status],
    ];
    for (const [field, mine, their, same] of fields) {
      if (!same) {
        differences.push(
          `${key} ${field}:\n    ${expectedName}: ${mine}\n    ${actualName}: ${their}`,
        );
      }
    }
  }
  for (const [key, shape] of theirs) {
    differences.push(`only ${actualName}: ${key} ${shape.attributes.join(', ')}`);
  }
  return differences;
}

/** Shapes by `KIND name (parent)`, numbered from the second on when several share one. */
function keyed(shapes: readonly SpanShape[]): Map<string, SpanShape> {
  const result = new Map<string, SpanShape>();
  for (const shape of shapes) {
    const base = `${shape.span} (${shape.parent})`;
    let key = base;
    for (let n = 2; result.has(key); n++) key = `${base} #${n}`;
    result.set(key, shape);
  }
  return result;
}

function linkTargets(shape: SpanShape): string {
  return shape.links.replace(/^[\d.]+ per span, /, '');
}

/**
 * Whether two sorted `key=value` lists name the same keys with the same values, a value that
 * varied (`<type>`) in either run matching any: a value constant over a handful of spans in
 * one run (the one empty receive's request id) may vary over more in the other.
 */
function sameValues(mine: readonly string[], theirs: readonly string[]): boolean {
  if (mine.length !== theirs.length) return false;
  return mine.every((entry, index) => {
    const other = theirs[index] ?? '';
    if (entry === other) return true;
    const [key, value] = splitEntry(entry);
    const [otherKey, otherValue] = splitEntry(other);
    return key === otherKey && (value.startsWith('<') || otherValue.startsWith('<'));
  });
}

function splitEntry(entry: string): [string, string] {
  const at = entry.indexOf('=');
  return at === -1 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
}

/** {@link sameValues} for events, `name {key=value, …}` each. */
function sameEvents(mine: readonly string[], theirs: readonly string[]): boolean {
  if (mine.length !== theirs.length) return false;
  return mine.every((event, index) => {
    const [name, values] = splitEvent(event);
    const [otherName, otherValues] = splitEvent(theirs[index] ?? '');
    return name === otherName && sameValues(values, otherValues);
  });
}

function splitEvent(event: string): [string, string[]] {
  const open = event.indexOf(' {');
  if (open === -1) return [event, []];
  const inner = event.slice(open + 2, -1);
  return [event.slice(0, open), inner === '' ? [] : inner.split(', ')];
}

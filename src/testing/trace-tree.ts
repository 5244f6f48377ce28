import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

const KIND_NAMES: Record<SpanKind, string> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};

function durationMs(span: ReadableSpan): string {
  const [seconds, nanos] = span.duration;
  return `${(seconds * 1e3 + nanos / 1e6).toFixed(1)} ms`;
}

function key(traceId: string, spanId: string): string {
  return `${traceId}/${spanId}`;
}

/**
 * Renders spans as one indented tree per trace: name, kind, duration, and each link
 * (`↔ link to "send orders"`, or to a span outside the set by id). Spans whose parent is
 * not in the set are shown as roots, marked `(parent not exported)`.
 */
export function renderTraceTree(spans: readonly ReadableSpan[]): string {
  const byId = new Map<string, ReadableSpan>();
  for (const span of spans)
    byId.set(key(span.spanContext().traceId, span.spanContext().spanId), span);
  const children = new Map<string, ReadableSpan[]>();
  const roots: ReadableSpan[] = [];
  for (const span of spans) {
    const parent = span.parentSpanContext;
    const parentKey = parent ? key(parent.traceId, parent.spanId) : undefined;
    if (parentKey !== undefined && byId.has(parentKey)) {
      const list = children.get(parentKey) ?? [];
      list.push(span);
      children.set(parentKey, list);
    } else {
      roots.push(span);
    }
  }
  const byStart = (a: ReadableSpan, b: ReadableSpan) =>
    a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1];
  const lines: string[] = [];
  const visit = (span: ReadableSpan, depth: number) => {
    const pad = '  '.repeat(depth);
    const orphan = depth === 0 && span.parentSpanContext ? ' (parent not exported)' : '';
    lines.push(`${pad}${span.name} [${KIND_NAMES[span.kind]}] ${durationMs(span)}${orphan}`);
    for (const link of span.links) {
      const target = byId.get(key(link.context.traceId, link.context.spanId));
      const label = target
        ? `"${target.name}"`
        : `${link.context.traceId.slice(0, 8)}…/${link.context.spanId}`;
      lines.push(`${pad}  ↔ link to ${label}`);
    }
    const own = children.get(key(span.spanContext().traceId, span.spanContext().spanId)) ?? [];
    for (const child of own.sort(byStart)) visit(child, depth + 1);
  };
  const traces = new Map<string, ReadableSpan[]>();
  for (const root of roots.sort(byStart)) {
    const list = traces.get(root.spanContext().traceId) ?? [];
    list.push(root);
    traces.set(root.spanContext().traceId, list);
  }
  for (const [traceId, traceRoots] of traces) {
    lines.push(`trace ${traceId}`);
    for (const root of traceRoots) visit(root, 1);
  }
  return lines.join('\n');
}

/** Shared helpers of the RabbitMQ integration tests: real amqplib, real broker. */
import { randomUUID } from 'node:crypto';
import type { Link } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { connect, type ChannelModel } from 'amqplib';
import { expect, inject } from 'vitest';

/** A connection to the test run's RabbitMQ. */
export function openConnection(): Promise<ChannelModel> {
  return connect(inject('rabbitmqUrl'));
}

/** A queue or exchange name no other test uses. */
export function uniqueName(what: string): string {
  return `tracehop-${what}-${randomUUID()}`;
}

/** The one span named `name`; fails, printing what there is, when there is not exactly one. */
export function only(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((span) => span.name === name);
  expect(found, `spans named "${name}" among: ${spans.map((s) => s.name).join(', ')}`).toHaveLength(
    1,
  );
  return found[0] as ReadableSpan;
}

/** Spans named `name`. */
export function named(spans: readonly ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((span) => span.name === name);
}

/** Whether `child`'s parent is `parent`, in the same trace. */
export function isChildOf(child: ReadableSpan, parent: ReadableSpan): boolean {
  return (
    child.spanContext().traceId === parent.spanContext().traceId &&
    child.parentSpanContext?.spanId === parent.spanContext().spanId
  );
}

/** Whether `span` links to `target`. */
export function linksTo(span: ReadableSpan, target: ReadableSpan): boolean {
  return span.links.some(
    (link: Link) =>
      link.context.traceId === target.spanContext().traceId &&
      link.context.spanId === target.spanContext().spanId,
  );
}

/** A promise with its resolve function, to wait on events instead of sleeping. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Collects `count` items, then resolves `all` with them. */
export function collector<T>(count: number): { add: (item: T) => void; all: Promise<T[]> } {
  const items: T[] = [];
  const { promise, resolve } = deferred<T[]>();
  return {
    add(item) {
      items.push(item);
      if (items.length === count) resolve(items);
    },
    all: promise,
  };
}

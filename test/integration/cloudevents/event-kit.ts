/** Events and expectations the CloudEvents round-trip tests share, whatever the broker. */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { CloudEvent } from 'cloudevents';
import { expect } from 'vitest';
import type { CloudEventBinding, ContentMode } from '../../../adapters/cloudevents/index.js';

export const MODES: readonly ContentMode[] = ['binary', 'structured'];

/** The extension values the plain-client round trips send (W3C's own example values). */
export const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
export const TRACESTATE = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7';

export interface Order {
  id: number;
  note: string;
}

/** An order event with JSON data, a subject and, unless told otherwise, no extension. */
export function orderEvent(extensions: Record<string, string> = {}): CloudEvent<Order> {
  return new CloudEvent<Order>({
    type: 'com.example.order.created',
    source: '/orders',
    subject: 'order-42',
    datacontenttype: 'application/json',
    data: { id: 42, note: 'crème brûlée ✓' },
    ...extensions,
  });
}

/**
 * The `traceparent` values a hostile or broken producer really sends: garbage, uppercase hex,
 * all-zero ids, a forbidden version, a version-00 value with extra fields.
 */
export const MALFORMED_TRACEPARENTS: readonly string[] = [
  'garbage',
  TRACEPARENT.toUpperCase(),
  `00-${'0'.repeat(32)}-b7ad6b7169203331-01`,
  `00-0af7651916cd43dd8448eb211c80319c-${'0'.repeat(16)}-01`,
  'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  `${TRACEPARENT}-extra`,
];

/** An event's own fields as a plain object, to compare events field by field. */
export function fieldsOf(event: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event));
}

/** The `traceparent` of a span, as the extension or a transport header carries it. */
export function traceparentOf(span: ReadableSpan): string {
  const { traceId, spanId } = span.spanContext();
  return `00-${traceId}-${spanId}-01`;
}

/**
 * What every round trip asserts: the received message is a CloudEvent, it decodes to exactly
 * the event that was sent — id, source, type, subject, datacontenttype, time, data and every
 * extension, the trace extension included — and `traceHeader` reads that extension without
 * decoding.
 */
export function expectSameEvent<TIn>(
  binding: Pick<CloudEventBinding<unknown, TIn>, 'isEvent' | 'toEvent' | 'traceHeader'>,
  received: TIn,
  sent: CloudEvent<Order>,
): CloudEvent<Order> {
  expect(binding.isEvent(received)).toBe(true);
  const decoded = binding.toEvent<Order>(received);
  expect(decoded).toBeInstanceOf(CloudEvent);
  expect(fieldsOf(decoded)).toEqual(fieldsOf(sent));
  expect(decoded.data).toEqual({ id: 42, note: 'crème brûlée ✓' });
  expect(decoded.validate()).toBe(true);
  expect(typeof sent.traceparent).toBe('string');
  expect(binding.traceHeader(received, 'traceparent')).toBe(sent.traceparent);
  expect(binding.traceHeader(received, 'tracestate')).toBe(sent.tracestate);
  return decoded;
}

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

/** The trace and span ids of {@link TRACEPARENT}, the context a plain producer's extension carries. */
export const EXTENSION_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
export const EXTENSION_SPAN_ID = 'b7ad6b7169203331';

/**
 * The `cloudevents.*` span attributes the OpenTelemetry CloudEvents conventions give an order
 * event (see {@link orderEvent}), written out rather than computed by the code under test.
 */
export function orderEventAttributes(event: CloudEvent<Order>): Record<string, string> {
  return {
    'cloudevents.event_id': event.id,
    'cloudevents.event_source': '/orders',
    'cloudevents.event_type': 'com.example.order.created',
    'cloudevents.event_subject': 'order-42',
    'cloudevents.event_spec_version': '1.0',
  };
}

/** The names of a span's `cloudevents.*` attributes. */
export function cloudEventAttributeNames(span: ReadableSpan): string[] {
  return Object.keys(span.attributes).filter((key) => key.startsWith('cloudevents.'));
}

/** The `traceId:spanId` of every context a span links to, in order. */
export function linkedContexts(span: ReadableSpan): string[] {
  return span.links.map((link) => `${link.context.traceId}:${link.context.spanId}`);
}

/** A span's own context as {@link linkedContexts} writes it. */
export function contextOf(span: ReadableSpan): string {
  const { traceId, spanId } = span.spanContext();
  return `${traceId}:${spanId}`;
}

/**
 * A structured-mode event body a producer might send without its `source`: valid JSON and
 * accepted by the SDK's lenient reading, rejected by its strict mode.
 */
export const SOURCELESS_EVENT_BODY = JSON.stringify({
  specversion: '1.0',
  id: 'no-source-1',
  type: 'com.example.order.created',
  datacontenttype: 'application/json',
  data: { id: 7, note: 'no source' },
});

/** A structured-mode body that is not JSON: the binding throws `SyntaxError`. */
export const NOT_JSON_BODY = '{"specversion": "1.0", "id": ';

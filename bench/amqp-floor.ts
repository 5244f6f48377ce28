/**
 * The RabbitMQ `sdk-floor`: the spans, attributes, links and events `traceChannel` records
 * for `sendToQueue` and a consumer that acks, written inline with the OpenTelemetry API and
 * nothing else — what a competent hand-written instrumentation of the same telemetry costs.
 *
 * Per message: a PRODUCER `send {queue}` span whose context goes into the headers (with the
 * AMQP `timestamp`, for the consumer's queue time), ended once amqplib has buffered the
 * message; a CONSUMER `process {queue}` span, child of the extracted context and linked to
 * it, active while the handler runs, with an `ack` event, ended after the ack.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Attributes,
  type Link,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import type { Channel, ConsumeMessage, MessagePropertyHeaders } from 'amqplib';
import { floorSetter, floorTracer } from './floor.js';

const headerGetter: TextMapGetter<MessagePropertyHeaders | undefined> = {
  get(headers, key) {
    const value: unknown = headers?.[key];
    return typeof value === 'string' ? value : undefined;
  },
  keys: (headers) => (headers === undefined ? [] : Object.keys(headers)),
};

const ACK_EVENT: Attributes = Object.freeze({
  'messaging.operation.type': 'settle',
  'messaging.operation.name': 'ack',
});

/** The inline instrumentation of one queue's producer and consumer. */
export class AmqpFloor {
  private readonly tracer: Tracer = floorTracer();
  private readonly sendName: string;
  private readonly processName: string;
  /** What every `send` span carries, copied into each span's own attributes. */
  private readonly sendAttributes: Attributes;
  private readonly processAttributes: Attributes;

  constructor(
    private readonly queue: string,
    channel: Channel,
  ) {
    this.sendName = `send ${queue}`;
    this.processName = `process ${queue}`;
    const server = serverOf(channel);
    this.sendAttributes = Object.freeze({
      'messaging.destination.name': queue,
      'rabbitmq.destination.routing_key': queue,
      ...server,
      'messaging.system.name': 'rabbitmq',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
    });
    this.processAttributes = Object.freeze({
      'messaging.destination.name': queue,
      'rabbitmq.destination.routing_key': queue,
      ...server,
      'messaging.system.name': 'rabbitmq',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
    });
  }

  /** `sendToQueue` in a `send` span; returns what amqplib returns. */
  send(channel: Channel, body: Buffer): boolean {
    const parent = context.active();
    const span = this.tracer.startSpan(
      this.sendName,
      {
        kind: SpanKind.PRODUCER,
        attributes: { ...this.sendAttributes, 'messaging.message.body.size': body.length },
      },
      parent,
    );
    const headers: Record<string, string> = {};
    propagation.inject(trace.setSpan(parent, span), headers, floorSetter);
    try {
      return channel.sendToQueue(this.queue, body, {
        headers,
        timestamp: Math.floor(Date.now() / 1000),
      });
    } finally {
      span.end();
    }
  }

  /** Runs `handler` (which acks) in the message's `process` span, records the ack, ends the span. */
  process(message: ConsumeMessage, handler: (message: ConsumeMessage) => void): void {
    const properties = message.properties;
    const parent = propagation.extract(ROOT_CONTEXT, properties.headers, headerGetter);
    const creation = trace.getSpanContext(parent);
    const links: Link[] = creation === undefined ? [] : [{ context: creation }];
    const attributes: Attributes = {
      ...this.processAttributes,
      'rabbitmq.message.delivery_tag': message.fields.deliveryTag,
      'messaging.message.body.size': message.content.length,
    };
    const sentAt: unknown = properties.timestamp;
    if (typeof sentAt === 'number' && sentAt > 0) {
      attributes['tracehop.message.queue_time'] = Math.max(0, Date.now() - sentAt * 1000) / 1000;
    }
    const span = this.tracer.startSpan(
      this.processName,
      { kind: SpanKind.CONSUMER, links, attributes },
      parent,
    );
    context.with(trace.setSpan(parent, span), handleAndRecord, undefined, message, span, handler);
    span.end();
  }
}

function handleAndRecord(
  message: ConsumeMessage,
  span: Span,
  handler: (message: ConsumeMessage) => void,
): void {
  handler(message);
  span.addEvent('ack', ACK_EVENT);
}

/** `server.address` and `server.port` of the channel's socket. */
function serverOf(channel: Channel): Attributes {
  // amqplib's typings do not declare the channel's connection and its socket, which it has.
  const socket = (
    channel as unknown as {
      connection?: { stream?: { remoteAddress?: string; remotePort?: number } };
    }
  ).connection?.stream;
  const attributes: Attributes = {};
  if (socket?.remoteAddress !== undefined) attributes['server.address'] = socket.remoteAddress;
  if (socket?.remotePort !== undefined) attributes['server.port'] = socket.remotePort;
  return attributes;
}

import type { Attributes } from '@opentelemetry/api';
import type { Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import {
  ATTR_AMQP_REDELIVERED,
  createAmqpTransport,
  type AmqpOutgoingMessage,
} from '../../../adapters/amqp/index.js';

const server = { address: '10.0.0.7', port: 5671 };

describe('the RabbitMQ transport description', () => {
  it('writes trace headers into a copy, keeping the caller’s headers and options untouched', () => {
    const transport = createAmqpTransport();
    const headers = Object.freeze({ tenant: 'acme', traceparent: 'stale' });
    const options = Object.freeze({ headers, persistent: true });
    const message: AmqpOutgoingMessage = Object.freeze({
      exchange: 'orders',
      routingKey: 'eu',
      content: Buffer.from('x'),
      options,
    });
    const traced = transport.withHeaders(message, { traceparent: 'new', baggage: 'k=v' });
    expect(traced.options).toEqual({
      persistent: true,
      headers: { tenant: 'acme', traceparent: 'new', baggage: 'k=v' },
      timestamp: expect.any(Number) as number,
    });
    expect(traced.options).not.toBe(options);
    expect(traced.options?.headers).not.toBe(headers);
    expect(message.options).toBe(options);
  });

  it('sets the AMQP timestamp (whole seconds) on its copy when the caller set none, and keeps the caller’s', () => {
    const transport = createAmqpTransport();
    const content = Buffer.from('x');
    const before = Math.floor(Date.now() / 1000);
    for (const options of [undefined, {}, { timestamp: null as unknown as number }]) {
      const traced = transport.withHeaders(
        { exchange: '', routingKey: 'q', content, options },
        { traceparent: 'tp' },
      );
      const timestamp = traced.options?.timestamp;
      expect(Number.isInteger(timestamp)).toBe(true);
      expect(timestamp).toBeGreaterThanOrEqual(before);
      expect(timestamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    }
    const own = { timestamp: 1_700_000_000 };
    const traced = transport.withHeaders(
      { exchange: '', routingKey: 'q', content, options: own },
      { traceparent: 'tp' },
    );
    expect(traced.options?.timestamp).toBe(1_700_000_000);
    expect(own).toEqual({ timestamp: 1_700_000_000 });
  });

  it('reads the timestamp as seconds, or as milliseconds when a producer wrote Date.now()', () => {
    const transport = createAmqpTransport();
    const delivered = (timestamp: unknown) =>
      ({ fields: {}, properties: { headers: {}, timestamp }, content: Buffer.from('') }) as Message;
    expect(transport.sentAt?.(delivered(1_700_000_000))).toBe(1_700_000_000_000);
    expect(transport.sentAt?.(delivered(1_700_000_000_123))).toBe(1_700_000_000_123);
    for (const nothing of [undefined, 0, -5, Number.NaN, '1700000000']) {
      expect(transport.sentAt?.(delivered(nothing))).toBeUndefined();
    }
  });

  it('adds headers when the caller gave no options or no headers', () => {
    const transport = createAmqpTransport();
    const content = Buffer.from('x');
    for (const options of [undefined, {}, { headers: null }]) {
      const traced = transport.withHeaders(
        { exchange: '', routingKey: 'q', content, options },
        { traceparent: 'tp' },
      );
      expect(traced.options?.headers).toEqual({ traceparent: 'tp' });
    }
  });

  it('describes a published message: what samplers need at start, the rest as details', () => {
    const transport = createAmqpTransport({ server });
    const message: AmqpOutgoingMessage = {
      exchange: 'orders',
      routingKey: 'eu.created',
      content: Buffer.from('12345'),
      options: { messageId: 'm1', correlationId: 'c1' },
    };
    const attributes: Attributes = {};
    expect(transport.describeOutgoing(message, attributes)).toBe('orders:eu.created');
    expect(attributes).toEqual({
      'messaging.destination.name': 'orders:eu.created',
      'server.address': '10.0.0.7',
      'server.port': 5671,
    });
    const details: Attributes = {};
    transport.describeOutgoingDetails?.(message, details);
    expect(details).toEqual({
      'rabbitmq.destination.routing_key': 'eu.created',
      'messaging.message.id': 'm1',
      'messaging.message.conversation_id': 'c1',
      'messaging.message.body.size': 5,
    });
  });

  it('never throws on what a caller passed, whatever its types', () => {
    const transport = createAmqpTransport();
    const attributes: Attributes = {};
    const odd = {
      exchange: 7,
      routingKey: null,
      content: 'not a buffer',
      options: { messageId: 9 },
    };
    expect(transport.describeOutgoing(odd as unknown as AmqpOutgoingMessage, attributes)).toBe(
      'amq.default',
    );
    transport.describeOutgoingDetails?.(odd as unknown as AmqpOutgoingMessage, attributes);
    expect(attributes['messaging.message.id']).toBeUndefined();
  });

  it('describes a delivered message, with its queue', () => {
    const transport = createAmqpTransport({ queue: 'billing', server });
    const attributes: Attributes = {};
    const message = {
      fields: {
        deliveryTag: 3,
        redelivered: true,
        exchange: 'orders',
        routingKey: 'eu',
        consumerTag: 't',
      },
      properties: { headers: {}, messageId: 'm1', correlationId: undefined },
      content: Buffer.from('ab'),
    } as unknown as Message;
    expect(transport.describeIncoming(message, attributes)).toBe('orders:eu:billing');
    expect(attributes).toEqual({
      'messaging.destination.name': 'orders:eu:billing',
      'server.address': '10.0.0.7',
      'server.port': 5671,
    });
    const details: Attributes = {};
    transport.describeIncomingDetails?.(message, details);
    expect(details).toEqual({
      'rabbitmq.destination.routing_key': 'eu',
      'rabbitmq.message.delivery_tag': 3,
      [ATTR_AMQP_REDELIVERED]: true,
      'messaging.message.id': 'm1',
      'messaging.message.body.size': 2,
    });
  });

  it('reads headers as delivered, and nothing from a message without headers', () => {
    const transport = createAmqpTransport();
    const bytes = Buffer.from('tp');
    const withHeaders = { properties: { headers: { traceparent: bytes } } } as unknown as Message;
    const without = { properties: {} } as unknown as Message;
    expect(transport.readHeader(withHeaders, 'traceparent')).toBe(bytes);
    expect(transport.readHeader(without, 'traceparent')).toBeUndefined();
    expect(transport.system).toBe('rabbitmq');
  });
});

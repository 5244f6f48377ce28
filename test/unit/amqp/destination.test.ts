import { describe, expect, it } from 'vitest';
import { consumerDestination, sendDestination } from '../../../adapters/amqp/destination.js';

describe('RabbitMQ destinations are named per the semantic conventions', () => {
  it.each([
    ['orders', 'eu.created', 'orders:eu.created'],
    ['', 'jobs', 'jobs'],
    ['events', '', 'events'],
    ['', '', 'amq.default'],
  ])('send to exchange %j with routing key %j is %j', (exchange, routingKey, expected) => {
    expect(sendDestination(exchange, routingKey)).toBe(expected);
  });

  it.each([
    ['orders', 'eu.created', 'billing', 'orders:eu.created:billing'],
    ['', 'jobs', 'jobs', 'jobs'],
    ['events', '', 'audit', 'events:audit'],
    ['', 'jobs', 'other', 'jobs:other'],
    ['logs', 'app.error', undefined, 'logs:app.error'],
    ['', '', '', 'amq.default'],
    ['', '', undefined, 'amq.default'],
  ])(
    'a delivery from exchange %j, routing key %j, queue %j is %j',
    (exchange, routingKey, queue, expected) => {
      expect(consumerDestination(exchange, routingKey, queue)).toBe(expected);
    },
  );
});

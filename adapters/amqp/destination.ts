/** The destination RabbitMQ spans name when exchange, routing key and queue are all empty. */
export const DEFAULT_EXCHANGE = 'amq.default';

/**
 * The destination of a published message, as the messaging semantic conventions name it
 * for RabbitMQ: `{exchange}:{routing key}` when both are non-empty, whichever one is
 * non-empty otherwise (so `sendToQueue('orders')` is `orders`), and `amq.default` when
 * neither is.
 */
export function sendDestination(exchange: string, routingKey: string): string {
  if (exchange === '') return routingKey === '' ? DEFAULT_EXCHANGE : routingKey;
  return routingKey === '' ? exchange : `${exchange}:${routingKey}`;
}

/**
 * The destination of a consumed message: `{exchange}:{routing key}:{queue}`, leaving out
 * empty parts and the queue when it equals the routing key (a message sent to a queue
 * through the default exchange is just `{queue}`); `amq.default` when all are empty.
 * Without a queue (unknown to the caller), `{exchange}:{routing key}`.
 */
export function consumerDestination(
  exchange: string,
  routingKey: string,
  queue: string | undefined,
): string {
  let destination = exchange;
  if (routingKey !== '')
    destination = destination === '' ? routingKey : `${destination}:${routingKey}`;
  if (queue !== undefined && queue !== '' && queue !== routingKey) {
    destination = destination === '' ? queue : `${destination}:${queue}`;
  }
  return destination === '' ? DEFAULT_EXCHANGE : destination;
}

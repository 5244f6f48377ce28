/**
 * Attributes tracehop records on RabbitMQ spans and events where the semantic
 * conventions have no name (yet). Kept under `tracehop.amqp.*` so that they never
 * collide with a future `rabbitmq.*` convention.
 *
 * @packageDocumentation
 */

/**
 * On `process` and `receive` spans of a message the broker delivered before (AMQP
 * `redelivered`): `true`, and absent on first deliveries.
 */
export const ATTR_AMQP_REDELIVERED = 'tracehop.amqp.redelivered';

/** On `nack` and `reject` settle events: whether the broker was asked to requeue the message. */
export const ATTR_AMQP_REQUEUE = 'tracehop.amqp.requeue';

/**
 * On settle events: the message was settled together with others (`ackAll`, `nackAll`, or
 * `ack`/`nack` with `allUpTo`).
 */
export const ATTR_AMQP_MULTIPLE = 'tracehop.amqp.multiple';

/** On the `return` event of a `send` span: the broker's reply code (312 for `NO_ROUTE`). */
export const ATTR_AMQP_REPLY_CODE = 'tracehop.amqp.reply_code';

/** On the `return` event of a `send` span: the broker's reply text (`NO_ROUTE`). */
export const ATTR_AMQP_REPLY_TEXT = 'tracehop.amqp.reply_text';

export { traceChannel } from './trace-channel.js';
export { traceAmqpHandler } from './trace-amqp-handler.js';
export {
  createAmqpTransport,
  type AmqpOutgoingMessage,
  type AmqpServer,
  type AmqpTransport,
  type AmqpTransportOptions,
} from './amqp-transport.js';
export type {
  AmqpChannel,
  AsyncMessageHandler,
  TracedChannel,
  AmqpHandlerOptions,
  AmqpTransportHook,
  AutoSettleOptions,
  TraceChannelOptions,
} from './types.js';
export { ChannelClosedError } from './channel-closed-error.js';
export {
  ATTR_AMQP_MULTIPLE,
  ATTR_AMQP_REDELIVERED,
  ATTR_AMQP_REPLY_CODE,
  ATTR_AMQP_REPLY_TEXT,
  ATTR_AMQP_REQUEUE,
} from './attributes.js';
export { DISABLE_OFFICIAL_AMQPLIB } from './official-instrumentation.js';

export { withTraceContext, readTraceContext } from './trace-context.js';
export { cloudEventAttributes } from './cloud-event-attributes.js';
export { recordCloudEvent } from './record-cloud-event.js';
export { CLOUDEVENTS_JSON_CONTENT_TYPE } from './event-codec.js';
export {
  toPubSubMessage,
  fromPubSubMessage,
  isPubSubCloudEvent,
  type PubSubEncodeOptions,
  type PubSubEventMessage,
  type PubSubReceivedMessage,
} from './pubsub-binding.js';
export {
  toAmqpMessage,
  fromAmqpMessage,
  type AmqpEncodeOptions,
  type AmqpEventMessage,
  type AmqpReceivedMessage,
} from './amqp-binding.js';
export {
  toSqsMessage,
  fromSqsMessage,
  type SqsEncodeOptions,
  type SqsEventMessage,
  type SqsReceivedMessage,
  type SqsStringAttribute,
} from './sqs-binding.js';
export {
  tracePubSubCloudEventHandler,
  type PubSubCloudEventHandlerOptions,
} from './pubsub-cloud-event-handler.js';
export type {
  CloudEventLike,
  ContentMode,
  DecodeOptions,
  EncodeOptions,
  WithTraceContextOptions,
} from './types.js';

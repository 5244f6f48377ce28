export { withTraceContext, readTraceContext } from './trace-context.js';
export { cloudEventAttributes } from './cloud-event-attributes.js';
export { recordCloudEvent } from './record-cloud-event.js';
export { CLOUDEVENTS_JSON_CONTENT_TYPE } from './event-codec.js';
export {
  pubSubBinding,
  toPubSubMessage,
  fromPubSubMessage,
  isPubSubCloudEvent,
  type PubSubEncodeOptions,
  type PubSubEventMessage,
  type PubSubReceivedMessage,
} from './pubsub-binding.js';
export {
  amqpBinding,
  toAmqpMessage,
  fromAmqpMessage,
  type AmqpEncodeOptions,
  type AmqpEventMessage,
  type AmqpReceivedMessage,
} from './amqp-binding.js';
export {
  sqsBinding,
  toSqsMessage,
  fromSqsMessage,
  type SqsEncodeOptions,
  type SqsEventMessage,
  type SqsReceivedMessage,
  type SqsStringAttribute,
} from './sqs-binding.js';
export {
  traceAmqpCloudEventHandler,
  tracePubSubCloudEventHandler,
  traceSqsCloudEventHandler,
  type AmqpCloudEventHandlerOptions,
  type PubSubCloudEventHandlerOptions,
  type SqsCloudEventHandlerOptions,
} from './cloud-event-handlers.js';
export type {
  CloudEventBinding,
  CloudEventLike,
  ContentMode,
  DecodeOptions,
  EncodeOptions,
  TraceHeaderName,
  WithTraceContextOptions,
} from './types.js';

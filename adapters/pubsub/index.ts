export { traceTopic } from './trace-topic.js';
export { tracePubSub, type PubSubClient } from './trace-pubsub.js';
export { tracePubSubHandler } from './trace-pubsub-handler.js';
export { SubscriptionClosedError } from './subscription-closed-error.js';
export { ATTR_PUBSUB_ACK_RESPONSE } from './settle-recorder.js';
export {
  PubSubTransport,
  PUBSUB_LIMITS,
  GOOGCLIENT_TRACEPARENT,
  GOOGCLIENT_TRACESTATE,
} from './pubsub-transport.js';
export type {
  PubSubHandlerOptions,
  PubSubMessage,
  PubSubOutgoingMessage,
  PubSubPublishCallback,
  PubSubPublisher,
  PubSubSubscriptionRef,
  PubSubTopic,
  TraceTopicOptions,
} from './types.js';

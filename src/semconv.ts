/**
 * The semantic-convention names tracehop emits, copied from
 * `@opentelemetry/semantic-conventions` 1.45 (`/incubating`). The package README
 * advises copying incubating constants instead of importing them at runtime; a
 * unit test compares every value here with the package so a rename is noticed.
 *
 * @packageDocumentation
 */

export const ATTR_MESSAGING_SYSTEM_NAME = 'messaging.system.name';
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
export const ATTR_MESSAGING_DESTINATION_TEMPLATE = 'messaging.destination.template';
export const ATTR_MESSAGING_DESTINATION_TEMPORARY = 'messaging.destination.temporary';
export const ATTR_MESSAGING_DESTINATION_ANONYMOUS = 'messaging.destination.anonymous';
export const ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME =
  'messaging.destination.subscription.name';
export const ATTR_MESSAGING_CONSUMER_GROUP_NAME = 'messaging.consumer.group.name';
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
export const ATTR_MESSAGING_MESSAGE_CONVERSATION_ID = 'messaging.message.conversation_id';
export const ATTR_MESSAGING_MESSAGE_BODY_SIZE = 'messaging.message.body.size';
export const ATTR_MESSAGING_BATCH_MESSAGE_COUNT = 'messaging.batch.message_count';
export const ATTR_MESSAGING_CLIENT_ID = 'messaging.client.id';

export const ATTR_RABBITMQ_DESTINATION_ROUTING_KEY = 'rabbitmq.destination.routing_key';
export const ATTR_RABBITMQ_MESSAGE_DELIVERY_TAG = 'rabbitmq.message.delivery_tag';

export const ATTR_GCP_PUBSUB_MESSAGE_ACK_DEADLINE = 'gcp.pubsub.message.ack_deadline';
export const ATTR_GCP_PUBSUB_MESSAGE_ACK_ID = 'gcp.pubsub.message.ack_id';
export const ATTR_GCP_PUBSUB_MESSAGE_DELIVERY_ATTEMPT = 'gcp.pubsub.message.delivery_attempt';
export const ATTR_GCP_PUBSUB_MESSAGE_ORDERING_KEY = 'gcp.pubsub.message.ordering_key';

export const ATTR_AWS_SQS_QUEUE_URL = 'aws.sqs.queue.url';
export const ATTR_AWS_REQUEST_ID = 'aws.request_id';
export const ATTR_AWS_SNS_TOPIC_ARN = 'aws.sns.topic.arn';

export const ATTR_CLOUDEVENTS_EVENT_ID = 'cloudevents.event_id';
export const ATTR_CLOUDEVENTS_EVENT_SOURCE = 'cloudevents.event_source';
export const ATTR_CLOUDEVENTS_EVENT_SPEC_VERSION = 'cloudevents.event_spec_version';
export const ATTR_CLOUDEVENTS_EVENT_SUBJECT = 'cloudevents.event_subject';
export const ATTR_CLOUDEVENTS_EVENT_TYPE = 'cloudevents.event_type';

export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';

export const MESSAGING_SYSTEM_NAME_VALUE_RABBITMQ = 'rabbitmq';
export const MESSAGING_SYSTEM_NAME_VALUE_AWS_SQS = 'aws.sqs';
/** SNS kept its value in 1.45 (`aws.sns` before and after), so it has no previous name. */
export const MESSAGING_SYSTEM_NAME_VALUE_AWS_SNS = 'aws.sns';
export const MESSAGING_SYSTEM_NAME_VALUE_GCP_PUBSUB = 'gcp.pubsub';

/** `messaging.operation.type` values. */
export type MessagingOperationType = 'create' | 'send' | 'receive' | 'process' | 'settle';

// Messaging metrics (development stability). The package exports only their names; the
// units, descriptions and bucket boundaries below are the conventions' own
// (docs/messaging/messaging-metrics.md of the semantic conventions).

/** Counter, `{message}`: messages the producer attempted to send. */
export const METRIC_MESSAGING_CLIENT_SENT_MESSAGES = 'messaging.client.sent.messages';
/** Counter, `{message}`: messages delivered to the application, once per delivery. */
export const METRIC_MESSAGING_CLIENT_CONSUMED_MESSAGES = 'messaging.client.consumed.messages';
/** Histogram, `s`: one client operation (send, create, receive, settle), never processing. */
export const METRIC_MESSAGING_CLIENT_OPERATION_DURATION = 'messaging.client.operation.duration';
/** Histogram, `s`: the processing of one message. */
export const METRIC_MESSAGING_PROCESS_DURATION = 'messaging.process.duration';

/** The unit of both counters. */
export const UNIT_MESSAGES = '{message}';
/** The unit of both duration histograms. */
export const UNIT_SECONDS = 's';

export const DESCRIPTION_MESSAGING_CLIENT_SENT_MESSAGES =
  'Number of messages producer attempted to send to the broker.';
export const DESCRIPTION_MESSAGING_CLIENT_CONSUMED_MESSAGES =
  'Number of messages that were delivered to the application.';
export const DESCRIPTION_MESSAGING_CLIENT_OPERATION_DURATION =
  'Duration of messaging operation initiated by a producer or consumer client.';
export const DESCRIPTION_MESSAGING_PROCESS_DURATION = 'Duration of processing operation.';

/** The explicit bucket boundaries the conventions advise for both duration histograms. */
export const MESSAGING_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);

/**
 * Names used before semantic-conventions 1.45 renamed them, emitted beside the new
 * ones when `OTEL_SEMCONV_STABILITY_OPT_IN` contains `messaging/dup`.
 */
export const PREVIOUS_ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  [ATTR_MESSAGING_SYSTEM_NAME]: 'messaging.system',
  [ATTR_RABBITMQ_DESTINATION_ROUTING_KEY]: 'messaging.rabbitmq.destination.routing_key',
  [ATTR_RABBITMQ_MESSAGE_DELIVERY_TAG]: 'messaging.rabbitmq.message.delivery_tag',
  [ATTR_GCP_PUBSUB_MESSAGE_ACK_DEADLINE]: 'messaging.gcp_pubsub.message.ack_deadline',
  [ATTR_GCP_PUBSUB_MESSAGE_ACK_ID]: 'messaging.gcp_pubsub.message.ack_id',
  [ATTR_GCP_PUBSUB_MESSAGE_DELIVERY_ATTEMPT]: 'messaging.gcp_pubsub.message.delivery_attempt',
  [ATTR_GCP_PUBSUB_MESSAGE_ORDERING_KEY]: 'messaging.gcp_pubsub.message.ordering_key',
};

/** `messaging.system` values before 1.45 (`aws_sqs`, `gcp_pubsub`). */
export const PREVIOUS_SYSTEM_VALUES: Readonly<Record<string, string>> = {
  [MESSAGING_SYSTEM_NAME_VALUE_AWS_SQS]: 'aws_sqs',
  [MESSAGING_SYSTEM_NAME_VALUE_GCP_PUBSUB]: 'gcp_pubsub',
};

/**
 * `tracehop/sns`: the producer side of Amazon SNS (`@aws-sdk/client-sns` v3). The consumer
 * side of SNS → SQS fan-out is `tracehop/sqs`, whose handler decorators read the context
 * from SNS envelopes and from raw-delivered message attributes alike.
 *
 * @packageDocumentation
 */
export { instrumentSnsClient, SNS_MIDDLEWARE_NAME } from './instrument-sns-client.js';
export { DISABLE_OFFICIAL_AWS_SDK } from './official-instrumentation.js';
export type { SnsClientOptions } from './types.js';

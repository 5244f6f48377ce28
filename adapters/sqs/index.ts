export { instrumentSqsClient, SQS_MIDDLEWARE_NAME } from './instrument-sqs-client.js';
export { traceSqsHandler } from './trace-sqs-handler.js';
export { traceSqsBatchHandler } from './trace-sqs-batch-handler.js';
export { traceLambdaSqsHandler } from './trace-lambda-sqs-handler.js';
export { toAwsTraceHeader, fromAwsTraceHeader } from './aws-trace-header.js';
export { ATTR_SQS_APPROXIMATE_RECEIVE_COUNT, ATTR_SQS_VISIBILITY_TIMEOUT } from './attributes.js';
export { DISABLE_OFFICIAL_AWS_SDK } from './official-instrumentation.js';
export type {
  LambdaContextLike,
  LambdaSqsBatchResponse,
  LambdaSqsEvent,
  LambdaSqsHandlerOptions,
  LambdaSqsMessageAttribute,
  LambdaSqsRecord,
  SqsAwaitSettle,
  SqsBatchHandlerOptions,
  SqsClientOptions,
  SqsHandlerOptions,
} from './types.js';

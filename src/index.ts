export type {
  ConsumerTransport,
  MessagingTransport,
  NamedOperation,
  ProducerTransport,
  TransportIdentity,
} from './transport.js';
export { ProducerTracer, type SendScope } from './producer-tracer.js';
export { ConsumerTracer, ATTR_SETTLE_LATE, DEFAULT_SETTLE_TIMEOUT_MS } from './consumer-tracer.js';
export type { ConsumerLifecycle } from './consumer-lifecycle.js';
export { SettleIndex, type SettleTarget } from './settle-index.js';
export { ProcessScope, ATTR_PROCESS_TIMED_OUT } from './process-scope.js';
export {
  ATTR_MESSAGE_QUEUE_TIME,
  METRIC_MESSAGING_QUEUE_TIME,
  QUEUE_TIME_BUCKETS,
} from './messaging-metrics.js';
export type {
  BaggagePolicy,
  ConsumerOptions,
  DestinationTemplate,
  HandlerErrorOptions,
  ProcessRelation,
  SpanNameFormatter,
  TracingOptions,
} from './options.js';
export {
  fromBodyField,
  fromHeaders,
  ATTR_CONTEXT_SOURCE,
  MAX_CONTEXT_BODY_BYTES,
  type BodyPath,
  type ContextCarrier,
  type ContextSource,
  type ContextSourceInput,
  type ContextSourceKind,
  type HeaderAliases,
} from './context-source.js';
export { toBodyField } from './body-context.js';
export type { CarrierLimits, CarrierUsage } from './limits.js';
export { BAGGAGE, TRACEPARENT, TRACESTATE, type TraceFields } from './propagation.js';
export {
  traceJob,
  scheduledJob,
  ATTR_JOB_NAME,
  ATTR_JOB_RUN_ID,
  type JobOptions,
  type JobRun,
  type LinkTarget,
  type ScheduledJobOptions,
} from './job.js';
export { traceLogFields, type TraceLogFields } from './log-fields.js';
export { toTraceparent, fromTraceparent } from './span-context-text.js';
export { flushProvider } from './flush.js';
export * as semconv from './semconv.js';

export type { MessagingTransport } from './transport.js';
export { MessagingTracer, type SendScope } from './messaging-tracer.js';
export { ProcessScope, ATTR_PROCESS_TIMED_OUT } from './process-scope.js';
export type {
  BaggagePolicy,
  ConsumerOptions,
  ProcessRelation,
  SpanNameFormatter,
  TracingOptions,
} from './options.js';
export type { CarrierLimits, CarrierUsage, FittedFields } from './limits.js';
export { fitTraceFields } from './limits.js';
export {
  BAGGAGE,
  TRACEPARENT,
  TRACESTATE,
  extractMessageContext,
  injectTraceFields,
  safeGetter,
  type HeaderReader,
  type TraceFields,
} from './propagation.js';
export { headerToString, MAX_HEADER_LENGTH } from './header-value.js';
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
export { errorType, recordError } from './errors.js';
export { reportOnce } from './report.js';
export * as semconv from './semconv.js';

import { metrics, trace } from '@opentelemetry/api';
import type { ConsumerLifecycle } from '../../src/consumer-lifecycle.js';
import { ConsumerTracer } from '../../src/consumer-tracer.js';
import { flushProvider } from '../../src/flush.js';
import { lambdaSqsTransport } from './lambda-transport.js';
import { isFifoQueue } from './queue-info.js';
import { runBatch } from './run-batch.js';
import { lambdaLifecycle } from './sqs-lifecycle.js';
import type {
  LambdaContextLike,
  LambdaSqsBatchResponse,
  LambdaSqsHandlerOptions,
  LambdaSqsRecord,
} from './types.js';

/** Never flush closer than this to the invocation's deadline. */
const DEADLINE_MARGIN_MS = 500;

/**
 * Turns a handler of one Lambda SQS event record into a Lambda handler for the whole
 * event: every record runs in its own `process {queue}` span (CONSUMER) with its trace
 * context active — from the `traceparent` message attribute, else
 * `attributes.AWSTraceHeader`, else an SNS envelope in the body; a record without a valid
 * one is processed on a new trace. Each span starts when its record's turn comes and ends
 * when the handler has finished (Lambda deletes the messages itself; nothing is recorded
 * as settle).
 *
 * Resolves with a partial batch failure response listing the records whose handler threw
 * (see {@link LambdaSqsHandlerOptions.reportBatchItemFailures}), after flushing the
 * tracer provider (see {@link LambdaSqsHandlerOptions.flushTimeoutMs}).
 *
 * @example
 * ```ts
 * export const handler = traceLambdaSqsHandler(async (record) => {
 *   await handleOrder(JSON.parse(record.body));
 * });
 * ```
 */
export function traceLambdaSqsHandler<
  TRecord extends LambdaSqsRecord,
  TContext extends LambdaContextLike | undefined = LambdaContextLike | undefined,
>(
  handler: (record: TRecord, context: TContext) => unknown,
  options: LambdaSqsHandlerOptions = {},
): (event: { Records: TRecord[] }, context: TContext) => Promise<LambdaSqsBatchResponse> {
  const tracer = new ConsumerTracer<TRecord>(lambdaSqsTransport, options);
  const lifecycle = lambdaLifecycle as ConsumerLifecycle<TRecord>;
  const reportFailures = options.reportBatchItemFailures ?? true;
  const parallel = options.parallel ?? false;
  const flushTimeoutMs = options.flushTimeoutMs ?? 5000;

  const runRecord = (record: TRecord, context: TContext): unknown =>
    tracer.process(record, lifecycle, handler, undefined, context);

  return async (event, context) => {
    try {
      const records: readonly TRecord[] = Array.isArray(event?.Records) ? event.Records : [];
      const fifo = isFifoQueue(records[0]?.eventSourceARN);
      const outcome = await runBatch(
        records,
        (record) => runRecord(record, context),
        parallel,
        fifo || (!reportFailures && !parallel),
      );
      if (outcome.failures > 0 && !reportFailures) throw outcome.firstError;
      const batchItemFailures: { itemIdentifier: string }[] = [];
      records.forEach((record, index) => {
        if (outcome.failed[index]) batchItemFailures.push({ itemIdentifier: record.messageId });
      });
      return { batchItemFailures };
    } finally {
      await flush(options, flushTimeoutMs, context);
    }
  };
}

async function flush(
  options: LambdaSqsHandlerOptions,
  timeoutMs: number,
  context: LambdaContextLike | undefined,
): Promise<void> {
  let budget = timeoutMs;
  try {
    const remaining = context?.getRemainingTimeInMillis?.();
    if (typeof remaining === 'number') budget = Math.min(budget, remaining - DEADLINE_MARGIN_MS);
  } catch {
    // A context without a working clock: flush with the configured timeout.
  }
  if (budget <= 0) return;
  // Spans and metrics alike: a frozen environment exports neither.
  await Promise.all([
    flushProvider(options.tracerProvider ?? trace.getTracerProvider(), budget),
    flushProvider(options.meterProvider ?? metrics.getMeterProvider(), budget),
  ]);
}

import {
  context as contextApi,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import type {
  BatchResultErrorEntry,
  PublishBatchInput,
  PublishBatchRequestEntry,
  PublishBatchResponse,
} from '@aws-sdk/client-sns';
import { reportOnce } from '../../src/report.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_MESSAGE_ID,
} from '../../src/semconv.js';
import { recordRequestId } from '../sqs/call-outcome.js';
import type { InitializeArgs, InitializeHandler, InitializeResult } from '../sqs/internal-types.js';
import type { SnsClientTracing } from './sns-client-tracing.js';
import { describeSnsTarget, snsBatchClearlyFits, snsMessageBytesExact } from './sns-transport.js';

/** A batch ready to go: the traced entries and the spans to end when SNS answers. */
interface PreparedBatch {
  readonly sendSpan: Span;
  readonly sendContext: Context;
  /** One per entry, in entry order; empty when create spans are off. */
  readonly createSpans: Span[];
  readonly entries: PublishBatchRequestEntry[];
}

/**
 * `PublishBatch`: a `create` span (PRODUCER) per entry whose context that entry carries,
 * and a `send` span (CLIENT) linking to them all — or, with `createSpans: false`, one
 * `send` span (PRODUCER) whose context every entry carries. Every span lasts until SNS
 * answers; each `create` span records its entry's message id or failure. The same shape as
 * SQS's `SendMessageBatch` (`send-message-batch.ts`).
 */
export async function tracedPublishBatch(
  tracing: SnsClientTracing,
  next: InitializeHandler,
  args: InitializeArgs,
): Promise<InitializeResult> {
  const input = args.input as PublishBatchInput;
  let batch: PreparedBatch | undefined;
  try {
    batch = prepareBatch(tracing, input);
  } catch (error) {
    tracing.transport.batchBytes = 0;
    reportOnce('sns:publish-batch', `published an SNS batch without tracing it: ${String(error)}`);
  }
  if (batch === undefined) return next(args);
  const { sendSpan, createSpans } = batch;
  let result: InitializeResult;
  try {
    result = await contextApi.with(batch.sendContext, next, undefined, {
      ...args,
      input: { ...input, PublishBatchRequestEntries: batch.entries },
    });
  } catch (error) {
    recordRequestId(sendSpan, error);
    for (const span of createSpans) tracing.tracer.endSpan(span, error);
    tracing.tracer.endSpan(sendSpan, error);
    throw error;
  }
  try {
    // The output is what the SDK deserialized for this command: a PublishBatchResponse.
    const output: PublishBatchResponse | undefined = result?.output;
    recordBatchResult(input.PublishBatchRequestEntries ?? [], batch, output);
  } catch (error) {
    reportOnce(
      'sns:PublishBatch result',
      `could not record a PublishBatch result on its spans: ${String(error)}`,
    );
  }
  for (const span of createSpans) span.end();
  sendSpan.end();
  return result;
}

function prepareBatch(
  tracing: SnsClientTracing,
  input: PublishBatchInput,
): PreparedBatch | undefined {
  const entries: unknown = input.PublishBatchRequestEntries;
  if (!Array.isArray(entries) || entries.length === 0) return undefined;
  const list = entries as PublishBatchRequestEntry[];
  const tracer = tracing.tracer;
  const parent = contextApi.active();
  const topicAttributes: Attributes = {};
  const destination = describeSnsTarget(input.TopicArn, topicAttributes);
  const traced = new Array<PublishBatchRequestEntry>(list.length);
  const accounting = batchAccounting(list, tracing.maxMessageBytes);

  if (!tracing.createSpans) {
    const sendSpan = tracer.startSpan(
      'send',
      destination,
      { ...topicAttributes, [ATTR_MESSAGING_BATCH_MESSAGE_COUNT]: list.length },
      SpanKind.PRODUCER,
      parent,
    );
    const sendContext = trace.setSpan(parent, sendSpan);
    for (let i = 0; i < list.length; i++) {
      traced[i] = injectEntry(tracing, accounting, list, i, sendContext, sendSpan);
    }
    return { sendSpan, sendContext, createSpans: [], entries: traced };
  }

  const createSpans: Span[] = [];
  const creationContexts: SpanContext[] = [];
  for (let i = 0; i < list.length; i++) {
    const span = tracer.startSpan(
      'create',
      destination,
      { ...topicAttributes },
      SpanKind.PRODUCER,
      parent,
    );
    traced[i] = injectEntry(tracing, accounting, list, i, trace.setSpan(parent, span), span);
    createSpans.push(span);
    creationContexts.push(span.spanContext());
  }
  const sendSpan = tracer.startBatchSend(
    destination,
    { ...topicAttributes },
    creationContexts,
    list.length,
    parent,
  );
  return { sendSpan, sendContext: trace.setSpan(parent, sendSpan), createSpans, entries: traced };
}

/**
 * The caller's bytes of each entry, when the batch could come near the limit; SNS counts
 * the whole batch's payload against the same limit as one message.
 */
interface BatchAccounting {
  readonly callerBytes: number[];
  total: number;
}

function batchAccounting(
  entries: readonly PublishBatchRequestEntry[],
  maxBytes: number,
): BatchAccounting | undefined {
  if (snsBatchClearlyFits(entries, maxBytes)) return undefined;
  const callerBytes = entries.map(snsMessageBytesExact);
  return { callerBytes, total: callerBytes.reduce((sum, bytes) => sum + bytes, 0) };
}

function injectEntry(
  tracing: SnsClientTracing,
  accounting: BatchAccounting | undefined,
  entries: readonly PublishBatchRequestEntry[],
  index: number,
  ctx: Context,
  span: Span,
): PublishBatchRequestEntry {
  const entry = entries[index] as PublishBatchRequestEntry;
  if (accounting === undefined) {
    // A copy of `entry` with trace attributes: same members, so still a batch entry.
    return tracing.tracer.inject(entry, ctx, span) as PublishBatchRequestEntry;
  }
  const own = accounting.callerBytes[index] ?? 0;
  tracing.transport.batchBytes = accounting.total - own;
  try {
    const traced = tracing.tracer.inject(entry, ctx, span) as PublishBatchRequestEntry;
    if (traced !== entry) accounting.total += snsMessageBytesExact(traced) - own;
    return traced;
  } finally {
    tracing.transport.batchBytes = 0;
  }
}

function recordBatchResult(
  entries: readonly PublishBatchRequestEntry[],
  batch: PreparedBatch,
  output: PublishBatchResponse | undefined,
): void {
  recordRequestId(batch.sendSpan, output);
  const failed = output?.Failed;
  if (batch.createSpans.length === 0) {
    const first = failed?.[0];
    if (first !== undefined) batch.sendSpan.setAttribute(ATTR_ERROR_TYPE, first.Code ?? '_OTHER');
    return;
  }
  for (const success of output?.Successful ?? []) {
    const span = batch.createSpans[indexOfEntry(entries, success.Id)];
    if (span !== undefined && typeof success.MessageId === 'string') {
      span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, success.MessageId);
    }
  }
  for (const failure of failed ?? []) {
    const span = batch.createSpans[indexOfEntry(entries, failure.Id)];
    if (span !== undefined) recordEntryFailure(span, failure);
  }
}

/** Batches hold at most 10 entries: a scan beats building a map. */
function indexOfEntry(entries: readonly PublishBatchRequestEntry[], id: unknown): number {
  for (let i = 0; i < entries.length; i++) if (entries[i]?.Id === id) return i;
  return -1;
}

function recordEntryFailure(span: Span, failure: BatchResultErrorEntry): void {
  span.setAttribute(ATTR_ERROR_TYPE, failure.Code ?? '_OTHER');
  span.setStatus({ code: SpanStatusCode.ERROR, message: failure.Message ?? failure.Code ?? '' });
}

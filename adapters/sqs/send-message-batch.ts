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
  SendMessageBatchRequest,
  SendMessageBatchRequestEntry,
  SendMessageBatchResult,
} from '@aws-sdk/client-sqs';
import { reportOnce } from '../../src/report.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_MESSAGE_ID,
} from '../../src/semconv.js';
import type { InitializeArgs, InitializeHandler, InitializeResult } from './internal-types.js';
import { batchClearlyFits, messageBytesExact } from './message-size.js';
import { recordRequestId, safely } from './call-outcome.js';
import type { SqsClientTracing } from './instrument-sqs-client.js';
import { addQueueUrl, describeQueue, serverAttributes } from './sqs-transport.js';

/** A batch ready to go: the traced entries and the spans to end when SQS answers. */
interface PreparedBatch {
  readonly sendSpan: Span;
  readonly sendContext: Context;
  /** One per entry, in entry order; empty when create spans are off. */
  readonly createSpans: Span[];
  readonly entries: SendMessageBatchRequestEntry[];
}

/**
 * `SendMessageBatch`: a `create` span (PRODUCER) per entry whose context that entry
 * carries, and a `send` span (CLIENT) linking to them all — or, with `createSpans: false`,
 * one `send` span (PRODUCER) whose context every entry carries. Every span lasts until
 * SQS answers; each `create` span records its entry's message id or failure.
 */
export async function tracedSendMessageBatch(
  tracing: SqsClientTracing,
  next: InitializeHandler,
  args: InitializeArgs,
): Promise<InitializeResult> {
  const input = args.input as SendMessageBatchRequest;
  let batch: PreparedBatch | undefined;
  try {
    batch = prepareBatch(tracing, input);
  } catch (error) {
    tracing.transport.batchBytes = 0;
    reportOnce('sqs:send-batch', `sent an SQS batch without tracing it: ${String(error)}`);
  }
  if (batch === undefined) return next(args);
  const { sendSpan, createSpans } = batch;
  let result: InitializeResult;
  try {
    result = await contextApi.with(batch.sendContext, next, undefined, {
      ...args,
      input: { ...input, Entries: batch.entries },
    });
  } catch (error) {
    recordRequestId(sendSpan, error);
    for (const span of createSpans) tracing.tracer.endSpan(span, error);
    tracing.tracer.endSpan(sendSpan, error);
    throw error;
  }
  safely('SendMessageBatch result', () =>
    recordBatchResult(input.Entries ?? [], batch, result.output as SendMessageBatchResult),
  );
  for (const span of createSpans) span.end();
  sendSpan.end();
  return result;
}

function prepareBatch(
  tracing: SqsClientTracing,
  input: SendMessageBatchRequest,
): PreparedBatch | undefined {
  const entries = input.Entries;
  if (!Array.isArray(entries) || entries.length === 0) return undefined;
  const tracer = tracing.tracer;
  const parent = contextApi.active();
  // The batch's send span names the server; each entry's create span only the queue, and its
  // URL only when the span records.
  const queueAttributes: Attributes = {};
  const destination = describeQueue(input.QueueUrl, queueAttributes, false, false);
  const urlAttributes: Attributes = {};
  addQueueUrl(input.QueueUrl, urlAttributes);
  const traced = new Array<SendMessageBatchRequestEntry>(entries.length);
  const accounting = batchAccounting(entries, tracing.maxMessageBytes);

  if (!tracing.createSpans) {
    const sendSpan = tracer.startSpan(
      'send',
      destination,
      serverAttributes(input.QueueUrl, {
        ...queueAttributes,
        ...urlAttributes,
        [ATTR_MESSAGING_BATCH_MESSAGE_COUNT]: entries.length,
      }),
      SpanKind.PRODUCER,
      parent,
    );
    const sendContext = trace.setSpan(parent, sendSpan);
    for (let i = 0; i < entries.length; i++) {
      traced[i] = injectEntry(tracing, accounting, entries, i, sendContext, sendSpan);
    }
    return { sendSpan, sendContext, createSpans: [], entries: traced };
  }

  const createSpans: Span[] = [];
  const creationContexts: SpanContext[] = [];
  for (let i = 0; i < entries.length; i++) {
    const span = tracer.startSpan(
      'create',
      destination,
      { ...queueAttributes },
      SpanKind.PRODUCER,
      parent,
    );
    if (span.isRecording()) span.setAttributes(urlAttributes);
    traced[i] = injectEntry(tracing, accounting, entries, i, trace.setSpan(parent, span), span);
    createSpans.push(span);
    creationContexts.push(span.spanContext());
  }
  const sendSpan = tracer.startBatchSend(
    destination,
    serverAttributes(input.QueueUrl, { ...queueAttributes, ...urlAttributes }),
    creationContexts,
    entries.length,
    parent,
  );
  return { sendSpan, sendContext: trace.setSpan(parent, sendSpan), createSpans, entries: traced };
}

/**
 * The caller's bytes of each entry, when the batch could come near the limit; SQS counts
 * the whole batch's payload against the same limit as one message.
 */
interface BatchAccounting {
  readonly callerBytes: number[];
  total: number;
}

function batchAccounting(
  entries: readonly SendMessageBatchRequestEntry[],
  maxBytes: number,
): BatchAccounting | undefined {
  if (batchClearlyFits(entries, maxBytes)) return undefined;
  const callerBytes = entries.map(messageBytesExact);
  return { callerBytes, total: callerBytes.reduce((sum, bytes) => sum + bytes, 0) };
}

function injectEntry(
  tracing: SqsClientTracing,
  accounting: BatchAccounting | undefined,
  entries: readonly SendMessageBatchRequestEntry[],
  index: number,
  ctx: Context,
  span: Span,
): SendMessageBatchRequestEntry {
  const entry = entries[index] as SendMessageBatchRequestEntry;
  if (accounting === undefined) {
    // A copy of `entry` with trace attributes: same members, so still a batch entry.
    return tracing.tracer.inject(entry, ctx, span) as SendMessageBatchRequestEntry;
  }
  const own = accounting.callerBytes[index] ?? 0;
  tracing.transport.batchBytes = accounting.total - own;
  try {
    const traced = tracing.tracer.inject(entry, ctx, span) as SendMessageBatchRequestEntry;
    if (traced !== entry) accounting.total += messageBytesExact(traced) - own;
    return traced;
  } finally {
    tracing.transport.batchBytes = 0;
  }
}

function recordBatchResult(
  entries: readonly SendMessageBatchRequestEntry[],
  batch: PreparedBatch,
  output: SendMessageBatchResult | undefined,
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
function indexOfEntry(entries: readonly SendMessageBatchRequestEntry[], id: unknown): number {
  for (let i = 0; i < entries.length; i++) if (entries[i]?.Id === id) return i;
  return -1;
}

function recordEntryFailure(span: Span, failure: BatchResultErrorEntry): void {
  span.setAttribute(ATTR_ERROR_TYPE, failure.Code ?? '_OTHER');
  span.setStatus({ code: SpanStatusCode.ERROR, message: failure.Message ?? failure.Code ?? '' });
}

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
import type { ProducerTracer } from '../../src/producer-tracer.js';
import { reportOnce } from '../../src/report.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_MESSAGE_ID,
} from '../../src/semconv.js';
import { recordRequestId, safely } from './call-outcome.js';
import type { InitializeArgs, InitializeHandler, InitializeResult } from './internal-types.js';

/** One entry of a batch command: SQS `SendMessageBatch` and SNS `PublishBatch` name each by `Id`. */
interface BatchEntry {
  readonly Id?: string | undefined;
}

/** What SQS and SNS answer for a batch: ids of what was sent, and failures by entry. */
interface BatchResult {
  readonly Successful?: readonly { readonly Id?: string; readonly MessageId?: string }[];
  readonly Failed?: readonly {
    readonly Id?: string;
    readonly Code?: string;
    readonly Message?: string;
  }[];
}

/** Where a batch goes, described once per call. */
export interface BatchTarget {
  /** The destination in span names. */
  readonly destination: string;
  /** Each entry's `create` span starts with these (what samplers need). */
  readonly entry: Attributes;
  /** Set on each `create` span that records. */
  readonly entryDetails: Attributes | undefined;
  /** The batch's `send` span starts with these (its size is added). */
  readonly call: Attributes;
}

/** What an instrumented AWS client (SQS, SNS) brings to its batch command. */
export interface BatchClientTracing<TMessage> {
  /** The client's tracer, whose transport describes a message of which each entry is one. */
  readonly tracer: ProducerTracer<TMessage>;
  /** The `createSpans` option. */
  readonly createSpans: boolean;
  /** The size limit of one message, and of a whole batch. */
  readonly maxMessageBytes: number;
  /** Told how many bytes the rest of the batch uses while one entry is fitted to the limit. */
  readonly transport: { batchBytes: number };
}

/**
 * What differs between the AWS batch commands traced alike — SQS `SendMessageBatch`, SNS
 * `PublishBatch`: where the entries are, where the batch goes, and how a message is measured
 * against the limit both services apply to a whole batch.
 */
export interface BatchCommand<
  TInput extends object,
  TEntry extends TMessage & BatchEntry,
  TMessage = TEntry,
> {
  /** The service and command (`SQS SendMessageBatch`), in the `diag` reports made if tracing it fails. */
  readonly name: string;
  /** `sqs:send-batch`: the key of that report. */
  readonly reportKey: string;
  /** The instrumented client's tracer and options. */
  readonly tracing: BatchClientTracing<TMessage>;
  entriesOf(input: TInput): unknown;
  withEntries(input: TInput, entries: TEntry[]): TInput;
  describe(input: TInput): BatchTarget;
  /** Whether the batch is far enough under the limit that no entry needs measuring. */
  clearlyFits(entries: readonly TEntry[], maxBytes: number): boolean;
  /** The exact bytes the service counts for one entry. */
  messageBytes(entry: TEntry): number;
}

/** A batch ready to go: the traced entries and the spans to end when the service answers. */
interface PreparedBatch<TEntry> {
  readonly sendSpan: Span;
  readonly sendContext: Context;
  /** One per entry, in entry order; empty when create spans are off. */
  readonly createSpans: Span[];
  readonly entries: TEntry[];
}

/**
 * A batch command: a `create` span (PRODUCER) per entry whose context that entry carries, and
 * a `send` span (CLIENT) linking to them all — or, with `createSpans: false`, one `send` span
 * (PRODUCER) whose context every entry carries. Every span lasts until the service answers;
 * each `create` span records its entry's message id or failure.
 */
export async function tracedBatchSend<
  TInput extends object,
  TEntry extends TMessage & BatchEntry,
  TMessage,
>(
  command: BatchCommand<TInput, TEntry, TMessage>,
  next: InitializeHandler,
  args: InitializeArgs,
): Promise<InitializeResult> {
  const input = args.input as TInput;
  let batch: PreparedBatch<TEntry> | undefined;
  try {
    batch = prepareBatch(command, input);
  } catch (error) {
    command.tracing.transport.batchBytes = 0;
    reportOnce(command.reportKey, `${command.name} went out without tracing: ${String(error)}`);
  }
  if (batch === undefined) return next(args);
  const { sendSpan, createSpans } = batch;
  let result: InitializeResult;
  try {
    result = await contextApi.with(batch.sendContext, next, undefined, {
      ...args,
      input: command.withEntries(input, batch.entries),
    });
  } catch (error) {
    recordRequestId(sendSpan, error);
    for (const span of createSpans) command.tracing.tracer.endSpan(span, error);
    command.tracing.tracer.endSpan(sendSpan, error);
    throw error;
  }
  const sent = command.entriesOf(input) as readonly TEntry[];
  safely(`${command.name} result`, () =>
    recordBatchResult(sent, batch, result.output as BatchResult | undefined),
  );
  for (const span of createSpans) span.end();
  sendSpan.end();
  return result;
}

function prepareBatch<TInput extends object, TEntry extends TMessage & BatchEntry, TMessage>(
  command: BatchCommand<TInput, TEntry, TMessage>,
  input: TInput,
): PreparedBatch<TEntry> | undefined {
  const found = command.entriesOf(input);
  if (!Array.isArray(found) || found.length === 0) return undefined;
  const entries = found as TEntry[];
  const tracer = command.tracing.tracer;
  const parent = contextApi.active();
  const target = command.describe(input);
  const traced = new Array<TEntry>(entries.length);
  const accounting = batchAccounting(command, entries);

  if (!command.tracing.createSpans) {
    const sendSpan = tracer.startSpan(
      'send',
      target.destination,
      { ...target.call, [ATTR_MESSAGING_BATCH_MESSAGE_COUNT]: entries.length },
      SpanKind.PRODUCER,
      parent,
    );
    const sendContext = trace.setSpan(parent, sendSpan);
    for (let i = 0; i < entries.length; i++) {
      traced[i] = injectEntry(command, accounting, entries, i, sendContext, sendSpan);
    }
    return { sendSpan, sendContext, createSpans: [], entries: traced };
  }

  const createSpans: Span[] = [];
  const creationContexts: SpanContext[] = [];
  for (let i = 0; i < entries.length; i++) {
    const span = tracer.startSpan(
      'create',
      target.destination,
      { ...target.entry },
      SpanKind.PRODUCER,
      parent,
    );
    if (target.entryDetails !== undefined && span.isRecording()) {
      span.setAttributes(target.entryDetails);
    }
    traced[i] = injectEntry(command, accounting, entries, i, trace.setSpan(parent, span), span);
    createSpans.push(span);
    creationContexts.push(span.spanContext());
  }
  const sendSpan = tracer.startBatchSend(
    target.destination,
    { ...target.call },
    creationContexts,
    entries.length,
    parent,
  );
  return { sendSpan, sendContext: trace.setSpan(parent, sendSpan), createSpans, entries: traced };
}

/**
 * The caller's bytes of each entry, when the batch could come near the limit; SQS and SNS
 * count the whole batch's payload against the same limit as one message.
 */
interface BatchAccounting {
  readonly callerBytes: number[];
  total: number;
}

function batchAccounting<TEntry extends TMessage & BatchEntry, TMessage>(
  command: BatchCommand<object, TEntry, TMessage>,
  entries: readonly TEntry[],
): BatchAccounting | undefined {
  if (command.clearlyFits(entries, command.tracing.maxMessageBytes)) return undefined;
  const callerBytes = entries.map((entry) => command.messageBytes(entry));
  return { callerBytes, total: callerBytes.reduce((sum, bytes) => sum + bytes, 0) };
}

function injectEntry<TEntry extends TMessage & BatchEntry, TMessage>(
  command: BatchCommand<object, TEntry, TMessage>,
  accounting: BatchAccounting | undefined,
  entries: readonly TEntry[],
  index: number,
  ctx: Context,
  span: Span,
): TEntry {
  const entry = entries[index] as TEntry;
  // A copy of `entry` with trace attributes: the same members, so still a batch entry.
  if (accounting === undefined)
    return command.tracing.tracer.inject(entry, ctx, span) as unknown as TEntry;
  const own = accounting.callerBytes[index] ?? 0;
  command.tracing.transport.batchBytes = accounting.total - own;
  try {
    const traced = command.tracing.tracer.inject(entry, ctx, span) as unknown as TEntry;
    if (traced !== entry) accounting.total += command.messageBytes(traced) - own;
    return traced;
  } finally {
    command.tracing.transport.batchBytes = 0;
  }
}

function recordBatchResult<TEntry extends BatchEntry>(
  entries: readonly TEntry[],
  batch: PreparedBatch<TEntry>,
  output: BatchResult | undefined,
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
    if (span === undefined) continue;
    span.setAttribute(ATTR_ERROR_TYPE, failure.Code ?? '_OTHER');
    span.setStatus({ code: SpanStatusCode.ERROR, message: failure.Message ?? failure.Code ?? '' });
  }
}

/** Batches hold at most 10 entries: a scan beats building a map. */
function indexOfEntry(entries: readonly BatchEntry[], id: unknown): number {
  for (let i = 0; i < entries.length; i++) if (entries[i]?.Id === id) return i;
  return -1;
}

import {
  context as contextApi,
  diag,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type TextMapGetter,
} from '@opentelemetry/api';
import type { ConsumerLifecycle } from './consumer-lifecycle.js';
import { ATTR_CONTEXT_SOURCE, ContextSources, type ContextSourceKind } from './context-source.js';
import { errorType, isPromiseLike, recordError } from './errors.js';
import {
  addCount,
  ATTR_MESSAGE_QUEUE_TIME,
  markCountedAtReceive,
  MeteredSpan,
  queueTimeSeconds,
  recordValue,
  secondsSince,
  takeCountedAtReceive,
  type MetricDestination,
} from './messaging-metrics.js';
import { MessagingSpans } from './messaging-spans.js';
import type { BaggagePolicy, ConsumerOptions, ProcessRelation } from './options.js';
import { PendingScopes } from './pending-scopes.js';
import { ProcessScope, settleEventAttributes, type ScopeOwner } from './process-scope.js';
import { extractMessageContext, safeGetter } from './propagation.js';
import { reportOnce } from './report.js';
import { ATTR_MESSAGING_BATCH_MESSAGE_COUNT } from './semconv.js';
import type { ConsumerTransport } from './transport.js';

/** The settle timeout when none is given. */
export const DEFAULT_SETTLE_TIMEOUT_MS = 60_000;

/** On a settle span recorded after its `process` span ended by the settle timeout. */
export const ATTR_SETTLE_LATE = 'tracehop.settle.late';

const LATE: Attributes = Object.freeze({ [ATTR_SETTLE_LATE]: true });

/**
 * The consumer side of the span model, for one transport: `receive` spans linked to every
 * message, and the whole life of each message's `process` span (see {@link process}).
 * Consumer decorators are thin layers over it; so is a user's own transport.
 */
export class ConsumerTracer<TIncoming> extends MessagingSpans implements ScopeOwner {
  private readonly getter: TextMapGetter<TIncoming>;
  private readonly relation: ProcessRelation;
  private readonly linkParent: boolean;
  /** @internal */
  readonly settleEvents: boolean;
  private readonly baggagePolicy: BaggagePolicy;
  private readonly pending: PendingScopes;
  /** The `contextSource` option; `undefined` without one. */
  private readonly sources: ContextSources<TIncoming> | undefined;

  /**
   * @throws TypeError when `contextSource` is neither a function nor an array of them
   */
  constructor(
    readonly transport: ConsumerTransport<TIncoming>,
    options: ConsumerOptions<NoInfer<TIncoming>> = {},
  ) {
    super(transport, options);
    this.getter = safeGetter((message: TIncoming, key) => transport.readHeader(message, key));
    this.relation = options.relation ?? 'child';
    this.linkParent = options.linkToParent ?? true;
    this.settleEvents = options.settleEvents ?? true;
    this.baggagePolicy = options.baggage ?? 'keep';
    this.pending = new PendingScopes(options.settleTimeoutMs ?? DEFAULT_SETTLE_TIMEOUT_MS);
    this.sources = ContextSources.of(options.contextSource, transport, this.getter);
  }

  /** How many `process` spans wait for their message to be settled. */
  get waitingForSettle(): number {
    return this.pending.size;
  }

  /**
   * Reads the context a received message was created in, on top of `base`. Malformed
   * headers give `base` back: the message is processed on a new trace.
   */
  extract(message: TIncoming, base: Context = contextApi.active()): Context {
    return extractMessageContext(message, this.getter, base);
  }

  /** The remote span context a received message carries, or `undefined`. */
  creationContext(message: TIncoming): SpanContext | undefined {
    const spanContext = trace.getSpanContext(this.extract(message, ROOT_CONTEXT));
    return spanContext !== undefined && trace.isSpanContextValid(spanContext)
      ? spanContext
      : undefined;
  }

  /**
   * Starts a `receive` span (CLIENT) for a pull from `destination`. End it with
   * {@link endReceive} once the messages are in.
   */
  startReceive(destination: string, attributes: Attributes, parent = contextApi.active()): Span {
    return this.startSpan('receive', destination, attributes, SpanKind.CLIENT, parent);
  }

  /**
   * Ends a `receive` span: links it to every received message's creation context and
   * records how many arrived. With metrics on, the messages are counted in
   * `messaging.client.consumed.messages` here, once: their `process` spans do not count
   * them again.
   */
  endReceive(span: Span, messages: readonly TIncoming[], error?: unknown): void {
    if (span instanceof MeteredSpan && messages.length > 0) this.countReceived(span, messages);
    if (span.isRecording()) {
      span.setAttribute(ATTR_MESSAGING_BATCH_MESSAGE_COUNT, messages.length);
      const links: Link[] = [];
      for (const message of messages) {
        const spanContext = this.creationContext(message);
        if (spanContext !== undefined) links.push({ context: spanContext });
      }
      if (links.length > 0) span.addLinks(links);
    }
    this.endSpan(span, error);
  }

  private countReceived(span: MeteredSpan, messages: readonly TIncoming[]): void {
    const instruments = this.metrics.instruments;
    if (instruments === undefined) return;
    addCount(
      instruments.consumed,
      messages.length,
      span.destination.attributes(undefined, this.operationName('receive'), undefined),
    );
    for (const message of messages) markCountedAtReceive(message);
  }

  /**
   * Starts the `process` span (CONSUMER) of one message. With relation `child` it is
   * a child of the message's creation context and links to it (and, when a span was
   * active around the call, links to that too); with `link`, a new trace that links to
   * it. A message whose headers carry no valid context is looked up in the `contextSource`
   * option, when there is one (the span then gets `tracehop.context.source`); without a
   * context from either, it gets a span under `base`. Baggage is filtered by
   * the baggage policy and kept either way. When the transport knows when the broker
   * accepted the message ({@link ConsumerTransport.sentAt}), the span gets
   * `tracehop.message.queue_time`. With metrics on, the message is counted in
   * `messaging.client.consumed.messages` (unless its `receive` counted it) and its queue
   * time recorded. Most callers want {@link process}, which also runs the handler and ends
   * the span.
   *
   * @param base - the context to read the message's on top of: the active one, or one
   * that already carries a creation context found elsewhere (a CloudEvent's extension).
   */
  startProcess(message: TIncoming, base?: Context): ProcessScope {
    const instruments = this.metrics.instruments;
    const startedAt = instruments === undefined ? 0 : performance.now();
    const active = contextApi.active();
    let parent = this.extract(message, base ?? active);
    let creation = trace.getSpanContext(parent);
    const ambient = trace.getSpanContext(active);
    let continued = creation !== undefined && creation.isRemote && creation !== ambient;
    let sourceKind: ContextSourceKind | undefined;
    if (!continued && this.sources !== undefined) {
      // Only for messages whose headers carry no context: the fast path is the check above.
      const found = this.sources.find(message, parent);
      if (found !== undefined) {
        parent = found.context;
        creation = trace.getSpanContext(parent);
        sourceKind = found.kind;
        continued = true;
      }
    }
    let links: Link[] | undefined;
    let root = false;
    if (continued && creation !== undefined) {
      if (this.relation === 'link') {
        links = [{ context: creation }];
        root = true;
        parent = trace.deleteSpan(parent);
      } else {
        if (this.linkParent) links = [{ context: creation }];
        if (ambient !== undefined && trace.isSpanContextValid(ambient)) {
          (links ??= []).push({ context: ambient });
        }
      }
    }
    parent = this.applyBaggagePolicy(parent);
    const attributes: Attributes = {};
    const destination = this.transport.describeIncoming(message, attributes);
    const span = this.startSpan(
      'process',
      destination,
      attributes,
      SpanKind.CONSUMER,
      parent,
      links,
      root,
    );
    const recording = span.isRecording();
    // Queue time: an attribute of spans that record, and a metric while metrics are on.
    const queueTime =
      this.transport.sentAt !== undefined && (recording || instruments !== undefined)
        ? this.queueTime(message)
        : undefined;
    if (recording) this.describeDetails(span, message, sourceKind, queueTime);
    if (instruments === undefined) {
      return new ProcessScope(span, trace.setSpan(parent, span), destination, this);
    }
    let metric: MetricDestination | undefined;
    try {
      metric = this.metrics.destinationOf(attributes);
      const delivered = metric.attributes(undefined, this.operationName('process'), undefined);
      if (!takeCountedAtReceive(message)) addCount(instruments.consumed, 1, delivered);
      if (queueTime !== undefined) recordValue(instruments.queueTime, queueTime, delivered);
    } catch (error) {
      reportOnce('metrics:process', `could not record metrics of a message: ${String(error)}`);
    }
    return new ProcessScope(
      span,
      trace.setSpan(parent, span),
      destination,
      this,
      metric,
      startedAt,
    );
  }

  /** The attributes of a recording `process` span that samplers do not need. */
  private describeDetails(
    span: Span,
    message: TIncoming,
    sourceKind: ContextSourceKind | undefined,
    queueTime: number | undefined,
  ): void {
    const details: Attributes = {};
    this.transport.describeIncomingDetails?.(message, details);
    if (sourceKind !== undefined) details[ATTR_CONTEXT_SOURCE] = sourceKind;
    if (queueTime !== undefined) details[ATTR_MESSAGE_QUEUE_TIME] = queueTime;
    this.setDetails(span, details);
  }

  /** The message's queue time in seconds, from the transport's `sentAt`; never throws. */
  private queueTime(message: TIncoming): number | undefined {
    try {
      return queueTimeSeconds(this.transport.sentAt?.(message));
    } catch (error) {
      reportOnce(
        `sent-at:${this.transport.system}`,
        `could not read when a ${this.transport.system} message was sent: ${String(error)}`,
      );
      return undefined;
    }
  }

  /**
   * The whole life of one message's `process` span, in one place for every adapter:
   * starts it, runs `handler(message, extra)` with it active — sync or async, through
   * everything the handler awaits — records the outcome, settles for the handler when the
   * lifecycle says so, and ends the span at the handler's end or, when the settle can be
   * seen and is awaited, at the settle (or the settle timeout, counted from the handler's
   * end). The handler's result passes through unchanged; its error is recorded and then
   * rethrown or handed to `onError`, as {@link ConsumerLifecycle.callerAwaits} says. If
   * tracehop itself fails, the handler runs untraced.
   *
   * @param base - see {@link startProcess}
   */
  process<X, R>(
    message: TIncoming,
    lifecycle: ConsumerLifecycle<TIncoming>,
    handler: (this: unknown, message: TIncoming, extra: X) => R,
    thisArg: unknown,
    extra: X,
    base?: Context,
  ): R {
    let scope: ProcessScope | undefined;
    let handed = message;
    let tracked = false;
    try {
      scope = this.startProcess(message, base);
      // A message nothing is recorded of (its span does not record, metrics are off) needs
      // only its context: no settle tracking, no view, no timer — unless tracehop settles
      // it (autoSettle) and must see whether the handler did first.
      if (scope.observed || lifecycle.autoSettle !== undefined) {
        if (lifecycle.track !== undefined) tracked = lifecycle.track(message, scope);
        if (lifecycle.handlerMessage !== undefined) {
          handed = lifecycle.handlerMessage(message, scope);
        }
      }
    } catch (error) {
      scope?.end();
      reportOnce(
        `process:${this.transport.system}`,
        `processed a ${this.transport.system} message without a span: ${String(error)}`,
      );
      return handler.call(thisArg, message, extra);
    }
    let result: R;
    try {
      result = contextApi.with(scope.context, handler, thisArg, handed, extra);
    } catch (error) {
      this.finish(scope, lifecycle, message, handed, tracked, true, error);
      if (lifecycle.callerAwaits || lifecycle.autoSettle === undefined) throw error;
      this.reportError(lifecycle, error, message);
      return undefined as R;
    }
    if (!isPromiseLike(result)) {
      this.finish(scope, lifecycle, message, handed, tracked, false, result);
      return result;
    }
    const done = scope;
    return result.then(
      (value) => {
        this.finish(done, lifecycle, message, handed, tracked, false, value);
        return value;
      },
      (error: unknown) => {
        this.finish(done, lifecycle, message, handed, tracked, true, error);
        if (lifecycle.callerAwaits) throw error;
        this.reportError(lifecycle, error, message);
        return undefined;
      },
    ) as R;
  }

  /** The handler finished: record, auto-settle, then end the span or let it wait. */
  private finish(
    scope: ProcessScope,
    lifecycle: ConsumerLifecycle<TIncoming>,
    message: TIncoming,
    handed: TIncoming,
    tracked: boolean,
    failed: boolean,
    outcome: unknown,
  ): void {
    try {
      scope.handlerFinished(failed, outcome);
      if (lifecycle.autoSettle !== undefined && !scope.isSettled) {
        lifecycle.autoSettle(handed, failed);
      }
      if (
        tracked &&
        !scope.isSettled &&
        (lifecycle.awaitsSettle?.(message, failed, failed ? undefined : outcome) ?? true)
      ) {
        scope.waitForSettle();
      } else {
        scope.end();
      }
    } catch (error) {
      reportOnce(
        `finish:${this.transport.system}`,
        `could not finish a ${this.transport.system} process span: ${String(error)}`,
      );
      scope.end();
    }
  }

  private reportError(
    lifecycle: ConsumerLifecycle<TIncoming>,
    error: unknown,
    message: TIncoming,
  ): void {
    if (lifecycle.onError === undefined) {
      diag.error(`tracehop: a ${this.transport.system} message handler failed: ${String(error)}`);
      return;
    }
    try {
      lifecycle.onError(error, message);
    } catch (hookError) {
      reportOnce(`on-error:${this.transport.system}`, `onError threw: ${String(hookError)}`);
    }
  }

  /** Ends every `process` span waiting for a settle with `error`: their subscription is gone. */
  abortWaiting(error: unknown): void {
    this.pending.abortAll(error);
  }

  // ------------------------------------------------------------ ScopeOwner

  /** @internal */
  waitForSettle(scope: ProcessScope): void {
    this.pending.add(scope);
  }

  /** @internal */
  scopeEnded(scope: ProcessScope): void {
    this.pending.delete(scope);
  }

  /** @internal */
  processed(metric: MetricDestination, startedAt: number, error: string | undefined): void {
    const instruments = this.metrics.instruments;
    if (instruments === undefined) return;
    recordValue(
      instruments.processDuration,
      secondsSince(startedAt),
      metric.attributes(undefined, this.operationName('process'), error),
    );
  }

  /** @internal */
  settleMeasured(
    metric: MetricDestination,
    operation: string,
    error: unknown,
    seconds: number,
  ): void {
    const instruments = this.metrics.instruments;
    if (instruments === undefined) return;
    recordValue(
      instruments.operationDuration,
      seconds,
      metric.attributes('settle', operation, error === undefined ? undefined : errorType(error)),
    );
  }

  /** @internal */
  recordLateSettle(
    processSpan: SpanContext,
    destination: string,
    operation: string,
    error: unknown,
    attributes: Attributes | undefined,
  ): void {
    try {
      const all = { ...settleEventAttributes(operation, error, attributes), ...LATE };
      const span = this.startSpan(
        'settle',
        destination,
        all,
        SpanKind.CLIENT,
        trace.setSpanContext(ROOT_CONTEXT, processSpan),
        undefined,
        false,
        operation,
      );
      if (error !== undefined) recordError(span, error);
      span.end();
    } catch (failure) {
      reportOnce('late-settle', `could not record a late settle: ${String(failure)}`);
    }
  }

  private applyBaggagePolicy(ctx: Context): Context {
    const policy = this.baggagePolicy;
    if (policy === 'keep') return ctx;
    const baggage = propagation.getBaggage(ctx);
    if (baggage === undefined) return ctx;
    if (policy === 'drop') return propagation.deleteBaggage(ctx);
    let kept = baggage;
    for (const [key] of baggage.getAllEntries()) {
      if (!policy.includes(key)) kept = kept.removeEntry(key);
    }
    return propagation.setBaggage(ctx, kept);
  }
}

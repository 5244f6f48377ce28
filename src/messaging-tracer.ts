import {
  context as contextApi,
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
  type Tracer,
} from '@opentelemetry/api';
import { isPromiseLike, recordError } from './errors.js';
import { fitTraceFields } from './limits.js';
import type {
  BaggagePolicy,
  ConsumerOptions,
  ProcessRelation,
  SpanNameFormatter,
  TracingOptions,
} from './options.js';
import { PendingScopes } from './pending-scopes.js';
import { ProcessScope } from './process-scope.js';
import { extractMessageContext, injectTraceFields, safeGetter } from './propagation.js';
import { reportOnce } from './report.js';
import {
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM_NAME,
  type MessagingOperationType,
} from './semconv.js';
import { addPreviousNames, wantsPreviousNames } from './stability.js';
import type { MessagingTransport } from './transport.js';
import { SCOPE_NAME, SCOPE_VERSION } from './version.js';

/** An outgoing message with its open `send` or `create` span. */
export interface SendScope<TOutgoing> {
  /** The span; end it with {@link MessagingTracer.endSpan} once the broker answered. */
  readonly span: Span;
  /** The context the message was sent in (the span's), to run the real send call in. */
  readonly context: Context;
  /** The message to hand to the broker: a copy of the caller's with trace headers. */
  readonly message: TOutgoing;
}

const DEFAULT_SETTLE_TIMEOUT_MS = 60_000;

const defaultSpanName: SpanNameFormatter = (operation, destination) =>
  destination === '' ? operation : `${operation} ${destination}`;

/**
 * The span model, for one transport: `send`/`create` spans with injection under the
 * broker's limits, `receive` spans linked to every message, and `process` spans that
 * run the handler in the message's context and end at the right time. The built-in
 * adapters are thin layers over it; so is a user's own transport.
 */
export class MessagingTracer<TOutgoing, TIncoming> {
  private readonly getter: TextMapGetter<TIncoming>;
  private readonly spanName: SpanNameFormatter;
  private readonly relation: ProcessRelation;
  private readonly baggagePolicy: BaggagePolicy;
  private readonly previousNames = wantsPreviousNames();
  private readonly pending: PendingScopes;
  private readonly scopes = new WeakMap<object, ProcessScope>();
  private readonly tracerSource: TracingOptions['tracerProvider'];
  private cachedTracer: Tracer | undefined;

  constructor(
    readonly transport: MessagingTransport<TOutgoing, TIncoming>,
    options: ConsumerOptions = {},
  ) {
    this.getter = safeGetter((message: TIncoming, key) => transport.readHeader(message, key));
    this.spanName = options.spanName ?? defaultSpanName;
    this.relation = options.relation ?? 'child';
    this.baggagePolicy = options.baggage ?? 'keep';
    this.pending = new PendingScopes(options.settleTimeoutMs ?? DEFAULT_SETTLE_TIMEOUT_MS);
    this.tracerSource = options.tracerProvider;
  }

  /** The tracer spans come from (the global provider's unless one was given). */
  get tracer(): Tracer {
    this.cachedTracer ??= (this.tracerSource ?? trace.getTracerProvider()).getTracer(
      SCOPE_NAME,
      SCOPE_VERSION,
    );
    return this.cachedTracer;
  }

  /** How many `process` spans are open (handler running or message not yet settled). */
  get openProcessSpans(): number {
    return this.pending.size;
  }

  // ---------------------------------------------------------------- producer

  /**
   * Starts the `send` span (PRODUCER) of one message and returns the message with the
   * span's context injected, under the transport's limits. Run the broker call in
   * `scope.context`, then {@link endSpan}.
   */
  startSend(message: TOutgoing, parent: Context = contextApi.active()): SendScope<TOutgoing> {
    return this.startOutgoing('send', message, parent);
  }

  /**
   * Starts the `create` span (PRODUCER) of one message of a batch and injects its
   * context; the batch's {@link startBatchSend} span links to it.
   */
  startCreate(message: TOutgoing, parent: Context = contextApi.active()): SendScope<TOutgoing> {
    return this.startOutgoing('create', message, parent);
  }

  /**
   * Starts the `send` span of a batch (CLIENT: its context is not the one the
   * messages carry), linked to each message's creation context.
   */
  startBatchSend(
    destination: string,
    attributes: Attributes,
    creationContexts: readonly SpanContext[],
    count: number,
    parent: Context = contextApi.active(),
  ): Span {
    const links: Link[] = creationContexts.map((spanContext) => ({ context: spanContext }));
    attributes[ATTR_MESSAGING_BATCH_MESSAGE_COUNT] = count;
    return this.startSpan('send', destination, attributes, SpanKind.CLIENT, parent, links);
  }

  private startOutgoing(
    type: 'send' | 'create',
    message: TOutgoing,
    parent: Context,
  ): SendScope<TOutgoing> {
    const attributes: Attributes = {};
    const destination = this.transport.describeOutgoing(message, attributes);
    const span = this.startSpan(type, destination, attributes, SpanKind.PRODUCER, parent);
    const ctx = trace.setSpan(parent, span);
    return { span, context: ctx, message: this.inject(message, ctx, span) };
  }

  /**
   * Returns `message` carrying `ctx`, fitted to the transport's limits. When not even
   * `traceparent` fits, uses the transport's fallback, or sends without context.
   * Whatever is dropped is said once through `diag`; the send itself never fails.
   */
  inject(message: TOutgoing, ctx: Context, span?: Span): TOutgoing {
    const transport = this.transport;
    try {
      const fields = injectTraceFields(ctx);
      const limits = transport.limits;
      if (limits === undefined) return transport.withHeaders(message, fields);
      const usage = transport.usage?.(message) ?? { entries: 0 };
      const fitted = fitTraceFields(fields, limits, usage);
      if (fitted.dropped.length > 0) {
        reportOnce(
          `limits:${transport.system}:${fitted.dropped.join(',')}`,
          `${transport.system} message over its attribute limits: dropped ${fitted.dropped.join(', ')}`,
        );
      }
      const traced = transport.withHeaders(message, fitted.fields);
      if (fitted.dropped.length === 0 || transport.withFallbackContext === undefined) return traced;
      const lostParent = 'traceparent' in fields && !('traceparent' in fitted.fields);
      const spanContext = lostParent ? (span ?? trace.getSpan(ctx))?.spanContext() : undefined;
      return spanContext ? transport.withFallbackContext(traced, spanContext) : traced;
    } catch (error) {
      reportOnce(
        `inject:${transport.system}`,
        `sent a message without trace headers: ${String(error)}`,
      );
      return message;
    }
  }

  /** Ends a `send`, `create` or `receive` span, recording `error` when the call failed. */
  endSpan(span: Span, error?: unknown): void {
    if (error !== undefined) recordError(span, error);
    span.end();
  }

  /**
   * Runs a producer call inside a `send` span: `send(traced)` gets the message with
   * headers and runs in the span's context; the span ends when it returns or its
   * promise settles, and errors are recorded and rethrown unchanged.
   * `onResult` may add attributes from the broker's answer (message id…).
   */
  traceSend<R>(
    message: TOutgoing,
    send: (traced: TOutgoing) => R,
    onResult?: (span: Span, result: Awaited<R>) => void,
  ): R {
    const scope = this.startSend(message);
    return this.runInSpan(scope.span, scope.context, () => send(scope.message), onResult);
  }

  /** Runs `fn` in `ctx` and ends `span` when it returns or settles. */
  runInSpan<R>(
    span: Span,
    ctx: Context,
    fn: () => R,
    onResult?: (span: Span, result: Awaited<R>) => void,
  ): R {
    let result: R;
    try {
      result = contextApi.with(ctx, fn);
    } catch (error) {
      this.endSpan(span, error);
      throw error;
    }
    if (isPromiseLike(result)) {
      return result.then(
        (value) => {
          if (onResult) safely(() => onResult(span, value as Awaited<R>));
          span.end();
          return value;
        },
        (error: unknown) => {
          this.endSpan(span, error);
          throw error;
        },
      ) as R;
    }
    if (onResult) safely(() => onResult(span, result as Awaited<R>));
    span.end();
    return result;
  }

  // ---------------------------------------------------------------- consumer

  /**
   * Reads the context a received message was created in, on top of `base`. Malformed
   * headers give `base` back: the message is processed on a new trace.
   */
  extract(message: TIncoming, base: Context = contextApi.active()): Context {
    return extractMessageContext(message, this.getter, base);
  }

  /**
   * The remote span context a received message carries, or `undefined`.
   */
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
   * records how many arrived.
   */
  endReceive(span: Span, messages: readonly TIncoming[], error?: unknown): void {
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

  /**
   * Starts the `process` span (CONSUMER) of one message. With relation `child` it is
   * a child of the message's creation context and links to it (and, when a span was
   * active around the call, links to that too); with `link`, a new trace that links to
   * it. A message without a valid context gets a span under the active context.
   * Baggage is filtered by the baggage policy and kept either way.
   *
   * @param awaitSettle - end the span only once {@link settle} was called too
   * (defaults to the transport's `settles`).
   * @param findable - remember the scope for {@link scopeOf} and {@link settle}. An
   * adapter that keeps the scope itself (by delivery tag, ack id…) passes `false`: the
   * per-message weak-map entry costs measurable garbage-collection time under load.
   */
  startProcess(
    message: TIncoming,
    awaitSettle = this.transport.settles ?? false,
    findable = true,
  ): ProcessScope {
    const active = contextApi.active();
    let parent = this.extract(message, active);
    const creation = parent === active ? undefined : trace.getSpanContext(parent);
    const links: Link[] = [];
    let root = false;
    if (creation !== undefined && creation.isRemote && creation !== trace.getSpanContext(active)) {
      links.push({ context: creation });
      if (this.relation === 'link') {
        root = true;
        parent = trace.deleteSpan(parent);
      } else {
        const ambient = trace.getSpanContext(active);
        if (ambient !== undefined && trace.isSpanContextValid(ambient))
          links.push({ context: ambient });
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
    const scope = new ProcessScope(span, trace.setSpan(parent, span), awaitSettle, this.pending);
    this.pending.add(scope);
    if (findable && typeof message === 'object' && message !== null)
      this.scopes.set(message, scope);
    return scope;
  }

  /**
   * Runs `handler` for one message inside its `process` span, sync or async: the
   * span is active during the handler and everything it awaits. The handler's result
   * or error is passed through unchanged; an error is recorded on the span.
   */
  process<R>(message: TIncoming, handler: () => R, awaitSettle?: boolean): R {
    return this.startProcess(message, awaitSettle).run(handler);
  }

  /** The open `process` scope of a message, if it has one. */
  scopeOf(message: TIncoming): ProcessScope | undefined {
    return typeof message === 'object' && message !== null ? this.scopes.get(message) : undefined;
  }

  /**
   * Records that `message` was settled (`ack`, `nack`…) and ends its `process` span if
   * the handler has finished. Does nothing for messages tracehop did not process.
   */
  settle(message: TIncoming, operation: string, error?: unknown, attributes?: Attributes): void {
    this.scopeOf(message)?.settle(operation, error, attributes);
  }

  /** Ends every open `process` span with `error`: their channel or connection is gone. */
  abortOpen(error: unknown): void {
    this.pending.abortAll(error);
  }

  // ---------------------------------------------------------------- shared

  /**
   * Starts a messaging span with the system and operation attributes added to
   * `attributes` (which it takes ownership of), all set at start so samplers see them.
   */
  startSpan(
    type: MessagingOperationType,
    destination: string,
    attributes: Attributes,
    kind: SpanKind,
    parent: Context,
    links?: Link[],
    root = false,
  ): Span {
    const operation =
      (type === 'settle' ? undefined : this.transport.operationNames?.[type]) ?? type;
    attributes[ATTR_MESSAGING_SYSTEM_NAME] = this.transport.system;
    attributes[ATTR_MESSAGING_OPERATION_TYPE] = type;
    attributes[ATTR_MESSAGING_OPERATION_NAME] = operation;
    if (this.previousNames) addPreviousNames(attributes);
    return this.tracer.startSpan(
      this.spanName(operation, destination),
      { kind, attributes, links, root },
      parent,
    );
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

function safely(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    reportOnce('on-result', `a result hook threw: ${String(error)}`);
  }
}

import {
  context as contextApi,
  SpanKind,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import { isPromiseLike } from './errors.js';
import { fitTraceFields } from './limits.js';
import { MeteredSpan } from './messaging-metrics.js';
import { MessagingSpans } from './messaging-spans.js';
import type { TracingOptions } from './options.js';
import { injectTraceFields } from './propagation.js';
import { reportOnce } from './report.js';
import { ATTR_MESSAGING_BATCH_MESSAGE_COUNT } from './semconv.js';
import type { ProducerTransport } from './transport.js';

/** An outgoing message with its open `send` or `create` span. */
export interface SendScope<TOutgoing> {
  /** The span; end it with {@link ProducerTracer.endSpan} once the broker answered. */
  readonly span: Span;
  /** The context the message was sent in (the span's), to run the real send call in. */
  readonly context: Context;
  /** The message to hand to the broker: a copy of the caller's with trace headers. */
  readonly message: TOutgoing;
}

/**
 * The producer side of the span model, for one transport: `send`/`create` spans, and
 * injection of their context under the broker's limits. Producer wrappers are thin
 * layers over it.
 */
export class ProducerTracer<TOutgoing> extends MessagingSpans {
  constructor(
    readonly transport: ProducerTransport<TOutgoing>,
    options: TracingOptions = {},
  ) {
    super(transport, options);
  }

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
   * context; the batch's {@link startBatchSend} span links to it. End it once the broker
   * has answered for its message: with metrics on, its end counts the message in
   * `messaging.client.sent.messages` (with `error.type` when the span failed).
   */
  startCreate(message: TOutgoing, parent: Context = contextApi.active()): SendScope<TOutgoing> {
    return this.startOutgoing('create', message, parent);
  }

  /**
   * Starts the `send` span of a batch (CLIENT: its context is not the one the
   * messages carry), linked to each message's creation context. Its messages are counted
   * in `messaging.client.sent.messages` by their `create` spans, each as it ends, not here.
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
    const span = this.startSpan('send', destination, attributes, SpanKind.CLIENT, parent, links);
    if (span instanceof MeteredSpan) span.sentMessages = 0;
    return span;
  }

  private startOutgoing(
    type: 'send' | 'create',
    message: TOutgoing,
    parent: Context,
  ): SendScope<TOutgoing> {
    const attributes: Attributes = {};
    const destination = this.transport.describeOutgoing(message, attributes);
    const span = this.startSpan(type, destination, attributes, SpanKind.PRODUCER, parent);
    const transport = this.transport;
    if (transport.describeOutgoingDetails !== undefined && span.isRecording()) {
      const details: Attributes = {};
      transport.describeOutgoingDetails(message, details);
      this.setDetails(span, details);
    }
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
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    reportOnce('on-result', `a result hook threw: ${String(error)}`);
  }
}

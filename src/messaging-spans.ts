import {
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanKind,
  type Tracer,
} from '@opentelemetry/api';
import { recordError } from './errors.js';
import { DestinationTemplates, MessagingMetrics, MeteredSpan } from './messaging-metrics.js';
import type { SpanNameFormatter, TracingOptions } from './options.js';
import { reportOnce } from './report.js';
import {
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM_NAME,
  type MessagingOperationType,
} from './semconv.js';
import { addPreviousNames, wantsPreviousNames } from './stability.js';
import type { TransportIdentity } from './transport.js';
import { SCOPE_NAME, SCOPE_VERSION } from './version.js';

/** The semantic-convention span name: `{operation} {destination}`, or the operation alone. */
export const defaultSpanName: SpanNameFormatter = (operation, destination) =>
  destination === '' ? operation : `${operation} ${destination}`;

/**
 * What producer and consumer spans share: the tracer, the span name, and the system and
 * operation attributes every messaging span carries.
 */
export class MessagingSpans {
  /** How span names are formed (the `spanName` option). */
  readonly spanName: SpanNameFormatter;
  /** The messaging metrics of this tracer's spans (see {@link TracingOptions.meterProvider}). */
  readonly metrics: MessagingMetrics;
  private readonly previousNames = wantsPreviousNames();
  private readonly tracerSource: TracingOptions['tracerProvider'];
  private readonly templates: DestinationTemplates | undefined;
  private cachedTracer: Tracer | undefined;

  constructor(
    private readonly identity: TransportIdentity,
    options: TracingOptions,
  ) {
    this.spanName = options.spanName ?? defaultSpanName;
    this.tracerSource = options.tracerProvider;
    const hook = options.destinationTemplate;
    this.templates = typeof hook === 'function' ? new DestinationTemplates(hook) : undefined;
    this.metrics = new MessagingMetrics(identity.system, options, this.previousNames);
  }

  /** The tracer spans come from (the global provider's unless one was given). */
  get tracer(): Tracer {
    this.cachedTracer ??= (this.tracerSource ?? trace.getTracerProvider()).getTracer(
      SCOPE_NAME,
      SCOPE_VERSION,
    );
    return this.cachedTracer;
  }

  /** `messaging.operation.name` of an operation, in the broker's words. */
  operationName(type: MessagingOperationType): string {
    return (type === 'settle' ? undefined : this.identity.operationNames?.[type]) ?? type;
  }

  /**
   * Starts a messaging span with the system and operation attributes added to
   * `attributes` (which it takes ownership of), all set at start so samplers see them, and
   * `messaging.destination.template` when the `destinationTemplate` option gives one.
   * `operation` overrides the operation name (`ack`, `nack`… for settle spans). While
   * metrics are on, a `send`, `create` or `receive` span comes back wrapped so that its end
   * records the operation's duration and, for `send` and `create`, its messages as sent
   * (`messaging.batch.message_count` of them, else 1).
   */
  startSpan(
    type: MessagingOperationType,
    destination: string,
    attributes: Attributes,
    kind: SpanKind,
    parent: Context,
    links?: Link[],
    root = false,
    operation = this.operationName(type),
  ): Span {
    attributes[ATTR_MESSAGING_SYSTEM_NAME] = this.identity.system;
    attributes[ATTR_MESSAGING_OPERATION_TYPE] = type;
    attributes[ATTR_MESSAGING_OPERATION_NAME] = operation;
    if (this.templates !== undefined) this.templates.addTo(attributes);
    if (this.previousNames) addPreviousNames(attributes);
    const span = this.tracer.startSpan(
      this.spanName(operation, destination),
      { kind, attributes, links, root },
      parent,
    );
    if (type === 'process' || type === 'settle') return span;
    return this.metered(span, type, operation, attributes);
  }

  /** `span`, wrapped to record its metrics when it ends, while metrics are on. */
  private metered(
    span: Span,
    type: 'send' | 'create' | 'receive',
    operation: string,
    attributes: Attributes,
  ): Span {
    const instruments = this.metrics.instruments;
    if (instruments === undefined) return span;
    try {
      const count = attributes[ATTR_MESSAGING_BATCH_MESSAGE_COUNT];
      const sent = type === 'receive' ? 0 : typeof count === 'number' ? count : 1;
      return new MeteredSpan(
        span,
        instruments,
        this.metrics.destinationOf(attributes),
        type,
        operation,
        this.operationName('send'),
        sent,
      );
    } catch (error) {
      reportOnce('metrics:span', `could not record metrics of a span: ${String(error)}`);
      return span;
    }
  }

  /**
   * Sets `details` on a span that records: the attributes samplers do not need, built only
   * for spans that record (a transport's `describeOutgoingDetails`, `describeIncomingDetails`).
   */
  protected setDetails(span: Span, details: Attributes): void {
    if (this.previousNames) addPreviousNames(details);
    span.setAttributes(details);
  }

  /**
   * Whether anything is recorded of `span`: it records, or its end records metrics. When
   * not, a caller may skip waiting for the outcome it would record.
   */
  observes(span: Span): boolean {
    return span.isRecording() || span instanceof MeteredSpan;
  }

  /** Ends a `send`, `create` or `receive` span, recording `error` when the call failed. */
  endSpan(span: Span, error?: unknown): void {
    if (error !== undefined) recordError(span, error);
    span.end();
  }
}

import {
  context as contextApi,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type SpanContext,
  type TextMapGetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { safeGetter, TRACEPARENT } from '../../src/propagation.js';
import { reportOnce } from '../../src/report.js';
import { toTraceparent } from '../../src/span-context-text.js';
import { SCOPE_NAME, SCOPE_VERSION } from '../../src/version.js';
import { cloudEventAttributes } from './cloud-event-attributes.js';
import type { CloudEventLike, WithTraceContextOptions } from './types.js';

/**
 * The Distributed Tracing extension is W3C trace-context by definition, whatever
 * propagator the application registered globally.
 */
const traceContext = new W3CTraceContextPropagator();

const extensionGetter: TextMapGetter<CloudEventLike> = safeGetter(
  (event: CloudEventLike, key: string) => event[key],
);

/** The two attributes of the Distributed Tracing extension. */
interface TraceExtension {
  traceparent: string;
  tracestate?: string;
}

/**
 * Returns the event carrying the CloudEvents Distributed Tracing extension (`traceparent`,
 * and `tracestate` when there is one) with its **creation context**: the context in which
 * the event came into being, set once and then kept unchanged through every hop, queue and
 * router — so a consumer many hops later can still link to where the event was made.
 *
 * - An event that already has a `traceparent` is returned as it is (the extension is never
 *   modified once set, as the extension and the OpenTelemetry conventions require).
 * - Otherwise a `CloudEvents Create {type}` span (PRODUCER, with the `cloudevents.*`
 *   attributes) is started and ended in `options.context`, and the event is cloned with its
 *   context; `createSpan: false` uses the context's own span instead.
 * - `CloudEvent` objects are frozen: the result is `event.cloneWith(…)`, validated in the
 *   SDK's strict mode (both names are valid extension names). An event that is not valid in
 *   strict mode is cloned without validation, and that is said once through `diag`. Plain
 *   objects are copied.
 *
 * The per-hop context — which `send`/`create` span this particular message came from — is
 * not the extension's business: the transport wrappers put it in the message's own
 * attributes or headers (`traceparent`), next to the event. Never throws: on any problem the
 * event is returned unchanged.
 */
export function withTraceContext<E extends CloudEventLike>(
  event: E,
  options: WithTraceContextOptions = {},
): E {
  try {
    if (event[TRACEPARENT] !== undefined) return event;
    const parent = options.context ?? contextApi.active();
    let spanContext: SpanContext | undefined;
    if (options.createSpan === false) {
      spanContext = trace.getSpanContext(parent);
    } else {
      const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(
        SCOPE_NAME,
        SCOPE_VERSION,
      );
      const span = tracer.startSpan(
        `CloudEvents Create ${typeof event.type === 'string' ? event.type : ''}`.trimEnd(),
        { kind: SpanKind.PRODUCER, attributes: cloudEventAttributes(event) },
        parent,
      );
      span.end();
      spanContext = span.spanContext();
    }
    if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return event;
    const extension: TraceExtension = { traceparent: toTraceparent(spanContext) };
    const tracestate = spanContext.traceState?.serialize();
    if (tracestate) extension.tracestate = tracestate;
    return cloneWith(event, extension);
  } catch (error) {
    reportOnce('cloudevents:extension', `could not add the trace extension: ${String(error)}`);
    return event;
  }
}

/**
 * The creation context an event carries in its Distributed Tracing extension, as a remote
 * span context, or `undefined` when it has none or it is malformed (wrong version, bad hex,
 * all-zero ids, not a string…). Never throws.
 */
export function readTraceContext(event: CloudEventLike): SpanContext | undefined {
  try {
    if (event[TRACEPARENT] === undefined) return undefined;
    const extracted = traceContext.extract(ROOT_CONTEXT, event, extensionGetter);
    const spanContext = trace.getSpanContext(extracted);
    return spanContext !== undefined && trace.isSpanContextValid(spanContext)
      ? spanContext
      : undefined;
  } catch (error) {
    reportOnce('cloudevents:read', `could not read the trace extension: ${String(error)}`);
    return undefined;
  }
}

interface Cloneable<E> {
  cloneWith(options: Record<string, unknown>, strict?: boolean): E;
}

function cloneWith<E extends CloudEventLike>(event: E, extension: TraceExtension): E {
  const cloneable = event as unknown as Partial<Cloneable<E>>;
  if (typeof cloneable.cloneWith !== 'function') return { ...event, ...extension };
  const attributes = extension as unknown as Record<string, unknown>;
  try {
    return (cloneable as Cloneable<E>).cloneWith(attributes, true);
  } catch (error) {
    reportOnce(
      'cloudevents:strict',
      `an event is not valid in the SDK's strict mode (${String(error)}); ` +
        'its trace extension was added without validation',
    );
    return (cloneable as Cloneable<E>).cloneWith(attributes, false);
  }
}

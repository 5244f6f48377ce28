import { trace, type Span } from '@opentelemetry/api';
import { reportOnce } from '../../src/report.js';
import { cloudEventAttributes } from './cloud-event-attributes.js';
import { readTraceContext } from './trace-context.js';
import type { CloudEventLike } from './types.js';

/**
 * Adds an event's `cloudevents.*` attributes to a span — by default the active one, i.e.
 * the `process` span a traced AMQP or SQS handler runs in — and a link to the event's
 * creation context (its Distributed Tracing extension), as the OpenTelemetry CloudEvents
 * conventions ask of a processing span. Does nothing for a span that is not recording.
 * Never throws.
 */
export function recordCloudEvent(
  event: CloudEventLike,
  span: Span | undefined = trace.getActiveSpan(),
): void {
  if (span === undefined || !span.isRecording()) return;
  try {
    span.setAttributes(cloudEventAttributes(event));
    const creation = readTraceContext(event);
    if (creation !== undefined && creation.spanId !== span.spanContext().spanId) {
      span.addLink({ context: creation });
    }
  } catch (error) {
    reportOnce('cloudevents:record', `could not record a CloudEvent on a span: ${String(error)}`);
  }
}

import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_CLOUDEVENTS_EVENT_ID,
  ATTR_CLOUDEVENTS_EVENT_SOURCE,
  ATTR_CLOUDEVENTS_EVENT_SPEC_VERSION,
  ATTR_CLOUDEVENTS_EVENT_SUBJECT,
  ATTR_CLOUDEVENTS_EVENT_TYPE,
} from '../../src/semconv.js';
import type { CloudEventLike } from './types.js';

/**
 * The OpenTelemetry CloudEvents span attributes of an event: `cloudevents.event_id`,
 * `event_source`, `event_spec_version`, `event_type` and, when it has one, `event_subject`.
 * Attributes that are not strings (a hand-made event) are left out.
 */
export function cloudEventAttributes(event: CloudEventLike, into: Attributes = {}): Attributes {
  setString(into, ATTR_CLOUDEVENTS_EVENT_ID, event.id);
  setString(into, ATTR_CLOUDEVENTS_EVENT_SOURCE, event.source);
  setString(into, ATTR_CLOUDEVENTS_EVENT_SPEC_VERSION, event.specversion);
  setString(into, ATTR_CLOUDEVENTS_EVENT_TYPE, event.type);
  setString(into, ATTR_CLOUDEVENTS_EVENT_SUBJECT, event.subject);
  return into;
}

function setString(attributes: Attributes, key: string, value: unknown): void {
  if (typeof value === 'string') attributes[key] = value;
}

/**
 * Reading the trace context of a message that SNS delivered to SQS without raw message
 * delivery: the SQS body is then SNS's JSON envelope, and the publisher's message
 * attributes (`traceparent`…) are inside it, as
 * `"MessageAttributes": { "traceparent": { "Type": "String", "Value": "00-…" } }`.
 *
 * @packageDocumentation
 */

import { hasHeaderIgnoringCase, readHeaderIgnoringCase } from '../../src/header-names.js';
import { TRACEPARENT } from '../../src/propagation.js';

/** One attribute inside an SNS envelope. */
interface SnsAttribute {
  readonly Type?: unknown;
  readonly Value?: unknown;
}

/** What tracehop keeps of an SNS envelope. */
export interface SnsEnvelope {
  readonly topicArn: string | undefined;
  readonly attributes: Readonly<Record<string, SnsAttribute | undefined>>;
}

/**
 * Envelopes already parsed, per message object: the receive span and the process span both
 * read them. Only envelopes are remembered; the cheap check runs again for other bodies.
 */
const parsed = new WeakMap<object, SnsEnvelope | null>();

/** How far into the body `"Notification"` must appear: SNS writes `"Type"` first. */
const TYPE_WITHIN = 96;

/**
 * The SNS envelope a message's body is, or `undefined`. Bodies that do not start like one
 * (`{` and `"Notification"` within the first characters, as SNS writes it) are rejected
 * without being parsed: ordinary messages pay a character comparison and, for JSON bodies,
 * a search of their first 96 characters. The result of a parse is remembered per message.
 */
export function snsEnvelopeOf(message: unknown, body: unknown): SnsEnvelope | undefined {
  if (typeof body !== 'string' || body.charCodeAt(0) !== 0x7b) return undefined;
  if (typeof message !== 'object' || message === null) return undefined;
  if (body.lastIndexOf('"Notification"', TYPE_WITHIN) === -1) return undefined;
  let envelope = parsed.get(message);
  if (envelope === undefined) {
    envelope = parse(body);
    parsed.set(message, envelope);
  }
  return envelope ?? undefined;
}

/**
 * Whether an envelope carries a trace context: a `traceparent` attribute, in any case
 * (`TraceParent` counts), as the message attributes' does.
 */
export function snsEnvelopeHasTraceparent(envelope: SnsEnvelope): boolean {
  return hasHeaderIgnoringCase(envelope.attributes, TRACEPARENT);
}

/**
 * The value of the envelope's attribute `key`, exactly or else in any case (see
 * `readHeaderIgnoringCase`), as {@link snsAttributeValue} reads it.
 */
export function snsEnvelopeHeader(envelope: SnsEnvelope, key: string): unknown {
  return snsAttributeValue(
    readHeaderIgnoringCase(envelope.attributes, key) as SnsAttribute | undefined,
  );
}

/**
 * An attribute's value as the header reader wants it: `String` (and `String.*`) values
 * as they are, `Binary` ones decoded from base64 to bytes, anything else `undefined`.
 */
export function snsAttributeValue(attribute: SnsAttribute | undefined): unknown {
  if (attribute === undefined || attribute === null || typeof attribute !== 'object') {
    return undefined;
  }
  const value = attribute.Value;
  if (typeof value !== 'string') return undefined;
  return attribute.Type === 'Binary' ? Buffer.from(value, 'base64') : value;
}

function parse(body: string): SnsEnvelope | null {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null) return null;
  const envelope = json as { Type?: unknown; TopicArn?: unknown; MessageAttributes?: unknown };
  const attributes = envelope.MessageAttributes;
  if (envelope.Type !== 'Notification' || typeof attributes !== 'object' || attributes === null) {
    return null;
  }
  return {
    topicArn: typeof envelope.TopicArn === 'string' ? envelope.TopicArn : undefined,
    attributes: attributes as Record<string, SnsAttribute | undefined>,
  };
}

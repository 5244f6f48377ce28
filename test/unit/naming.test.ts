import type { Attributes } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { ProducerTracer } from '../../src/producer-tracer.js';
import { addPreviousNames, wantsPreviousNames } from '../../src/stability.js';
import { setupTestTracing } from '../../src/testing/index.js';
import type { MessagingTransport } from '../../src/transport.js';

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());

const transport: MessagingTransport<{ q: string }, { q: string }> = {
  system: 'aws.sqs',
  readHeader: () => undefined,
  withHeaders: (m) => m,
  describeOutgoing: (m, attributes) => {
    attributes['messaging.destination.name'] = m.q;
    return m.q;
  },
  describeIncoming: (m) => m.q,
};

describe('span names and attribute names', () => {
  it('names spans {operation} {destination} by default', () => {
    new ProducerTracer(transport).traceSend({ q: 'orders' }, () => undefined);
    expect(tracing.spans().at(-1)?.name).toBe('send orders');
  });

  it('takes an organisation-specific span name formatter', () => {
    const tracer = new ProducerTracer(transport, { spanName: (op, dest) => `${dest} ${op}` });
    tracer.traceSend({ q: 'orders' }, () => undefined);
    expect(tracing.spans().at(-1)?.name).toBe('orders send');
  });

  it('emits the previous names too only with OTEL_SEMCONV_STABILITY_OPT_IN=messaging/dup', () => {
    expect(wantsPreviousNames({})).toBe(false);
    expect(wantsPreviousNames({ OTEL_SEMCONV_STABILITY_OPT_IN: 'http, messaging/dup' })).toBe(true);
    const attributes: Attributes = {
      'messaging.system.name': 'gcp.pubsub',
      'gcp.pubsub.message.ordering_key': 'k',
      'messaging.destination.name': 't',
    };
    addPreviousNames(attributes);
    expect(attributes).toEqual({
      'messaging.system.name': 'gcp.pubsub',
      'messaging.system': 'gcp_pubsub',
      'gcp.pubsub.message.ordering_key': 'k',
      'messaging.gcp_pubsub.message.ordering_key': 'k',
      'messaging.destination.name': 't',
    });
  });
});

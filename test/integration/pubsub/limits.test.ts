import type { Message } from '@google-cloud/pubsub';
import { context, propagation, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PUBSUB_LIMITS, tracePubSubHandler, traceTopic } from '../../../adapters/pubsub/index.js';
import { captureDiagWarnings, setupTestTracing } from '../../../src/testing/index.js';
import { collect, createFixture, only, parentId, spanId } from './kit.js';

const tracing = setupTestTracing();
const tracer = trace.getTracer('test');
const diagWarnings = captureDiagWarnings();
const warnings = diagWarnings.messages;

afterAll(() => tracing.shutdown());
beforeEach(() => {
  tracing.reset();
  diagWarnings.start();
});
afterEach(() => {
  diagWarnings.stop();
  expect(tracing.openSpans()).toEqual([]);
});

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** Baggage far over 1024 bytes: 30 members of 60 `ü` each, percent-encoded on the wire. */
function hugeBaggage() {
  const entries: Record<string, { value: string }> = {};
  for (let i = 0; i < 30; i++) entries[`member${i}`] = { value: 'ü'.repeat(60) };
  return propagation.createBaggage(entries);
}

/** Asserts what the real service enforces (the emulator does not): count, key and value bytes. */
function expectWithinPubSubLimits(attributes: Record<string, string>): void {
  const keys = Object.keys(attributes);
  expect(keys.length).toBeLessThanOrEqual(PUBSUB_LIMITS.maxEntries as number);
  for (const key of keys) {
    expect(bytes(key)).toBeLessThanOrEqual(PUBSUB_LIMITS.maxKeyBytes as number);
    expect(bytes(attributes[key] as string)).toBeLessThanOrEqual(
      PUBSUB_LIMITS.maxValueBytes as number,
    );
  }
}

describe('attributes near the Pub/Sub limits', () => {
  it('multi-byte baggage over 1024 bytes is trimmed member by member; the publish succeeds and the trace continues', async () => {
    const f = await createFixture();
    try {
      const topic = traceTopic(f.topic);
      const received = collect(
        f.subscription,
        1,
        tracePubSubHandler(
          (message: Message) => {
            // The kept baggage members reach the handler.
            expect(propagation.getActiveBaggage()?.getEntry('member0')?.value).toBe('ü'.repeat(60));
            message.ack();
          },
          { subscription: f.subscription },
        ),
      );
      // A 256-byte key and a 1024-byte value of the caller's own, both multi-byte.
      const attributes = { [`ключ${'k'.repeat(248)}`]: 'é'.repeat(512) };
      expect(bytes(Object.keys(attributes)[0] as string)).toBe(256);

      const request = tracer.startSpan('POST /orders');
      const ctx = propagation.setBaggage(trace.setSpan(context.active(), request), hugeBaggage());
      const messageId = await context.with(ctx, () =>
        topic.publishMessage({ data: Buffer.from('x'), attributes }),
      );
      request.end();
      const [message] = (await received) as [Message];
      const spans = await tracing.waitForSpans((s) =>
        s.some((span) => span.name === `subscribe ${f.subscriptionId}`),
      );

      expect(message.id).toBe(messageId);
      expectWithinPubSubLimits(message.attributes);
      const baggage = message.attributes['baggage'] as string;
      expect(bytes(baggage)).toBeGreaterThan(0);
      expect(bytes(baggage)).toBeLessThanOrEqual(1024);
      expect(baggage.startsWith('member0=')).toBe(true);
      expect(message.attributes[Object.keys(attributes)[0] as string]).toBe('é'.repeat(512));
      const create = only(spans, `create ${f.topicId}`);
      expect(message.attributes['traceparent']).toContain(spanId(create));
      expect(parentId(only(spans, `subscribe ${f.subscriptionId}`))).toBe(spanId(create));
      expect(warnings).toEqual([
        'tracehop: gcp.pubsub message over its attribute limits: dropped baggage members',
      ]);
    } finally {
      await f.close();
    }
  });

  it("with 98 attributes of the caller, baggage is dropped and traceparent still fits, beside its googclient_traceparent copy in the attribute kept for the client's own", async () => {
    const f = await createFixture();
    try {
      const topic = traceTopic(f.topic);
      const received = collect(f.subscription, 1, (message: Message) => message.ack());
      const attributes: Record<string, string> = {};
      for (let i = 0; i < 98; i++) attributes[`a${i}`] = `value ${i} ✓`;
      const ctx = propagation.setBaggage(context.active(), hugeBaggage());
      const request = tracer.startSpan('POST /bulk');
      await context.with(trace.setSpan(ctx, request), () =>
        topic.publishMessage({ data: Buffer.from('x'), attributes }),
      );
      request.end();
      const [message] = (await received) as [Message];
      const spans = await tracing.waitForSpans((s) =>
        s.some((span) => span.name === `create ${f.topicId}`),
      );

      expectWithinPubSubLimits(message.attributes);
      // 98 + traceparent + googclient_traceparent: the 100th attribute is the one kept for the
      // client's googclient_traceparent, holding tracehop's copy (the client, when its tracing
      // is on, replaces it in place), so baggage goes rather than the copy.
      expect(Object.keys(message.attributes)).toHaveLength(100);
      expect(message.attributes['baggage']).toBeUndefined();
      expect(message.attributes['traceparent']).toContain(
        spanId(only(spans, `create ${f.topicId}`)),
      );
      expect(message.attributes['googclient_traceparent']).toBe(message.attributes['traceparent']);
      expect(Object.keys(attributes)).toHaveLength(98);
      expect(warnings).toEqual([
        'tracehop: gcp.pubsub message over its attribute limits: dropped baggage members, baggage',
      ]);
    } finally {
      await f.close();
    }
  });
});

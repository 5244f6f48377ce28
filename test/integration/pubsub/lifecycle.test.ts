/* eslint-disable @typescript-eslint/no-misused-promises --
   The Subscription's 'message' listeners are typed as returning void, and its emitter drops
   what they return: what tracehop does with an async handler's promise (never cut it short,
   never let its rejection go unhandled) is what these tests are about. */
/**
 * The one message lifecycle on the Pub/Sub emulator: the settle timeout counts from the
 * handler's end, a settle after it is still recorded, and a handler's rejection — given to
 * `subscription.on('message', …)`, which drops what listeners return — never becomes an
 * unhandled rejection. Time is measured by events (another message's timed-out span),
 * never by sleeping.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Message } from '@google-cloud/pubsub';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tracePubSubHandler, traceTopic } from '../../../adapters/pubsub/index.js';
import type { PubSubMessage } from '../../../adapters/pubsub/index.js';
import { ATTR_SETTLE_LATE } from '../../../src/consumer-tracer.js';
import { ATTR_PROCESS_TIMED_OUT } from '../../../src/process-scope.js';
import { captureDiagWarnings, setupTestTracing } from '../../../src/testing/index.js';
import { createFixture, deferred, only, parentId, spanId, traceId } from './kit.js';

const tracing = setupTestTracing();
const diagWarnings = captureDiagWarnings();
afterAll(() => tracing.shutdown());
beforeEach(() => {
  tracing.reset();
  diagWarnings.start();
});
afterEach(() => {
  diagWarnings.stop();
  expect(tracing.openSpans()).toEqual([]);
});

const named = (spans: readonly ReadableSpan[], name: string) =>
  spans.filter((s) => s.name === name);
const messageId = (span: ReadableSpan): unknown => span.attributes['messaging.message.id'];
const timedOut = (span: ReadableSpan): boolean => span.attributes[ATTR_PROCESS_TIMED_OUT] === true;
const startMs = (span: ReadableSpan): number => hrTimeToMilliseconds(span.startTime);
const endMs = (span: ReadableSpan): number => hrTimeToMilliseconds(span.endTime);

/** Collects the reasons of unhandled rejections until `stop`. */
function watchUnhandledRejections(): { reasons: unknown[]; stop(): void } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown): void => void reasons.push(reason);
  process.on('unhandledRejection', listener);
  return { reasons, stop: () => void process.off('unhandledRejection', listener) };
}

describe('the settle timeout counts from the handler end', () => {
  it('tracePubSubHandler: a handler running far past settleTimeoutMs keeps its span open; its later failure is recorded, not a timeout', async () => {
    const f = await createFixture();
    const subscriptionErrors: unknown[] = [];
    const failure = new TypeError('inventory service failed');
    const reported = deferred<unknown>();
    const slowStarted = deferred<void>();
    const release = deferred<void>();
    const clockReceived = deferred<PubSubMessage>();
    try {
      const topic = traceTopic(f.topic);
      f.subscription.on('error', (error: unknown) => void subscriptionErrors.push(error));
      f.subscription.on(
        'message',
        tracePubSubHandler(
          async (message: Message) => {
            // The clock: finishes at once and is not settled, so its span times out.
            if (message.data.toString() === 'clock') {
              clockReceived.resolve(message);
              return;
            }
            slowStarted.resolve();
            await release.promise;
            message.ack();
            throw failure;
          },
          {
            subscription: f.subscription,
            settleTimeoutMs: 50,
            onError: (error) => reported.resolve(error),
          },
        ),
      );
      const slowId = await topic.publishMessage({ data: Buffer.from('slow') });
      await slowStarted.promise;
      const clockId = await topic.publishMessage({ data: Buffer.from('clock') });

      // The clock's span timed out: more than settleTimeoutMs passed since a handler that
      // started after the slow one ended. The slow handler still runs, its span still open.
      const early = await tracing.waitForSpans((s) =>
        named(s, `subscribe ${f.subscriptionId}`).some(timedOut),
      );
      expect(named(early, `subscribe ${f.subscriptionId}`).map(messageId)).toEqual([clockId]);
      expect(tracing.openSpans().map((span) => span.name)).toEqual([
        `subscribe ${f.subscriptionId}`,
      ]);

      release.resolve();
      expect(await reported.promise).toBe(failure);
      const spans = await tracing.waitForSpans(
        (s) => named(s, `subscribe ${f.subscriptionId}`).length === 2,
      );
      const [clock, slow] = named(spans, `subscribe ${f.subscriptionId}`);
      if (clock === undefined || slow === undefined) throw new Error('two process spans');
      expect(messageId(clock)).toBe(clockId);
      expect(messageId(slow)).toBe(slowId);
      expect(clock.events).toEqual([]);

      expect(slow.kind).toBe(SpanKind.CONSUMER);
      const create = named(spans, `create ${f.topicId}`).find((s) => messageId(s) === slowId);
      expect(create).toBeDefined();
      expect(parentId(slow)).toBe(spanId(create as ReadableSpan));
      expect(slow.attributes[ATTR_PROCESS_TIMED_OUT]).toBeUndefined();
      expect(slow.status).toEqual({
        code: SpanStatusCode.ERROR,
        message: 'inventory service failed',
      });
      expect(slow.attributes['error.type']).toBe('TypeError');
      expect(slow.events.map((e) => e.name)).toEqual(['ack', 'exception']);
      // The slow span covers the clock's whole life, timeout included.
      expect(startMs(slow)).toBeLessThanOrEqual(startMs(clock));
      expect(endMs(slow)).toBeGreaterThanOrEqual(endMs(clock));

      // The clock's ack, after its span timed out, is a late ack span under it.
      (await clockReceived.promise).ack();
      const withLate = await tracing.waitForSpans(
        (s) => named(s, `ack ${f.subscriptionId}`).length === 1,
      );
      const late = only(withLate, `ack ${f.subscriptionId}`);
      expect(late.kind).toBe(SpanKind.CLIENT);
      expect(late.attributes).toMatchObject({
        [ATTR_SETTLE_LATE]: true,
        'messaging.operation.type': 'settle',
        'messaging.operation.name': 'ack',
      });
      expect(parentId(late)).toBe(spanId(clock));
      expect(traceId(late)).toBe(traceId(clock));
      expect(subscriptionErrors).toEqual([]);
    } finally {
      release.resolve();
      await f.close();
    }
  });
});

describe('no unhandled rejections when the emitter drops the handler promise', () => {
  it("subscription.on('message', tracePubSubHandler(async …, { autoSettle, onError })): onError gets the error, the message is nacked and redelivered, nothing is unhandled", async () => {
    const f = await createFixture();
    const unhandled = watchUnhandledRejections();
    const subscriptionErrors: unknown[] = [];
    const failure = new Error('payment declined');
    const reported: [unknown, PubSubMessage][] = [];
    const firstAttempts = new Set<string>();
    const redelivered = deferred<void>();
    try {
      const topic = traceTopic(f.topic);
      f.subscription.on('error', (error: unknown) => void subscriptionErrors.push(error));
      // Exactly as a user writes it: the emitter ignores the promise the listener returns.
      f.subscription.on(
        'message',
        tracePubSubHandler(
          async (message: Message) => {
            await Promise.resolve();
            if (!firstAttempts.has(message.id)) {
              firstAttempts.add(message.id);
              throw failure;
            }
            redelivered.resolve();
          },
          {
            subscription: f.subscription,
            autoSettle: true,
            onError: (error, message) => void reported.push([error, message]),
          },
        ),
      );
      const id = await topic.publishMessage({ data: Buffer.from('order-5') });

      // The nack made the emulator deliver it again; the second attempt succeeds (auto-ack).
      await redelivered.promise;
      const spans = await tracing.waitForSpans(
        (s) => named(s, `subscribe ${f.subscriptionId}`).length === 2,
      );
      await nextTurn();
      expect(unhandled.reasons).toEqual([]);
      expect(reported).toHaveLength(1);
      expect(reported[0]?.[0]).toBe(failure);
      expect(reported[0]?.[1].id).toBe(id);
      expect(diagWarnings.errors).toEqual([]);

      const create = only(spans, `create ${f.topicId}`);
      const [first, second] = named(spans, `subscribe ${f.subscriptionId}`);
      if (first === undefined || second === undefined) throw new Error('two process spans');
      for (const process of [first, second]) {
        expect(process.kind).toBe(SpanKind.CONSUMER);
        expect(messageId(process)).toBe(id);
        expect(parentId(process)).toBe(spanId(create));
        expect(process.attributes[ATTR_PROCESS_TIMED_OUT]).toBeUndefined();
      }
      expect(first.status).toEqual({ code: SpanStatusCode.ERROR, message: 'payment declined' });
      expect(first.attributes['error.type']).toBe('Error');
      expect(first.events.map((e) => e.name)).toEqual(['exception', 'nack']);
      expect(first.events[1]?.attributes?.['messaging.operation.type']).toBe('settle');
      expect(second.status.code).toBe(SpanStatusCode.UNSET);
      expect(second.events.map((e) => e.name)).toEqual(['ack']);
      expect(subscriptionErrors).toEqual([]);
    } finally {
      unhandled.stop();
      await f.close();
    }
  });
});

/* eslint-disable @typescript-eslint/no-misused-promises --
   amqplib types consume callbacks as returning void; what tracehop does with the promise an
   async handler returns (never cut it short, never let its rejection go unhandled) is what
   these tests are about. */
/**
 * The one message lifecycle on a real RabbitMQ: the settle timeout counts from the
 * handler's end, a settle after the timeout is still recorded, a settle tracehop cannot see
 * is never waited for, and a handler's rejection never becomes an unhandled rejection.
 * Time is measured by events (another message's timed-out span), never by sleeping.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ChannelModel, ConsumeMessage, Message } from 'amqplib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ATTR_AMQP_REQUEUE, traceAmqpHandler, traceChannel } from '../../../adapters/amqp/index.js';
import { ATTR_SETTLE_LATE } from '../../../src/consumer-tracer.js';
import { ATTR_PROCESS_TIMED_OUT } from '../../../src/process-scope.js';
import { captureDiagWarnings, setupTestTracing } from '../../../src/testing/index.js';
import { collector, deferred, isChildOf, named, only, openConnection, uniqueName } from './kit.js';

const tracing = setupTestTracing();
const diagWarnings = captureDiagWarnings();
let connection: ChannelModel;

beforeAll(async () => {
  connection = await openConnection();
});
afterAll(async () => {
  await connection.close();
  await tracing.shutdown();
});
beforeEach(() => {
  tracing.reset();
  diagWarnings.start();
});
afterEach(() => {
  diagWarnings.stop();
  expect(tracing.openSpans()).toEqual([]);
});

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

/** Deletes `queues` through a channel of its own, whatever state the test left its channels in. */
async function deleteQueues(...queues: string[]): Promise<void> {
  const cleanup = await connection.createChannel();
  for (const queue of queues) await cleanup.deleteQueue(queue);
  await cleanup.close();
}

describe('the settle timeout counts from the handler end', () => {
  it('traceChannel: a handler running far past settleTimeoutMs keeps its span open; its later failure is recorded, not a timeout', async () => {
    const failure = new TypeError('stock service failed');
    const reported = deferred<unknown>();
    const raw = await connection.createChannel();
    const channel = traceChannel(raw, {
      settleTimeoutMs: 50,
      onError: (error) => reported.resolve(error),
    });
    const queue = uniqueName('long-handler');
    await channel.assertQueue(queue);
    const slowStarted = deferred();
    const release = deferred();
    await channel.consume(queue, async (message) => {
      if (message === null) return;
      // The clock: finishes at once and is never settled, so its span times out.
      if (message.properties.messageId === 'clock') return;
      slowStarted.resolve();
      await release.promise;
      channel.nack(message, false, false);
      throw failure;
    });
    try {
      channel.sendToQueue(queue, Buffer.from('slow'), { messageId: 'slow' });
      await slowStarted.promise;
      channel.sendToQueue(queue, Buffer.from('clock'), { messageId: 'clock' });

      // The clock's span timed out: more than settleTimeoutMs passed since a handler that
      // started after the slow one ended. The slow handler still runs, its span still open.
      const early = await tracing.waitForSpans((s) => named(s, `process ${queue}`).some(timedOut));
      expect(named(early, `process ${queue}`).map(messageId)).toEqual(['clock']);
      expect(tracing.openSpans().map((span) => span.name)).toEqual([`process ${queue}`]);

      release.resolve();
      expect(await reported.promise).toBe(failure);
      const spans = await tracing.waitForSpans((s) => named(s, `process ${queue}`).length === 2);
      const send = named(spans, `send ${queue}`);
      const [clock, slow] = named(spans, `process ${queue}`);
      if (clock === undefined || slow === undefined) throw new Error('two process spans');
      expect(messageId(clock)).toBe('clock');
      expect(messageId(slow)).toBe('slow');
      expect(clock.attributes[ATTR_PROCESS_TIMED_OUT]).toBe(true);
      expect(clock.events).toEqual([]);

      expect(slow.kind).toBe(SpanKind.CONSUMER);
      expect(send.some((s) => isChildOf(slow, s))).toBe(true);
      expect(slow.attributes[ATTR_PROCESS_TIMED_OUT]).toBeUndefined();
      expect(slow.status).toEqual({ code: SpanStatusCode.ERROR, message: 'stock service failed' });
      expect(slow.attributes['error.type']).toBe('TypeError');
      expect(slow.events.map((e) => e.name)).toEqual(['nack', 'exception']);
      expect(slow.events[1]?.attributes?.['exception.message']).toBe('stock service failed');
      // The slow span covers the clock's whole life, timeout included.
      expect(startMs(slow)).toBeLessThanOrEqual(startMs(clock));
      expect(endMs(slow)).toBeGreaterThanOrEqual(endMs(clock));
    } finally {
      await raw.close();
      await deleteQueues(queue);
    }
  });
});

describe('a settle after the timeout', () => {
  it('traceChannel: an ack after the span timed out is exported as a late ack span under it, and reaches the broker', async () => {
    const raw = await connection.createChannel();
    const channel = traceChannel(raw, { settleTimeoutMs: 50 });
    const queue = uniqueName('late-ack');
    await channel.assertQueue(queue);
    const received = deferred<ConsumeMessage>();
    await channel.consume(queue, (message) => {
      if (message !== null) received.resolve(message); // returns without acking
    });
    try {
      channel.sendToQueue(queue, Buffer.from('x'));
      const message = await received.promise;
      const first = await tracing.waitForSpans((s) => named(s, `process ${queue}`).some(timedOut));
      const process = only(first, `process ${queue}`);
      expect(named(first, `ack ${queue}`)).toEqual([]);

      channel.ack(message);
      const spans = await tracing.waitForSpans((s) => named(s, `ack ${queue}`).length === 1);
      const late = only(spans, `ack ${queue}`);
      expect(late.kind).toBe(SpanKind.CLIENT);
      expect(late.attributes).toMatchObject({
        [ATTR_SETTLE_LATE]: true,
        'messaging.operation.type': 'settle',
        'messaging.operation.name': 'ack',
        'messaging.system.name': 'rabbitmq',
      });
      expect(isChildOf(late, process)).toBe(true);
      expect(late.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
      expect(late.status.code).toBe(SpanStatusCode.UNSET);
      // Nothing was added to the ended span.
      expect(process.events).toEqual([]);
    } finally {
      await raw.close();
    }
    // The ack went through: closing the channel requeued nothing.
    const check = await connection.createChannel();
    expect((await check.checkQueue(queue)).messageCount).toBe(0);
    await check.close();
    await deleteQueues(queue);
  });
});

describe('never waiting for a settle that cannot be seen', () => {
  it('traceAmqpHandler on a raw channel no wrapper was made for: acks through it end nothing, each span ends with its handler, and that is said once', async () => {
    const producerChannel = await connection.createChannel();
    const producer = traceChannel(producerChannel);
    const queue = uniqueName('raw-acks');
    await producerChannel.assertQueue(queue);
    // A connection of its own: no traceChannel wrapper of this channel ever existed.
    const consumerConnection = await openConnection();
    const raw = await consumerConnection.createChannel();
    const handled = collector<string>(3);
    try {
      await raw.consume(
        queue,
        traceAmqpHandler(
          (message: ConsumeMessage | null) => {
            if (message === null) return;
            raw.ack(message);
            handled.add(message.properties.messageId as string);
          },
          { channel: raw, queue },
        ),
      );
      for (const id of ['m1', 'm2', 'm3']) {
        producer.sendToQueue(queue, Buffer.from(id), { messageId: id });
      }
      expect((await handled.all).sort()).toEqual(['m1', 'm2', 'm3']);
      // Ended with the handlers, not left waiting for the 60 s default timeout.
      expect(tracing.openSpans().map((span) => span.name)).toEqual([]);
      const spans = await tracing.waitForSpans((s) => named(s, `process ${queue}`).length === 3);
      const sends = named(spans, `send ${queue}`);
      for (const process of named(spans, `process ${queue}`)) {
        expect(process.kind).toBe(SpanKind.CONSUMER);
        expect(process.attributes[ATTR_PROCESS_TIMED_OUT]).toBeUndefined();
        expect(process.events).toEqual([]);
        expect(process.status.code).toBe(SpanStatusCode.UNSET);
        const send = sends.find((s) => messageId(s) === messageId(process));
        expect(send).toBeDefined();
        expect(isChildOf(process, send as ReadableSpan)).toBe(true);
      }
      expect(
        diagWarnings.messages.filter((m) =>
          m.includes('acks through a channel tracehop does not wrap'),
        ),
      ).toHaveLength(1);
    } finally {
      // The channel first: its close flushes the acks before the connection goes.
      await raw.close();
      await consumerConnection.close();
    }
    // The raw acks did reach the broker.
    expect((await producerChannel.checkQueue(queue)).messageCount).toBe(0);
    await producerChannel.deleteQueue(queue);
    await producerChannel.close();
  });
});

describe('no unhandled rejections when amqplib drops the handler promise', () => {
  it('traceChannel consume: an async handler rejection goes to onError, recorded on the span, never unhandled', async () => {
    const unhandled = watchUnhandledRejections();
    const failure = new RangeError('quantity out of range');
    const reported = deferred<[unknown, Message]>();
    const raw = await connection.createChannel();
    const channel = traceChannel(raw, {
      onError: (error, message) => reported.resolve([error, message]),
    });
    const queue = uniqueName('rejecting');
    await channel.assertQueue(queue);
    try {
      await channel.consume(queue, async (message) => {
        if (message === null) return;
        await Promise.resolve();
        channel.nack(message, false, false);
        throw failure;
      });
      channel.sendToQueue(queue, Buffer.from('order-1'), { messageId: 'order-1' });
      const [error, message] = await reported.promise;
      await nextTurn();
      expect(unhandled.reasons).toEqual([]);
      expect(error).toBe(failure);
      expect(message.content.toString()).toBe('order-1');
      expect(diagWarnings.errors).toEqual([]);

      const spans = await tracing.waitForSpans((s) => named(s, `process ${queue}`).length === 1);
      const process = only(spans, `process ${queue}`);
      expect(isChildOf(process, only(spans, `send ${queue}`))).toBe(true);
      expect(process.status).toEqual({
        code: SpanStatusCode.ERROR,
        message: 'quantity out of range',
      });
      expect(process.attributes['error.type']).toBe('RangeError');
      expect(process.events.map((e) => e.name)).toEqual(['nack', 'exception']);
      expect(process.attributes[ATTR_PROCESS_TIMED_OUT]).toBeUndefined();
    } finally {
      unhandled.stop();
      await raw.close();
      await deleteQueues(queue);
    }
  });

  it('traceAmqpHandler with autoSettle and no onError: the rejection becomes a nack (dead-lettered) and a diag.error, never unhandled', async () => {
    const unhandled = watchUnhandledRejections();
    const failure = new TypeError('malformed order');
    const raw = await connection.createChannel();
    const producer = traceChannel(await connection.createChannel());
    const queue = uniqueName('auto-nack');
    const deadLetters = uniqueName('auto-nack-dlq');
    await raw.assertQueue(deadLetters);
    await raw.assertQueue(queue, {
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': deadLetters },
    });
    const deadLettered = deferred<ConsumeMessage>();
    try {
      await raw.consume(
        deadLetters,
        (message) => {
          if (message !== null) deadLettered.resolve(message);
        },
        { noAck: true },
      );
      await raw.consume(
        queue,
        traceAmqpHandler(
          async (message: ConsumeMessage | null) => {
            if (message === null) return;
            await Promise.resolve();
            throw failure;
          },
          { channel: raw, queue, autoSettle: { requeue: false } },
        ),
      );
      producer.sendToQueue(queue, Buffer.from('order-2'), { messageId: 'order-2' });

      const dead = await deadLettered.promise;
      expect(dead.content.toString()).toBe('order-2');
      expect(dead.properties.messageId).toBe('order-2');
      const spans = await tracing.waitForSpans((s) => named(s, `process ${queue}`).length === 1);
      await nextTurn();
      expect(unhandled.reasons).toEqual([]);

      const process = only(spans, `process ${queue}`);
      expect(isChildOf(process, only(spans, `send ${queue}`))).toBe(true);
      expect(process.status).toEqual({ code: SpanStatusCode.ERROR, message: 'malformed order' });
      expect(process.attributes['error.type']).toBe('TypeError');
      expect(process.events.map((e) => e.name)).toEqual(['exception', 'nack']);
      expect(process.events[1]?.attributes).toMatchObject({
        'messaging.operation.type': 'settle',
        [ATTR_AMQP_REQUEUE]: false,
      });
      expect(process.attributes[ATTR_PROCESS_TIMED_OUT]).toBeUndefined();
      expect(diagWarnings.errors).toHaveLength(1);
      expect(diagWarnings.errors[0]).toContain('malformed order');
      // autoSettle sees its own settles: nothing to warn about.
      expect(diagWarnings.messages).toEqual([]);
    } finally {
      unhandled.stop();
      await raw.close();
      await producer.close();
      await deleteQueues(queue, deadLetters);
    }
  });
});

/* eslint-disable @typescript-eslint/no-misused-promises --
   amqplib types consume callbacks as returning void; the traced channel awaits the
   promise an async handler returns, which is what these tests are about. */
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { ChannelModel, ConsumeMessage, GetMessage } from 'amqplib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ATTR_AMQP_MULTIPLE,
  ATTR_AMQP_REDELIVERED,
  ATTR_AMQP_REQUEUE,
  traceAmqpHandler,
  traceChannel,
} from '../../../adapters/amqp/index.js';
import { ATTR_PROCESS_TIMED_OUT } from '../../../src/process-scope.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import {
  collector,
  deferred,
  isChildOf,
  linksTo,
  named,
  only,
  openConnection,
  uniqueName,
} from './kit.js';

const tracing = setupTestTracing();
let connection: ChannelModel;

beforeAll(async () => {
  connection = await openConnection();
});
afterAll(async () => {
  await connection.close();
  await tracing.shutdown();
});
beforeEach(() => tracing.reset());
afterEach(() => {
  expect(tracing.openSpans()).toEqual([]);
});

const durationMs = (span: { duration: [number, number] }) =>
  span.duration[0] * 1e3 + span.duration[1] / 1e6;

describe('settling', () => {
  it('a handler that throws is nacked, redelivered, and processed again under the same send span', async () => {
    const raw = await connection.createChannel();
    const producer = traceChannel(raw);
    const queue = uniqueName('retry');
    await raw.assertQueue(queue, { exclusive: true });
    const attempts = collector<boolean>(2);
    const handler = traceAmqpHandler(
      (message: ConsumeMessage | null) => {
        if (message === null) return Promise.resolve();
        attempts.add(message.fields.redelivered);
        if (!message.fields.redelivered) return Promise.reject(new TypeError('card declined'));
        return Promise.resolve();
      },
      { channel: raw, queue, autoSettle: true },
    );
    await raw.consume(queue, handler);
    producer.sendToQueue(queue, Buffer.from('order'));

    expect(await attempts.all).toEqual([false, true]);
    const spans = await tracing.waitForSpans((s) => named(s, `process ${queue}`).length === 2);
    const send = only(spans, `send ${queue}`);
    const [first, second] = named(spans, `process ${queue}`);
    if (first === undefined || second === undefined) throw new Error('two process spans');
    for (const process of [first, second]) {
      expect(isChildOf(process, send)).toBe(true);
      expect(linksTo(process, send)).toBe(true);
    }
    expect(first.attributes[ATTR_AMQP_REDELIVERED]).toBeUndefined();
    expect(first.status.code).toBe(SpanStatusCode.ERROR);
    expect(first.attributes['error.type']).toBe('TypeError');
    expect(first.events.map((e) => e.name)).toEqual(['exception', 'nack']);
    expect(first.events[1]?.attributes?.[ATTR_AMQP_REQUEUE]).toBe(true);
    expect(second.attributes[ATTR_AMQP_REDELIVERED]).toBe(true);
    expect(second.status.code).toBe(SpanStatusCode.UNSET);
    expect(second.events.map((e) => e.name)).toEqual(['ack']);
    await raw.close();
  });

  it('the span ends when the handler finishes and the message is settled, whichever is later', async () => {
    const channel = traceChannel(await connection.createChannel());
    const queue = uniqueName('later');
    await channel.assertQueue(queue, { exclusive: true });
    const handled = deferred();
    const release = deferred();
    await channel.consume(queue, async (message) => {
      if (message === null) return;
      channel.ack(message); // settled first...
      handled.resolve();
      await release.promise; // ...handler still working
      trace.getTracer('job').startSpan('after ack').end();
    });
    channel.sendToQueue(queue, Buffer.from('x'));
    await handled.promise;
    expect(tracing.openSpans().map((s) => s.name)).toEqual([`process ${queue}`]);
    release.resolve();
    const spans = await tracing.waitForSpans((s) => s.some((x) => x.name === `process ${queue}`));
    expect(isChildOf(only(spans, 'after ack'), only(spans, `process ${queue}`))).toBe(true);
    await channel.close();
  });

  it('a message never acked has its span ended by the timeout', async () => {
    const raw = await connection.createChannel();
    const channel = traceChannel(raw, { settleTimeoutMs: 200 });
    const queue = uniqueName('forgotten');
    await channel.assertQueue(queue, { exclusive: true });
    const seen = deferred();
    await channel.consume(queue, () => seen.resolve());
    channel.sendToQueue(queue, Buffer.from('x'));
    await seen.promise;
    const spans = await tracing.waitForSpans((s) => s.some((x) => x.name === `process ${queue}`));
    const process = only(spans, `process ${queue}`);
    expect(process.attributes[ATTR_PROCESS_TIMED_OUT]).toBe(true);
    expect(process.events).toEqual([]);
    expect(durationMs(process)).toBeGreaterThanOrEqual(150);
    await channel.close();
  });

  it('closing the channel while handlers are in flight records the error and ends each span when its handler finishes', async () => {
    const channel = traceChannel(await connection.createChannel());
    const queue = uniqueName('closing');
    await channel.assertQueue(queue);
    await channel.prefetch(5);
    const started = collector<void>(3);
    const release = deferred();
    const finished: Promise<void>[] = [];
    await channel.consume(queue, (message) => {
      if (message === null) return;
      started.add();
      const done = release.promise.then(() => undefined);
      finished.push(done);
      return done;
    });
    for (let i = 0; i < 3; i++) channel.sendToQueue(queue, Buffer.from(String(i)));
    await started.all;
    await channel.close();
    // A running handler's span is never ended under it: the handlers still run.
    expect(named(tracing.spans(), `process ${queue}`)).toEqual([]);
    release.resolve();
    await Promise.all(finished);
    const spans = await tracing.waitForSpans((s) => named(s, `process ${queue}`).length === 3);
    for (const process of named(spans, `process ${queue}`)) {
      expect(process.status.code).toBe(SpanStatusCode.ERROR);
      expect(process.attributes['error.type']).toBe('ChannelClosedError');
    }
    const cleanup = await connection.createChannel();
    await cleanup.deleteQueue(queue);
    await cleanup.close();
  });

  it('ack with allUpTo, and nackAll, settle every earlier delivery on the channel', async () => {
    const channel = traceChannel(await connection.createChannel());
    const queue = uniqueName('multiple');
    await channel.assertQueue(queue, { exclusive: true });
    const firstThree = collector<ConsumeMessage>(3);
    const lastTwo = collector<ConsumeMessage>(5);
    await channel.consume(queue, (message) => {
      if (message === null) return;
      firstThree.add(message);
      lastTwo.add(message);
    });
    for (let i = 0; i < 5; i++) channel.sendToQueue(queue, Buffer.from(String(i)));
    const three = await firstThree.all;
    channel.ack(three[2] as ConsumeMessage, true);
    await lastTwo.all;
    channel.nackAll(false);
    const spans = await tracing.waitForSpans((s) => named(s, `process ${queue}`).length === 5);
    const byTag = named(spans, `process ${queue}`).sort(
      (a, b) =>
        (a.attributes['rabbitmq.message.delivery_tag'] as number) -
        (b.attributes['rabbitmq.message.delivery_tag'] as number),
    );
    expect(byTag.map((s) => s.events.map((e) => e.name).join())).toEqual([
      'ack',
      'ack',
      'ack',
      'nack',
      'nack',
    ]);
    expect(byTag[0]?.events[0]?.attributes?.[ATTR_AMQP_MULTIPLE]).toBe(true);
    expect(byTag[4]?.events[0]?.attributes).toMatchObject({
      [ATTR_AMQP_MULTIPLE]: true,
      [ATTR_AMQP_REQUEUE]: false,
    });
    await channel.close();
  });

  it('reject is recorded with its requeue flag', async () => {
    const channel = traceChannel(await connection.createChannel());
    const queue = uniqueName('reject');
    await channel.assertQueue(queue, { exclusive: true });
    await channel.consume(queue, (message) => {
      if (message !== null) channel.reject(message, false);
    });
    channel.sendToQueue(queue, Buffer.from('bad'));
    const spans = await tracing.waitForSpans((s) => s.some((x) => x.name === `process ${queue}`));
    const process = only(spans, `process ${queue}`);
    expect(process.events.map((e) => [e.name, e.attributes?.[ATTR_AMQP_REQUEUE]])).toEqual([
      ['reject', false],
    ]);
    await channel.close();
  });

  it('settleEvents: false leaves out the ack event; the span still ends at the ack, after the handler', async () => {
    const channel = traceChannel(await connection.createChannel(), { settleEvents: false });
    const queue = uniqueName('no-settle-events');
    await channel.assertQueue(queue, { exclusive: true });
    const handled = deferred<ConsumeMessage>();
    await channel.consume(queue, (message) => {
      if (message !== null) handled.resolve(message);
    });
    channel.sendToQueue(queue, Buffer.from('x'));
    const message = await handled.promise;
    // The handler has returned without acking: the span waits for the ack.
    expect(tracing.openSpans().map((s) => s.name)).toEqual([`process ${queue}`]);
    channel.ack(message);
    const spans = await tracing.waitForSpans((s) => s.some((x) => x.name === `process ${queue}`));
    const process = only(spans, `process ${queue}`);
    expect(process.events).toEqual([]);
    expect(process.attributes[ATTR_PROCESS_TIMED_OUT]).toBeUndefined();
    await channel.close();
  });

  it('noAck: the span covers the whole async handler', async () => {
    const channel = traceChannel(await connection.createChannel());
    const queue = uniqueName('noack');
    await channel.assertQueue(queue, { exclusive: true });
    const done = deferred();
    await channel.consume(
      queue,
      async (message) => {
        if (message === null) return;
        await new Promise((resolve) => setTimeout(resolve, 30));
        trace.getTracer('job').startSpan('late work').end();
        done.resolve();
      },
      { noAck: true },
    );
    channel.sendToQueue(queue, Buffer.from('x'));
    await done.promise;
    const spans = await tracing.waitForSpans((s) => s.some((x) => x.name === `process ${queue}`));
    const process = only(spans, `process ${queue}`);
    expect(isChildOf(only(spans, 'late work'), process)).toBe(true);
    expect(durationMs(process)).toBeGreaterThanOrEqual(25);
    expect(process.events).toEqual([]);
    await channel.close();
  });

  it('a decorated handler on a raw channel records acks made through a traceChannel wrapper of it', async () => {
    const raw = await connection.createChannel();
    const traced = traceChannel(raw);
    const queue = uniqueName('decorated');
    await raw.assertQueue(queue, { exclusive: true });
    await raw.consume(
      queue,
      traceAmqpHandler(
        (message: ConsumeMessage | null) => {
          if (message !== null) traced.ack(message);
        },
        { channel: raw, queue },
      ),
    );
    traced.sendToQueue(queue, Buffer.from('x'));
    const spans = await tracing.waitForSpans((s) => s.some((x) => x.name === `process ${queue}`));
    expect(only(spans, `process ${queue}`).events.map((e) => e.name)).toEqual(['ack']);
    // Passed to the wrapper's consume, a decorated handler is traced once.
    const again = uniqueName('decorated-again');
    await raw.assertQueue(again, { exclusive: true });
    await traced.consume(
      again,
      traceAmqpHandler(() => undefined, { channel: traced, queue: again, noAck: true }),
      { noAck: true },
    );
    traced.sendToQueue(again, Buffer.from('y'));
    const more = await tracing.waitForSpans((s) => s.some((x) => x.name === `process ${again}`));
    expect(named(more, `process ${again}`)).toHaveLength(1);
    await raw.close();
  });
});

describe('pull', () => {
  it('get opens a receive span linked to the message creation context; a decorated handler can process it', async () => {
    const channel = traceChannel(await connection.createChannel());
    const queue = uniqueName('pull');
    await channel.assertQueue(queue, { exclusive: true });
    expect(await channel.get(queue)).toBe(false);
    channel.sendToQueue(queue, Buffer.from('x'), { messageId: 'pulled-1' });
    let message: GetMessage | false = false;
    while (message === false) message = await channel.get(queue);
    const process = traceAmqpHandler(
      (pulled: GetMessage) => {
        channel.ack(pulled);
      },
      { channel, queue },
    );
    process(message);
    const spans = await tracing.waitForSpans((s) => s.some((x) => x.name === `process ${queue}`));
    const send = only(spans, `send ${queue}`);
    const receives = named(spans, `receive ${queue}`);
    const empty = receives.find((s) => s.attributes['messaging.batch.message_count'] === 0);
    const full = receives.find((s) => s.attributes['messaging.batch.message_count'] === 1);
    expect(empty?.links).toEqual([]);
    expect(full).toBeDefined();
    expect(linksTo(full as never, send)).toBe(true);
    expect(full?.attributes).toMatchObject({
      'messaging.operation.type': 'receive',
      'messaging.message.id': 'pulled-1',
      'messaging.destination.name': queue,
    });
    const processed = only(spans, `process ${queue}`);
    expect(isChildOf(processed, send)).toBe(true);
    expect(processed.events.map((e) => e.name)).toEqual(['ack']);
    await channel.close();
  });
});

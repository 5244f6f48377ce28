/**
 * Production sampling on a real RabbitMQ: a message whose trace is not sampled gets only
 * its context (the handler still runs in the producer's trace), no settle tracking and no
 * attributes beyond what samplers see; samplers see the attributes the semantic conventions
 * name for sampling at start; the rest is set on spans that record.
 */
import { context, trace, TraceFlags } from '@opentelemetry/api';

import type { ChannelModel, Message } from 'amqplib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { traceAmqpHandler, traceChannel } from '../../../adapters/amqp/index.js';
import { channelState } from '../../../adapters/amqp/channel-state.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { AskedSampler, unsampledParent } from '../../sampling-kit.js';
import {
  collector,
  deferred,
  isChildOf,
  linksTo,
  only,
  openConnection,
  uniqueName,
} from './kit.js';

const sampler = new AskedSampler();
const tracing = setupTestTracing({ sampler });
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
  sampler.calls.length = 0;
});

const SAMPLING_KEYS = [
  'messaging.destination.name',
  'messaging.operation.name',
  'messaging.operation.type',
  'messaging.system.name',
  'server.address',
  'server.port',
];

describe('messages whose trace is not sampled', () => {
  it('run their handler in the producer trace, are acked, and leave nothing tracked or recorded', async () => {
    const raw = await connection.createChannel();
    const channel = traceChannel(raw);
    const queue = uniqueName('unsampled');
    await channel.assertQueue(queue, { autoDelete: true });
    const seen = collector<{ traceId: string; sampled: boolean; tracked: number }>(20);
    const state = channelState(raw);
    await channel.consume(queue, (message: Message | null) => {
      if (message === null) return;
      const active = trace.getSpanContext(context.active());
      seen.add({
        traceId: active?.traceId ?? '',
        sampled: ((active?.traceFlags ?? 0) & TraceFlags.SAMPLED) !== 0,
        tracked: state.unsettledCount,
      });
      channel.ack(message);
    });
    context.with(unsampledParent(), () => {
      for (let i = 0; i < 20; i++) channel.sendToQueue(queue, Buffer.from(String(i)));
    });
    const handled = await seen.all;
    expect(handled).toHaveLength(20);
    for (const one of handled) {
      expect(one).toEqual({
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        sampled: false,
        tracked: 0,
      });
    }
    expect(state.unsettledCount).toBe(0);
    // Every message was acked: nothing is left for another consumer.
    const check = await connection.createChannel();
    expect((await check.checkQueue(queue)).messageCount).toBe(0);
    await check.close();
    await channel.close();
    expect(tracing.spans()).toEqual([]);
    expect(tracing.openSpans()).toEqual([]);
  });
});

describe('unsampled messages with autoSettle', () => {
  it('are settled once: a handler that settles itself is not settled again', async () => {
    const raw = await connection.createChannel();
    const channel = traceChannel(raw);
    const queue = uniqueName('unsampled-auto');
    await channel.assertQueue(queue, { autoDelete: true });
    const closed = deferred<unknown>();
    raw.on('close', () => closed.resolve('closed'));
    raw.on('error', (error: unknown) => closed.resolve(error));
    const handled = collector<number>(10);
    await channel.consume(
      queue,
      traceAmqpHandler(
        (message: Message | null) => {
          if (message === null) return;
          const n = Number(message.content.toString());
          // Half settle themselves; autoSettle acks the others. A second ack of the same
          // delivery tag would close the channel (406 PRECONDITION_FAILED).
          if (n % 2 === 0) channel.ack(message);
          handled.add(n);
        },
        { channel, queue, autoSettle: true },
      ),
    );
    context.with(unsampledParent(), () => {
      for (let i = 0; i < 10; i++) channel.sendToQueue(queue, Buffer.from(String(i)));
    });
    expect((await handled.all).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // A round trip to the broker after the acks: a double ack would have closed the channel.
    const check = await channel.checkQueue(queue);
    expect(check.messageCount).toBe(0);
    expect(check.consumerCount).toBe(1);
    await channel.close();
    expect(await closed.promise).toBe('closed');
    expect(tracing.spans()).toEqual([]);
  });
});

describe('unsampled publishes on a confirm channel', () => {
  it('get their confirm callbacks from the broker as without tracehop, and record nothing', async () => {
    const channel = traceChannel(await connection.createConfirmChannel());
    const queue = uniqueName('unsampled-confirm');
    await channel.assertQueue(queue, { autoDelete: true });
    const confirmed = collector<unknown>(5);
    context.with(unsampledParent(), () => {
      for (let i = 0; i < 5; i++) {
        channel.sendToQueue(queue, Buffer.from(String(i)), {}, (error) => confirmed.add(error));
      }
    });
    expect(await confirmed.all).toEqual([null, null, null, null, null]);
    await channel.waitForConfirms();
    expect((await channel.checkQueue(queue)).messageCount).toBe(5);
    await channel.close();
    expect(tracing.spans()).toEqual([]);
  });
});

describe('attributes and links of sampled messages', () => {
  it('samplers see the attributes the semantic conventions name for sampling; spans that record get the rest', async () => {
    const raw = await connection.createChannel();
    const channel = traceChannel(raw);
    const queue = uniqueName('sampled');
    await channel.assertQueue(queue, { autoDelete: true });
    const tracked = collector<number>(1);
    const state = channelState(raw);
    await channel.consume(queue, (message: Message | null) => {
      if (message === null) return;
      tracked.add(state.unsettledCount);
      channel.ack(message);
    });
    channel.sendToQueue(queue, Buffer.from('{"order":1}'), { messageId: 'order-1' });
    const spans = await tracing.waitForSpans((all) => all.length === 2);
    expect(await tracked.all).toEqual([1]);

    const send = only(spans, `send ${queue}`);
    const process = only(spans, `process ${queue}`);
    for (const name of [send.name, process.name]) {
      const asked = sampler.calls.find((call) => call.name === name);
      expect(asked, `the sampler was asked about ${name}`).toBeDefined();
      expect(Object.keys(asked?.attributes ?? {}).sort()).toEqual(SAMPLING_KEYS);
    }
    expect(send.attributes).toMatchObject({
      'messaging.message.id': 'order-1',
      'messaging.message.body.size': 11,
      'rabbitmq.destination.routing_key': queue,
    });
    expect(process.attributes).toMatchObject({
      'messaging.message.id': 'order-1',
      'messaging.message.body.size': 11,
      'rabbitmq.message.delivery_tag': 1,
    });
    expect(typeof process.attributes['tracehop.message.queue_time']).toBe('number');
    // Default: child of the send span, and a link to it as the conventions ask.
    expect(isChildOf(process, send)).toBe(true);
    expect(linksTo(process, send)).toBe(true);
    await channel.close();
  });

  it('linkToParent: false keeps the parent and leaves out the link that repeats it', async () => {
    const raw = await connection.createChannel();
    const channel = traceChannel(raw, { linkToParent: false });
    const queue = uniqueName('no-parent-link');
    await channel.assertQueue(queue, { autoDelete: true });
    await channel.consume(queue, (message: Message | null) => {
      if (message !== null) channel.ack(message);
    });
    channel.sendToQueue(queue, Buffer.from('x'));
    const spans = await tracing.waitForSpans((all) => all.length === 2);
    const send = only(spans, `send ${queue}`);
    const process = only(spans, `process ${queue}`);
    expect(isChildOf(process, send)).toBe(true);
    expect(process.links).toEqual([]);
    await channel.close();
  });
});

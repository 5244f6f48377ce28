import { SpanStatusCode } from '@opentelemetry/api';
import type { ChannelModel, Message } from 'amqplib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ATTR_AMQP_REPLY_CODE,
  ATTR_AMQP_REPLY_TEXT,
  traceChannel,
} from '../../../adapters/amqp/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { deferred, only, openConnection, uniqueName } from './kit.js';

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

describe('confirm channels', () => {
  it('the send span ends when the broker confirms, and the caller is called back unchanged', async () => {
    const channel = traceChannel(await connection.createConfirmChannel());
    const queue = uniqueName('confirm');
    await channel.assertQueue(queue, { exclusive: true });
    const confirmed = deferred<unknown>();
    const accepted = channel.sendToQueue(queue, Buffer.from('x'), {}, (error) => {
      // The span has ended by the time the caller hears of the confirm.
      expect(tracing.openSpans()).toEqual([]);
      confirmed.resolve(error);
    });
    expect(accepted).toBe(true);
    expect(tracing.openSpans().map((s) => s.name)).toEqual([`send ${queue}`]);
    expect(await confirmed.promise).toBeNull();
    await channel.waitForConfirms();
    const send = only(tracing.spans(), `send ${queue}`);
    expect(send.status.code).toBe(SpanStatusCode.UNSET);
    expect(send.events).toEqual([]);
    await channel.close();
  });

  it('a mandatory message the broker cannot route is recorded as returned, with status ERROR', async () => {
    const channel = traceChannel(await connection.createConfirmChannel());
    const exchange = uniqueName('nowhere');
    await channel.assertExchange(exchange, 'direct', { autoDelete: true });
    const returned = deferred<Message>();
    channel.on('return', (message: Message) => returned.resolve(message));
    const confirmed = deferred<unknown>();
    channel.publish(exchange, 'no.such.key', Buffer.from('lost'), { mandatory: true }, (error) =>
      confirmed.resolve(error),
    );
    // The application still gets the broker's 'return' event and its confirm.
    expect((await returned.promise).fields).toMatchObject({
      replyCode: 312,
      replyText: 'NO_ROUTE',
    });
    expect(await confirmed.promise).toBeNull();
    const send = only(tracing.spans(), `send ${exchange}:no.such.key`);
    expect(send.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'the broker returned the message: 312 NO_ROUTE',
    });
    expect(send.attributes['error.type']).toBe('NO_ROUTE');
    expect(send.events.map((e) => [e.name, e.attributes])).toEqual([
      ['return', { [ATTR_AMQP_REPLY_CODE]: 312, [ATTR_AMQP_REPLY_TEXT]: 'NO_ROUTE' }],
    ]);
    await channel.close();
  });

  it('a routable mandatory message on the same channel is not marked', async () => {
    const channel = traceChannel(await connection.createConfirmChannel());
    const queue = uniqueName('routable');
    await channel.assertQueue(queue, { exclusive: true });
    channel.sendToQueue(queue, Buffer.from('ok'), { mandatory: true });
    await channel.waitForConfirms();
    const send = only(tracing.spans(), `send ${queue}`);
    expect(send.status.code).toBe(SpanStatusCode.UNSET);
    await channel.close();
  });

  it('a message the broker never confirms because the channel closed ends its span with an error', async () => {
    const channel = traceChannel(await connection.createConfirmChannel());
    const closed = deferred<Error>();
    channel.on('error', (error: Error) => closed.resolve(error));
    const calledBack = deferred<unknown>();
    // Publishing to an exchange that does not exist makes the broker close the channel.
    const exchange = uniqueName('missing');
    channel.publish(exchange, 'key', Buffer.from('x'), {}, (error) => calledBack.resolve(error));
    expect((await closed.promise).message).toContain('NOT_FOUND');
    expect(await calledBack.promise).toBeInstanceOf(Error);
    const send = only(tracing.spans(), `send ${exchange}:key`);
    expect(send.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'channel closed' });
  });
});

describe('the wrapper is transparent', () => {
  it('publish returns false when the write buffer is full, as bare amqplib does, and drain arrives on the wrapper', async () => {
    const bare = await connection.createChannel({ highWaterMark: 4 });
    const channel = traceChannel(await connection.createChannel({ highWaterMark: 4 }));
    const queue = uniqueName('flow');
    await channel.assertQueue(queue, { exclusive: true });
    const sendAll = (send: (content: Buffer) => boolean) =>
      Array.from({ length: 20 }, () => send(Buffer.alloc(4096)));
    const bareResults = sendAll((content) => bare.sendToQueue(queue, content));
    const tracedResults = sendAll((content) => channel.sendToQueue(queue, content));
    expect(bareResults).toContain(false);
    expect(tracedResults).toEqual(bareResults);
    await new Promise<void>((resolve) => channel.once('drain', resolve));
    expect(tracing.spans().filter((s) => s.name === `send ${queue}`)).toHaveLength(20);
    await bare.close();
    await channel.close();
  });

  it('errors of the channel are thrown unchanged, and the send span records them', async () => {
    const raw = await connection.createChannel();
    const channel = traceChannel(raw);
    await channel.close();
    let bare: unknown;
    try {
      raw.sendToQueue('q', Buffer.from('x'));
    } catch (error) {
      bare = error;
    }
    expect(() => channel.sendToQueue('q', Buffer.from('x'))).toThrow((bare as Error).message);
    const send = only(tracing.spans(), 'send q');
    expect(send.status.code).toBe(SpanStatusCode.ERROR);
    expect(send.attributes['error.type']).toBe('IllegalOperationError');
    // Non-message methods are the channel's own.
    expect(Reflect.get(channel, 'assertQueue')).toBe(Reflect.get(raw, 'assertQueue'));
    expect(traceChannel(channel)).toBe(channel);
  });
});

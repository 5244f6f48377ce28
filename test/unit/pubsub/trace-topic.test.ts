import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tracePubSub, traceTopic } from '../../../adapters/pubsub/index.js';
import { captureDiagWarnings, setupTestTracing } from '../../../src/testing/index.js';
import { FakePublisher, FakeTopic } from './fakes.js';

const tracing = setupTestTracing();
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

describe('traceTopic', () => {
  it('publishes a copy with traceparent (and its googclient_ copy) in a create span that ends with the message id', async () => {
    const topic = new FakeTopic();
    const traced = traceTopic(topic);
    const message = { data: Buffer.from('x'), attributes: { a: '1' }, orderingKey: 'k' };
    const pending = traced.publishMessage(message);
    expect(tracing.openSpans().map((s) => s.name)).toEqual(['create orders']);
    expect(await pending).toBe('1');

    const [span] = tracing.spans();
    expect(span?.kind).toBe(SpanKind.PRODUCER);
    expect(span?.attributes).toEqual({
      'messaging.system.name': 'gcp.pubsub',
      'messaging.operation.type': 'create',
      'messaging.operation.name': 'create',
      'messaging.destination.name': 'orders',
      'gcp.pubsub.message.ordering_key': 'k',
      'messaging.message.id': '1',
    });
    const sent = topic.publisher.published[0];
    const context = span?.spanContext();
    // The same context twice: plain W3C, and for subscribers using the client's built-in tracing.
    expect(sent?.attributes).toEqual({
      a: '1',
      traceparent: `00-${context?.traceId}-${context?.spanId}-01`,
      googclient_traceparent: `00-${context?.traceId}-${context?.spanId}-01`,
    });
    expect(sent?.orderingKey).toBe('k');
    expect(sent?.data).toBe(message.data);
    // The caller's message and attributes are untouched.
    expect(message).toEqual({ data: Buffer.from('x'), attributes: { a: '1' }, orderingKey: 'k' });
  });

  it('a failed publish marks the span as error and rejects with the same error', async () => {
    const topic = new FakeTopic();
    const failure = new Error('DEADLINE_EXCEEDED');
    topic.publisher.outcomes.push({ error: failure });
    await expect(traceTopic(topic).publishMessage({ data: Buffer.from('x') })).rejects.toBe(
      failure,
    );
    const [span] = tracing.spans();
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'DEADLINE_EXCEEDED' });
    expect(span?.attributes['error.type']).toBe('Error');
    expect(span?.attributes['messaging.message.id']).toBeUndefined();
  });

  it('a publish that throws synchronously ends the span and rethrows the same error', () => {
    const topic = new FakeTopic();
    const failure = new TypeError('Data must be in the form of a Buffer or Uint8Array.');
    topic.publisher.outcomes.push({ throws: failure });
    expect(() => traceTopic(topic).publisher.publishMessage({ data: Buffer.from('x') })).toThrow(
      failure,
    );
    expect(tracing.spans()[0]?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('the callback form gets the client answer unchanged, after the span ended', async () => {
    const topic = new FakeTopic();
    const traced = traceTopic(topic);
    const answers: unknown[] = [];
    await new Promise<void>((resolve) => {
      traced.publisher.publishMessage({ data: Buffer.from('x') }, (error, id) => {
        answers.push(error, id);
        expect(tracing.openSpans()).toEqual([]);
        resolve();
      });
    });
    expect(answers).toEqual([null, '1']);
    expect(tracing.spans()[0]?.attributes['messaging.message.id']).toBe('1');

    const failure = new Error('NOT_FOUND');
    topic.publisher.outcomes.push({ error: failure });
    const failed = await new Promise<unknown>((resolve) => {
      traced.publisher.publishMessage({ data: Buffer.from('y') }, (error) => resolve(error));
    });
    expect(failed).toBe(failure);
    expect(tracing.spans()[1]?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it("publish() and the topic's other methods go through the proxy, so they are traced too", async () => {
    const topic = new FakeTopic();
    const traced = traceTopic(topic);
    await traced.publish(Buffer.from('x'), { b: '2' });
    expect(topic.publisher.published[0]?.attributes?.['traceparent']).toMatch(/^00-/);
    expect(traced.name).toBe(topic.name);
    expect(traced).toBeInstanceOf(FakeTopic);
    expect(traceTopic(traced)).toBe(traced);
  });

  it('the client runs in the create span context, so its own spans nest under it', async () => {
    const topic = new FakeTopic();
    let active: string | undefined;
    const publisher = topic.publisher;
    const original = publisher.publishMessage.bind(publisher);
    publisher.publishMessage = (message: Parameters<FakePublisher['publishMessage']>[0]) => {
      active = trace.getActiveSpan()?.spanContext().spanId;
      return original(message);
    };
    await traceTopic(topic).publishMessage({ data: Buffer.from('x') });
    expect(active).toBe(tracing.spans()[0]?.spanContext().spanId);
  });

  it('a message with neither data nor attributes goes as it is, for the client to reject as usual', async () => {
    const topic = new FakeTopic();
    const empty = {};
    await traceTopic(topic).publisher.publishMessage(empty);
    expect(topic.publisher.published[0]).toBe(empty);
  });

  it("warns once when the client's built-in tracing is on, or the client is already patched", () => {
    const withBuiltIn = new FakeTopic();
    withBuiltIn.pubsub.options.enableOpenTelemetryTracing = true;
    traceTopic(withBuiltIn);
    traceTopic(new FakeTopic());
    const patched = new FakeTopic();
    const patchedPublisher = new FakePublisher();
    const wrapped = Object.assign(patchedPublisher.publishMessage.bind(patchedPublisher), {
      __wrapped: true,
    });
    Object.defineProperty(patched.publisher, 'publishMessage', { value: wrapped });
    traceTopic(patched);
    traceTopic(patched);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('new PubSub({ enableOpenTelemetryTracing: false })');
    expect(warnings[1]).toContain('shimmer');
  });

  it('tracePubSub traces the topics its topic() hands out', async () => {
    const topics: FakeTopic[] = [];
    const client = {
      topic(name: string) {
        const topic = new FakeTopic(`projects/p/topics/${name}`);
        topics.push(topic);
        return topic;
      },
      other() {
        return this.topic('made-inside');
      },
    };
    const traced = tracePubSub(client);
    await traced.topic('payments').publishMessage({ data: Buffer.from('x') });
    await traced.other().publishMessage({ data: Buffer.from('y') });
    expect(tracing.spans().map((s) => s.name)).toEqual(['create payments', 'create made-inside']);
    expect(topics).toHaveLength(2);
  });
});

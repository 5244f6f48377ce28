/**
 * tracehop watching for the client's built-in tracing in the producer process, with a publisher
 * that does to a message what the client 6.3.0 does when `enableOpenTelemetryTracing` is on
 * (`Publisher#getParentSpan` → `injectSpan`, during the synchronous `publishMessage` call).
 * The real client is used in test/integration/pubsub/builtin-tracing.test.ts and
 * interop.test.ts; this file checks the attribute counting it leads to.
 *
 * What tracehop learns here is process-wide, so it is restored after this file.
 */
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PubSubTransport,
  traceTopic,
  type PubSubOutgoingMessage,
} from '../../../adapters/pubsub/index.js';
import { ProducerTracer } from '../../../src/producer-tracer.js';
import { registry } from '../../../src/registry.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { FakePublisher, FakeTopic } from './fakes.js';

const tracing = setupTestTracing();
afterAll(async () => {
  // Forget what was seen, as a fresh process would.
  const watch = registry().entries.get('pubsub.builtInTracing') as { on: boolean } | undefined;
  if (watch) watch.on = false;
  await tracing.shutdown();
});

/** A publisher whose "built-in tracing" is on: the client's injectSpan, reduced to its effect. */
class PublisherWithBuiltInTracing extends FakePublisher {
  /** What the client printed with console.warn. */
  readonly warnings: string[] = [];
  /** The attributes as tracehop handed them, before the client's own were added. */
  readonly handed: Record<string, string>[] = [];

  override publishMessage(message: PubSubOutgoingMessage): Promise<string>;
  override publishMessage(
    message: PubSubOutgoingMessage,
    callback: (error: Error | null | undefined, messageId?: string | null) => void,
  ): void;
  override publishMessage(
    message: PubSubOutgoingMessage,
    callback?: (error: Error | null | undefined, messageId?: string | null) => void,
  ): Promise<string> | void {
    const mutable = message as { attributes?: Record<string, string> | null };
    this.handed.push({ ...mutable.attributes });
    const attributes = { ...mutable.attributes };
    if (attributes['googclient_traceparent']) {
      this.warnings.push(
        'googclient_traceparent key set as message attribute, but will be overridden.',
      );
      Reflect.deleteProperty(attributes, 'googclient_traceparent');
    }
    const active = trace.getActiveSpan()?.spanContext();
    attributes['googclient_traceparent'] = `00-${active?.traceId}-c1c1c1c1c1c1c1c1-01`;
    mutable.attributes = attributes;
    return callback ? super.publishMessage(message, callback) : super.publishMessage(message);
  }
}

describe("tracehop and the client's built-in tracing in one producer process", () => {
  it('writes the googclient_traceparent copy until it sees the client replace it, then leaves the pair to the client', async () => {
    const topic = new FakeTopic();
    const publisher = new PublisherWithBuiltInTracing();
    Object.defineProperty(topic, 'publisher', { value: publisher });
    const traced = traceTopic(topic);

    await traced.publishMessage({ data: Buffer.from('1') });
    await traced.publishMessage({ data: Buffer.from('2') });
    await traced.publishMessage({ data: Buffer.from('3'), attributes: { a: '1' } });

    const creates = tracing.spans().map((s) => s.spanContext());
    expect(publisher.handed).toEqual([
      {
        traceparent: `00-${creates[0]?.traceId}-${creates[0]?.spanId}-01`,
        googclient_traceparent: `00-${creates[0]?.traceId}-${creates[0]?.spanId}-01`,
      },
      { traceparent: `00-${creates[1]?.traceId}-${creates[1]?.spanId}-01` },
      { a: '1', traceparent: `00-${creates[2]?.traceId}-${creates[2]?.spanId}-01` },
    ]);
    // Only the first message drew the client's warning.
    expect(publisher.warnings).toHaveLength(1);
    // Each message went out with the client's own googclient_traceparent, in tracehop's trace.
    expect(publisher.published.map((m) => m.attributes?.['googclient_traceparent'])).toEqual(
      creates.map((c) => `00-${c.traceId}-c1c1c1c1c1c1c1c1-01`),
    );
  });

  it('from then on, in every transport of the process, keeps room for both of the client’s attributes and writes no copies', () => {
    const transport = new PubSubTransport('other-topic', undefined);
    expect(transport.usage({ attributes: { a: '1', b: '2' } })).toEqual({
      entries: 4,
      copies: false,
    });
    // The client replaces the caller's own in place: room only for what it adds.
    expect(transport.usage({ attributes: { a: '1', googclient_traceparent: 'x' } })).toEqual({
      entries: 3,
      copies: false,
    });

    // 98 of the caller's + the client's 2 = 100: traceparent does not fit; the client's own
    // googclient_traceparent (a child of tracehop's create span) carries the context.
    const attributes: Record<string, string> = {};
    for (let i = 0; i < 98; i++) attributes[`k${i}`] = 'v';
    const span = tracing.provider.getTracer('t').startSpan('x');
    const tracer = new ProducerTracer(transport);
    const message = tracer.inject({ attributes }, trace.setSpan(ROOT_CONTEXT, span));
    span.end();
    expect(message.attributes).toEqual(attributes);
    // 97: traceparent fits, and no copy.
    Reflect.deleteProperty(attributes, 'k97');
    const span2 = tracing.provider.getTracer('t').startSpan('y');
    const next = tracer.inject({ attributes }, trace.setSpan(ROOT_CONTEXT, span2));
    span2.end();
    const { traceId, spanId } = span2.spanContext();
    expect(next.attributes).toEqual({ ...attributes, traceparent: `00-${traceId}-${spanId}-01` });
  });
});

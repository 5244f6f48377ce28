/**
 * The test receiver decodes what the official OTLP exporters send: requests written by
 * @opentelemetry/otlp-transformer's own serializers (the ones the exporters use), in protobuf
 * and in JSON, decode to the spans that were exported, and to the same thing in both encodings.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Link } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resources } from '@opentelemetry/sdk-node';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { expect, it } from 'vitest';
import { decodeTraceExport, startOtlpReceiver } from './otlp-receiver.js';

function exportedSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': 'self-check', 'host.cpus': 2 }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('self-check-scope');
  const elsewhere = tracer.startSpan('elsewhere');
  elsewhere.end();
  const link: Link = { context: elsewhere.spanContext() };
  const parent = tracer.startSpan('POST /orders', {
    kind: SpanKind.SERVER,
    attributes: {
      text: 'hello',
      yes: true,
      no: false,
      count: 42,
      zero: 0,
      ratio: 1.5,
      words: ['a', 'b'],
      numbers: [1, 2],
    },
  });
  const child = tracer.startSpan(
    'send orders',
    { kind: SpanKind.PRODUCER, links: [link] },
    trace.setSpan(ROOT_CONTEXT, parent),
  );
  child.end();
  parent.addEvent('exception');
  parent.setStatus({ code: SpanStatusCode.ERROR });
  parent.end();
  return { spans: exporter.getFinishedSpans(), parent, child, elsewhere };
}

it('decodes protobuf and JSON export requests to the exported spans', () => {
  const { spans, parent, child, elsewhere } = exportedSpans();
  const protobuf = ProtobufTraceSerializer.serializeRequest(spans);
  const json = JsonTraceSerializer.serializeRequest(spans);
  if (protobuf === undefined || json === undefined) throw new Error('nothing serialized');

  const fromProtobuf = decodeTraceExport('application/x-protobuf', protobuf);
  const fromJson = decodeTraceExport('application/json', json);

  const strip = (list: typeof fromJson) => list.map(({ encoding: _, ...rest }) => rest);
  expect(strip(fromProtobuf)).toEqual(strip(fromJson));
  expect(fromProtobuf.map((s) => s.encoding)).toEqual(['protobuf', 'protobuf', 'protobuf']);

  const byName = new Map(fromProtobuf.map((s) => [s.name, s]));
  expect(byName.get('POST /orders')).toEqual({
    service: 'self-check',
    resource: expect.objectContaining({ 'service.name': 'self-check', 'host.cpus': 2 }) as unknown,
    scope: 'self-check-scope',
    traceId: parent.spanContext().traceId,
    spanId: parent.spanContext().spanId,
    parentSpanId: undefined,
    name: 'POST /orders',
    kind: 'server',
    attributes: {
      text: 'hello',
      yes: true,
      no: false,
      count: 42,
      zero: 0,
      ratio: 1.5,
      words: ['a', 'b'],
      numbers: [1, 2],
    },
    links: [],
    events: ['exception'],
    statusCode: 2,
    encoding: 'protobuf',
  });
  expect(byName.get('send orders')).toMatchObject({
    traceId: parent.spanContext().traceId,
    spanId: child.spanContext().spanId,
    parentSpanId: parent.spanContext().spanId,
    kind: 'producer',
    links: [{ traceId: elsewhere.spanContext().traceId, spanId: elsewhere.spanContext().spanId }],
    statusCode: 0,
  });
});

it('answers over HTTP, and rejects a wait when a request cannot be decoded', async () => {
  const receiver = await startOtlpReceiver();
  try {
    const { spans } = exportedSpans();
    const body = ProtobufTraceSerializer.serializeRequest(spans);
    const ok = await fetch(`${receiver.endpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body,
    });
    expect(ok.status).toBe(200);
    const server = await receiver.waitFor('the server span', (received) =>
      received.find((s) => s.kind === 'server'),
    );
    expect(server.name).toBe('POST /orders');

    const waiting = expect(
      receiver.waitFor('a span that never comes', () => undefined),
    ).rejects.toThrow(/could not decode a application\/x-protobuf/);
    const bad = await fetch(`${receiver.endpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0x0a, 0xff]), // field 1, length 255, then nothing
    });
    expect(bad.status).toBe(400);
    await waiting;
  } finally {
    await receiver.close();
  }
});

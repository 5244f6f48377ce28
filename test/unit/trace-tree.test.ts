import { context, SpanKind, trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { setupTestTracing } from '../../src/testing/index.js';

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());

describe('renderTraceTree', () => {
  it('indents children under parents and shows kinds and links', () => {
    const tracer = trace.getTracer('t');
    const api = tracer.startSpan('POST /orders', { kind: SpanKind.SERVER });
    const send = tracer.startSpan(
      'send orders',
      { kind: SpanKind.PRODUCER },
      trace.setSpan(context.active(), api),
    );
    const process = tracer.startSpan(
      'process orders',
      { kind: SpanKind.CONSUMER, links: [{ context: send.spanContext() }] },
      trace.setSpan(context.active(), send),
    );
    process.end();
    send.end();
    api.end();
    const lines = tracing
      .tree()
      .split('\n')
      .map((l) => l.replace(/ [\d.]+ ms/, ''));
    expect(lines).toEqual([
      `trace ${api.spanContext().traceId}`,
      '  POST /orders [server]',
      '    send orders [producer]',
      '      process orders [consumer]',
      '        ↔ link to "send orders"',
    ]);
  });
});

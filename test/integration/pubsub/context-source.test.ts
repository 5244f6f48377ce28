/**
 * An old producer (plain Pub/Sub client, trace context hand-rolled into a JSON field of the
 * data) → a `tracePubSubHandler` switched to tracehop with
 * `contextSource: fromBodyField('traceContext')`, on the emulator: the trace continues;
 * malformed, non-JSON and oversized bodies are processed on new traces, said once; a message
 * with standard attributes never asks a source.
 */
import type { Message } from '@google-cloud/pubsub';
import { trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { tracePubSubHandler, type PubSubMessage } from '../../../adapters/pubsub/index.js';
import { captureDiagWarnings, setupTestTracing } from '../../../src/testing/index.js';
import {
  expectOldProducerOutcome,
  OLD_MESSAGES,
  probe,
  watchParse,
} from '../context-source-kit.js';
import { createFixture, deferred, listen } from './kit.js';

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

it('continued from the data field; bad bodies on new traces, said once; attributes first', async () => {
  const f = await createFixture();
  try {
    const caseOf = (m: PubSubMessage) => m.attributes['case'];
    const { sources, consulted } = probe<PubSubMessage>(caseOf);
    const ranIn = new Map<string, string | undefined>();
    const allRan = deferred<void>();
    listen(
      f.subscription,
      tracePubSubHandler(
        (message: Message) => {
          ranIn.set(caseOf(message) ?? '?', trace.getActiveSpan()?.spanContext().spanId);
          if (ranIn.size === OLD_MESSAGES.length) allRan.resolve();
        },
        { subscription: f.subscription, autoSettle: true, contextSource: sources },
      ),
    );
    const parse = watchParse();
    // The old producer: the topic as the client gives it, no tracehop.
    for (const old of OLD_MESSAGES) {
      await f.topic.publishMessage({
        data: Buffer.from(old.body),
        attributes: { case: old.id, ...old.traceHeaders },
      });
    }
    await allRan.promise;
    const name = `subscribe ${f.subscriptionId}`;
    const all = await tracing.waitForSpans(
      (s) => s.filter((x) => x.name === name).length === OLD_MESSAGES.length,
    );
    const parsed = parse.stop();
    const spans = new Map<string, ReadableSpan>();
    for (const [id, spanId] of ranIn) {
      const found = all.find((s) => s.name === name && s.spanContext().spanId === spanId);
      if (found !== undefined) spans.set(id, found);
    }
    expectOldProducerOutcome({
      system: 'gcp.pubsub',
      spans,
      consulted,
      parsed,
      warnings: diagWarnings.messages,
    });
  } finally {
    await f.close();
  }
});

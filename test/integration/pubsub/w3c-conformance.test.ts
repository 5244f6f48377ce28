/**
 * Every W3C conformance case (test/w3c/cases.json) Pub/Sub can carry: published with a plain
 * client as raw attributes, handled by `tracePubSubHandler`. One topic and subscription, one
 * message per case, the case id as the data.
 */
import type { Message } from '@google-cloud/pubsub';
import { afterAll, expect, it } from 'vitest';
import { tracePubSubHandler } from '../../../adapters/pubsub/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { conformanceRun, describeNotApplicable, notApplicableIds } from '../w3c-kit.js';
import { collect, createFixture } from './kit.js';

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());

it('lists exactly the cases Pub/Sub cannot carry: repeated names, values over 1024 bytes', () => {
  console.log(describeNotApplicable('pubsub'));
  expect(notApplicableIds('pubsub')).toEqual([
    'tc.traceparent_duplicated.1',
    'tc.tracestate_empty_header.2',
    'tc.tracestate_empty_header.3',
    'tc.tracestate_multiple_headers_different_keys.1',
    'tc.tracestate_duplicated_keys.3',
    'tc.tracestate_duplicated_keys.4',
    'tc.tracestate_member_count_limit.1',
    'tc.tracestate_member_count_limit.2',
    'tc.tracestate_key_length_limit.1',
    'tc.tracestate_key_length_limit.2',
    'tc.tracestate_key_length_limit.3',
    'tc.tracestate_key_length_limit.4',
    'tc.tracestate_key_length_limit.5',
    'bg.LimitsTest.serialize_long_entry',
    'bg.LimitsTest.serialize_many_entries',
    'spec.baggage.member_over_4096',
    'spec.baggage.over_8192_whole_members',
    'tc1data.4',
    'tc1data.45',
    'tc1data.46',
    'tc1data.48',
    'tc1data.49',
    'tc1data.65',
    'tc1data.66',
    'tc1data.67',
    'tc1data.68',
    'tc1data.69',
    'tc1data.70',
    'tc1data.71',
    'tc1data.72',
  ]);
});

it('every other case reaches the handler with the trace, tracestate and baggage W3C calls for', async () => {
  const run = conformanceRun('pubsub');
  const f = await createFixture();
  try {
    const all = collect(
      f.subscription,
      run.cases.length,
      tracePubSubHandler(
        (message: Message) => {
          run.capture(message.data.toString());
          message.ack();
        },
        { subscription: f.subscription, tracerProvider: run.tracerProvider },
      ),
    );
    const startedAt = performance.now();
    await Promise.all(
      run.cases.map((c) =>
        f.topic.publishMessage({
          data: Buffer.from(c.id),
          attributes: Object.fromEntries(c.headers),
        }),
      ),
    );
    await all;
    await run.check(startedAt);
  } finally {
    await f.close();
  }
});

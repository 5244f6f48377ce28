/**
 * `npm run demo` with OTEL_EXPORTER_OTLP_ENDPOINT set — what the README's "See it in Jaeger"
 * does — still prints its trace trees and also exports every trace over OTLP/HTTP. The endpoint is
 * an OTLP receiver in this test instead of Jaeger; the demo uses the run's brokers.
 */
import { expect, it } from 'vitest';
import { cleanEnv, startNodeProcess } from './node-process.js';
import { describeSpans, startOtlpReceiver } from './otlp-receiver.js';

it('the demo exports what it prints over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
  const receiver = await startOtlpReceiver();
  const demo = startNodeProcess('the demo', 'examples/demo.ts', {
    env: { ...cleanEnv(), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint },
  });
  try {
    // The demo flushes its batch before it exits: everything has arrived once it is gone.
    let timer: NodeJS.Timeout | undefined;
    const { code } = await Promise.race([
      demo.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the demo did not finish in 45 s:\n${demo.output()}`)),
          45_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    expect(code, demo.output()).toBe(0);

    const printed = [...demo.output().matchAll(/^trace ([0-9a-f]{32})$/gm)].map((m) => m[1]);
    expect(printed.length, demo.output()).toBeGreaterThanOrEqual(4); // order, receive, 2 cron runs
    const received = receiver.spans();
    const context = `printed:\n${demo.output()}\nreceived:\n${describeSpans(received)}`;
    expect(new Set(received.map((s) => s.traceId)), context).toEqual(new Set(printed));
    expect(new Set(received.map((s) => s.service))).toEqual(new Set(['tracehop-demo']));
    expect(new Set(received.map((s) => s.encoding))).toEqual(new Set(['json']));

    // The order's trace, whole: the API's span and, at the end of the chain, the email.
    const api = received.find((s) => s.name === 'POST /orders');
    expect(api, context).toMatchObject({ kind: 'server', parentSpanId: undefined });
    const trace = received.filter((s) => s.traceId === api?.traceId);
    expect(trace.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^send orders-/),
        expect.stringMatching(/^process shipments-/),
        expect.stringMatching(/^subscribe notifications-/),
        'send email',
      ]) as unknown,
    );
    expect(trace, context).toHaveLength(11);
    expect(received.filter((s) => s.name === 'nightly-report')).toHaveLength(2);
  } finally {
    await demo.stop();
    await receiver.close();
  }
});

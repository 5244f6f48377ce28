import type { Context } from '@opentelemetry/api';
import type { ConsumerLifecycle } from '../../src/consumer-lifecycle.js';
import { ConsumerTracer } from '../../src/consumer-tracer.js';
import type { ProcessScope } from '../../src/process-scope.js';
import { reportOnce } from '../../src/report.js';
import { warnAboutOtherTracing } from './warn-about-other-tracing.js';
import { resourceId } from './resource-id.js';
import { isSettledView, SettleRecorder } from './settle-recorder.js';
import { SubscriptionClosedError } from './subscription-closed-error.js';
import { PubSubTransport } from './pubsub-transport.js';
import type { PubSubHandlerOptions, PubSubMessage } from './types.js';

/**
 * Pub/Sub's part of the message lifecycle: the client's `message` event drops what the
 * listener returns; the handler gets a view of the message whose `ack()` and `nack()`
 * are recorded on the span, so every settle is seen; with auto-settle the view is acked
 * or nacked after the handler, unless the handler settled it.
 */
class PubSubLifecycle<M extends PubSubMessage> implements ConsumerLifecycle<M> {
  readonly callerAwaits = false;
  readonly autoSettle: ((view: M, failed: boolean) => void) | undefined;
  readonly onError: ((error: unknown, message: M) => void) | undefined;

  constructor(autoSettle: boolean, onError: PubSubHandlerOptions['onError']) {
    this.autoSettle = autoSettle ? settleView : undefined;
    this.onError = onError;
  }

  track(): boolean {
    return true;
  }

  handlerMessage(message: M, scope: ProcessScope): M {
    return new Proxy(message, new SettleRecorder(message, scope));
  }
}

function settleView(view: PubSubMessage, failed: boolean): void {
  if (isSettledView(view)) return;
  try {
    if (failed) view.nack();
    else view.ack();
  } catch (error) {
    reportOnce('pubsub:auto-settle', `auto-settle failed: ${String(error)}`);
  }
}

/**
 * Runs handlers in `process` spans for one subscription. Shared by
 * {@link tracePubSubHandler} and the CloudEvents handler decorator.
 */
export class PubSubProcessor<M extends PubSubMessage> {
  readonly tracer: ConsumerTracer<PubSubMessage>;
  private readonly lifecycle: ConsumerLifecycle<M>;

  constructor(options: PubSubHandlerOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('tracePubSubHandler(handler, { subscription }): options are required');
    }
    const subscription = options.subscription;
    let topic = options.topic;
    let subscriptionName: string;
    if (typeof subscription === 'string' && subscription !== '') {
      subscriptionName = subscription;
    } else if (
      typeof subscription === 'object' &&
      subscription !== null &&
      typeof subscription.name === 'string'
    ) {
      subscriptionName = subscription.name;
      const known = subscription.topic;
      topic ??= typeof known === 'string' ? known : known?.name;
      topic ??= subscription.metadata?.topic ?? undefined;
      warnAboutOtherTracing(subscription, []);
    } else {
      // Checked once, when the worker starts, as sqs-consumer checks its options.
      throw new TypeError(
        'tracePubSubHandler(handler, { subscription }): subscription must be the Subscription or its name',
      );
    }
    const tracer = new ConsumerTracer<PubSubMessage>(
      new PubSubTransport(
        topic === undefined ? undefined : resourceId(topic),
        resourceId(subscriptionName),
      ),
      options,
    );
    this.tracer = tracer;
    this.lifecycle = new PubSubLifecycle<M>(options.autoSettle ?? false, options.onError);
    if (
      typeof subscription === 'object' &&
      subscription !== null &&
      typeof subscription.on === 'function'
    ) {
      subscription.on('close', () => tracer.abortWaiting(new SubscriptionClosedError()));
    }
  }

  /**
   * Calls `invoke` on `thisArg` with the message's settle-recording view, in the message's
   * `process` span. `base`: a context carrying a creation context found elsewhere (the
   * CloudEvents decorator's event extension), read when the message's attributes carry none.
   */
  run<R>(message: M, invoke: (this: unknown, view: M) => R, thisArg: unknown, base?: Context): R {
    // The tracer reads any Pub/Sub message; the lifecycle gives the handler the same type back.
    const tracer = this.tracer as unknown as ConsumerTracer<M>;
    return tracer.process(message, this.lifecycle, invoke, thisArg, undefined, base);
  }
}

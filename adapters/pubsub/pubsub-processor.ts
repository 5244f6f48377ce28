import { context as contextApi } from '@opentelemetry/api';
import { isPromiseLike } from '../../src/errors.js';
import { MessagingTracer } from '../../src/messaging-tracer.js';
import type { ProcessScope } from '../../src/process-scope.js';
import { reportOnce } from '../../src/report.js';
import { warnAboutOtherTracing } from './warn-about-other-tracing.js';
import type { PubSubTracer } from './publish-in-create-span.js';
import { resourceId } from './resource-id.js';
import { SettleRecorder } from './settle-recorder.js';
import { SubscriptionClosedError } from './subscription-closed-error.js';
import { PubSubTransport } from './pubsub-transport.js';
import type { PubSubHandlerOptions, PubSubMessage } from './types.js';

/**
 * Runs handlers in `process` spans for one subscription. Shared by
 * {@link tracePubSubHandler} and the CloudEvents handler decorator.
 */
export class PubSubProcessor<M extends PubSubMessage> {
  readonly tracer: PubSubTracer;
  private readonly autoSettle: boolean;

  constructor(options: PubSubHandlerOptions) {
    const subscription = options.subscription;
    let topic = options.topic;
    let subscriptionName: string;
    if (typeof subscription === 'string') {
      subscriptionName = subscription;
    } else if (typeof subscription !== 'object' || subscription === null) {
      // Plain JavaScript callers can leave it out: trace anyway, under an empty name.
      reportOnce('pubsub:subscription', 'tracePubSubHandler was given no `subscription` option');
      subscriptionName = '';
    } else {
      subscriptionName = subscription.name;
      const known = subscription.topic;
      topic ??= typeof known === 'string' ? known : known?.name;
      topic ??= subscription.metadata?.topic ?? undefined;
      warnAboutOtherTracing(subscription, []);
    }
    const tracer: PubSubTracer = new MessagingTracer(
      new PubSubTransport(
        topic === undefined ? undefined : resourceId(topic),
        resourceId(subscriptionName),
      ),
      options,
    );
    this.tracer = tracer;
    this.autoSettle = options.autoSettle ?? false;
    if (
      typeof subscription === 'object' &&
      subscription !== null &&
      typeof subscription.on === 'function'
    ) {
      subscription.on('close', () => tracer.abortOpen(new SubscriptionClosedError()));
    }
  }

  /**
   * Calls `invoke` on `thisArg` with the message's settle-recording proxy, in the message's
   * `process` span. `start` replaces the plain {@link MessagingTracer.startProcess} (the
   * CloudEvents decorator adds the event's attributes and its creation link there).
   */
  run<R>(
    message: M,
    invoke: (this: unknown, view: M) => R,
    thisArg: unknown,
    start?: (message: M) => ProcessScope,
  ): R {
    let scope: ProcessScope | undefined;
    let recorder: SettleRecorder<M>;
    let view: M;
    try {
      scope = start ? start(message) : this.tracer.startProcess(message, true, false);
      recorder = new SettleRecorder(message, scope);
      view = new Proxy(message, recorder);
    } catch (error) {
      scope?.abort(error);
      reportOnce('pubsub:process', `processed a message without a span: ${String(error)}`);
      return invoke.call(thisArg, message);
    }
    let result: R;
    try {
      result = contextApi.with(scope.context, invoke, thisArg, view);
    } catch (error) {
      scope.handlerFinished(error);
      if (this.autoSettle) recorder.autoSettle(false);
      throw error;
    }
    if (isPromiseLike(result)) {
      return result.then(
        (value) => {
          scope.handlerFinished();
          if (this.autoSettle) recorder.autoSettle(true);
          return value;
        },
        (error: unknown) => {
          scope.handlerFinished(error);
          if (this.autoSettle) recorder.autoSettle(false);
          throw error;
        },
      ) as R;
    }
    scope.handlerFinished();
    if (this.autoSettle) recorder.autoSettle(true);
    return result;
  }
}

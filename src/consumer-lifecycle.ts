import type { ProcessScope } from './process-scope.js';

/**
 * What a consumer decorator tells the core about its broker and its caller, made once per
 * decorator. The core does the rest for every message, in one place
 * ({@link ConsumerTracer.process}): start the `process` span, run the handler in it (sync
 * or async), record the outcome, settle for the handler when asked, decide whether to wait
 * for a settle, and end the span — at the handler's end, at the settle, or at the settle
 * timeout counted from the handler's end.
 */
export interface ConsumerLifecycle<TMessage> {
  /**
   * Whether the decorator's caller waits for what the handler returns: sqs-consumer,
   * Lambda and a hand-written `for await` loop do; amqplib's `consume` and an
   * EventEmitter's `on('message')` do not.
   * - `true`: the handler's error, sync or async, is rethrown unchanged.
   * - `false`: a rejected promise resolves to `undefined` instead and its error goes to
   *   {@link onError}, so it never becomes an unhandled rejection. A synchronous throw is
   *   rethrown unchanged, as the caller would see it without tracehop — unless
   *   {@link autoSettle} settled the message for it, which handles the error.
   */
  readonly callerAwaits: boolean;

  /**
   * Called as the span starts: makes the message's settle findable by whatever the
   * broker's settle call names it by (a delivery tag, a receipt handle; see
   * {@link SettleIndex}), and says whether its settle will be seen. When it returns
   * `false` the span ends with the handler: tracehop never waits for what it cannot see.
   * @defaultValue no settle is seen: the span ends with the handler
   */
  track?(message: TMessage, scope: ProcessScope): boolean;

  /**
   * The message the handler is given, when it is not the message itself (Pub/Sub: a view
   * whose `ack()` and `nack()` are recorded on the span).
   * @defaultValue the message
   */
  handlerMessage?(message: TMessage, scope: ProcessScope): TMessage;

  /**
   * Asked once the handler has finished, for a message whose settle can be seen and has
   * not been seen yet: whether its span waits for it. SQS with sqs-consumer waits only
   * when the handler returned the message (sqs-consumer then deletes it).
   * @defaultValue wait
   */
  awaitsSettle?(message: TMessage, failed: boolean, result: unknown): boolean;

  /**
   * Settles the message for the handler once it has finished (`autoSettle`): positively
   * when it succeeded, negatively when it failed. `handed` is the message as the handler
   * got it. Not called when the handler settled it already.
   * @defaultValue the handler settles
   */
  autoSettle?(handed: TMessage, failed: boolean): void;

  /**
   * Where a handler's error goes when the caller would drop it (see {@link callerAwaits}).
   * @defaultValue each error is logged through OpenTelemetry's `diag.error`
   */
  onError?(error: unknown, message: TMessage): void;
}

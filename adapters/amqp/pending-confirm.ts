import type { Span } from '@opentelemetry/api';
import { recordError } from '../../src/errors.js';
import type { AmqpChannelState } from './channel-state.js';
import type { ConfirmCallback } from './internal-types.js';

/**
 * The `send` span of one message on a confirm channel, waiting for the broker: it ends
 * when the broker acks the message, with status ERROR when the broker nacks it or the
 * channel closes first. The caller's own confirm callback is called after, unchanged.
 */
export class PendingConfirm {
  private ended = false;

  constructor(
    private readonly state: AmqpChannelState,
    private readonly span: Span,
    private readonly callback: ConfirmCallback | undefined,
    /** The message's `traceparent` when it is mandatory and may be returned. */
    private readonly returnKey: string | undefined,
  ) {}

  /** Handed to amqplib as the message's confirm callback. */
  readonly confirmed = (error: unknown, ok?: unknown): void => {
    if (!this.ended) {
      this.ended = true;
      if (this.returnKey !== undefined) this.state.forgetReturn(this.returnKey);
      if (error !== null && error !== undefined) recordError(this.span, error);
      this.span.end();
    }
    if (typeof this.callback === 'function') this.callback(error, ok);
  };

  /** `publish` threw before the message was queued: no confirm will come. */
  failed(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (this.returnKey !== undefined) this.state.forgetReturn(this.returnKey);
    recordError(this.span, error);
    this.span.end();
  }
}

/**
 * Recorded on `process` spans still open when their channel closed (closed by the
 * application, by the broker after a channel error, or with the connection): their
 * messages go back to the queue and will be delivered again. `error.type` is
 * `ChannelClosedError`.
 */
export class ChannelClosedError extends Error {
  override readonly name = 'ChannelClosedError';

  constructor() {
    super('the channel closed before the message was settled');
  }
}

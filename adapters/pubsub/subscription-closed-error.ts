/**
 * Ends the spans of messages that were still unsettled when their subscription closed: the
 * client nacks them then, and they will be delivered again.
 */
export class SubscriptionClosedError extends Error {
  constructor() {
    super('the subscription closed before the message was settled; the client nacked it');
    this.name = 'SubscriptionClosedError';
  }
}

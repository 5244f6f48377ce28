import type { TracingOptions } from '../../src/options.js';

/** Options of {@link instrumentSnsClient}. */
export interface SnsClientOptions extends TracingOptions {
  /**
   * Give every entry of a `PublishBatch` its own `create` span (PRODUCER), whose context
   * that entry carries, and make the batch's `send` span (CLIENT) link to them, as the
   * messaging semantic conventions describe batches. Each subscriber's `process` span then
   * hangs under its own message's `create` span. With `false`, the batch gets one `send`
   * span (PRODUCER) and every entry carries its context: 9 fewer spans per full batch, but
   * all the messages look alike in the trace. The spans start when the call is made and
   * end when SNS has answered, with the message id or the entry's failure recorded on each.
   * @defaultValue true
   */
  readonly createSpans?: boolean;
  /**
   * The largest message, and the largest `PublishBatch` payload, SNS accepts, in bytes
   * (message plus every message attribute's name, type and value). tracehop adds trace
   * attributes only while they fit under it; a message with no room left is published
   * without trace context (SNS has no system attribute to carry it instead), and `diag`
   * says so once.
   * @defaultValue 262 144 (256 KiB, see
   * {@link https://docs.aws.amazon.com/general/latest/gr/sns.html | SNS quotas})
   */
  readonly maxMessageBytes?: number;
}

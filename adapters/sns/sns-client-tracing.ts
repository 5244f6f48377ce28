import { ProducerTracer } from '../../src/producer-tracer.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../sqs/message-size.js';
import type { SnsOutgoingMessage } from './internal-types.js';
import { SnsTransport } from './sns-transport.js';
import type { SnsClientOptions } from './types.js';

/** What one instrumented SNS client's middleware works with: its tracer, transport and options. */
export class SnsClientTracing {
  readonly transport: SnsTransport;
  /** `send` and `create` spans. */
  readonly tracer: ProducerTracer<SnsOutgoingMessage>;
  readonly createSpans: boolean;
  /** SNS's limit is SQS's: 256 KiB for a message, and for a whole batch. */
  readonly maxMessageBytes: number;

  constructor(options: SnsClientOptions) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.transport = new SnsTransport(this.maxMessageBytes);
    this.tracer = new ProducerTracer(this.transport, options);
    this.createSpans = options.createSpans ?? true;
  }
}

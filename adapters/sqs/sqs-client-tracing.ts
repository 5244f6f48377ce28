import type { Message } from '@aws-sdk/client-sqs';
import { ConsumerTracer } from '../../src/consumer-tracer.js';
import { ProducerTracer } from '../../src/producer-tracer.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './message-size.js';
import type { SqsOutgoingMessage } from './outgoing-message.js';
import { SqsTransport } from './sqs-transport.js';
import type { SqsClientOptions } from './types.js';

/** What one instrumented client's middleware works with: its tracer, transport and options. */
export class SqsClientTracing {
  readonly transport: SqsTransport;
  /** `send` and `create` spans. */
  readonly tracer: ProducerTracer<SqsOutgoingMessage>;
  /** `receive` spans. */
  readonly receiver: ConsumerTracer<Message>;
  readonly createSpans: boolean;
  readonly requestTraceAttributes: boolean;
  readonly maxMessageBytes: number;

  constructor(options: SqsClientOptions) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.transport = new SqsTransport(this.maxMessageBytes);
    const tracing = { tracerProvider: options.tracerProvider, spanName: options.spanName };
    this.tracer = new ProducerTracer(this.transport, tracing);
    this.receiver = new ConsumerTracer(this.transport, tracing);
    this.createSpans = options.createSpans ?? true;
    this.requestTraceAttributes = options.requestTraceAttributes ?? true;
  }
}

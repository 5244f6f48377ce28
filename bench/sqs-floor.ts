/**
 * The SQS `sdk-floor`: the spans, attributes, links and events `instrumentSqsClient` and
 * `traceSqsBatchHandler` record for SendMessageBatch, ReceiveMessage, the handler and
 * DeleteMessageBatch, written inline with the OpenTelemetry API and nothing else — what a
 * competent hand-written instrumentation of the same telemetry costs.
 *
 * - SendMessageBatch: a PRODUCER `create {queue}` span per entry (its context in the entry's
 *   message attributes), a CLIENT `send {queue}` span linked to them, the call run in its
 *   context; when SQS answers, `aws.request_id` on the send span and each entry's
 *   `messaging.message.id` on its create span, then all of them end.
 * - ReceiveMessage: a CLIENT `receive {queue}` span asking for the W3C attributes and
 *   `SentTimestamp` and `ApproximateReceiveCount`; when SQS answers, `aws.request_id`,
 *   `messaging.batch.message_count` and (when recording) a link to each message's context.
 * - each message: a CONSUMER `process {queue}` span, child of its context and linked to it,
 *   active while the handler runs; after DeleteMessageBatch a `delete` event with the
 *   call's `aws.request_id`, then the span ends.
 *
 * Each message's context is extracted once, for the receive span's link and for its process
 * span: inline code can share what separate client and handler instrumentations cannot.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from '@opentelemetry/api';
import type {
  Message,
  MessageAttributeValue,
  ReceiveMessageCommandOutput,
  SendMessageBatchCommandOutput,
  SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { floorTracer } from './floor.js';

type ClientSqs = typeof import('@aws-sdk/client-sqs');
type MessageAttributes = Record<string, MessageAttributeValue>;

const attributeGetter: TextMapGetter<MessageAttributes | undefined> = {
  get: (attributes, key) => attributes?.[key]?.StringValue,
  keys: (attributes) => (attributes === undefined ? [] : Object.keys(attributes)),
};

const attributeSetter: TextMapSetter<MessageAttributes> = {
  set(attributes, key, value) {
    attributes[key] = { DataType: 'String', StringValue: value };
  },
};

const SYSTEM = 'aws.sqs';

/** The attributes a queue URL gives, worked out once per queue. */
interface QueueAttributes {
  readonly name: string;
  /** On create and process spans. */
  readonly queue: Attributes;
  /** On client calls: the queue's and `server.*`. */
  readonly client: Attributes;
}

/** The inline instrumentation of one client's batch producer and receive loop. */
export class SqsFloor {
  private readonly tracer: Tracer = floorTracer();
  private readonly queues = new Map<string, QueueAttributes>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly sdk: ClientSqs,
  ) {}

  private queueOf(url: string): QueueAttributes {
    let queue = this.queues.get(url);
    if (queue === undefined) {
      const name = url.slice(url.lastIndexOf('/') + 1);
      const parsed = new URL(url);
      const shared = {
        'messaging.destination.name': name,
        'aws.sqs.queue.url': url,
        'messaging.system.name': SYSTEM,
      };
      queue = {
        name,
        queue: Object.freeze(shared),
        client: Object.freeze({
          ...shared,
          'server.address': parsed.hostname,
          'server.port': Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)),
        }),
      };
      this.queues.set(url, queue);
    }
    return queue;
  }

  /** SendMessageBatch with a create span per entry and a send span linking them. */
  async sendBatch(batch: {
    QueueUrl: string;
    Entries: SendMessageBatchRequestEntry[];
  }): Promise<SendMessageBatchCommandOutput> {
    const queue = this.queueOf(batch.QueueUrl);
    const parent = context.active();
    const createName = `create ${queue.name}`;
    const createSpans: Span[] = [];
    const links: Link[] = [];
    const entries = batch.Entries.map((entry) => {
      const span = this.tracer.startSpan(
        createName,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            ...queue.queue,
            'messaging.operation.type': 'create',
            'messaging.operation.name': 'create',
          },
        },
        parent,
      );
      createSpans.push(span);
      links.push({ context: span.spanContext() });
      const attributes: MessageAttributes = { ...entry.MessageAttributes };
      propagation.inject(trace.setSpan(parent, span), attributes, attributeSetter);
      return { ...entry, MessageAttributes: attributes };
    });
    const sendSpan = this.tracer.startSpan(
      `send ${queue.name}`,
      {
        kind: SpanKind.CLIENT,
        links,
        attributes: {
          ...queue.client,
          'messaging.batch.message_count': entries.length,
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'send',
        },
      },
      parent,
    );
    const command = new this.sdk.SendMessageBatchCommand({ ...batch, Entries: entries });
    let output: SendMessageBatchCommandOutput;
    try {
      output = await context.with(trace.setSpan(parent, sendSpan), () => this.sqs.send(command));
    } catch (error) {
      for (const span of [...createSpans, sendSpan]) failed(span, error);
      throw error;
    }
    const requestId = output.$metadata.requestId;
    if (requestId !== undefined) sendSpan.setAttribute('aws.request_id', requestId);
    for (const success of output.Successful ?? []) {
      const index = entries.findIndex((entry) => entry.Id === success.Id);
      if (success.MessageId !== undefined) {
        createSpans[index]?.setAttribute('messaging.message.id', success.MessageId);
      }
    }
    for (const span of createSpans) span.end();
    sendSpan.end();
    return output;
  }

  /**
   * One ReceiveMessage in a receive span; `handler` on each message in its process span;
   * DeleteMessageBatch, recorded on each process span, which then ends. Resolves with how
   * many messages came.
   */
  async receiveHandleDelete(
    queueUrl: string,
    handler: (message: Message) => void,
  ): Promise<number> {
    const queue = this.queueOf(queueUrl);
    const parent = context.active();
    const receiveSpan = this.tracer.startSpan(
      `receive ${queue.name}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          ...queue.client,
          'messaging.operation.type': 'receive',
          'messaging.operation.name': 'receive',
        },
      },
      parent,
    );
    const command = new this.sdk.ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ['traceparent', 'tracestate', 'baggage'],
      MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
    });
    let output: ReceiveMessageCommandOutput;
    try {
      output = await context.with(trace.setSpan(parent, receiveSpan), () => this.sqs.send(command));
    } catch (error) {
      failed(receiveSpan, error);
      throw error;
    }
    const messages = output.Messages ?? [];
    const requestId = output.$metadata.requestId;
    if (requestId !== undefined) receiveSpan.setAttribute('aws.request_id', requestId);
    receiveSpan.setAttribute('messaging.batch.message_count', messages.length);
    const contexts: Context[] = [];
    const links: Link[] = [];
    for (const message of messages) {
      const extracted = propagation.extract(
        ROOT_CONTEXT,
        message.MessageAttributes,
        attributeGetter,
      );
      contexts.push(extracted);
      const creation = trace.getSpanContext(extracted);
      if (creation !== undefined) links.push({ context: creation });
    }
    if (links.length > 0 && receiveSpan.isRecording()) receiveSpan.addLinks(links);
    receiveSpan.end();
    if (messages.length === 0) return 0;

    const processName = `process ${queue.name}`;
    const spans: Span[] = [];
    messages.forEach((message, index) => {
      const extracted = contexts[index] ?? ROOT_CONTEXT;
      const creation = trace.getSpanContext(extracted);
      const attributes: Attributes = {
        ...queue.queue,
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
      };
      if (message.MessageId !== undefined) {
        attributes['messaging.message.id'] = message.MessageId;
      }
      const system = message.Attributes;
      const count = Number(system?.ApproximateReceiveCount);
      if (Number.isSafeInteger(count)) attributes['tracehop.sqs.approximate_receive_count'] = count;
      const sentAt = Number(system?.SentTimestamp);
      if (sentAt > 0) {
        attributes['tracehop.message.queue_time'] = Math.max(0, Date.now() - sentAt) / 1000;
      }
      const span = this.tracer.startSpan(
        processName,
        {
          kind: SpanKind.CONSUMER,
          links: creation === undefined ? [] : [{ context: creation }],
          attributes,
        },
        extracted,
      );
      spans.push(span);
      context.with(trace.setSpan(extracted, span), handler, undefined, message);
    });

    const deleted = await this.sqs.send(
      new this.sdk.DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((message, i) => ({
          Id: `d${i}`,
          ReceiptHandle: message.ReceiptHandle,
        })),
      }),
    );
    if ((deleted.Failed ?? []).length > 0) {
      throw new Error(`delete failed: ${JSON.stringify(deleted.Failed)}`);
    }
    const event: Attributes = {
      'messaging.operation.type': 'settle',
      'messaging.operation.name': 'delete',
    };
    if (deleted.$metadata.requestId !== undefined) {
      event['aws.request_id'] = deleted.$metadata.requestId;
    }
    for (const span of spans) {
      span.addEvent('delete', event);
      span.end();
    }
    return messages.length;
  }
}

/** Records a failed call on its span and ends it. */
function failed(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

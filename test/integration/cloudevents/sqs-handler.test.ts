import { once } from 'node:events';
import {
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { CloudEvent, ValidationError } from 'cloudevents';
import { Consumer } from 'sqs-consumer';
import { describe, expect, it } from 'vitest';
import {
  CLOUDEVENTS_JSON_CONTENT_TYPE,
  sqsBinding,
  traceSqsCloudEventHandler,
  type SqsCloudEventHandlerOptions,
} from '../../../adapters/cloudevents/index.js';
import {
  createQueue,
  deleteQueue,
  messagesLeft,
  named,
  only,
  parentId,
  spanId,
  traceId,
  useSqsTestbed,
} from '../sqs/sqs-test-kit.js';
import {
  cloudEventAttributeNames,
  contextOf,
  EXTENSION_SPAN_ID,
  EXTENSION_TRACE_ID,
  fieldsOf,
  linkedContexts,
  MODES,
  NOT_JSON_BODY,
  orderEvent,
  orderEventAttributes,
  SOURCELESS_EVENT_BODY,
  TRACEPARENT,
  TRACESTATE,
  traceparentOf,
  type Order,
} from './event-kit.js';

const { tracing, raw, sqs } = useSqsTestbed();
const tracer = trace.getTracer('test');

/** What the decorated handler saw of one event. */
interface Handled {
  event: CloudEvent<Order>;
  message: Message;
  /** The span active when the handler started, and after it awaited. */
  active: string | undefined;
  activeAfterAwait: string | undefined;
  /** The span the handler started, as its own work. */
  inner: string;
}

/**
 * sqs-consumer on the instrumented client, its `handleMessage` decorated for CloudEvents:
 * the handler starts a span of its own, records what it saw and returns the message, so
 * that sqs-consumer deletes it and the `process` span records the delete.
 */
function eventConsumer(
  queueUrl: string,
  options: SqsCloudEventHandlerOptions = {},
): { consumer: Consumer; handled: Handled[] } {
  const handled: Handled[] = [];
  const consumer = Consumer.create({
    queueUrl,
    sqs,
    waitTimeSeconds: 1,
    visibilityTimeout: 30,
    pollingCompleteWaitTimeMs: 5_000,
    // Binary-mode events are in message attributes: sqs-consumer asks for none by default.
    messageAttributeNames: ['All'],
    handleMessage: traceSqsCloudEventHandler<Order, Promise<Message>>(async (event, message) => {
      const active = trace.getActiveSpan()?.spanContext().spanId;
      const inner = tracer.startSpan('charge card');
      await Promise.resolve();
      inner.end();
      handled.push({
        event,
        message,
        active,
        activeAfterAwait: trace.getActiveSpan()?.spanContext().spanId,
        inner: inner.spanContext().spanId,
      });
      return message;
    }, options),
  });
  return { consumer, handled };
}

/** Runs the consumer until it has processed (handled and deleted) one message, then stops it. */
async function processOne(consumer: Consumer): Promise<void> {
  const processed = once(consumer, 'message_processed');
  consumer.start();
  try {
    await processed;
  } finally {
    await stop(consumer);
  }
}

/** Stops a consumer and waits for its last poll to finish, so that no receive span is left open. */
async function stop(consumer: Consumer): Promise<void> {
  if (!consumer.status.isRunning) return;
  const stopped = once(consumer, 'stopped');
  consumer.stop();
  await stopped;
}

/** Waits for `count` ended `process` spans of `queue` and returns every span. */
function processed(queue: string, count = 1): Promise<ReadableSpan[]> {
  return tracing.waitForSpans((all) => all.filter(named(`process ${queue}`)).length === count);
}

function onlyHandled(handled: readonly Handled[]): Handled {
  expect(handled).toHaveLength(1);
  return handled[0] as Handled;
}

/** A hand-written receive loop's one pull: every attribute, the next message. */
async function receiveOne(client: SQSClient, queueUrl: string): Promise<Message> {
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 5,
        VisibilityTimeout: 30,
      }),
    );
    if (Messages[0] !== undefined) return Messages[0];
  }
}

describe('traceSqsCloudEventHandler on SQS', () => {
  for (const mode of MODES) {
    it(`${mode} mode through instrumentSqsClient, with sqs-consumer: the handler gets the decoded event and the message, in a process span under the send span that links to the event's creation and records the delete`, async () => {
      const queue = await createQueue(raw, `ce-handler-${mode}`);
      const { consumer, handled } = eventConsumer(queue.url);
      try {
        const event = orderEvent();
        const sent = await tracer.startActiveSpan('POST /orders', async (request) => {
          try {
            const message = sqsBinding[mode](event);
            return await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, ...message }));
          } finally {
            request.end();
          }
        });
        await processOne(consumer);
        const spans = await processed(queue.name);
        const request = only(spans, named('POST /orders'));
        const creation = only(spans, named('CloudEvents Create com.example.order.created'));
        const send = only(spans, named(`send ${queue.name}`, SpanKind.PRODUCER));
        const process = only(spans, named(`process ${queue.name}`));
        const work = only(spans, named('charge card'));
        const got = onlyHandled(handled);

        // The handler gets the event as it was sent, plus its creation context, and the message.
        expect(got.event).toBeInstanceOf(CloudEvent);
        expect(fieldsOf(got.event)).toEqual({
          ...fieldsOf(event),
          traceparent: traceparentOf(creation),
        });
        expect(got.event.data).toEqual({ id: 42, note: 'crème brûlée ✓' });
        expect(got.message.MessageId).toBe(sent.MessageId);
        expect(got.message.MessageAttributes?.['traceparent']?.StringValue).toBe(
          traceparentOf(send),
        );

        // The process span continues the hop and links to the event's creation.
        expect(parentId(creation)).toBe(spanId(request));
        expect(parentId(send)).toBe(spanId(request));
        expect(process.kind).toBe(SpanKind.CONSUMER);
        expect(traceId(process)).toBe(traceId(send));
        expect(parentId(process)).toBe(spanId(send));
        expect(linkedContexts(process)).toEqual([contextOf(send), contextOf(creation)]);
        expect(process.attributes).toMatchObject(orderEventAttributes(event));
        expect(process.attributes['messaging.message.id']).toBe(sent.MessageId);
        expect(process.status.code).toBe(SpanStatusCode.UNSET);
        // sqs-consumer deleted the message the handler returned; the span saw it.
        expect(process.events.map((e) => e.name)).toEqual(['delete']);
        expect(await messagesLeft(raw, queue.url)).toBe(0);

        // The handler runs in the process span, across its awaits: its spans are children.
        expect(got.active).toBe(spanId(process));
        expect(got.activeAfterAwait).toBe(spanId(process));
        expect(got.inner).toBe(spanId(work));
        expect(parentId(work)).toBe(spanId(process));
      } finally {
        await stop(consumer);
        await deleteQueue(raw, queue.url);
      }
    });

    it(`${mode} mode from a plain SQSClient, with only the trace extension: the process span is a child of the event's creation context`, async () => {
      const queue = await createQueue(raw, `ce-handler-plain-${mode}`);
      const { consumer, handled } = eventConsumer(queue.url);
      try {
        const event = orderEvent({ traceparent: TRACEPARENT, tracestate: TRACESTATE });
        await raw.send(new SendMessageCommand({ QueueUrl: queue.url, ...sqsBinding[mode](event) }));
        await processOne(consumer);
        const spans = await processed(queue.name);
        const process = only(spans, named(`process ${queue.name}`));
        const work = only(spans, named('charge card'));
        const got = onlyHandled(handled);

        // No transport context travelled: only the event's.
        expect(got.message.MessageAttributes?.['traceparent']).toBeUndefined();
        expect(got.message.Attributes?.['AWSTraceHeader']).toBeUndefined();
        expect(fieldsOf(got.event)).toEqual(fieldsOf(event));

        expect(traceId(process)).toBe(EXTENSION_TRACE_ID);
        expect(parentId(process)).toBe(EXTENSION_SPAN_ID);
        expect(process.parentSpanContext?.isRemote).toBe(true);
        expect(linkedContexts(process)).toEqual([`${EXTENSION_TRACE_ID}:${EXTENSION_SPAN_ID}`]);
        expect(process.links[0]?.context.traceState?.serialize()).toBe(TRACESTATE);
        expect(process.attributes).toMatchObject(orderEventAttributes(event));
        expect(process.events.map((e) => e.name)).toEqual(['delete']);
        expect(got.active).toBe(spanId(process));
        expect(parentId(work)).toBe(spanId(process));
        expect(traceId(work)).toBe(EXTENSION_TRACE_ID);
      } finally {
        await stop(consumer);
        await deleteQueue(raw, queue.url);
      }
    });

    it(`${mode} mode from a plain SQSClient, relation 'link': the process span starts a new trace that links to the event's creation context`, async () => {
      const queue = await createQueue(raw, `ce-handler-link-${mode}`);
      const { consumer, handled } = eventConsumer(queue.url, { relation: 'link' });
      try {
        const event = orderEvent({ traceparent: TRACEPARENT });
        await raw.send(new SendMessageCommand({ QueueUrl: queue.url, ...sqsBinding[mode](event) }));
        await processOne(consumer);
        const spans = await processed(queue.name);
        const process = only(spans, named(`process ${queue.name}`));
        const got = onlyHandled(handled);

        expect(process.parentSpanContext).toBeUndefined();
        expect(traceId(process)).not.toBe(EXTENSION_TRACE_ID);
        expect(linkedContexts(process)).toEqual([`${EXTENSION_TRACE_ID}:${EXTENSION_SPAN_ID}`]);
        expect(process.attributes['cloudevents.event_id']).toBe(event.id);
        expect(process.events.map((e) => e.name)).toEqual(['delete']);
        expect(got.active).toBe(spanId(process));
        expect(parentId(only(spans, named('charge card')))).toBe(spanId(process));
      } finally {
        await stop(consumer);
        await deleteQueue(raw, queue.url);
      }
    });
  }

  it("through instrumentSqsClient, relation 'link': a new trace linked to both the send span and the event's creation", async () => {
    const queue = await createQueue(raw, 'ce-handler-link-traced');
    const { consumer } = eventConsumer(queue.url, { relation: 'link' });
    try {
      const event = orderEvent();
      await tracer.startActiveSpan('POST /orders', async (request) => {
        try {
          await sqs.send(
            new SendMessageCommand({ QueueUrl: queue.url, ...sqsBinding.binary(event) }),
          );
        } finally {
          request.end();
        }
      });
      await processOne(consumer);
      const spans = await processed(queue.name);
      const request = only(spans, named('POST /orders'));
      const creation = only(spans, named('CloudEvents Create com.example.order.created'));
      const send = only(spans, named(`send ${queue.name}`, SpanKind.PRODUCER));
      const process = only(spans, named(`process ${queue.name}`));

      expect(process.parentSpanContext).toBeUndefined();
      expect(traceId(process)).not.toBe(traceId(request));
      expect(linkedContexts(process)).toEqual([contextOf(send), contextOf(creation)]);
      expect(process.attributes).toMatchObject(orderEventAttributes(event));
      expect(process.events.map((e) => e.name)).toEqual(['delete']);
    } finally {
      await stop(consumer);
      await deleteQueue(raw, queue.url);
    }
  });

  it('with sqs-consumer, a message that is not a CloudEvent: the handler is not called, the ValidationError reaches sqs-consumer and the span, and the message is not deleted', async () => {
    const queue = await createQueue(raw, 'ce-handler-not-event');
    const { consumer, handled } = eventConsumer(queue.url);
    try {
      const failed = once(consumer, 'processing_error') as Promise<[unknown, Message]>;
      const sent = await sqs.send(
        new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'plain text, no event' }),
      );
      consumer.start();
      const [error, failedMessage] = await failed;
      // The consumer goes on: the next event is handled and deleted.
      const event = orderEvent();
      const next = once(consumer, 'message_processed');
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, ...sqsBinding.binary(event) }));
      await next;
      await stop(consumer);
      const spans = await processed(queue.name, 2);

      // sqs-consumer wraps what the handler threw; the cause is the decoding error.
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).cause).toBeInstanceOf(ValidationError);
      expect(failedMessage.MessageId).toBe(sent.MessageId);
      expect(handled.map((h) => h.event.id)).toEqual([event.id]);

      const processes = spans.filter(named(`process ${queue.name}`));
      const rejected = only(
        processes,
        (span) => span.attributes['messaging.message.id'] === sent.MessageId,
      );
      const accepted = only(
        processes,
        (span) => span.attributes['messaging.message.id'] !== sent.MessageId,
      );
      const sends = spans.filter(named(`send ${queue.name}`, SpanKind.PRODUCER));
      expect(sends.map(spanId)).toContain(parentId(rejected));
      expect(rejected.status.code).toBe(SpanStatusCode.ERROR);
      expect(rejected.attributes['error.type']).toBe('ValidationError');
      expect(rejected.events.map((e) => e.name)).toEqual(['exception']);
      expect(cloudEventAttributeNames(rejected)).toEqual([]);
      expect(accepted.events.map((e) => e.name)).toEqual(['delete']);
      expect(accepted.attributes['cloudevents.event_id']).toBe(event.id);
      // The failed message is still in the queue (in flight until its visibility timeout).
      expect(await messagesLeft(raw, queue.url)).toBe(1);
    } finally {
      await stop(consumer);
      await deleteQueue(raw, queue.url);
    }
  });

  const notEvents = [
    {
      what: 'a message without CloudEvent attributes',
      message: { MessageBody: '{"id": 42}' },
      error: ValidationError,
      errorType: 'ValidationError',
    },
    {
      what: 'a structured-mode message whose body is not JSON',
      message: {
        MessageBody: NOT_JSON_BODY,
        MessageAttributes: {
          'content-type': { DataType: 'String', StringValue: CLOUDEVENTS_JSON_CONTENT_TYPE },
        },
      },
      error: SyntaxError,
      errorType: 'SyntaxError',
    },
  ] as const;

  for (const bad of notEvents) {
    it(`in a receive loop, ${bad.what}: the handler is not called, the ${bad.errorType} is thrown to the caller and recorded on the span, and nothing is deleted`, async () => {
      const queue = await createQueue(raw, 'ce-handler-loop');
      try {
        let calls = 0;
        const handler = traceSqsCloudEventHandler(
          () => {
            calls++;
          },
          { queueUrl: queue.url },
        );
        await raw.send(new SendMessageCommand({ QueueUrl: queue.url, ...bad.message }));
        const message = await receiveOne(raw, queue.url);
        expect(() => handler(message)).toThrow(bad.error);
        const spans = await processed(queue.name);

        expect(calls).toBe(0);
        const process = only(spans, named(`process ${queue.name}`, SpanKind.CONSUMER));
        expect(process.parentSpanContext).toBeUndefined();
        expect(process.status.code).toBe(SpanStatusCode.ERROR);
        expect(process.attributes['error.type']).toBe(bad.errorType);
        expect(process.attributes['messaging.message.id']).toBe(message.MessageId);
        expect(process.events.map((e) => e.name)).toEqual(['exception']);
        expect(cloudEventAttributeNames(process)).toEqual([]);
        expect(await messagesLeft(raw, queue.url)).toBe(1);
      } finally {
        await deleteQueue(raw, queue.url);
      }
    });
  }

  it('strict: an event the SDK rejects in strict mode is thrown as a ValidationError; without strict the same message reaches the handler', async () => {
    const queue = await createQueue(raw, 'ce-handler-strict');
    try {
      const seen: CloudEvent<unknown>[] = [];
      const strict = traceSqsCloudEventHandler((event) => void seen.push(event), {
        queueUrl: queue.url,
        strict: true,
      });
      const lenient = traceSqsCloudEventHandler((event) => void seen.push(event), {
        queueUrl: queue.url,
      });
      await raw.send(
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: SOURCELESS_EVENT_BODY,
          MessageAttributes: {
            'content-type': { DataType: 'String', StringValue: CLOUDEVENTS_JSON_CONTENT_TYPE },
          },
        }),
      );
      const message = await receiveOne(sqs, queue.url);

      expect(() => strict(message)).toThrow(ValidationError);
      expect(seen).toEqual([]);
      lenient(message);
      expect(seen.map((event) => [event.id, event.source])).toEqual([['no-source-1', undefined]]);
      expect(seen[0]?.data).toEqual({ id: 7, note: 'no source' });

      const spans = await processed(queue.name, 2);
      const [rejected, accepted] = spans.filter(named(`process ${queue.name}`)) as [
        ReadableSpan,
        ReadableSpan,
      ];
      expect(rejected.attributes['error.type']).toBe('ValidationError');
      expect(accepted.status.code).toBe(SpanStatusCode.UNSET);
      expect(accepted.attributes['cloudevents.event_id']).toBe('no-source-1');
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });
});

/**
 * The API: `POST /orders` enqueues the order on SQS. The `send orders` span is a child of
 * the request's span, and its context travels in the message's `traceparent` attribute.
 */
import { createServer, type Server } from 'node:http';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

export function startApi(sqs: SQSClient, queueUrl: string): Server {
  let next = 1;
  return createServer((req, res) => {
    // An HTTP instrumentation would do this part: a SERVER span for the request.
    const incoming = propagation.extract(context.active(), req.headers);
    const span = trace
      .getTracer('orders-api')
      .startSpan('POST /orders', { kind: SpanKind.SERVER }, incoming);
    const orderId = `order-${next++}`;
    context
      .with(trace.setSpan(incoming, span), () =>
        sqs.send(
          new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ orderId }) }),
        ),
      )
      .then(
        () => res.writeHead(202).end(),
        (error: unknown) => {
          span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
          res.writeHead(503).end();
        },
      )
      .finally(() => span.end());
  });
}

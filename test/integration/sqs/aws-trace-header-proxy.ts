/**
 * A pass-through HTTP proxy in front of the harness's fauxqs that gives fauxqs the one
 * SQS behaviour it lacks: keeping the `AWSTraceHeader` system attribute. fauxqs accepts
 * `MessageSystemAttributes` on SendMessage(Batch) and drops them; real SQS stores
 * `AWSTraceHeader` with the message and returns it in `Attributes` to a ReceiveMessage
 * that asks for it (`MessageSystemAttributeNames` with `AWSTraceHeader` or `All`). The
 * proxy records the header per MessageId from the requests and fauxqs's answers, and
 * adds it to ReceiveMessage answers as SQS would. Everything else is fauxqs's own work.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface SendEntry {
  Id?: string;
  MessageSystemAttributes?: { AWSTraceHeader?: { StringValue?: string } };
}

interface ReceiveRequest {
  MessageSystemAttributeNames?: string[];
  AttributeNames?: string[];
}

interface ReceivedMessage {
  MessageId?: string;
  Attributes?: Record<string, string>;
}

export interface AwsTraceHeaderProxy {
  /** The endpoint to give SQSClient instead of fauxqs's. */
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function startAwsTraceHeaderProxy(target: string): Promise<AwsTraceHeaderProxy> {
  const traceHeaderOf = new Map<string, string>();
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const headers = new Headers();
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === 'string' && name !== 'host' && name !== 'content-length') {
          headers.set(name, value);
        }
      }
      const answer = await fetch(new URL(request.url ?? '/', target), {
        method: request.method ?? 'POST',
        headers,
        body: body.length > 0 ? body : undefined,
      });
      let text = await answer.text();
      if (answer.ok)
        text = keepAwsTraceHeader(operation, body.toString('utf8'), text, traceHeaderOf);
      response.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'application/x-amz-json-1.0',
        'x-amzn-requestid': answer.headers.get('x-amzn-requestid') ?? '',
        'content-length': Buffer.byteLength(text),
      });
      response.end(text);
    })().catch((error: unknown) => {
      response.writeHead(502);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function keepAwsTraceHeader(
  operation: string,
  requestText: string,
  answerText: string,
  traceHeaderOf: Map<string, string>,
): string {
  if (operation === 'SendMessage') {
    const header = (JSON.parse(requestText) as SendEntry).MessageSystemAttributes?.AWSTraceHeader;
    const { MessageId } = JSON.parse(answerText) as { MessageId?: string };
    if (header?.StringValue !== undefined && MessageId !== undefined) {
      traceHeaderOf.set(MessageId, header.StringValue);
    }
    return answerText;
  }
  if (operation === 'SendMessageBatch') {
    const { Entries = [] } = JSON.parse(requestText) as { Entries?: SendEntry[] };
    const { Successful = [] } = JSON.parse(answerText) as {
      Successful?: { Id?: string; MessageId?: string }[];
    };
    for (const success of Successful) {
      const entry = Entries.find((candidate) => candidate.Id === success.Id);
      const header = entry?.MessageSystemAttributes?.AWSTraceHeader?.StringValue;
      if (header !== undefined && success.MessageId !== undefined) {
        traceHeaderOf.set(success.MessageId, header);
      }
    }
    return answerText;
  }
  if (operation === 'ReceiveMessage') {
    const asked = JSON.parse(requestText) as ReceiveRequest;
    const names = [...(asked.MessageSystemAttributeNames ?? []), ...(asked.AttributeNames ?? [])];
    if (!names.includes('AWSTraceHeader') && !names.includes('All')) return answerText;
    const answer = JSON.parse(answerText) as { Messages?: ReceivedMessage[] };
    for (const message of answer.Messages ?? []) {
      const header =
        message.MessageId === undefined ? undefined : traceHeaderOf.get(message.MessageId);
      if (header !== undefined)
        message.Attributes = { ...message.Attributes, AWSTraceHeader: header };
    }
    return JSON.stringify(answer);
  }
  return answerText;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

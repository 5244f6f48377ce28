/**
 * A real SQSClient whose calls never leave the process: a `serialize`-step middleware
 * answers each command from a function, so tracehop's `initialize`-step middleware runs
 * exactly as against a server. Unit tests only.
 */
import { SQSClient } from '@aws-sdk/client-sqs';

export interface FakeCall {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

export type FakeAnswer = (call: FakeCall) => object | Error | Promise<object | Error>;

export function fakeSqs(answer: FakeAnswer = () => ({})): { client: SQSClient; calls: FakeCall[] } {
  const calls: FakeCall[] = [];
  const client = new SQSClient({
    region: 'us-east-1',
    endpoint: 'https://sqs.us-east-1.amazonaws.com',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    md5: false,
  });
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const call = {
        command: context.commandName ?? '',
        input: args.input as Record<string, unknown>,
      };
      calls.push(call);
      const output = await answer(call);
      if (output instanceof Error) throw output;
      return { output: { $metadata: { requestId: 'req-1' }, ...output }, response: {} };
    },
    { step: 'serialize', name: 'fakeSqsServer', priority: 'high' },
  );
  return { client, calls };
}

/** An error as the SDK throws it for a failed call. */
export function sdkError(name: string, requestId: string): Error {
  const error = new Error(`${name} happened`);
  error.name = name;
  Object.assign(error, { $metadata: { requestId, httpStatusCode: 400 } });
  return error;
}

export const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/orders';

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * A real SNSClient whose calls never leave the process: a `serialize`-step middleware
 * answers each command from a function, so tracehop's `initialize`-step middleware runs
 * exactly as against a server (and sees exactly what the SDK would serialize). Unit tests only.
 */
import { SNSClient } from '@aws-sdk/client-sns';

export interface FakeCall {
  readonly command: string;
  /** The input as it reached the rest of the stack, after tracehop's middleware. */
  readonly input: Record<string, unknown>;
}

export type FakeAnswer = (call: FakeCall) => object | Error | Promise<object | Error>;

export function fakeSns(answer: FakeAnswer = () => ({})): { client: SNSClient; calls: FakeCall[] } {
  const calls: FakeCall[] = [];
  const client = new SNSClient({
    region: 'us-east-1',
    endpoint: 'https://sns.us-east-1.amazonaws.com',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
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
    { step: 'serialize', name: 'fakeSnsServer', priority: 'high' },
  );
  return { client, calls };
}

export const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:orders';

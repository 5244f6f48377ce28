import { randomUUID } from 'node:crypto';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { expect, inject, it } from 'vitest';
import { TRACEPARENT } from './traceparent.js';

it('Pub/Sub carries a traceparent attribute through unchanged (raw @google-cloud/pubsub)', async () => {
  // global-setup sets this for the whole run; without it the auth library probes for a GCE metadata server
  expect(process.env['METADATA_SERVER_DETECTION']).toBe('none');
  const pubsub = new PubSub({
    projectId: 'tracehop-test',
    apiEndpoint: inject('pubsubEmulatorHost'),
  });
  const name = `tracehop-smoke-${randomUUID()}`;
  const [topic] = await pubsub.createTopic(name);
  const [subscription] = await topic.createSubscription(`${name}-sub`);
  try {
    const received = new Promise<Message>((resolve, reject) => {
      subscription.once('message', resolve);
      subscription.once('error', reject);
    });
    await topic.publishMessage({
      data: Buffer.from('smoke'),
      attributes: { traceparent: TRACEPARENT },
    });

    const message = await received;
    message.ack();
    expect(message.attributes['traceparent']).toBe(TRACEPARENT);
    expect(message.data.toString()).toBe('smoke');
  } finally {
    await subscription.close();
    await subscription.delete();
    await topic.delete();
    await pubsub.close();
  }
});

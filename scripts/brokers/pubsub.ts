/**
 * The Pub/Sub emulator for the tests, first match wins:
 * 1. PUBSUB_EMULATOR_HOST is set: use it.
 * 2. The Google Cloud CLI's emulator (and Java) are installed: start it on 127.0.0.1.
 * 3. A Docker engine answers: the google-cloud-cli:emulators container.
 * Tests must also set METADATA_SERVER_DETECTION=none (global-setup does) so that the Google auth
 * library does not look for a cloud metadata server.
 */
import { startContainer } from './containers.js';
import { hasDockerEngine } from './docker.js';
import { assertReachable, parseHostPort } from './net.js';
import { findEmulatorLauncher, hasJava, startLocalEmulator } from './pubsub-emulator.js';
import { noop, once, type BrokerOrigin, type PubSubBroker } from './types.js';

const IMAGE = 'gcr.io/google.com/cloudsdktool/google-cloud-cli:emulators';

export async function startPubSub(): Promise<PubSubBroker> {
  const began = performance.now();
  const broker = (
    host: string,
    origin: BrokerOrigin,
    via: string,
    stop: () => Promise<void>,
  ): PubSubBroker => ({
    host,
    address: host,
    origin,
    via,
    startupMs: performance.now() - began,
    stop: once(stop),
  });

  const fromEnv = process.env['PUBSUB_EMULATOR_HOST'];
  if (fromEnv) {
    const { host, port } = parseHostPort(fromEnv, 'PUBSUB_EMULATOR_HOST');
    await assertReachable(host, port, 'PUBSUB_EMULATOR_HOST', fromEnv);
    return broker(fromEnv, 'env', 'PUBSUB_EMULATOR_HOST', noop);
  }

  const [launcher, java] = await Promise.all([findEmulatorLauncher(), hasJava()]);
  if (launcher && java) {
    const local = await startLocalEmulator(launcher);
    return broker(local.host, 'local', 'cloud-pubsub-emulator', () => local.process.stop());
  }
  if (await hasDockerEngine()) {
    const container = await startContainer({
      image: IMAGE,
      port: 8085,
      readyLog: /Server started/,
      command: [
        'gcloud',
        'beta',
        'emulators',
        'pubsub',
        'start',
        '--project=tracehop-test',
        '--host-port=0.0.0.0:8085',
      ],
    });
    return broker(container.hostPort, 'docker', `testcontainers ${IMAGE}`, () => container.stop());
  }

  const missing = [launcher ? undefined : 'the Pub/Sub emulator', java ? undefined : 'Java']
    .filter(Boolean)
    .join(' and ');
  throw new Error(
    `The Pub/Sub emulator cannot be started: ${missing} not found, and there is no Docker engine. Install the Debian package google-cloud-cli-pubsub-emulator from Google's Cloud SDK apt repository (https://cloud.google.com/sdk/docs/install#deb) together with Java 17 (openjdk-17-jre-headless), or \`gcloud components install pubsub-emulator\` for a non-Debian Cloud SDK; or start Docker; or set PUBSUB_EMULATOR_HOST=host:port to use a running emulator.`,
  );
}

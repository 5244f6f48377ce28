/**
 * The Pub/Sub emulator that ships with the Google Cloud CLI (Debian package
 * google-cloud-cli-pubsub-emulator): a Java server started from
 * <sdk root>/platform/pubsub-emulator/bin/cloud-pubsub-emulator.
 */
import { access, constants, realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { findExecutable, run } from './commands.js';
import { freePort, waitForPort } from './net.js';
import { spawnProcessGroup, type ProcessGroup } from './process-group.js';

const LAUNCHER = join('platform', 'pubsub-emulator', 'bin', 'cloud-pubsub-emulator');
const WELL_KNOWN_SDK_ROOTS = [
  '/usr/lib/google-cloud-sdk',
  '/usr/share/google-cloud-sdk',
  '/opt/google-cloud-sdk',
  join(homedir(), 'google-cloud-sdk'),
];

/** The launcher's path, or undefined when the emulator component is not installed. */
export async function findEmulatorLauncher(): Promise<string | undefined> {
  const gcloud = await findExecutable('gcloud');
  const roots: Array<() => Promise<string | undefined>> = [
    // /usr/bin/gcloud -> /usr/lib/google-cloud-sdk/bin/gcloud: the cheap guess
    async () => (gcloud ? dirname(dirname(await realpath(gcloud))) : undefined),
    // what gcloud itself says (about 0.5 s)
    async () =>
      gcloud
        ? (
            await run(gcloud, ['info', '--format=value(installation.sdk_root)'], {
              timeoutMs: 30_000,
            })
          ).output.split('\n')[0]
        : undefined,
    ...WELL_KNOWN_SDK_ROOTS.map((root) => () => Promise.resolve(root)),
  ];
  for (const root of roots) {
    const dir = await root().catch(() => undefined);
    if (dir && (await isExecutable(join(dir, LAUNCHER)))) return join(dir, LAUNCHER);
  }
  return undefined;
}

/** True when the launcher can find a java: JAVA_HOME/bin/java or java on PATH. */
export async function hasJava(): Promise<boolean> {
  const javaHome = process.env['JAVA_HOME'];
  if (javaHome && (await isExecutable(join(javaHome, 'bin', 'java')))) return true;
  return (await findExecutable('java')) !== undefined;
}

/** Starts the emulator on 127.0.0.1:<free port> in its own process group; resolves once it accepts connections. */
export async function startLocalEmulator(
  launcher: string,
): Promise<{ host: string; process: ProcessGroup }> {
  const port = await freePort();
  const emulator = spawnProcessGroup(launcher, [`--host=127.0.0.1`, `--port=${port}`], {
    logName: 'pubsub-emulator',
  });
  try {
    await waitForPort('127.0.0.1', port, { timeoutMs: 60_000, failed: emulator.exited });
  } catch (error) {
    await emulator.stop();
    throw new Error(
      `The Pub/Sub emulator did not start: ${error instanceof Error ? error.message : String(error)}; see ${emulator.logPath}`,
      { cause: error },
    );
  }
  return { host: `127.0.0.1:${port}`, process: emulator };
}

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

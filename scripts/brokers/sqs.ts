/**
 * An SQS-protocol server for the tests, first match wins:
 * 1. SQS_ENDPOINT is set: use it.
 * 2. fauxqs embedded in this Node process, listening on 127.0.0.1 only.
 * fauxqs is a devDependency, so no install or container is ever needed; its CLI and startFauxqs()
 * listen on 0.0.0.0, hence buildApp() + listen({ host: '127.0.0.1' }).
 */
import { assertReachable, parseUrl } from './net.js';
import { noop, once, type SqsBroker } from './types.js';

export async function startSqs(): Promise<SqsBroker> {
  const began = performance.now();

  const fromEnv = process.env['SQS_ENDPOINT'];
  if (fromEnv) {
    const { host, port } = parseUrl(
      fromEnv,
      'SQS_ENDPOINT',
      fromEnv.startsWith('https:') ? 443 : 80,
    );
    await assertReachable(host, port, 'SQS_ENDPOINT', fromEnv);
    return {
      endpoint: fromEnv,
      address: fromEnv,
      origin: 'env',
      via: 'SQS_ENDPOINT',
      startupMs: performance.now() - began,
      stop: noop,
    };
  }

  const { buildApp } = await importFauxqs();
  const app = buildApp({ logger: false });
  const endpoint = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    endpoint,
    address: endpoint,
    origin: 'embedded',
    via: 'fauxqs in this process',
    startupMs: performance.now() - began,
    stop: once(async () => {
      await app.close();
    }),
  };
}

async function importFauxqs(): Promise<typeof import('fauxqs')> {
  try {
    return await import('fauxqs');
  } catch (error) {
    throw new Error(
      `Could not load fauxqs (the embedded SQS server; it needs Node >= 22.5 for node:sqlite, this is ${process.version}). Run through the npm scripts or with PATH=$PWD/node_modules/.bin:$PATH so the project's Node 24 is used, run \`npm install\`, or set SQS_ENDPOINT=http://host:port to use a running SQS-compatible server.`,
      { cause: error },
    );
  }
}

import { createConnection, createServer } from 'node:net';

/** Asks the OS for a free TCP port on 127.0.0.1 (for servers that cannot report a port 0 choice). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() =>
        port > 0 ? resolve(port) : reject(new Error('could not get a free port')),
      );
    });
  });
}

/** True when something accepts a TCP connection at host:port within timeoutMs. */
export async function canConnect(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Polls until host:port accepts connections. Rejects after timeoutMs, or as soon as
 * `failed` settles (e.g. the server process exited), whichever comes first.
 */
export async function waitForPort(
  host: string,
  port: number,
  options: { timeoutMs: number; failed?: Promise<never> },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let gaveUp = false;
  const poll = async (): Promise<void> => {
    while (!gaveUp) {
      if (await canConnect(host, port, 500)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `nothing accepted connections on ${host}:${port} within ${options.timeoutMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  try {
    await (options.failed ? Promise.race([poll(), options.failed]) : poll());
  } finally {
    gaveUp = true;
  }
}

/** host and port of a URL-valued override variable; throws with the variable name when it is malformed. */
export function parseUrl(
  value: string,
  variable: string,
  defaultPort: number,
): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(
      `${variable}=${value} is not a URL (e.g. ${variable === 'SQS_ENDPOINT' ? 'http://127.0.0.1:4566' : 'amqp://guest:guest@127.0.0.1:5672'})`,
    );
  }
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port) || defaultPort };
}

/** Splits "host:port" (or "[v6]:port"); throws with the variable name when it is malformed. */
export function parseHostPort(value: string, variable: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(value.trim());
  const port = Number(match?.[2]);
  if (!match?.[1] || !Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new Error(`${variable}=${value} is not host:port (e.g. 127.0.0.1:8085)`);
  }
  return { host: match[1], port };
}

/** Throws a clear error when an override variable points at a closed port. */
export async function assertReachable(
  host: string,
  port: number,
  variable: string,
  value: string,
): Promise<void> {
  if (!(await canConnect(host, port, 2_000))) {
    throw new Error(
      `${variable}=${value} is set, but nothing accepts connections at ${host}:${port}. Start that broker or unset ${variable} to let the test harness start one.`,
    );
  }
}

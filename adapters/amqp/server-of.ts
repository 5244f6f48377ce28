import type { AmqpServer } from './amqp-transport.js';
import type { RawChannel } from './internal-types.js';

interface SocketLike {
  readonly remoteAddress?: unknown;
  readonly remotePort?: unknown;
}

/**
 * The broker's address and port as the channel's socket sees them (the IP address:
 * amqplib keeps no host name, and a reverse lookup would cost a round trip). Read once per
 * channel; `undefined` when the connection exposes no socket.
 */
export function serverOf(channel: RawChannel): AmqpServer | undefined {
  try {
    const connection = channel.connection as { readonly stream?: SocketLike } | undefined;
    const socket = connection?.stream;
    if (socket === undefined) return undefined;
    const address = typeof socket.remoteAddress === 'string' ? socket.remoteAddress : undefined;
    const port = typeof socket.remotePort === 'number' ? socket.remotePort : undefined;
    return address === undefined && port === undefined ? undefined : { address, port };
  } catch {
    // A connection object of another shape: the attributes are optional.
    return undefined;
  }
}

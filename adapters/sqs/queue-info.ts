/**
 * What a queue URL tells about the queue, worked out once per URL: the name for span
 * names and `messaging.destination.name`, the host and port for `server.*`.
 *
 * @packageDocumentation
 */

/** A queue as its URL describes it. */
export interface QueueInfo {
  /** The queue URL, `aws.sqs.queue.url`. */
  readonly url: string;
  /** The queue name: the URL's last path segment, `my-queue` or `orders.fifo`. */
  readonly name: string;
  /** The URL's host, `server.address`. */
  readonly address: string | undefined;
  /** The URL's port, or the scheme's default, `server.port`. */
  readonly port: number | undefined;
}

/** Workers talk to a handful of queues; the bound only guards against unbounded growth. */
const MAX_CACHED = 256;
const byUrl = new Map<string, QueueInfo>();
const byArn = new Map<string, string>();

/** The queue a URL names, or `undefined` when `url` is not a non-empty string. */
export function queueInfo(url: unknown): QueueInfo | undefined {
  if (typeof url !== 'string' || url === '') return undefined;
  let info = byUrl.get(url);
  if (info === undefined) {
    info = parseQueueUrl(url);
    if (byUrl.size >= MAX_CACHED) byUrl.clear();
    byUrl.set(url, info);
  }
  return info;
}

/**
 * The queue name in an SQS queue ARN (`arn:aws:sqs:us-east-2:123456789012:my-queue` →
 * `my-queue`), as Lambda event records carry it in `eventSourceARN`.
 */
export function queueNameFromArn(arn: unknown): string | undefined {
  if (typeof arn !== 'string' || arn === '') return undefined;
  let name = byArn.get(arn);
  if (name === undefined) {
    name = arn.slice(arn.lastIndexOf(':') + 1);
    if (byArn.size >= MAX_CACHED) byArn.clear();
    byArn.set(arn, name);
  }
  return name === '' ? undefined : name;
}

/** Whether a queue name or URL is a FIFO queue's (FIFO queue names end in `.fifo`). */
export function isFifoQueue(nameOrUrl: string | undefined): boolean {
  return nameOrUrl !== undefined && nameOrUrl.endsWith('.fifo');
}

function parseQueueUrl(url: string): QueueInfo {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 0x2f) end--;
  const name = url.slice(url.lastIndexOf('/', end - 1) + 1, end);
  let address: string | undefined;
  let port: number | undefined;
  try {
    const parsed = new URL(url);
    address = parsed.hostname === '' ? undefined : parsed.hostname;
    if (parsed.port !== '') port = Number(parsed.port);
    else if (parsed.protocol === 'https:') port = 443;
    else if (parsed.protocol === 'http:') port = 80;
  } catch {
    // Not a URL (a bare queue name): name only.
  }
  return { url, name, address, port };
}

import type { CloudEvent } from 'cloudevents';
import { reportOnce } from '../../src/report.js';
import { carriesEvent, decodeEvent, type ReceivedParts } from './event-codec.js';
import { prepareEvent } from './prepare-event.js';
import { readTraceHeader } from './trace-header.js';
import type {
  CloudEventBinding,
  CloudEventLike,
  ContentMode,
  DecodeOptions,
  EncodeOptions,
  TraceHeaderName,
} from './types.js';

/** What one broker contributes to its binding: where the pieces of an event go and come from. */
export interface BindingTransport<TOut, TIn, TEncodeOptions extends EncodeOptions> {
  /**
   * The message carrying `event` in `mode`. The event already has its Distributed Tracing
   * extension (or was left as it is on purpose).
   */
  encode(event: CloudEventLike, mode: ContentMode, options: Omit<TEncodeOptions, 'mode'>): TOut;
  /** The attributes, content type and body of a received message; may throw on a hostile one. */
  read(message: TIn): ReceivedParts;
}

/**
 * Builds a broker's {@link CloudEventBinding} from its transport description: the trace
 * extension, mode handling, decoding, detection and trace-header reading are the same for
 * every broker and live here and in the shared codec, once.
 */
export function defineBinding<TOut, TIn, TEncodeOptions extends EncodeOptions>(
  transport: BindingTransport<TOut, TIn, TEncodeOptions>,
): CloudEventBinding<TOut, TIn, TEncodeOptions> {
  const encoder =
    (mode: ContentMode) =>
    (event: CloudEventLike, options?: Omit<TEncodeOptions, 'mode'>): TOut => {
      const own = options ?? ({} as Omit<TEncodeOptions, 'mode'>);
      const traceContext = (own as EncodeOptions).traceContext;
      return transport.encode(prepareEvent(event, traceContext), mode, own);
    };
  const read = (message: TIn): ReceivedParts => transport.read(message);
  return Object.freeze({
    binary: encoder('binary'),
    structured: encoder('structured'),
    toEvent<T = unknown>(message: TIn, options: DecodeOptions = {}): CloudEvent<T> {
      return decodeEvent<T>(read(message), options.strict ?? false);
    },
    isEvent(message: TIn): boolean {
      return carriesEvent(read(message));
    },
    traceHeader(message: TIn, name: TraceHeaderName): string | undefined {
      try {
        return readTraceHeader(message, read, name);
      } catch (error) {
        reportOnce(
          'cloudevents:trace-header',
          `could not read a CloudEvent's trace extension: ${String(error)}`,
        );
        return undefined;
      }
    },
  });
}

import {
  createNoopMeter,
  metrics,
  SpanStatusCode,
  ValueType,
  type AttributeValue,
  type Attributes,
  type Counter,
  type Exception,
  type Histogram,
  type Link,
  type Meter,
  type MeterProvider,
  type Span,
  type SpanContext,
  type SpanStatus,
  type TimeInput,
} from '@opentelemetry/api';
import type { DestinationTemplate, TracingOptions } from './options.js';
import { shared } from './registry.js';
import { reportOnce } from './report.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME,
  ATTR_MESSAGING_DESTINATION_TEMPLATE,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  DESCRIPTION_MESSAGING_CLIENT_CONSUMED_MESSAGES,
  DESCRIPTION_MESSAGING_CLIENT_OPERATION_DURATION,
  DESCRIPTION_MESSAGING_CLIENT_SENT_MESSAGES,
  DESCRIPTION_MESSAGING_PROCESS_DURATION,
  MESSAGING_DURATION_BUCKETS,
  METRIC_MESSAGING_CLIENT_CONSUMED_MESSAGES,
  METRIC_MESSAGING_CLIENT_OPERATION_DURATION,
  METRIC_MESSAGING_CLIENT_SENT_MESSAGES,
  METRIC_MESSAGING_PROCESS_DURATION,
  UNIT_MESSAGES,
  UNIT_SECONDS,
  type MessagingOperationType,
} from './semconv.js';
import { addPreviousNames } from './stability.js';
import { SCOPE_NAME, SCOPE_VERSION } from './version.js';

/**
 * On every `process` span whose message carries the broker's own send time (SQS
 * `SentTimestamp`, Pub/Sub `publishTime`, AMQP `timestamp`): how long the message waited
 * between the broker accepting it and tracehop starting its `process` span, in seconds (a
 * double), never negative. No semantic convention exists for it yet.
 */
export const ATTR_MESSAGE_QUEUE_TIME = 'tracehop.message.queue_time';

/**
 * Histogram, `s`: the same wait as {@link ATTR_MESSAGE_QUEUE_TIME}, one data point per
 * message whose broker timestamp is known, with the attributes of
 * `messaging.process.duration`.
 */
export const METRIC_MESSAGING_QUEUE_TIME = 'tracehop.messaging.queue_time';

/**
 * Bucket boundaries of {@link METRIC_MESSAGING_QUEUE_TIME}, in seconds: the conventions'
 * duration buckets up to 10 s, then up to an hour, since messages wait far longer than
 * operations take.
 */
export const QUEUE_TIME_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120, 300, 600,
  1800, 3600,
]);

/** The instruments of one tracer, made once, from a meter that records. */
export interface MessagingInstruments {
  readonly sent: Counter;
  readonly consumed: Counter;
  readonly operationDuration: Histogram;
  readonly processDuration: Histogram;
  readonly queueTime: Histogram;
}

/** What the API's no-op meter is an instance of: a provider handing these out records nothing. */
const NOOP_METER_CLASS: unknown = createNoopMeter().constructor;

function createInstruments(meter: Meter): MessagingInstruments {
  const duration = (name: string, description: string, buckets: readonly number[]) =>
    meter.createHistogram(name, {
      description,
      unit: UNIT_SECONDS,
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: [...buckets] },
    });
  return {
    sent: meter.createCounter(METRIC_MESSAGING_CLIENT_SENT_MESSAGES, {
      description: DESCRIPTION_MESSAGING_CLIENT_SENT_MESSAGES,
      unit: UNIT_MESSAGES,
      valueType: ValueType.INT,
    }),
    consumed: meter.createCounter(METRIC_MESSAGING_CLIENT_CONSUMED_MESSAGES, {
      description: DESCRIPTION_MESSAGING_CLIENT_CONSUMED_MESSAGES,
      unit: UNIT_MESSAGES,
      valueType: ValueType.INT,
    }),
    operationDuration: duration(
      METRIC_MESSAGING_CLIENT_OPERATION_DURATION,
      DESCRIPTION_MESSAGING_CLIENT_OPERATION_DURATION,
      MESSAGING_DURATION_BUCKETS,
    ),
    processDuration: duration(
      METRIC_MESSAGING_PROCESS_DURATION,
      DESCRIPTION_MESSAGING_PROCESS_DURATION,
      MESSAGING_DURATION_BUCKETS,
    ),
    queueTime: duration(
      METRIC_MESSAGING_QUEUE_TIME,
      'Time a message waited in the broker, from the broker’s own timestamp to the start of its processing.',
      QUEUE_TIME_BUCKETS,
    ),
  };
}

/** Adds to a counter; never throws into messaging. */
export function addCount(counter: Counter, value: number, attributes: Attributes): void {
  try {
    counter.add(value, attributes);
  } catch (error) {
    reportOnce('metrics:record', `could not record a messaging metric: ${String(error)}`);
  }
}

/** Records into a histogram; never throws into messaging. */
export function recordValue(histogram: Histogram, value: number, attributes: Attributes): void {
  try {
    histogram.record(value, attributes);
  } catch (error) {
    reportOnce('metrics:record', `could not record a messaging metric: ${String(error)}`);
  }
}

/** Seconds since `startedAt` (a `performance.now()` reading). */
export function secondsSince(startedAt: number): number {
  return (performance.now() - startedAt) / 1000;
}

/**
 * The queue time of a message sent at `sentAtMs` (epoch milliseconds), in seconds: never
 * negative — a producer or broker clock ahead of this one's (clock skew) gives 0, not a
 * negative wait. `undefined` for anything but a finite positive time.
 */
export function queueTimeSeconds(
  sentAtMs: unknown,
  nowMs: number = Date.now(),
): number | undefined {
  if (typeof sentAtMs !== 'number' || !Number.isFinite(sentAtMs) || sentAtMs <= 0) {
    return undefined;
  }
  const waited = nowMs - sentAtMs;
  return waited > 0 ? waited / 1000 : 0;
}

/**
 * Messages already counted as consumed by a `receive`: their `process` does not count them
 * again, whichever copy of tracehop received or processes them. Made when metrics first
 * count a receive: without metrics, the registry has no such entry.
 */
let countedAtReceive: WeakSet<object> | undefined;

function receivedMessages(): WeakSet<object> {
  return (countedAtReceive ??= shared('metrics.countedAtReceive', () => new WeakSet<object>()));
}

/** Remembers that `message` was counted as consumed when it was received. */
export function markCountedAtReceive(message: unknown): void {
  if (typeof message === 'object' && message !== null) receivedMessages().add(message);
}

/** Whether `message` was counted when received; forgets it (one delivery, one count). */
export function takeCountedAtReceive(message: unknown): boolean {
  return typeof message === 'object' && message !== null && receivedMessages().delete(message);
}

/** How many destination names' templates are kept, and how many metric destinations. */
const MAX_CACHED = 1000;
/** How many `error.type` values per operation get a cached attribute set. */
const MAX_CACHED_ERRORS = 64;

/** Answers of the `destinationTemplate` option, by destination name, for the last names seen. */
export class DestinationTemplates {
  /** `null`: the hook kept the name. */
  private readonly answers = new Map<string, string | null>();

  constructor(private readonly hook: DestinationTemplate) {}

  /** The template of `name`, or `undefined` to keep the name. */
  of(name: string): string | undefined {
    const known = this.answers.get(name);
    if (known !== undefined) return known ?? undefined;
    let template: string | undefined;
    try {
      const answer = this.hook(name);
      template = typeof answer === 'string' ? answer : undefined;
    } catch (error) {
      reportOnce('destination-template', `destinationTemplate threw: ${String(error)}`);
    }
    if (this.answers.size >= MAX_CACHED) this.answers.clear();
    this.answers.set(name, template ?? null);
    return template;
  }

  /** Adds `messaging.destination.template` when the hook gives one for the destination name. */
  addTo(attributes: Attributes): void {
    if (attributes[ATTR_MESSAGING_DESTINATION_TEMPLATE] !== undefined) return;
    const name = attributes[ATTR_MESSAGING_DESTINATION_NAME];
    if (typeof name !== 'string') return;
    const template = this.of(name);
    if (template !== undefined) attributes[ATTR_MESSAGING_DESTINATION_TEMPLATE] = template;
  }
}

interface Variants {
  readonly ok: Attributes;
  errors: Map<string, Attributes> | undefined;
}

/**
 * The metric attributes of one destination (system, destination name or template,
 * subscription, consumer group, server address and port), and the frozen attribute sets
 * made from them per operation and `error.type`: built once, then shared by every message.
 */
export class MetricDestination {
  /** By operation type (`''`: no `messaging.operation.type`), then operation name. */
  private readonly variants = new Map<string, Map<string, Variants>>();

  constructor(private readonly base: Attributes) {}

  /**
   * The attributes of one data point: the destination's, the operation name, the
   * operation type when `type` is given (only `messaging.client.operation.duration` has
   * it), and `error.type` when the operation failed.
   */
  attributes(
    type: MessagingOperationType | undefined,
    operation: string,
    error: string | undefined,
  ): Attributes {
    const typeKey = type ?? '';
    let byName = this.variants.get(typeKey);
    if (byName === undefined) {
      byName = new Map();
      this.variants.set(typeKey, byName);
    }
    let variants = byName.get(operation);
    if (variants === undefined) {
      variants = { ok: this.build(type, operation, undefined), errors: undefined };
      byName.set(operation, variants);
    }
    if (error === undefined) return variants.ok;
    let errors = variants.errors;
    if (errors === undefined) {
      errors = new Map();
      variants.errors = errors;
    }
    let failed = errors.get(error);
    if (failed === undefined) {
      failed = this.build(type, operation, error);
      // Error types come from error classes and broker codes: few. Past the bound, a set is
      // made per data point rather than growing without end.
      if (errors.size < MAX_CACHED_ERRORS) errors.set(error, failed);
    }
    return failed;
  }

  private build(
    type: MessagingOperationType | undefined,
    operation: string,
    error: string | undefined,
  ): Attributes {
    const attributes: Attributes = { ...this.base, [ATTR_MESSAGING_OPERATION_NAME]: operation };
    if (type !== undefined) attributes[ATTR_MESSAGING_OPERATION_TYPE] = type;
    if (error !== undefined) attributes[ATTR_ERROR_TYPE] = error;
    return Object.freeze(attributes);
  }
}

type Key = AttributeValue | undefined;

/**
 * The messaging metrics of one tracer: its instruments (made once, from the `meterProvider`
 * option or the global provider) and its destinations' attribute sets. Recording never
 * throws into messaging: a failure is reported once through `diag`.
 */
export class MessagingMetrics {
  private readonly provider: MeterProvider | undefined;
  /** The provider last looked at while metrics were off. */
  private lastProvider: MeterProvider | undefined;
  private current: MessagingInstruments | undefined;
  /** By destination value, then subscription, consumer group, server address, server port. */
  private readonly byName = new Map<
    Key,
    Map<Key, Map<Key, Map<Key, Map<Key, MetricDestination>>>>
  >();
  private readonly byTemplate = new Map<
    Key,
    Map<Key, Map<Key, Map<Key, Map<Key, MetricDestination>>>>
  >();
  private destinations = 0;
  // The last destination looked up and what it was looked up by: most tracers see one.
  private last: MetricDestination | undefined;
  private lastTemplate: Key;
  private lastName: Key;
  private lastSubscription: Key;
  private lastGroup: Key;
  private lastAddress: Key;
  private lastPort: Key;

  constructor(
    private readonly system: string,
    options: TracingOptions,
    private readonly previousNames: boolean,
  ) {
    this.provider = options.meterProvider;
  }

  /**
   * The instruments, or `undefined` while the meter provider is the API's no-op one (none
   * registered): then nothing is computed or recorded. The global provider is looked up
   * again at each call until a real one appears; a real one is kept.
   */
  get instruments(): MessagingInstruments | undefined {
    const current = this.current;
    if (current !== undefined) return current;
    const provider = this.provider ?? metrics.getMeterProvider();
    if (provider === this.lastProvider) return undefined;
    this.lastProvider = provider;
    try {
      const meter = provider.getMeter(SCOPE_NAME, SCOPE_VERSION);
      if (meter.constructor === NOOP_METER_CLASS) return undefined;
      this.current = createInstruments(meter);
    } catch (error) {
      reportOnce('metrics:instruments', `messaging metrics are off: ${String(error)}`);
    }
    return this.current;
  }

  /**
   * The metric destination described by a span's attributes: a destination's attribute
   * sets are made once. At most {@link MAX_CACHED} destinations are kept; past that (names
   * that carry ids: see the `destinationTemplate` option) the cache starts over, said once.
   */
  destinationOf(attributes: Attributes): MetricDestination {
    const template = attributes[ATTR_MESSAGING_DESTINATION_TEMPLATE];
    const name = attributes[ATTR_MESSAGING_DESTINATION_NAME];
    const subscription = attributes[ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME];
    const group = attributes[ATTR_MESSAGING_CONSUMER_GROUP_NAME];
    const address = attributes[ATTR_SERVER_ADDRESS];
    const port = attributes[ATTR_SERVER_PORT];
    const last = this.last;
    if (
      last !== undefined &&
      template === this.lastTemplate &&
      name === this.lastName &&
      subscription === this.lastSubscription &&
      group === this.lastGroup &&
      address === this.lastAddress &&
      port === this.lastPort
    ) {
      return last;
    }
    const found = this.lookUp(template, name, subscription, group, address, port);
    this.last = found;
    this.lastTemplate = template;
    this.lastName = name;
    this.lastSubscription = subscription;
    this.lastGroup = group;
    this.lastAddress = address;
    this.lastPort = port;
    return found;
  }

  private lookUp(
    template: Key,
    name: Key,
    subscription: Key,
    group: Key,
    address: Key,
    port: Key,
  ): MetricDestination {
    const byTemplate = template !== undefined;
    const root = byTemplate ? this.byTemplate : this.byName;
    // With a template, the name is left out: all names of one template are one series.
    const destination = byTemplate ? template : name;
    const bySubscription = level(root, destination);
    const byGroup = level(bySubscription, subscription);
    const byAddress = level(byGroup, group);
    const byPort = level(byAddress, address);
    let found = byPort.get(port);
    if (found !== undefined) return found;
    if (this.destinations >= MAX_CACHED) {
      reportOnce(
        'metrics:destinations',
        `more than ${MAX_CACHED} messaging destinations: metric series per destination name ` +
          'will be many; give the destinationTemplate option a template for names that carry ids',
      );
      this.byName.clear();
      this.byTemplate.clear();
      this.destinations = 0;
    }
    const base: Attributes = { [ATTR_MESSAGING_SYSTEM_NAME]: this.system };
    if (byTemplate) base[ATTR_MESSAGING_DESTINATION_TEMPLATE] = template;
    else if (destination !== undefined) base[ATTR_MESSAGING_DESTINATION_NAME] = destination;
    if (subscription !== undefined) {
      base[ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME] = subscription;
    }
    if (group !== undefined) base[ATTR_MESSAGING_CONSUMER_GROUP_NAME] = group;
    if (address !== undefined) base[ATTR_SERVER_ADDRESS] = address;
    if (port !== undefined) base[ATTR_SERVER_PORT] = port;
    if (this.previousNames) addPreviousNames(base);
    found = new MetricDestination(base);
    level(level(level(level(root, destination), subscription), group), address).set(port, found);
    this.destinations++;
    return found;
  }
}

/** The map under `key` in `parent`, made when missing. */
function level<V>(parent: Map<Key, Map<Key, V>>, key: Key): Map<Key, V> {
  let child = parent.get(key);
  if (child === undefined) {
    child = new Map();
    parent.set(key, child);
  }
  return child;
}

/**
 * A `send`, `create` or `receive` span that records its operation's metrics when it ends,
 * however the adapter ends it (`span.end()`, `endSpan`, a publisher confirm): the duration
 * in `messaging.client.operation.duration`, and, for a producer span, its messages in
 * `messaging.client.sent.messages`. It sees what the span sees: `error.type` as the adapter
 * sets it, or `_OTHER` for an ERROR status without one. Made only while metrics are on;
 * everything else goes to the span unchanged.
 */
export class MeteredSpan implements Span {
  /** Messages counted as sent when the span ends (0: none, as for a `receive`). */
  sentMessages: number;
  private readonly startedAt = performance.now();
  private errorType: string | undefined = undefined;
  private failed = false;
  private ended = false;

  constructor(
    /** The span itself. */
    readonly span: Span,
    private readonly instruments: MessagingInstruments,
    /** The destination's metric attributes. */
    readonly destination: MetricDestination,
    private readonly type: MessagingOperationType,
    private readonly operation: string,
    /** `messaging.operation.name` of the sent count: the tracer's name for `send`. */
    private readonly sendOperation: string,
    sentMessages: number,
  ) {
    this.sentMessages = sentMessages;
  }

  spanContext(): SpanContext {
    return this.span.spanContext();
  }

  setAttribute(key: string, value: AttributeValue): this {
    if (key === ATTR_ERROR_TYPE && typeof value === 'string') this.errorType = value;
    this.span.setAttribute(key, value);
    return this;
  }

  setAttributes(attributes: Attributes): this {
    const error = attributes[ATTR_ERROR_TYPE];
    if (typeof error === 'string') this.errorType = error;
    this.span.setAttributes(attributes);
    return this;
  }

  addEvent(
    name: string,
    attributesOrStartTime?: Attributes | TimeInput,
    startTime?: TimeInput,
  ): this {
    this.span.addEvent(name, attributesOrStartTime, startTime);
    return this;
  }

  addLink(link: Link): this {
    this.span.addLink(link);
    return this;
  }

  addLinks(links: Link[]): this {
    this.span.addLinks(links);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (status.code === SpanStatusCode.ERROR) this.failed = true;
    this.span.setStatus(status);
    return this;
  }

  updateName(name: string): this {
    this.span.updateName(name);
    return this;
  }

  isRecording(): boolean {
    return this.span.isRecording();
  }

  recordException(exception: Exception, time?: TimeInput): void {
    this.span.recordException(exception, time);
  }

  end(endTime?: TimeInput): void {
    if (!this.ended) {
      this.ended = true;
      const error = this.errorType ?? (this.failed ? '_OTHER' : undefined);
      const instruments = this.instruments;
      recordValue(
        instruments.operationDuration,
        secondsSince(this.startedAt),
        this.destination.attributes(this.type, this.operation, error),
      );
      if (this.sentMessages > 0) {
        addCount(
          instruments.sent,
          this.sentMessages,
          this.destination.attributes(undefined, this.sendOperation, error),
        );
      }
    }
    this.span.end(endTime);
  }
}

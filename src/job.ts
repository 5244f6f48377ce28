import { randomUUID } from 'node:crypto';
import {
  context as contextApi,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Attributes,
  type Link,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import { isPromiseLike, recordError } from './errors.js';
import { flushProvider } from './flush.js';
import type { TracingOptions } from './options.js';
import { fromTraceparent, toTraceparent } from './span-context-text.js';
import { reportOnce } from './report.js';
import { SCOPE_NAME, SCOPE_VERSION } from './version.js';

/** Attribute: the job's name. */
export const ATTR_JOB_NAME = 'tracehop.job.name';
/** Attribute: a unique id of one run of the job. */
export const ATTR_JOB_RUN_ID = 'tracehop.job.run_id';

/** A context another run or a scheduler can be linked from. */
export type LinkTarget = string | SpanContext;

/** Options of {@link traceJob}. */
export interface JobOptions extends Omit<TracingOptions, 'spanName'> {
  /**
   * Contexts to link the run to: the previous run (as the `traceparent` it stored, or
   * a span context), the message or request that scheduled it. Invalid ones are
   * ignored and reported once through `diag`.
   * @defaultValue none
   */
  readonly links?: readonly LinkTarget[];
  /**
   * Link the run to the span that is active when it starts (whatever scheduled it),
   * instead of silently continuing that trace.
   * @defaultValue true
   */
  readonly linkActive?: boolean;
  /** More attributes for the run's span, set at start. @defaultValue none */
  readonly attributes?: Attributes;
  /**
   * Before the run's promise settles, flush the tracer provider so that a process that
   * exits next loses no span; wait at most this many milliseconds. 0 disables it.
   * @defaultValue 5000
   */
  readonly flushTimeoutMs?: number;
}

/** What a running job can know about its own run. */
export interface JobRun {
  /** A unique id of this run, also the `tracehop.job.run_id` attribute. */
  readonly runId: string;
  /** The run's root span. */
  readonly span: Span;
  /** The run's context as a `traceparent` string, to store and link the next run to. */
  readonly traceparent: string;
}

/**
 * Runs one execution of a scheduled job as a new root trace, whatever context is
 * active when it fires. The span (kind INTERNAL, named after the job) starts when
 * `traceJob` is called and ends when `fn` returns or its promise settles; errors are
 * recorded and rethrown unchanged; the provider is flushed before the returned
 * promise settles.
 */
export async function traceJob<R>(
  name: string,
  fn: (run: JobRun) => R | PromiseLike<R>,
  options: JobOptions = {},
): Promise<R> {
  const provider = options.tracerProvider ?? trace.getTracerProvider();
  const tracer = provider.getTracer(SCOPE_NAME, SCOPE_VERSION);
  const runId = randomUUID();
  const links = jobLinks(options);
  const span = tracer.startSpan(
    name,
    {
      kind: SpanKind.INTERNAL,
      root: true,
      links,
      attributes: { ...options.attributes, [ATTR_JOB_NAME]: name, [ATTR_JOB_RUN_ID]: runId },
    },
    ROOT_CONTEXT,
  );
  const run: JobRun = { runId, span, traceparent: toTraceparent(span.spanContext()) };
  try {
    const pending = contextApi.with(trace.setSpan(ROOT_CONTEXT, span), () => fn(run));
    const result = isPromiseLike(pending) ? await pending : pending;
    span.end();
    return result;
  } catch (error) {
    recordError(span, error);
    span.end();
    throw error;
  } finally {
    await flushProvider(provider, options.flushTimeoutMs ?? 5000);
  }
}

function jobLinks(options: JobOptions): Link[] {
  const links: Link[] = [];
  if (options.linkActive ?? true) {
    const active = trace.getSpanContext(contextApi.active());
    if (active !== undefined && trace.isSpanContextValid(active)) links.push({ context: active });
  }
  for (const target of options.links ?? []) {
    const spanContext = typeof target === 'string' ? fromTraceparent(target) : target;
    if (spanContext !== undefined && trace.isSpanContextValid(spanContext)) {
      links.push({ context: spanContext });
    } else {
      const shown = typeof target === 'string' ? target : `${target.traceId}-${target.spanId}`;
      reportOnce('job-link', `ignored an invalid job link: ${shown}`);
    }
  }
  return links;
}

/** Options of {@link scheduledJob}. */
export interface ScheduledJobOptions extends JobOptions {
  /**
   * Link each run to the previous run of the same wrapped function in this process.
   * @defaultValue true
   */
  readonly linkPrevious?: boolean;
}

/**
 * Wraps a job function for a scheduler (node-cron, croner, `setInterval`…): every call
 * is one {@link traceJob} run, linked to the previous run. The scheduler's arguments
 * are passed through after the {@link JobRun}.
 *
 * @example
 * ```ts
 * cron.schedule('0 3 * * *', scheduledJob('daily-vuln-match', async () => match()));
 * ```
 */
export function scheduledJob<A extends unknown[], R>(
  name: string,
  fn: (run: JobRun, ...args: A) => R | PromiseLike<R>,
  options: ScheduledJobOptions = {},
): (...args: A) => Promise<R> {
  let previous: SpanContext | undefined;
  return (...args: A) => {
    const links = [...(options.links ?? [])];
    if (previous !== undefined && (options.linkPrevious ?? true)) links.push(previous);
    return traceJob(
      name,
      (run) => {
        previous = run.span.spanContext();
        return fn(run, ...args);
      },
      { ...options, links },
    );
  };
}

/**
 * What the sampling tests of every broker share: a parent-based sampler that samples every
 * root and remembers what it was asked at each span's start, and the context an upstream
 * service sampling at 1 % sends for a trace it did not sample.
 */
import {
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Link,
  type SpanKind,
} from '@opentelemetry/api';
import {
  ParentBasedSampler,
  SamplingDecision,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace-base';

/** What a sampler was asked about one span, at its start. */
export interface SamplerCall {
  readonly name: string;
  readonly kind: SpanKind;
  readonly attributes: Attributes;
}

/** Samples every root span. */
const sampleRoots: Sampler = {
  shouldSample: (): SamplingResult => ({ decision: SamplingDecision.RECORD_AND_SAMPLED }),
  toString: () => 'SampleRoots',
};

/**
 * ParentBased(sample every root), recording each call: children follow their parent's sampled
 * flag, as with production sampling, and {@link calls} shows what samplers were given.
 */
export class AskedSampler implements Sampler {
  readonly calls: SamplerCall[] = [];
  private readonly inner = new ParentBasedSampler({ root: sampleRoots });

  shouldSample(
    context: Context,
    traceId: string,
    name: string,
    kind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    this.calls.push({ name, kind, attributes: { ...attributes } });
    return this.inner.shouldSample(context, traceId, name, kind, attributes, links);
  }

  /** The sorted attribute keys the sampler was given for each span named `name`. */
  keysAsked(name: string, kind?: SpanKind): string[][] {
    return this.calls
      .filter((call) => call.name === name && (kind === undefined || call.kind === kind))
      .map((call) => Object.keys(call.attributes).sort());
  }

  toString(): string {
    return 'AskedSampler';
  }
}

/** The trace of {@link unsampledParent} unless another is given. */
export const UNSAMPLED_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

/** A context whose (remote) parent was not sampled, as an upstream service at 1 % sends it. */
export function unsampledParent(traceId: string = UNSAMPLED_TRACE): Context {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId: '00f067aa0ba902b7',
    traceFlags: TraceFlags.NONE,
    isRemote: true,
  });
}

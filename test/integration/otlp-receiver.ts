/**
 * A loopback OTLP/HTTP receiver for tests: what a collector or Jaeger would be, on 127.0.0.1 and
 * a free port. It decodes every trace export request — `application/x-protobuf` (the SDK's
 * default, `http/protobuf`) with the OTLP trace schema below through protobufjs, `application/json`
 * (`http/json`) as the OTLP JSON mapping — into one flat span shape, and lets a test wait for
 * the spans it expects. Metrics and logs requests are answered and counted, not decoded.
 *
 *   const receiver = await startOtlpReceiver();
 *   env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.endpoint;
 *   const server = await receiver.waitFor('the SERVER span', (spans) => spans.find(…));
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

/**
 * The messages of opentelemetry-proto's `collector/trace/v1/trace_service.proto`,
 * `trace/v1/trace.proto`, `resource/v1/resource.proto` and `common/v1/common.proto` that an
 * export request is made of, with their field numbers (only the fields the tests read; protobuf
 * skips the others). @opentelemetry/otlp-transformer 0.2xx no longer ships generated protobuf
 * code — it writes requests with its own serializer and reads only responses — so the schema is
 * here, and `otlp-receiver.test.ts` checks it against that serializer's output.
 */
const OTLP_TRACE_SCHEMA = `
syntax = "proto3";
package opentelemetry.proto;

message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  repeated Event events = 11;
  repeated Link links = 13;
  Status status = 15;
  fixed32 flags = 16;
  message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
  message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; fixed32 flags = 6; }
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
`;

const ExportTraceServiceRequest = protobuf
  .parse(OTLP_TRACE_SCHEMA)
  .root.lookupType('opentelemetry.proto.ExportTraceServiceRequest');

/** An attribute value as OTLP carries it. */
export type OtlpValue =
  string | number | boolean | null | OtlpValue[] | { [key: string]: OtlpValue };

export type SpanKindName =
  'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';
const KINDS: readonly SpanKindName[] = [
  'unspecified',
  'internal',
  'server',
  'client',
  'producer',
  'consumer',
];

/** One span as it arrived, with the resource and scope it arrived under. */
export interface ReceivedSpan {
  /** The resource's `service.name`. */
  readonly service: string;
  readonly resource: Readonly<Record<string, OtlpValue>>;
  /** The instrumentation scope: `tracehop`, `@opentelemetry/instrumentation-http`, … */
  readonly scope: string;
  /** 32 lowercase hex characters. */
  readonly traceId: string;
  /** 16 lowercase hex characters. */
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: SpanKindName;
  readonly attributes: Readonly<Record<string, OtlpValue>>;
  readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
  readonly events: readonly string[];
  /** 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  /** How the exporter sent it. */
  readonly encoding: 'protobuf' | 'json';
}

// The shape both encodings decode to: protobufjs's toObject and the OTLP JSON mapping use the
// same lowerCamelCase names; they differ in how ids and 64-bit integers are written.
interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  attributes?: OtlpKeyValue[];
  events?: { name?: string }[];
  links?: { traceId?: string; spanId?: string }[];
  status?: { code?: number };
}
interface OtlpTraceRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[];
  }[];
}

function value(any: OtlpAnyValue | undefined): OtlpValue {
  if (any === undefined) return null;
  if (any.stringValue !== undefined) return any.stringValue;
  if (any.boolValue !== undefined) return any.boolValue;
  if (any.intValue !== undefined) return Number(any.intValue);
  if (any.doubleValue !== undefined) return any.doubleValue;
  if (any.arrayValue !== undefined) return (any.arrayValue.values ?? []).map(value);
  if (any.kvlistValue !== undefined) return attributes(any.kvlistValue.values);
  if (any.bytesValue !== undefined) return any.bytesValue;
  return null;
}

function attributes(list: OtlpKeyValue[] | undefined): Record<string, OtlpValue> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]));
}

/**
 * The spans of one export request. `body` is the request body after any content encoding;
 * `contentType` says which OTLP encoding it is in.
 */
export function decodeTraceExport(contentType: string, body: Uint8Array): ReceivedSpan[] {
  let request: OtlpTraceRequest;
  let id: (raw: string | undefined) => string | undefined;
  let encoding: ReceivedSpan['encoding'];
  if (contentType.startsWith('application/x-protobuf')) {
    const message = ExportTraceServiceRequest.decode(body);
    // bytes as base64 strings, 64-bit integers as decimal strings, defaults left out
    const decoded: unknown = ExportTraceServiceRequest.toObject(message, {
      bytes: String,
      longs: String,
    });
    request = decoded as OtlpTraceRequest;
    id = (raw) =>
      raw === undefined || raw === '' ? undefined : Buffer.from(raw, 'base64').toString('hex');
    encoding = 'protobuf';
  } else if (contentType.startsWith('application/json')) {
    request = JSON.parse(Buffer.from(body).toString('utf8')) as OtlpTraceRequest;
    id = (raw) => (raw === undefined || raw === '' ? undefined : raw.toLowerCase()); // hex in JSON
    encoding = 'json';
  } else {
    throw new Error(`not an OTLP/HTTP content type: ${JSON.stringify(contentType)}`);
  }
  return (request.resourceSpans ?? []).flatMap((resourceSpans) => {
    const resource = attributes(resourceSpans.resource?.attributes);
    const serviceName = resource['service.name'];
    return (resourceSpans.scopeSpans ?? []).flatMap((scopeSpans) =>
      (scopeSpans.spans ?? []).map((span): ReceivedSpan => ({
        service: typeof serviceName === 'string' ? serviceName : '',
        resource,
        scope: scopeSpans.scope?.name ?? '',
        traceId: id(span.traceId) ?? '',
        spanId: id(span.spanId) ?? '',
        parentSpanId: id(span.parentSpanId),
        name: span.name ?? '',
        kind: KINDS[span.kind ?? 0] ?? 'unspecified',
        attributes: attributes(span.attributes),
        links: (span.links ?? []).map((link) => ({
          traceId: id(link.traceId) ?? '',
          spanId: id(link.spanId) ?? '',
        })),
        events: (span.events ?? []).map((event) => event.name ?? ''),
        statusCode: span.status?.code ?? 0,
        encoding,
      })),
    );
  });
}

/** The spans as one line each, grouped by trace: for failure messages. */
export function describeSpans(spans: readonly ReceivedSpan[]): string {
  const byTrace = new Map<string, ReceivedSpan[]>();
  for (const span of spans) byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span]);
  return [...byTrace]
    .map(
      ([traceId, members]) =>
        `trace ${traceId}\n` +
        members
          .map(
            (s) =>
              `  ${s.service} | ${s.scope} | ${s.name} [${s.kind}] span ${s.spanId}` +
              (s.parentSpanId === undefined ? '' : ` parent ${s.parentSpanId}`),
          )
          .join('\n'),
    )
    .join('\n');
}

export interface OtlpReceiver {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT: exporters post to `/v1/traces` under it. */
  readonly endpoint: string;
  /** Every span received so far, in arrival order. */
  spans(): readonly ReceivedSpan[];
  /** Every request received so far: path and content type. */
  requests(): readonly { readonly path: string; readonly contentType: string }[];
  /**
   * Resolves with what `check` returns once it returns something other than `undefined` for the
   * spans received so far; rejects after `timeoutMs`, or as soon as a request cannot be decoded,
   * saying what was waited for and what did arrive.
   */
  waitFor<T>(
    what: string,
    check: (spans: readonly ReceivedSpan[]) => T | undefined,
    timeoutMs?: number,
  ): Promise<T>;
  close(): Promise<void>;
}

interface Waiter {
  check: (spans: readonly ReceivedSpan[]) => boolean;
  fail: (error: Error) => void;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: ReceivedSpan[] = [];
  const requests: { path: string; contentType: string }[] = [];
  const waiters = new Set<Waiter>();
  let broken: Error | undefined;

  const server = createServer((req, res) => {
    const path = req.url ?? '';
    const contentType = req.headers['content-type'] ?? '';
    requests.push({ path, contentType });
    readBody(req).then(
      (body) => {
        if (path === '/v1/traces') {
          try {
            received.push(...decodeTraceExport(contentType, body));
          } catch (error) {
            broken = new Error(`OTLP receiver: could not decode a ${contentType} trace export`, {
              cause: error,
            });
            res.writeHead(400).end();
            for (const waiter of waiters) waiter.fail(broken);
            return;
          }
          for (const waiter of waiters) waiter.check(received);
        }
        // An empty Export*ServiceResponse: full success, in the encoding of the request.
        const json = contentType.startsWith('application/json');
        res
          .writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' })
          .end(json ? '{}' : undefined);
      },
      () => res.writeHead(400).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans: () => received,
    requests: () => requests,
    waitFor<T>(
      what: string,
      check: (spans: readonly ReceivedSpan[]) => T | undefined,
      timeoutMs = 30_000,
    ): Promise<T> {
      if (broken !== undefined) return Promise.reject(broken);
      const now = check(received);
      if (now !== undefined) return Promise.resolve(now);
      return new Promise<T>((resolve, reject) => {
        const waiter: Waiter = {
          check: (spans) => {
            const result = check(spans);
            if (result === undefined) return false;
            done();
            resolve(result);
            return true;
          },
          fail: (error) => {
            done();
            reject(error);
          },
        };
        const timer = setTimeout(() => {
          waiter.fail(
            new Error(
              `OTLP receiver: no ${what} within ${timeoutMs} ms; received ${received.length} ` +
                `spans in ${requests.length} requests:\n${describeSpans(received)}`,
            ),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        waiters.add(waiter);
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

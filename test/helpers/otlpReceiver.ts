/**
 * A real OTLP/HTTP trace receiver on a free loopback port: the gateway's exporter POSTs to
 * `/v1/traces` exactly as it would to a collector, and the test reads the spans it decoded.
 * The exporter speaks OTLP's JSON encoding (part of the OTLP spec, ids as hex), so decoding is
 * `JSON.parse` and no protobuf schema or collector binary is needed to see what was exported.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  status: { code?: number; message?: string };
  attributes: Record<string, string | number | boolean>;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  serviceName: string | undefined;
  /** Linked spans (a dedup follower's link to the leader's fetch). */
  links: { traceId: string; spanId: string }[];
}

interface AnyValue { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number }
interface KeyValue { key: string; value: AnyValue }

function valueOf(v: AnyValue): string | number | boolean {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  return v.doubleValue ?? '';
}

export interface OtlpReceiver {
  /** Base URL (set OTEL_EXPORTER_OTLP_ENDPOINT to it). */
  url: string;
  spans: ReceivedSpan[];
  /** Export requests answered, with their content types. */
  requests: { contentType: string | undefined }[];
  stop(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: { contentType: string | undefined }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      requests.push({ contentType: req.headers['content-type'] });
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: { resource?: { attributes?: KeyValue[] }; scopeSpans: { spans: Record<string, any>[] }[] }[];
      };
      for (const rs of body.resourceSpans) {
        const serviceName = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId || undefined,
              name: s.name,
              kind: s.kind,
              status: s.status ?? {},
              attributes: Object.fromEntries(((s.attributes ?? []) as KeyValue[]).map((a) => [a.key, valueOf(a.value)])),
              startTimeUnixNano: String(s.startTimeUnixNano),
              endTimeUnixNano: String(s.endTimeUnixNano),
              serviceName,
              links: ((s.links ?? []) as { traceId: string; spanId: string }[]).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

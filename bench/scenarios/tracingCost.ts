/**
 * `npx tsx bench/scenarios/tracingCost.ts` — issue 19: what tracing adds per request, measured
 * where it runs (no HTTP, no subgraphs), so a busy shared machine blurs it least. Per request:
 * the request's state, the request span, parse / validate / plan spans, four subgraph fetch
 * spans with their attributes, the finish; tracing off (no `state.trace`), on at 0 %, 10 % (with
 * degraded and failed requests kept, and without) and 100 %, exporting over OTLP/HTTP to a receiver in this process. CPU µs per request from
 * `process.cpuUsage()` (exporter included: it runs in this process), alternating A B C per round.
 *
 * Flags: --requests=N (default 100000) --rounds=N (default 3).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../src/logging/index.ts';
import { createRequestState } from '../../src/request/state.ts';
import { createTracing, type Tracing } from '../../src/tracing/index.ts';
import { numberArg } from './common.ts';

const REQUESTS = numberArg('requests', 100_000);
const ROUNDS = numberArg('rounds', 3);
const SUBGRAPHS = ['product', 'pricing', 'inventory', 'review'];

async function main() {
  let spans = 0;
  const receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      spans += (body.match(/"spanId"/g) ?? []).length;
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`;
  const logger = createLogger({ level: 'silent' });
  const headers = { 'content-type': 'application/json' };

  async function phase(tracing: Tracing | undefined): Promise<number> {
    const before = process.cpuUsage();
    for (let i = 0; i < REQUESTS; i++) {
      const { state } = createRequestState(headers, logger);
      tracing?.startRequest(state, headers, 'POST', '/graphql');
      const t = state.trace;
      if (t) {
        t.child('graphql.parse').end();
        t.child('graphql.validate').end();
        t.planning = t.child('graphql.plan');
        t.planning.end();
        for (const name of SUBGRAPHS) {
          const span = t.child('subgraph fetch', { 'portico.subgraph': name, 'portico.breaker.key': `${name}:Product`, 'portico.breaker.state': 'closed' });
          span.set('portico.dedup', 'leader');
          void span.traceparent;
          span.end();
        }
      }
      tracing?.onFinish({ state, method: 'POST', path: '/graphql', status: 200, ms: 1 });
      // Let the batcher's timer and the exporter run, as they would between requests.
      if (i % 1_000 === 999) await new Promise((r) => setImmediate(r));
    }
    await tracing?.flush();
    const used = process.cpuUsage(before);
    return (used.user + used.system) / REQUESTS;
  }

  const variants: [string, number | undefined, boolean][] = [
    ['tracing off', undefined, true],
    ['tracing on, 0 % sampled', 0, true],
    ['tracing on, 10 % sampled', 0.1, true],
    ['tracing on, 10 % sampled, failures not kept', 0.1, false],
    ['tracing on, 100 % sampled', 1, true],
  ];
  const results = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, ratio, keepFailed] of variants) {
      const tracing = ratio === undefined ? undefined : createTracing({ sampleRatio: ratio, keepFailed, endpoint, headers: {}, serviceName: 'bench' }, { logger });
      const us = await phase(tracing);
      await tracing?.shutdown();
      results.set(name, [...(results.get(name) ?? []), us]);
      process.stderr.write(`[round ${round + 1}] ${name}: ${us.toFixed(2)} µs CPU / request\n`);
    }
  }
  receiver.close();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const off = mean(results.get('tracing off')!);
  const lines = [
    `Tracing cost per request — ${new Date().toISOString()} — ${REQUESTS} requests × ${ROUNDS} rounds per variant (variants in turn, repeated); OTLP receiver got ${spans} spans`,
    '',
    '| variant | CPU µs / request | added µs / request |',
    '|---|---:|---:|',
    ...variants.map(([name]) => {
      const m = mean(results.get(name)!);
      return `| ${name} | ${m.toFixed(2)} | ${(m - off).toFixed(2)} |`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});

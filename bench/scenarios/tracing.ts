/**
 * `npm run bench:tracing` — issue 19, tracing overhead. In one run, alternating A B A B:
 * product-page throughput and p50/p99 with tracing off, and with tracing on at 10 % sampling
 * (PORTICO_OTEL_SAMPLE_RATIO=0.1, degraded/failed kept — none here) exporting over OTLP/HTTP to
 * a local receiver in this process (it reads and drops the batches, counting spans).
 * Goal: ≤ 5 % throughput cost.
 *
 * Flags: --warmup=S (default 5) --duration=S (default 10) --rounds=N (default 2).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stopAllProcesses } from '../../devkit/processes.ts';
import { processCpuSeconds } from '../lib/cpu.ts';
import { runLoad, type LoadStats } from '../lib/load.ts';
import { averaged, numberArg, PRODUCT_PAGE_BODY as PAGE, runScenario, setUp, report } from './common.ts';

const WARMUP_S = numberArg('warmup', 5);
const DURATION_S = numberArg('duration', 10);
const ROUNDS = numberArg('rounds', 2);

type Variant = 'tracing off' | 'tracing on, 10 % sampled';
const VARIANTS: Variant[] = ['tracing off', 'tracing on, 10 % sampled'];

async function main() {
  let spans = 0;
  let exports = 0;
  const receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      exports++;
      spans += (body.match(/"spanId"/g) ?? []).length;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const otlp = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  const bench = await setUp('trace');
  const { cores, gwCpu } = bench;
  const results = new Map<Variant, LoadStats[]>();
  /** Gateway CPU per request, ms, per phase: the figure a busy shared machine distorts least. */
  const cpuPerRequest = new Map<Variant, number[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const v of VARIANTS) {
      const on = v !== 'tracing off';
      const { child: gw, url } = await bench.startPortico(`portico-${round}-${VARIANTS.indexOf(v)}`, {
        PORTICO_OTEL_ENABLED: on ? 'true' : 'false',
        PORTICO_OTEL_SAMPLE_RATIO: '0.1',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
      });
      process.stderr.write(`[round ${round}] ${v}: warm-up ${WARMUP_S} s, measure ${DURATION_S} s\n`);
      await runLoad({ url, connections: 50, durationS: WARMUP_S, headers: { 'content-type': 'application/json' }, fixedBody: PAGE });
      const cpu0 = processCpuSeconds(gw.pid);
      const stats = await runLoad({ url, connections: 50, durationS: DURATION_S, headers: { 'content-type': 'application/json' }, fixedBody: PAGE });
      const cpuMs = ((processCpuSeconds(gw.pid) - cpu0) * 1_000) / Math.max(1, stats.responses);
      results.set(v, [...(results.get(v) ?? []), stats]);
      cpuPerRequest.set(v, [...(cpuPerRequest.get(v) ?? []), cpuMs]);
      await gw.stop();
    }
  }
  await stopAllProcesses();
  receiver.close();

  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rows = VARIANTS.map((v) => ({ v, ...averaged(results.get(v)!), cpu: mean(cpuPerRequest.get(v)!) }));
  const off = rows[0]!;
  const out = [
    `Tracing benchmark — ${new Date().toISOString()} — ${cores} cores, gateway pinned to CPU ${gwCpu ?? '-'}, 50 connections, ${WARMUP_S} s warm-up + ${DURATION_S} s per phase, ${ROUNDS} rounds (A B, repeated), identical product pages; OTLP receiver got ${spans} spans in ${exports} exports`,
    '',
    '| variant | req/s | vs tracing off | gateway CPU ms / request | vs tracing off | p50 ms | p99 ms | non-2xx | socket errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.v} | ${r.rps.toFixed(0)} | ${((r.rps / off.rps - 1) * 100).toFixed(1)} % | ${r.cpu.toFixed(3)} | ${((r.cpu / off.cpu - 1) * 100).toFixed(1)} % | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.non2xx} | ${r.socket} |`),
  ].join('\n');
  report('tracing', out);
}

runScenario(main);

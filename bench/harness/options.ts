/** `npm run bench` command-line options: defaults with their reasons, parsed and checked once. */
import { parseArgs } from 'node:util';
import { EXTRA_GATEWAYS, GATEWAY_ORDER, type GatewayName } from '../gateways/index.ts';
import { WORKLOAD_ORDER, type WorkloadId } from '../workloads.ts';

/** Connections of the load generator: the public benchmark's 50 virtual users. */
const DEFAULT_CONNECTIONS = 50;
/** Warm-up before the first measurement in a gateway process, s: 5 s left JIT and caches cold. */
const DEFAULT_WARMUP_S = 20;
/** Warm-up before each later workload in the same (already warm) process, s. */
const DEFAULT_REWARM_S = 5;
const DEFAULT_MEASURE_S = 20;
const DEFAULT_ROUNDS = 2;

export interface Options {
  quick: boolean;
  gateways: GatewayName[];
  workloads: WorkloadId[];
  rounds: number;
  latencyMs: number;
  warmupS: number;
  rewarmS: number;
  measureS: number;
  connections: number;
  soak: number | undefined;
}

function parseList<T extends string>(raw: string | undefined, allowed: readonly T[], what: string): T[] | undefined {
  if (raw === undefined) return undefined;
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = items.filter((i) => !allowed.includes(i as T));
  if (bad.length > 0 || items.length === 0) throw new Error(`--${what}: unknown ${bad.join(', ') || '(empty)'}; allowed: ${allowed.join(', ')}`);
  return items as T[];
}

function parseNumber(raw: string | undefined, fallback: number, what: string, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${what} must be a number >= ${min}, got "${raw}"`);
  return n;
}

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      workload: { type: 'string' },
      rounds: { type: 'string' },
      latency: { type: 'string' },
      warmup: { type: 'string' },
      rewarm: { type: 'string' },
      measure: { type: 'string' },
      connections: { type: 'string' },
      soak: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const workloads = parseList(values.workload, WORKLOAD_ORDER, 'workload') ?? [...WORKLOAD_ORDER];
  return {
    quick,
    gateways: parseList(values.only, [...GATEWAY_ORDER, ...EXTRA_GATEWAYS], 'only') ?? [...GATEWAY_ORDER],
    // Always run in the canonical order (a before c: c reuses a's warm process).
    workloads: WORKLOAD_ORDER.filter((w) => workloads.includes(w)),
    rounds: Math.floor(parseNumber(values.rounds, quick ? 1 : DEFAULT_ROUNDS, 'rounds', 1)),
    latencyMs: Math.floor(parseNumber(values.latency, 0, 'latency', 0)),
    warmupS: parseNumber(values.warmup, quick ? 3 : DEFAULT_WARMUP_S, 'warmup', 0),
    rewarmS: parseNumber(values.rewarm, quick ? 2 : DEFAULT_REWARM_S, 'rewarm', 0),
    measureS: parseNumber(values.measure, quick ? 5 : DEFAULT_MEASURE_S, 'measure', 1),
    connections: Math.floor(parseNumber(values.connections, DEFAULT_CONNECTIONS, 'connections', 1)),
    soak: values.soak === undefined ? undefined : Math.floor(parseNumber(values.soak, 0, 'soak', 1)),
  };
}

/**
 * CPU time accounting, so results can be read on a shared, noisy machine: a gateway that got
 * only half a core shows it, and requests per CPU-second of the gateway stays comparable when
 * neighbours steal time.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

const CLOCK_TICKS_PER_S = (() => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(out.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
})();

/** User + system CPU seconds of a process (all its threads), or NaN when it cannot be read. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the full line, i.e. 11 and 12 after the name.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}

/**
 * Seconds the process's main thread spent runnable but waiting for a CPU (second field of
 * /proc/<pid>/schedstat), or NaN. High values mean neighbours stole the core: the gateway wanted
 * to run and could not. The main thread is the one that matters for a Node server.
 */
export function runQueueWaitSeconds(pid: number): number {
  try {
    const [, waitNs] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/);
    return Number(waitNs) / 1e9;
  } catch {
    return Number.NaN;
  }
}

/** CPU use of the gateway, the subgraphs and the load generator over one phase. */
export interface CpuUse {
  /** Percent of one core over the phase's wall time. */
  readonly gatewayPct: number;
  /** Percent of the phase the gateway's main thread was runnable but not running (stolen time). */
  readonly gatewayStarvedPct: number;
  readonly subgraphsPct: number;
  readonly loadGeneratorPct: number;
  /** Gateway CPU seconds spent in the phase. */
  readonly gatewayCpuS: number;
  /** 1-minute load average of the machine at the end of the phase (2 cores: 2.0 = full). */
  readonly loadAverage: number;
}

/** Starts a CPU meter; call the returned function at the end of the phase. */
export function startCpuMeter(gatewayPid: number, subgraphPids: readonly number[]): () => CpuUse {
  const t0 = process.hrtime.bigint();
  const gw0 = processCpuSeconds(gatewayPid);
  const wait0 = runQueueWaitSeconds(gatewayPid);
  const sub0 = subgraphPids.map(processCpuSeconds);
  const self0 = process.cpuUsage();
  return () => {
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    const gatewayCpuS = processCpuSeconds(gatewayPid) - gw0;
    const subS = subgraphPids.reduce((n, pid, i) => n + processCpuSeconds(pid) - (sub0[i] ?? 0), 0);
    const self = process.cpuUsage(self0);
    const pct = (s: number) => (100 * s) / wallS;
    return {
      gatewayPct: pct(gatewayCpuS),
      gatewayStarvedPct: pct(runQueueWaitSeconds(gatewayPid) - wait0),
      subgraphsPct: pct(subS),
      loadGeneratorPct: pct((self.user + self.system) / 1e6),
      gatewayCpuS,
      loadAverage: loadavg()[0] ?? Number.NaN,
    };
  };
}

/** What one `npm run bench` run shares between its steps: options, ports, running processes, notes. */
import type { ManagedProcess } from '../../devkit/processes.ts';
import type { GatewayName, GatewaySpec } from '../gateways/index.ts';
import type { SubgraphsReady } from '../lib/protocol.ts';
import type { SubgraphSet } from '../workloads.ts';
import type { GoldenBook } from './goldenCheck.ts';
import type { Options } from './options.ts';

export interface Ports {
  readonly gateway: number;
  readonly memoryProbe: number;
  /** For a gateway's own ops/metrics listener, so it never collides with a developer's. */
  readonly ops: number;
}

export interface RunningSet {
  readonly set: SubgraphSet;
  readonly child: ManagedProcess;
  readonly ready: SubgraphsReady;
  /** The committed supergraph rewritten to this run's subgraph URLs. */
  readonly supergraphPath: string;
}

export interface RunningGateway {
  readonly spec: GatewaySpec;
  readonly child: ManagedProcess;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Connections refused by the loopback guard so far. */
  egressBlocked(): number;
}

export interface RunContext {
  readonly opts: Options;
  readonly env: NodeJS.ProcessEnv;
  readonly workDir: string;
  readonly gatewayCpu: number | undefined;
  readonly helperCpu: number | undefined;
  readonly ports: Ports;
  readonly sets: Map<SubgraphSet, RunningSet>;
  /** Notes for the results header, added to as the run goes. */
  readonly notes: string[];
  /** Request headers per gateway (a verified token for Portico with auth on), minted once. */
  readonly headers: Map<GatewayName, Record<string, string>>;
  readonly golden: GoldenBook;
  /** True once the harness stops its children: an exit after that is expected. */
  stopping: boolean;
}

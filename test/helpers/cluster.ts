import { join } from 'node:path';
import { startCluster, type Cluster, type ClusterOptions } from '../../scripts/cluster/index.ts';
import { MOCK_NAMES, type MockName } from '../../subgraphs-mock/subgraph.ts';
import { freePorts } from '../../devkit/ports.ts';

/**
 * The `npm run cluster` topology on free loopback ports, its logs under `workDir/logs`: what the
 * cluster suites (HA, chaos) start. `extra` adds gateway settings, a warm-up hook, the LB's log level.
 */
export async function startTestCluster(workDir: string, extra: Pick<ClusterOptions, 'gatewayEnv' | 'warmUp' | 'lbLogLevel'>): Promise<Cluster> {
  const [lb, stats, redis, idp, g1, g2, g3, o1, o2, o3, ...mockPorts] = await freePorts(10 + MOCK_NAMES.length);
  return startCluster({
    gatewayPorts: [g1!, g2!, g3!],
    opsPorts: [o1!, o2!, o3!],
    lbPort: lb!,
    lbStatsPort: stats!,
    redisPort: redis!,
    idpPort: idp!,
    mockPorts: Object.fromEntries(MOCK_NAMES.map((n, i) => [n, mockPorts[i]!])) as Record<MockName, number>,
    logDir: join(workDir, 'logs'),
    ...extra,
  });
}

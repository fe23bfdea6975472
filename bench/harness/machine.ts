/** What the results header says about the machine and the versions under test. */
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../devkit/paths.ts';

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export type MachineInfo = ReturnType<typeof machineInfo>;

export function machineInfo(cores: number) {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    kernel: release(),
    node: process.version,
    packages: Object.fromEntries(
      ['@apollo/gateway', '@apollo/server', '@graphql-hive/gateway', '@graphql-hive/gateway-runtime', 'autocannon', 'graphql'].map((p) => [
        p,
        packageVersion(p),
      ]),
    ),
  };
}

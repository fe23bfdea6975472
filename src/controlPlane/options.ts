import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { CanaryPolicy } from './canary.ts';
import type { ControlPlaneOptions } from './index.ts';
import { publicKeyFromPem } from './signature.ts';

/** The parts of the validated config the control plane reads (`Config` from src/config, structurally). */
export interface ControlPlaneConfig {
  readonly supergraph: { readonly path: string; readonly watch: boolean };
  readonly controlPlane: {
    readonly fileSource: boolean;
    readonly urls: readonly string[];
    readonly pollMs: number;
    readonly fetchTimeoutMs: number;
    readonly maxBytes: number;
    readonly publicKeyFile: string | undefined;
    readonly push: boolean;
    readonly cacheDir: string | undefined;
    readonly canary: CanaryPolicy;
  };
}

/** The control plane's options from the validated config (the key file was checked by loadConfig). */
export function controlPlaneOptions(config: ControlPlaneConfig): ControlPlaneOptions {
  const cp = config.controlPlane;
  return {
    file: cp.fileSource ? { path: config.supergraph.path, watch: config.supergraph.watch } : undefined,
    http:
      cp.urls.length > 0
        ? {
            urls: cp.urls,
            pollMs: cp.pollMs,
            timeoutMs: cp.fetchTimeoutMs,
            maxBytes: cp.maxBytes,
            publicKey: cp.publicKeyFile ? publicKeyFromPem(readFileSync(cp.publicKeyFile, 'utf8')) : undefined,
          }
        : undefined,
    push: cp.push,
    cacheDir: cp.cacheDir,
    canary: cp.canary,
    instanceId: `${hostname()}-${process.pid}`,
  };
}

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { CanaryPolicy } from './canary.ts';
import type { ControlPlaneOptions } from './index.ts';
import { publicKeyFromPem } from './signature.ts';

/** `Config['controlPlane']`: declared here so config/types.ts uses it (config may use a concern's types). */
export interface ControlPlaneSettings {
  /** Whether the file (`supergraph.path`) is a source: always without URLs or push, else only when PORTICO_SUPERGRAPH_PATH is set. */
  readonly fileSource: boolean;
  /** Registry first, mirrors after; empty: no HTTP source. */
  readonly urls: readonly string[];
  readonly pollMs: number;
  readonly fetchTimeoutMs: number;
  readonly maxBytes: number;
  /** PEM (SPKI) public key; when set every fetched file needs a valid `<url>.sig`. */
  readonly publicKeyFile: string | undefined;
  /** Pushed supergraphs through Redis (needs PORTICO_REDIS_URL). */
  readonly push: boolean;
  readonly cacheDir: string | undefined;
  /** `percent` 0: off (new versions swap in at once). Default 5 with URLs or push, 0 for the file alone. */
  readonly canary: CanaryPolicy;
}

/** The parts of the validated config the control plane reads (`Config`, structurally). */
export interface ControlPlaneConfig {
  readonly supergraph: { readonly path: string; readonly watch: boolean };
  readonly controlPlane: ControlPlaneSettings;
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

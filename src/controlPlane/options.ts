import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Config } from '../config/index.ts';
import type { ControlPlaneOptions } from './index.ts';
import { publicKeyFromPem } from './signature.ts';

/** The control plane's options from the validated config (the key file was checked by loadConfig). */
export function controlPlaneOptions(config: Config): ControlPlaneOptions {
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

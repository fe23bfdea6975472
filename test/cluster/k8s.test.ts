/**
 * deploy/k8s, offline (no cluster, no schema download): every YAML document parses, and the
 * fields that decide availability are checked — probes, the drain arithmetic, where pods land,
 * what the PDB / HPA / Service select, where Redis and the supergraph come from.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { prepareForGateway } from '../../src/supergraph/prepare.ts';

const DIR = 'deploy/k8s';
type Doc = Record<string, any>;

const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
const docs: { file: string; doc: Doc }[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return { file, doc: d.toJS() as Doc };
  }),
);
const only = (kind: string): Doc => {
  const found = docs.filter((d) => d.doc.kind === kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0]!.doc;
};
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

const API_VERSIONS: Record<string, string> = {
  Deployment: 'apps/v1',
  Service: 'v1',
  ConfigMap: 'v1',
  PodDisruptionBudget: 'policy/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  Kustomization: 'kustomize.config.k8s.io/v1beta1',
};

const deployment = only('Deployment');
const pod = deployment.spec.template;
const podLabels: Record<string, string> = pod.metadata.labels;
const container = pod.spec.containers[0];
const env = (name: string) => (container.env as Doc[]).find((e) => e.name === name);
const portNamed = (name: string | number) => (typeof name === 'number' ? name : (container.ports as Doc[]).find((p) => p.name === name)?.containerPort);

describe('deploy/k8s', () => {
  it('every document has a known kind with its stable apiVersion and a name; kustomize lists every file', () => {
    expect(docs.length).toBeGreaterThanOrEqual(6);
    for (const { file, doc } of docs) {
      expect(API_VERSIONS[doc.kind], `${file}: kind ${doc.kind}`).toBeDefined();
      expect(doc.apiVersion, `${file}: ${doc.kind}`).toBe(API_VERSIONS[doc.kind]);
      if (doc.kind !== 'Kustomization') expect(doc.metadata?.name, file).toMatch(/^[a-z0-9-]+$/);
    }
    const listed = [...(only('Kustomization').resources as string[])].sort();
    expect(listed).toEqual(files.filter((f) => f !== 'kustomization.yaml').sort());
  });

  it('runs three replicas whose selector matches their labels, never below three during a rollout', () => {
    expect(deployment.spec.replicas).toBe(3);
    expect(matches(deployment.spec.selector.matchLabels, podLabels)).toBe(true);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('probes readiness on /health/ready and liveness on /health/live, on the gateway port', () => {
    const { readinessProbe, livenessProbe } = container;
    expect(readinessProbe.httpGet.path).toBe('/health/ready');
    expect(livenessProbe.httpGet.path).toBe('/health/live');
    expect(portNamed(readinessProbe.httpGet.port)).toBe(Number(env('PORT')?.value));
    expect(portNamed(livenessProbe.httpGet.port)).toBe(4000);
    // Liveness must be slower to give up than readiness: a busy pod is taken out, not killed.
    expect(livenessProbe.periodSeconds * livenessProbe.failureThreshold).toBeGreaterThan(readinessProbe.periodSeconds * readinessProbe.failureThreshold);
  });

  it('drains within the grace period: preStop sleep + drain delay + shutdown grace < terminationGracePeriodSeconds', () => {
    const command: string[] = container.lifecycle.preStop.exec.command;
    expect(command[0]).toBe('sleep');
    const preStopS = Number(command[1]);
    const drainS = Number(env('PORTICO_DRAIN_DELAY_MS')?.value) / 1_000;
    const graceS = Number(env('PORTICO_SHUTDOWN_GRACE_MS')?.value) / 1_000;
    // Endpoint removal propagates asynchronously: a few seconds of serving after deletion.
    expect(preStopS).toBeGreaterThanOrEqual(3);
    expect(drainS).toBeGreaterThan(0);
    expect(graceS).toBeGreaterThan(5); // above the 5 s request deadline
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(preStopS + drainS + graceS);
  });

  it('spreads pods across zones and hosts', () => {
    const spread: Doc[] = pod.spec.topologySpreadConstraints;
    const keys = spread.map((c) => c.topologyKey);
    expect(keys).toEqual(expect.arrayContaining(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']));
    for (const c of spread) {
      expect(c.maxSkew).toBe(1);
      expect(matches(c.labelSelector.matchLabels, podLabels)).toBe(true);
    }
  });

  it('runs as non-root on a read-only root filesystem, with requests and limits', () => {
    expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    for (const r of ['requests', 'limits']) {
      expect(container.resources[r].cpu, r).toBeDefined();
      expect(container.resources[r].memory, r).toBeDefined();
    }
  });

  it('exposes only the gateway port in the Service; the ops port stays per pod', () => {
    const service = only('Service');
    expect(matches(service.spec.selector, podLabels)).toBe(true);
    expect(service.spec.ports).toHaveLength(1);
    expect(service.spec.ports[0].port).toBe(4000);
    expect(portNamed(service.spec.ports[0].targetPort)).toBe(4000);
    expect(portNamed('ops')).toBe(8088);
    expect(env('PORTICO_OPS_PORT')?.value).toBe('8088');
  });

  it('has a PDB that selects the pods and keeps at least two of three', () => {
    const pdb = only('PodDisruptionBudget');
    expect(matches(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
    const available = pdb.spec.minAvailable ?? deployment.spec.replicas - pdb.spec.maxUnavailable;
    expect(available).toBeGreaterThanOrEqual(2);
    expect(available).toBeLessThan(deployment.spec.replicas);
  });

  it('has an autoscaling/v2 HPA on CPU that targets the Deployment and never goes below its replicas', () => {
    const hpa = only('HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(deployment.spec.replicas);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics).toContainEqual(expect.objectContaining({ type: 'Resource', resource: expect.objectContaining({ name: 'cpu' }) }));
    expect(Number(env('PORTICO_RATE_LIMIT_INSTANCES')?.value)).toBe(hpa.spec.minReplicas);
  });

  it('takes the Redis URL from a Secret and ships no Redis of its own', () => {
    const redis = env('PORTICO_REDIS_URL');
    expect(redis?.value).toBeUndefined();
    expect(redis?.valueFrom?.secretKeyRef).toMatchObject({ name: expect.any(String), key: expect.any(String) });
    expect(docs.some(({ doc }) => doc.kind === 'Secret' || JSON.stringify(doc).includes('image":"redis'))).toBe(false);
  });

  it('mounts the supergraph ConfigMap as a folder (hot reload), and its SDL is one the gateway loads', async () => {
    const path: string = env('PORTICO_SUPERGRAPH_PATH')?.value;
    const mount = (container.volumeMounts as Doc[]).find((m) => m.mountPath === dirname(path));
    expect(mount, `a volume mounted at ${dirname(path)}`).toBeDefined();
    // A subPath mount is a copy that never sees ConfigMap updates.
    expect(mount!.subPath).toBeUndefined();
    const volume = (pod.spec.volumes as Doc[]).find((v) => v.name === mount!.name);
    const configMap = only('ConfigMap');
    expect(volume?.configMap?.name).toBe(configMap.metadata.name);
    const sdl: string = configMap.data[basename(path)];
    expect(sdl).toContain('@join__graph');
    const gateway = new ApolloGateway({ supergraphSdl: prepareForGateway(sdl) });
    try {
      await expect(gateway.load()).resolves.toBeDefined();
    } finally {
      await gateway.stop();
    }
  });
});

// deploy/kubernetes against the Kubernetes schemas (kubernetes-models: the API's OpenAPI schemas,
// compiled for ajv) and KEDA's CRD schemas (@kubernetes-models/keda), and the rules an operator relies
// on: probes and resources everywhere, TLS certificates from Secrets, and network rules that keep the
// subgraphs and the data stores away from everything else.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { SUBGRAPHS } from '@listbackup/lib/subgraphs';

const DIR = 'deploy/kubernetes';
type Manifest = Record<string, any>;

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

function load(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(join(DIR, file), 'utf8'))
    .map((document) => {
      if (document.errors.length) throw new Error(`${file}: ${document.errors[0].message}`);
      return document.toJS() as Manifest | null;
    })
    .filter((manifest): manifest is Manifest => manifest !== null);
}

/** The manifest's schema errors, or undefined when it is valid. */
function schemaErrors(manifest: Manifest): string | undefined {
  const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!Model) return `no schema for ${manifest.apiVersion} ${manifest.kind}`;
  try {
    new Model(manifest).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const files = readdirSync(DIR).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
const manifests = files.flatMap((file) => load(file).map((manifest) => ({ file, manifest })));
const byKind = (kind: string) => manifests.filter(({ manifest }) => manifest.kind === kind).map(({ manifest }) => manifest);
const deployments = byKind('Deployment');
const deployment = (name: string) => deployments.find((d) => d.metadata.name === name)!;
const policies = byKind('NetworkPolicy');
const podLabels = (name: string): Record<string, string> => deployment(name).spec.template.metadata.labels;

/** Whether the namespace's policies let pods of `from` (a deployment, or labels) open `port` on pods labelled `to`. */
function allowed(from: Record<string, string>, to: Record<string, string>, port: number): boolean {
  const matches = (selector: { matchLabels?: Record<string, string> } | undefined, labels: Record<string, string>) =>
    Object.entries(selector?.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const selecting = policies.filter((policy) => policy.spec.policyTypes.includes('Ingress') && matches(policy.spec.podSelector, to));
  expect(selecting.length, `no policy selects ${JSON.stringify(to)}: it would be open to all`).toBeGreaterThan(0);
  return selecting.some((policy) =>
    (policy.spec.ingress ?? []).some(
      (rule: Manifest) =>
        (!rule.ports || rule.ports.some((p: Manifest) => p.port === port)) &&
        (!rule.from || rule.from.some((peer: Manifest) => peer.podSelector && !peer.namespaceSelector && matches(peer.podSelector, from))),
    ),
  );
}

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  it('are valid against the Kubernetes and KEDA schemas', () => {
    expect(manifests.length).toBeGreaterThan(20);
    const invalid = manifests.map(({ file, manifest }) => ({ at: `${file}: ${manifest.kind} ${manifest.metadata?.name}`, error: schemaErrors(manifest) })).filter(({ error }) => error);
    expect(invalid).toEqual([]);
  });

  it('the validator refuses a manifest the API server would refuse', () => {
    const broken = structuredClone(deployment('accounts'));
    broken.spec.replicas = 'two';
    delete broken.spec.template.spec.containers[0].name;
    expect(schemaErrors(broken)).toMatch(/spec\/replicas must be integer/);
    expect(schemaErrors(broken)).toMatch(/containers\/0 must have required property '?name/);
    const policy = structuredClone(policies[0]);
    policy.spec.policyTypes = 'Ingress';
    expect(schemaErrors(policy)).toMatch(/policyTypes must be array/);
  });

  it('kustomization.yaml names every manifest but the Secrets of placeholders', () => {
    const listed = (load('kustomization.yaml')[0].resources as string[]).sort();
    expect(listed).toEqual(files.filter((file) => file !== 'secrets.yaml').sort());
  });

  it('runs the gateway, every subgraph and the workers, each with probes, resources and its TLS certificate from a Secret', () => {
    const names = deployments.map((d) => d.metadata.name).sort();
    expect(names).toEqual(['gateway', 'worker', ...SUBGRAPHS.map((s) => s.name)].sort());
    const secrets = new Set(byKind('Secret').map((s) => s.metadata.name));
    const config = byKind('ConfigMap')[0].data as Record<string, string>;
    for (const d of deployments) {
      const [container] = d.spec.template.spec.containers;
      expect(container.livenessProbe?.httpGet?.path, d.metadata.name).toBe('/healthz');
      expect(container.readinessProbe?.httpGet, d.metadata.name).toBeDefined();
      expect(container.resources.requests.cpu && container.resources.requests.memory && container.resources.limits.memory, d.metadata.name).toBeTruthy();
      const tls = d.spec.template.spec.volumes.find((v: Manifest) => v.name === 'tls');
      expect(secrets.has(tls.secret.secretName), `${d.metadata.name}: ${tls.secret.secretName}`).toBe(true);
      expect(tls.secret.items.map((i: Manifest) => i.path).sort()).toEqual(['ca.crt', 'service.crt', 'service.key']);
      for (const env of container.env.filter((e: Manifest) => e.valueFrom?.secretKeyRef)) {
        const secret = byKind('Secret').find((s) => s.metadata.name === env.valueFrom.secretKeyRef.name);
        expect(Object.keys(secret?.stringData ?? {}), `${d.metadata.name}: ${env.name}`).toContain(env.valueFrom.secretKeyRef.key);
      }
    }
    // Servers with a port serve HTTPS, and every service URL, NATS and the store are TLS.
    for (const d of deployments) {
      const [container] = d.spec.template.spec.containers;
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'].filter((probe) => container[probe])) expect(container[probe].httpGet.scheme, `${d.metadata.name} ${probe}`).toBe('HTTPS');
    }
    for (const [key, value] of Object.entries(config).filter(([key]) => key.endsWith('_URL') && key !== 'PUBLIC_URL')) expect(value, key).toMatch(/^(https|tls):\/\//);
    expect(config.STORAGE_S3_ENDPOINT).toMatch(/^https:\/\//);
    expect(config.TLS_CA_FILE && config.TLS_CERT_FILE && config.TLS_KEY_FILE).toBeTruthy();
    const keys = byKind('Secret').find((s) => s.metadata.name === 'listbackup-keys')!.stringData;
    expect(new URL(keys.DATABASE_URL).searchParams.get('sslmode')).toBe('verify-full');
    expect(deployment('gateway').spec.replicas).toBeGreaterThanOrEqual(2);
  });

  it('scales the workers with KEDA on the ready jobs in the queue', () => {
    const [scaled] = byKind('ScaledObject');
    expect(scaled.spec.scaleTargetRef.name).toBe('worker');
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(scaled.spec.maxReplicaCount).toBeGreaterThan(scaled.spec.minReplicaCount);
    const [trigger] = scaled.spec.triggers;
    expect(trigger.type).toBe('postgresql');
    expect(trigger.metadata.query).toMatch(/from pgboss\.job where state in \('created', 'retry'\)/i);
    expect(byKind('TriggerAuthentication').map((t) => t.metadata.name)).toContain(trigger.authenticationRef.name);
  });

  it('lets only the gateway and their callers reach the subgraphs, and only the data owners reach PostgreSQL, NATS and the store', () => {
    expect(policies.some((p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress)).toBe(true);
    const stranger = { 'app.kubernetes.io/name': 'something-else' };
    for (const { name, port } of SUBGRAPHS) {
      expect(allowed(podLabels('gateway'), podLabels(name), port), `gateway → ${name}`).toBe(true);
      expect(allowed(stranger, podLabels(name), port), `stranger → ${name}`).toBe(false);
    }
    expect(allowed(podLabels('worker'), podLabels('sources'), 4003)).toBe(true);
    expect(allowed(podLabels('worker'), podLabels('billing'), 4005)).toBe(false);
    expect(allowed(podLabels('billing'), podLabels('platforms'), 4002)).toBe(false);
    expect(allowed(stranger, podLabels('gateway'), 4000)).toBe(true);

    const store = { 'app.kubernetes.io/name': 'minio' };
    const postgres = { 'app.kubernetes.io/name': 'postgres' };
    const nats = { 'app.kubernetes.io/name': 'nats' };
    for (const name of ['jobs', 'worker']) expect(allowed(podLabels(name), store, 9000), `${name} → store`).toBe(true);
    for (const name of ['gateway', 'accounts', 'platforms', 'sources', 'billing']) expect(allowed(podLabels(name), store, 9000), `${name} → store`).toBe(false);
    for (const name of ['accounts', 'platforms', 'sources', 'jobs', 'billing', 'worker']) {
      expect(allowed(podLabels(name), postgres, 5432), `${name} → postgres`).toBe(true);
      expect(allowed(podLabels(name), nats, 4222), `${name} → nats`).toBe(true);
    }
    for (const target of [store, postgres, nats]) expect(allowed(stranger, target, target === store ? 9000 : target === postgres ? 5432 : 4222)).toBe(false);
  });
});

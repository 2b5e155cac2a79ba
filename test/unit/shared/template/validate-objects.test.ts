import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileDeploymentTemplate, TemplateError } from '../../../../shared/template/deployment-template.ts';
import { makeTemplateData } from '../../../../shared/template/template-data.ts';

const data = (parameters: Record<string, string> = {}) =>
  makeTemplateData({
    name: 'pg-00000000',
    accessList: ['ada@example.com'],
    mountName: '/ns/pg-00000000',
    ownerHash: 'f'.repeat(40),
    version: 'v1',
    creatorInfo: { email: 'ada@example.com', mountName: '/ns/pg-00000000', createdAt: '2026-01-01T00:00:00.000Z', allocator: 'pg' },
    parameters,
  });

const DEPLOYMENT = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: '{{Name}}' },
  spec: {
    selector: { matchLabels: { app: '{{Name}}' } },
    template: { metadata: { labels: { app: '{{Name}}' } }, spec: { containers: [{ name: 'c', image: 'example.com/i:1' }] } },
  },
};
const service = (name = '{{Name}}', spec: object = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { selector: { app: '{{Name}}' }, ports: [{ name: 'http', port: 80 }], ...spec },
});
const configMap = (name = '{{Name}}-config') => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { A: 'b' } });

/** A JSON `List` template of these objects, compiled and rendered as at cold start. */
const render = (items: readonly object[], internalLoadBalancers = false) =>
  compileDeploymentTemplate(JSON.stringify({ apiVersion: 'v1', kind: 'List', items }), {
    format: 'json',
    source: 'objects.json.hbs',
    internalLoadBalancers,
  }).renderInstance(data());

describe('a template that renders more than a Deployment', () => {
  it('renders, as a JSON List, one Deployment and its Services and ConfigMaps in the order written', () => {
    const rendered = render([service(), DEPLOYMENT, configMap()]);
    expect(rendered.deployment.metadata?.name).toBe('pg-00000000');
    expect(rendered.objects.map((object) => `${object.kind} ${object.metadata.name}`)).toEqual([
      'Service pg-00000000',
      'ConfigMap pg-00000000-config',
    ]);
  });

  it('renders a YAML multi-document the same', () => {
    const source = [DEPLOYMENT, service(), configMap()].map((object) => JSON.stringify(object)).join('\n---\n');
    const rendered = compileDeploymentTemplate(source, { format: 'yaml' }).renderInstance(data());
    expect(rendered.objects).toHaveLength(2);
    expect(compileDeploymentTemplate(source, { format: 'yaml' }).render(data())).toEqual(rendered.deployment);
  });

  it('lets a Service be a LoadBalancer only where the operator allows internal load balancers', () => {
    const items = [DEPLOYMENT, service('{{Name}}', { type: 'LoadBalancer' })];
    expect(() => render(items)).toThrow(
      /object 2 \(v1 Service "pg-00000000"\) is a LoadBalancer Service: set ALLOCATOR_INTERNAL_LOAD_BALANCERS=allow/,
    );
    expect(render(items, true).objects[0]).toMatchObject({ spec: { type: 'LoadBalancer' } });
  });

  it.each([
    [
      'two Deployments',
      [DEPLOYMENT, { ...DEPLOYMENT, metadata: { name: '{{Name}}-2' } }],
      /exactly one Deployment; found 2: object 1 \(apps\/v1 Deployment "pg-00000000"\), object 2 \(apps\/v1 Deployment "pg-00000000-2"\)/,
    ],
    [
      'a Secret',
      [DEPLOYMENT, { apiVersion: 'v1', kind: 'Secret', metadata: { name: '{{Name}}' } }],
      /object 2 \(v1 Secret "pg-00000000"\) is not allowed: found v1 Secret/,
    ],
    [
      'a NodePort Service',
      [DEPLOYMENT, service('{{Name}}', { type: 'NodePort' })],
      /object 2 \(v1 Service "pg-00000000"\) is a NodePort Service: only ClusterIP Services are allowed/,
    ],
    ['an ExternalName Service', [DEPLOYMENT, service('{{Name}}', { type: 'ExternalName' })], /is a ExternalName Service/],
    [
      'a port with a nodePort',
      [DEPLOYMENT, service('{{Name}}', { ports: [{ port: 80, nodePort: 30080 }] })],
      /spec.ports\[0\] sets a nodePort/,
    ],
    ['external IPs', [DEPLOYMENT, service('{{Name}}', { externalIPs: ['1.2.3.4'] })], /sets spec.externalIPs/],
    ['a Service without ports', [DEPLOYMENT, service('{{Name}}', { ports: [] })], /spec.ports must list at least one port/],
    [
      'a fixed name',
      [DEPLOYMENT, configMap('settings')],
      /object 2 \(v1 ConfigMap "settings"\) must be named \{\{Name\}\} or \{\{Name\}\}-<something>/,
    ],
    ['a name that only starts like the instance', [DEPLOYMENT, configMap('{{Name}}x')], /must be named \{\{Name\}\}/],
    [
      'another namespace',
      [DEPLOYMENT, { ...configMap(), metadata: { name: '{{Name}}', namespace: 'kube-system' } }],
      /must not name a namespace/,
    ],
    ['a name twice', [DEPLOYMENT, service(), service()], /object 3 \(v1 Service "pg-00000000"\) has the name of an earlier Service/],
    ['no Deployment', [service(), configMap()], /exactly one Deployment; found none among 2 objects/],
    ['data that is not text', [DEPLOYMENT, { ...configMap(), data: { n: 1 } }], /data must map keys to strings/],
  ] as const)('refuses %s, naming the object', (_label, items, message) => {
    expect(() => render(items)).toThrow(TemplateError);
    expect(() => render(items)).toThrow(message);
  });
});

describe('the PostgreSQL sample', () => {
  const path = 'templates/postgres.yaml.hbs';
  const template = compileDeploymentTemplate(readFileSync(path, 'utf8'), { format: 'yaml', source: path });

  it('renders a Deployment with a readiness probe, a ClusterIP Service on 5432 and a ConfigMap, at the version asked for', () => {
    const { deployment, objects } = template.renderInstance(data({ version: '16' }));
    const container = deployment.spec?.template.spec?.containers[0];
    expect(container?.image).toBe('us-docker.pkg.dev/YOUR-PROJECT/YOUR-REPOSITORY/postgres:16');
    expect(container?.readinessProbe?.exec?.command?.[0]).toBe('pg_isready');
    expect(container?.envFrom?.[0]?.configMapRef?.name).toBe('pg-00000000-config');
    expect(objects.map((object) => [object.kind, object.metadata.name])).toEqual([
      ['Service', 'pg-00000000'],
      ['ConfigMap', 'pg-00000000-config'],
    ]);
    expect(objects[0]).toMatchObject({ spec: { type: 'ClusterIP', ports: [{ name: 'postgres', port: 5432, protocol: 'TCP' }] } });
  });
});

import type { V1ConfigMap, V1Deployment, V1Service } from '@kubernetes/client-node';
import { TemplateError, validateDeployment } from './validate-deployment.ts';

/** A Service an instance's template renders beside its Deployment. */
export type InstanceService = V1Service & { readonly apiVersion: 'v1'; readonly kind: 'Service'; metadata: { name: string } };
/** A ConfigMap an instance's template renders beside its Deployment. */
export type InstanceConfigMap = V1ConfigMap & { readonly apiVersion: 'v1'; readonly kind: 'ConfigMap'; metadata: { name: string } };
/** An object a template may render beside the Deployment: nothing else is made for an instance. */
export type InstanceObject = InstanceService | InstanceConfigMap;

/** The kinds a template may render beside its one Deployment. */
export const OBJECT_KINDS = ['Service', 'ConfigMap'] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

/**
 * The Service types a template may use. `LoadBalancer` only where the
 * operator allows internal load balancers (ALLOCATOR_INTERNAL_LOAD_BALANCERS),
 * and then always internal: a NodePort (or a load balancer's node ports)
 * opens a port on every node, and ExternalName points the cluster's DNS anywhere.
 */
export const SERVICE_TYPES = ['ClusterIP', 'LoadBalancer'] as const;

/** What the template rendered: its one Deployment, and its Services and ConfigMaps in the order written. */
export interface RenderedInstance {
  readonly deployment: V1Deployment;
  readonly objects: readonly InstanceObject[];
}

export interface ObjectRules {
  /** `{{Name}}`, unescaped: the Deployment's name, and every other object's name or prefix (`<name>-...`). */
  readonly expectedName: string;
  /** The template's path, for messages. */
  readonly where: string;
  /** Whether a Service may be an (internal) LoadBalancer. */
  readonly internalLoadBalancers: boolean;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

const KIND_RULE =
  'a template renders exactly one apps/v1 Deployment and any number of v1 Services and ConfigMaps (ALLOCATOR_INTERNAL_LOAD_BALANCERS lets a Service be an internal load balancer)';

/** `object 2 (v1 Secret "x")`: how a message names an object, by its place in the template and what it says it is. */
function describe(document: unknown, index: number): string {
  if (!isObject(document)) return `object ${index + 1}`;
  const metadata = isObject(document.metadata) ? document.metadata : {};
  const name = typeof metadata.name === 'string' ? ` ${JSON.stringify(metadata.name)}` : '';
  return `object ${index + 1} (${String(document.apiVersion)} ${String(document.kind)}${name})`;
}

/**
 * Checks what a template rendered, as a list of documents: exactly one
 * apps/v1 Deployment named `{{Name}}`, and Services and ConfigMaps named
 * `{{Name}}` or `{{Name}}-...`, each (kind, name) once. Anything else is a
 * TemplateError naming the object by its place, kind and name.
 */
export function validateRendered(documents: readonly unknown[], rules: ObjectRules): RenderedInstance {
  const { where } = rules;
  if (documents.length === 0) throw new TemplateError(`${where} must expand to exactly one Deployment; found nothing`);
  const deployments = documents.flatMap((document, index) =>
    isObject(document) && document.kind === 'Deployment' && document.apiVersion === 'apps/v1' ? [index] : [],
  );
  if (deployments.length > 1)
    throw new TemplateError(
      `${where} must expand to exactly one Deployment; found ${deployments.length}: ${deployments.map((index) => describe(documents[index], index)).join(', ')}`,
    );
  if (deployments.length === 0) {
    // One document that is not a Deployment is the oldest mistake: say it as the Deployment's check says it.
    if (documents.length === 1) return { deployment: validateDeployment(documents[0], rules), objects: [] };
    throw new TemplateError(`${where} must expand to exactly one Deployment; found none among ${documents.length} objects`);
  }
  // In the order written, so that the first mistake is the one named.
  let deployment: V1Deployment | undefined;
  const seen = new Set<string>();
  const objects = documents.flatMap((document, index) => {
    if (index === deployments[0]) {
      deployment = validateDeployment(document, rules);
      return [];
    }
    const object = validateObject(document, index, rules);
    const key = `${object.kind}/${object.metadata.name}`;
    if (seen.has(key)) throw new TemplateError(`${where}: ${describe(document, index)} has the name of an earlier ${object.kind}`);
    seen.add(key);
    return [object];
  });
  return { deployment: deployment!, objects };
}

/** Checks one object beside the Deployment: a Service or a ConfigMap that Allocator may make. */
export function validateObject(document: unknown, index: number, rules: ObjectRules): InstanceObject {
  const what = describe(document, index);
  const fail = (message: string): never => {
    throw new TemplateError(`${rules.where}: ${what} ${message}`);
  };
  if (!isObject(document)) return fail(`must be an object; found ${Array.isArray(document) ? 'an array' : typeof document}`);
  if (document.apiVersion !== 'v1' || !(OBJECT_KINDS as readonly unknown[]).includes(document.kind))
    return fail(`is not allowed: found ${String(document.apiVersion)} ${String(document.kind)}; ${KIND_RULE}`);
  const metadata = isObject(document.metadata) ? document.metadata : fail('has no metadata');
  const name = metadata.name;
  if (typeof name !== 'string' || !(name === rules.expectedName || name.startsWith(`${rules.expectedName}-`)))
    fail(
      `must be named {{Name}} or {{Name}}-<something> (the instance's name is "${rules.expectedName}"), so that instances never share it`,
    );
  if (metadata.namespace !== undefined) fail("must not name a namespace: it is made in the instances' namespace");
  for (const field of ['labels', 'annotations']) {
    const map = metadata[field];
    if (map !== undefined && !(isObject(map) && Object.values(map).every((value) => typeof value === 'string')))
      fail(`metadata.${field} must map names to strings`);
  }
  if (document.kind === 'ConfigMap') {
    for (const field of ['data', 'binaryData']) {
      const map = document[field];
      if (map !== undefined && !(isObject(map) && Object.values(map).every((value) => typeof value === 'string')))
        fail(`${field} must map keys to strings`);
    }
    return document as unknown as InstanceConfigMap;
  }
  const spec = isObject(document.spec) ? document.spec : fail('has no spec');
  const type = spec.type ?? 'ClusterIP';
  if (type === 'LoadBalancer' && !rules.internalLoadBalancers)
    fail(
      'is a LoadBalancer Service: set ALLOCATOR_INTERNAL_LOAD_BALANCERS=allow to let instances have internal load balancers, or use ClusterIP',
    );
  else if (!(SERVICE_TYPES as readonly unknown[]).includes(type))
    fail(
      `is a ${String(type)} Service: only ClusterIP${rules.internalLoadBalancers ? ' and (internal) LoadBalancer' : ''} Services are allowed`,
    );
  if (spec.externalIPs !== undefined) fail('sets spec.externalIPs, which would take traffic for addresses outside the cluster');
  const ports = spec.ports;
  if (!Array.isArray(ports) || ports.length === 0) fail('spec.ports must list at least one port');
  (ports as unknown[]).forEach((port, at) => {
    if (!isObject(port) || !Number.isInteger(port.port)) fail(`spec.ports[${at}].port must be a whole number`);
    if (isObject(port) && port.nodePort !== undefined) fail(`spec.ports[${at}] sets a nodePort, which opens a port on every node`);
  });
  return document as unknown as InstanceService;
}

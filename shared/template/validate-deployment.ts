import type { V1Deployment } from '@kubernetes/client-node';

/** A template that cannot make an instance; the message names the file and the path in it. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Checks that an expanded template is one apps/v1 Deployment named
 * `expectedName` with everything Allocator and the API server rely on, and
 * returns it typed. Messages name the exact path (`spec.template.spec.containers[0].image`).
 */
export function validateDeployment(document: unknown, options: { expectedName: string; where: string }): V1Deployment {
  const fail = (message: string): never => {
    throw new TemplateError(`${options.where}: ${message}`);
  };
  if (!isObject(document)) return fail(`must expand to an object; found ${Array.isArray(document) ? 'an array' : typeof document}`);
  if (document.kind !== 'Deployment' || document.apiVersion !== 'apps/v1') {
    return fail(`must expand to an apps/v1 Deployment; found ${String(document.apiVersion)} ${String(document.kind)}`);
  }
  const metadata = objectAt(document, 'metadata', fail);
  if (metadata.name !== options.expectedName)
    fail(`the Deployment's metadata.name must be {{Name}} (expected "${options.expectedName}", found ${JSON.stringify(metadata.name)})`);
  stringMapAt(metadata, 'metadata.labels', fail);
  stringMapAt(metadata, 'metadata.annotations', fail);
  const spec = objectAt(document, 'spec', fail);
  if (spec.replicas !== undefined && !(Number.isInteger(spec.replicas) && (spec.replicas as number) >= 0))
    fail('spec.replicas must be a whole number >= 0');
  const matchLabels =
    stringMapAt(objectAt(spec, 'spec.selector', fail), 'spec.selector.matchLabels', fail) ?? fail('spec.selector.matchLabels is missing');
  if (Object.keys(matchLabels).length === 0) fail('spec.selector.matchLabels must name at least one label');
  const podTemplate = objectAt(spec, 'spec.template', fail);
  const podLabels = stringMapAt(objectAt(podTemplate, 'spec.template.metadata', fail), 'spec.template.metadata.labels', fail) ?? {};
  for (const [key, value] of Object.entries(matchLabels)) {
    if (podLabels[key] !== value) fail(`spec.template.metadata.labels must include the selector's ${key}: ${JSON.stringify(value)}`);
  }
  const podSpec = objectAt(podTemplate, 'spec.template.spec', fail);
  const containers = podSpec.containers;
  if (!Array.isArray(containers) || containers.length === 0) fail('spec.template.spec.containers must list at least one container');
  (containers as unknown[]).forEach((container, index) => {
    const path = `spec.template.spec.containers[${index}]`;
    if (!isObject(container)) return fail(`${path} must be an object`);
    for (const field of ['name', 'image']) {
      if (typeof container[field] !== 'string' || container[field] === '') fail(`${path}.${field} is missing`);
    }
  });
  if (
    podSpec.volumes !== undefined &&
    (!Array.isArray(podSpec.volumes) || !podSpec.volumes.every((volume) => isObject(volume) && typeof volume.name === 'string'))
  ) {
    fail('spec.template.spec.volumes must be a list of objects with a name');
  }
  return document as V1Deployment;
}

function objectAt(parent: Json, path: string, fail: (message: string) => never): Json {
  const value = parent[path.split('.').at(-1) ?? path];
  return isObject(value) ? value : fail(`${path} ${value === undefined ? 'is missing' : 'must be an object'}`);
}

function stringMapAt(parent: Json, path: string, fail: (message: string) => never): Record<string, string> | undefined {
  const value = parent[path.split('.').at(-1) ?? path];
  if (value === undefined) return undefined;
  if (!isObject(value) || !Object.values(value).every((entry) => typeof entry === 'string'))
    return fail(`${path} must map names to strings`);
  return value as Record<string, string>;
}

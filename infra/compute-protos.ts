// @google-cloud/compute ships every Compute Engine type in one 12 MB
// protos.json, and each client parses, stringifies and hashes all of it when
// it starts: about a second and 100 MB on the first create of an instance.
// The bundle keeps only what the clients it carries look up.
import protobuf from 'protobufjs';

/** The Compute services whose clients shared/gce/disks.ts loads. */
export const DISK_SERVICES = ['google.cloud.compute.v1.Disks', 'google.cloud.compute.v1.ZoneOperations'];

interface NamespaceJson {
  nested?: Record<string, NamespaceJson>;
  [key: string]: unknown;
}

/**
 * `full` cut down to `services`, whole, and every type their methods reach
 * through fields and nesting. Method options (the REST paths) live on the
 * services, so they are kept as they are.
 */
export function trimProtos(full: NamespaceJson, services: readonly string[]): NamespaceJson {
  const root = protobuf.Root.fromJSON(full);
  const kept = new Set<string>();
  const keepType = (type: protobuf.ReflectionObject | null): void => {
    if (!type || kept.has(type.fullName)) return;
    kept.add(type.fullName);
    if (!(type instanceof protobuf.Type)) return;
    for (const field of type.fieldsArray) keepType(field.resolve().resolvedType);
    for (const nested of type.nestedArray) keepType(nested);
  };
  for (const name of services) {
    const service = root.lookupService(name);
    kept.add(service.fullName);
    for (const method of service.methodsArray) {
      method.resolve();
      keepType(method.resolvedRequestType);
      keepType(method.resolvedResponseType);
    }
  }
  return prune(full, '', kept);
}

function prune(json: NamespaceJson, path: string, kept: ReadonlySet<string>): NamespaceJson {
  if (!json.nested) return json;
  const nested: Record<string, NamespaceJson> = {};
  for (const [name, child] of Object.entries(json.nested)) {
    const fullName = `${path}.${name}`;
    if (kept.has(fullName)) nested[name] = child;
    else if ([...kept].some((k) => k.startsWith(`${fullName}.`))) nested[name] = prune(child, fullName, kept);
  }
  return { ...json, nested };
}

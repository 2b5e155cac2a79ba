import type { V1ConfigMap, V1Service } from '@kubernetes/client-node';
import type { InstanceObjectsClient, ObjectsOfKind } from '../../../shared/kube/instance-objects.ts';
import type { InstanceObject, ObjectKind } from '../../../shared/template/validate-objects.ts';
import { Faults } from './faults.ts';

/**
 * An in-memory InstanceObjectsClient: a create of a taken (kind, name) is
 * `false`, a delete of a missing one `false`, and a list selects by label
 * with `k=v` and `k in (a,b)` terms, as the executors write them.
 */
export class FakeInstanceObjects implements InstanceObjectsClient {
  readonly namespace = 'test';
  readonly objects = new Map<string, InstanceObject>();
  readonly faults = new Faults();
  /** Each list call's selector, to count what an answer costs. */
  readonly lists: string[] = [];

  create(object: InstanceObject): Promise<boolean> {
    return this.faults.run('create', () => {
      const key = `${object.kind}/${object.metadata.name}`;
      if (this.objects.has(key)) return false;
      this.objects.set(key, structuredClone({ ...object, metadata: { ...object.metadata, namespace: this.namespace } }));
      return true;
    });
  }

  delete(kind: ObjectKind, name: string): Promise<boolean> {
    return this.faults.run('delete', () => this.objects.delete(`${kind}/${name}`));
  }

  list<K extends ObjectKind>(kind: K, options: { labelSelector: string }): Promise<readonly ObjectsOfKind[K][]> {
    return this.faults.run('list', () => {
      this.lists.push(`${kind}:${options.labelSelector}`);
      return [...this.objects.values()]
        .filter((object) => object.kind === kind && selects(options.labelSelector, object.metadata.labels))
        .map((object) => structuredClone(object) as V1Service | V1ConfigMap as ObjectsOfKind[K]);
    });
  }

  relabel(kind: ObjectKind, name: string, labels: Readonly<Record<string, string>>): Promise<boolean> {
    return this.faults.run('relabel', () => {
      const object = this.objects.get(`${kind}/${name}`);
      if (object === undefined) return false;
      object.metadata.labels = { ...object.metadata.labels, ...labels };
      return true;
    });
  }

  /** The (kind/name) of every object held, sorted. */
  names(): string[] {
    return [...this.objects.keys()].sort();
  }
}

/** `k=v`, `k in (a,b)` and bare `k`, comma-separated outside parentheses. */
export function selects(selector: string, labels: Readonly<Record<string, string>> | undefined): boolean {
  const terms = selector.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  return terms.every((raw) => {
    const term = raw.trim();
    const set = /^(\S+)\s+in\s+\(([^)]*)\)$/.exec(term);
    if (set)
      return set[2]!
        .split(',')
        .map((value) => value.trim())
        .includes(labels?.[set[1]!] ?? '\0');
    const [key = '', value] = term.split('=');
    return value === undefined ? labels?.[key] !== undefined : labels?.[key] === value;
  });
}

import type { V1Service } from '@kubernetes/client-node';
import type { Endpoint } from '../api-types.ts';
import { LABELS } from './metadata.ts';

export type { Endpoint };

/**
 * Where an instance's Services answer, one endpoint per port, in the order
 * the Services and their ports are given: the in-cluster name and port, and
 * the internal load balancer's address once GKE has assigned one.
 */
export function endpointsOf(services: readonly V1Service[], namespace: string): Endpoint[] {
  return services.flatMap((service) => {
    const name = service.metadata?.name ?? '';
    const host = `${name}.${service.metadata?.namespace ?? namespace}.svc.cluster.local`;
    const ingress = service.spec?.type === 'LoadBalancer' ? service.status?.loadBalancer?.ingress?.[0] : undefined;
    const address = ingress?.ip ?? ingress?.hostname;
    return (service.spec?.ports ?? []).map((port): Endpoint => ({
      service: name,
      name: port.name ?? String(port.port),
      protocol: port.protocol ?? 'TCP',
      host,
      port: port.port,
      ...(address ? { loadBalancer: { host: address, port: port.port } } : {}),
    }));
  });
}

/** Each instance's endpoints, by its name, from one list of many instances' Services. */
export function endpointsByInstance(services: readonly V1Service[], namespace: string): Map<string, Endpoint[]> {
  const byInstance = new Map<string, V1Service[]>();
  for (const service of services) {
    const instance = service.metadata?.labels?.[LABELS.instance];
    if (instance === undefined) continue;
    byInstance.set(instance, [...(byInstance.get(instance) ?? []), service]);
  }
  const sorted = (list: V1Service[]) => [...list].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  return new Map([...byInstance].map(([instance, list]) => [instance, endpointsOf(sorted(list), namespace)]));
}

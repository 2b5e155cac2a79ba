import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { endpointsByInstance, endpointsOf } from '../../../../shared/instances/endpoints.ts';
import { objectsSelector } from '../../../../shared/plans/instance-objects.ts';

const service = (name: string, instance: string, spec: V1Service['spec'], status?: V1Service['status']): V1Service => ({
  metadata: { name, namespace: 'ns', labels: { 'allocator.dev/instance': instance } },
  spec,
  ...(status ? { status } : {}),
});

describe('endpoints', () => {
  it('gives one per port: its name (or number), protocol, in-cluster host and port', () => {
    expect(
      endpointsOf(
        [
          service('db-1', 'db-1', {
            ports: [
              { name: 'sql', port: 5432 },
              { port: 9187, protocol: 'UDP' },
            ],
          }),
        ],
        'other',
      ),
    ).toEqual([
      { service: 'db-1', name: 'sql', protocol: 'TCP', host: 'db-1.ns.svc.cluster.local', port: 5432 },
      { service: 'db-1', name: '9187', protocol: 'UDP', host: 'db-1.ns.svc.cluster.local', port: 9187 },
    ]);
  });

  it("adds an internal load balancer's address once one is assigned", () => {
    const lb = (status?: V1Service['status']) =>
      endpointsOf([service('db-1', 'db-1', { type: 'LoadBalancer', ports: [{ name: 'sql', port: 5432 }] }, status)], 'ns')[0];
    expect(lb()).not.toHaveProperty('loadBalancer');
    expect(lb({ loadBalancer: { ingress: [{ ip: '10.128.0.9' }] } })?.loadBalancer).toEqual({ host: '10.128.0.9', port: 5432 });
  });

  it("sorts a list's Services to their instances by label", () => {
    const byInstance = endpointsByInstance(
      [
        service('b-1-x', 'b-1', { ports: [{ port: 2 }] }),
        service('a-1', 'a-1', { ports: [{ port: 1 }] }),
        service('b-1', 'b-1', { ports: [{ port: 3 }] }),
      ],
      'ns',
    );
    expect([...byInstance.keys()].sort()).toEqual(['a-1', 'b-1']);
    expect(byInstance.get('b-1')?.map((endpoint) => endpoint.service)).toEqual(['b-1', 'b-1-x']);
  });

  it.each([
    [['a-1'], 'allocator.dev/allocator=s,allocator.dev/instance=a-1'],
    [['b-1', 'a-1'], 'allocator.dev/allocator=s,allocator.dev/instance in (a-1,b-1)'],
    [Array.from({ length: 101 }, (_, i) => `n-${i}`), 'allocator.dev/allocator=s'],
  ])('selects the objects of %j in one list', (names, selector) => {
    expect(objectsSelector('s', names)).toBe(selector);
  });
});

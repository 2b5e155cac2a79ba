import { describe, expect, it } from 'vitest';
import { endpointEnvironment, formatInstanceBlock } from '../../../cli/format.ts';
import type { Instance } from '../../../client/allocator-client.ts';

const NAME = 'postgres-1a2b3c4d';
const host = (service: string) => `${service}.allocator.svc.cluster.local`;
const instance: Instance = {
  name: NAME,
  owner: 'ada@example.com',
  mountName: `/m/${NAME}`,
  accessList: { In: ['ada@example.com'] },
  creationTime: '2026-11-25T00:00:00.000Z',
  replicas: 1,
  readyReplicas: 1,
  version: 'v1',
  disk: NAME,
  expiresAt: null,
  parameters: {},
  state: 'ready',
  problems: [],
  endpoints: [
    { service: NAME, name: 'postgres', protocol: 'TCP', host: host(NAME), port: 5432 },
    {
      service: `${NAME}-admin.ui`,
      name: 'http-alt',
      protocol: 'TCP',
      host: host(`${NAME}-admin.ui`),
      port: 8080,
      loadBalancer: { host: '10.128.0.9', port: 8080 },
    },
    { service: `${NAME}-metrics`, name: '9187', protocol: 'UDP', host: host(`${NAME}-metrics`), port: 9187 },
  ],
};

describe("the instance's endpoints in the CLI", () => {
  it("are run's environment, one pair a port, named without the instance's name", () => {
    expect(endpointEnvironment(instance)).toEqual({
      ALLOCATOR_ENDPOINT_POSTGRES_HOST: host(NAME),
      ALLOCATOR_ENDPOINT_POSTGRES_PORT: '5432',
      ALLOCATOR_ENDPOINT_ADMIN_UI_HTTP_ALT_HOST: host(`${NAME}-admin.ui`),
      ALLOCATOR_ENDPOINT_ADMIN_UI_HTTP_ALT_PORT: '8080',
      ALLOCATOR_ENDPOINT_ADMIN_UI_HTTP_ALT_LB_HOST: '10.128.0.9',
      ALLOCATOR_ENDPOINT_ADMIN_UI_HTTP_ALT_LB_PORT: '8080',
      ALLOCATOR_ENDPOINT_METRICS_9187_HOST: host(`${NAME}-metrics`),
      ALLOCATOR_ENDPOINT_METRICS_9187_PORT: '9187',
    });
    expect(endpointEnvironment({ name: NAME })).toEqual({});
  });

  it('are lines of list -l', () => {
    const lines = formatInstanceBlock(instance, Date.parse('2026-11-25T00:05:00.000Z'))
      .split('\n')
      .filter((line) => line.startsWith('Endpoint:'));
    expect(lines).toEqual([
      `Endpoint:   postgres/TCP ${host(NAME)}:5432`,
      `Endpoint:   http-alt/TCP ${host(`${NAME}-admin.ui`)}:8080 (VPC: 10.128.0.9:8080)`,
      `Endpoint:   9187/UDP ${host(`${NAME}-metrics`)}:9187`,
    ]);
  });
});

// The API server answers a watch from a resourceVersion its watch cache no
// longer holds (events older than about 75 s once the cache is full, or
// compacted away in etcd) with one ERROR event carrying a 410 Expired Status,
// on a 200 stream that then ends. The local control plane cannot be brought to
// that within a test: its cache still holds every event since it started. So
// this loopback server gives exactly that answer, and the real client reads it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClusterClient } from '../../../shared/kube/cluster.ts';

const PATH = '/apis/apps/v1/namespaces/ns/deployments';
const current: V1Deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'slow', namespace: 'ns', resourceVersion: '4242', uid: 'u-1' },
  spec: { replicas: 0, selector: {}, template: {} },
};
const expired = {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'too old resource version: 7 (4242)',
  reason: 'Expired',
  code: 410,
};
const requests: string[] = [];
let server: Server;
let kubeConfig: KubeConfig;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://apiserver');
    requests.push(
      `${url.pathname}${url.searchParams.get('watch') === 'true' ? ` watch from ${url.searchParams.get('resourceVersion')}` : ''}`,
    );
    res.setHeader('Content-Type', 'application/json');
    if (url.pathname === PATH && url.searchParams.get('watch') === 'true')
      return void res.end(`${JSON.stringify({ type: 'ERROR', object: expired })}\n`);
    if (url.pathname === `${PATH}/slow`) return void res.end(JSON.stringify(current));
    res.statusCode = 404;
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'loopback', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'allocator', token: 'loopback' }],
    contexts: [{ name: 'loopback', cluster: 'loopback', user: 'allocator' }],
    currentContext: 'loopback',
  });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('ClusterClient.watchDeployment, when its resourceVersion has expired', () => {
  it('starts again from a read instead of waiting out maxMs', async () => {
    const cluster = makeClusterClient({ kubeConfig, namespace: 'ns', timeoutMs: 5_000 });
    const stale: V1Deployment = { ...current, metadata: { ...current.metadata, resourceVersion: '7' } };
    const state = await cluster.watchDeployment('slow', stale, 600_000, () => false);
    expect(state?.metadata?.resourceVersion).toBe('4242');
    expect(requests).toEqual([`${PATH} watch from 7`, `${PATH}/slow`]);
  }, 20_000);
});

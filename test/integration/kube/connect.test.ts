import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { CoreV1Api } from '@kubernetes/client-node';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { connectToCluster } from '../../../shared/kube/connect.ts';
import { closeServer, listenOnLoopback } from '../../harness/http.ts';

interface LocalKubeconfig {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { user: { token: string } }[];
}

const kubeconfig = JSON.parse(readFileSync(inject('kubeconfigPath'), 'utf8')) as LocalKubeconfig;
const apiserver = new URL(kubeconfig.clusters[0]!.cluster.server);
const adminToken = kubeconfig.users[0]!.user.token;
const seen: { url: string; headers: IncomingHttpHeaders }[] = [];

// Stands in for container.googleapis.com's clusters.get, pointing at the local apiserver.
const gkeApi = createServer((req, res) => {
  seen.push({ url: req.url ?? '', headers: req.headers });
  if (req.url !== '/v1/projects/proj/locations/us-central1-c/clusters/tests') {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      name: 'tests',
      endpoint: apiserver.host,
      masterAuth: { clusterCaCertificate: kubeconfig.clusters[0]!.cluster['certificate-authority-data'] },
    }),
  );
});
let gkeUrl = '';
beforeAll(async () => {
  gkeUrl = await listenOnLoopback(gkeApi);
});
afterAll(async () => closeServer(gkeApi));

describe('connecting to a GKE cluster named by a vkube.cfg', () => {
  it('reads endpoint and CA through the authorised client and sends its access token on every request', async () => {
    const authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: adminToken, expiry_date: Date.now() + 3_600_000 });
    let tokenRequests = 0;
    const getAccessToken = authClient.getAccessToken.bind(authClient);
    authClient.getAccessToken = async () => {
      tokenRequests += 1;
      return await getAccessToken();
    };

    const kubeConfig = await connectToCluster(
      { kind: 'gke', project: 'proj', location: 'us-central1-c', cluster: 'tests', namespace: 'default', endpoint: 'ip' },
      { googleAuthClient: async () => authClient, containerApi: gkeUrl },
    );

    expect(seen.at(-1)?.headers.authorization).toBe(`Bearer ${adminToken}`);
    expect(kubeConfig.getCurrentCluster()?.server).toBe(`https://${apiserver.host}`);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const namespaces = await core.listNamespace();
    expect(namespaces.items.map((ns) => ns.metadata?.name)).toContain('default');
    await core.readNamespace({ name: 'default' });
    expect(tokenRequests).toBe(2); // one per request: a refreshed token is always used
  });

  it('answers 503 when the cluster cannot be read', async () => {
    const authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: 'x', expiry_date: Date.now() + 3_600_000 });
    await expect(
      connectToCluster(
        { kind: 'gke', project: 'proj', location: 'us-central1-c', cluster: 'missing', namespace: 'default', endpoint: 'ip' },
        { googleAuthClient: async () => authClient, containerApi: gkeUrl },
      ),
    ).rejects.toMatchObject({ status: 503, message: expect.stringMatching(/cannot read GKE cluster proj\/us-central1-c\/missing/) });
  });
});

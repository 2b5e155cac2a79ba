import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { shareConnections } from '../../../../shared/kube/shared-connections.ts';

function kubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    // With a CA of its own (the local control plane's, GKE's IP endpoint) client-node makes an Agent per request.
    clusters: [
      {
        name: 'c',
        server: 'https://127.0.0.1:6443',
        caData: Buffer.from('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n').toString('base64'),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return config;
}

async function authenticated(config: KubeConfig): Promise<RequestContext> {
  const context = new RequestContext('https://127.0.0.1:6443/apis/apps/v1/namespaces/n/deployments', HttpMethod.GET);
  await config.applySecurityAuthentication(context);
  return context;
}

describe('shareConnections', () => {
  it('gives every request the same connection pool, where client-node alone makes one per request', async () => {
    const plain = kubeConfig();
    expect((await authenticated(plain)).getDispatcher()).not.toBe((await authenticated(plain)).getDispatcher());

    const shared = shareConnections(kubeConfig());
    const [first, second] = [await authenticated(shared), await authenticated(shared)];
    expect(first.getDispatcher()).toBeDefined();
    expect(second.getDispatcher()).toBe(first.getDispatcher());
  });

  it('still authenticates each request', async () => {
    const context = await authenticated(shareConnections(kubeConfig()));
    expect(context.getHeaders().Authorization).toBe('Bearer secret-token');
  });
});

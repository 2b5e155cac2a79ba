import { KubeConfig, type User } from '@kubernetes/client-node';
import type { ClusterTarget } from '../config/cluster-config.ts';
import { UnavailableError } from '../errors.ts';

/** What connecting to GKE needs from google-auth-library: an authorised client. */
export interface GoogleAuthClient {
  request<T>(options: { url: string; timeout?: number }): Promise<{ data: T }>;
  getAccessToken(): Promise<{ token?: string | null }>;
}

const GOOGLE_AUTH_PROVIDER = 'allocator-google-access-token';
export const CONTAINER_API = 'https://container.googleapis.com';

/**
 * A KubeConfig for the configured cluster. For GKE, the endpoint and CA come
 * from the GKE API through the authorised client, and every request carries
 * an access token from that client (google-auth-library caches and refreshes
 * it), so no gcloud or kubectl binary is needed.
 */
export async function connectToCluster(
  target: ClusterTarget,
  deps: { googleAuthClient: () => Promise<GoogleAuthClient>; containerApi?: string; timeoutMs?: number },
): Promise<KubeConfig> {
  const kubeConfig = new KubeConfig();
  if (target.kind === 'kubeconfig') {
    kubeConfig.loadFromFile(target.path);
    return kubeConfig;
  }
  const client = await deps.googleAuthClient();
  const url = `${deps.containerApi ?? CONTAINER_API}/v1/projects/${encodeURIComponent(target.project)}/locations/${encodeURIComponent(target.zone)}/clusters/${encodeURIComponent(target.cluster)}`;
  let cluster: { endpoint?: string; masterAuth?: { clusterCaCertificate?: string } };
  try {
    ({ data: cluster } = await client.request<typeof cluster>({ url, timeout: deps.timeoutMs ?? 30_000 }));
  } catch (error) {
    throw new UnavailableError(`cannot read GKE cluster ${target.project}/${target.zone}/${target.cluster}`, { cause: error });
  }
  if (!cluster.endpoint || !cluster.masterAuth?.clusterCaCertificate) {
    throw new UnavailableError(`GKE cluster ${target.cluster} has no endpoint or CA certificate yet`);
  }
  const server = /^https?:\/\//.test(cluster.endpoint) ? cluster.endpoint : `https://${cluster.endpoint}`;
  kubeConfig.loadFromOptions({
    clusters: [{ name: target.cluster, server, caData: cluster.masterAuth.clusterCaCertificate, skipTLSVerify: false }],
    users: [{ name: 'allocator', authProvider: { name: GOOGLE_AUTH_PROVIDER, config: {} } }],
    contexts: [{ name: target.cluster, cluster: target.cluster, user: 'allocator', namespace: target.namespace }],
    currentContext: target.cluster,
  });
  kubeConfig.addAuthenticator({
    isAuthProvider: (user: User) => user.authProvider?.name === GOOGLE_AUTH_PROVIDER,
    applyAuthentication: async (_user, opts) => {
      const { token } = await client.getAccessToken();
      if (!token) throw new UnavailableError('google-auth-library returned no access token');
      opts.headers = { ...opts.headers, Authorization: `Bearer ${token}` };
    },
  });
  return kubeConfig;
}

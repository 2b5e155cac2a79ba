import { KubeConfig, type User } from '@kubernetes/client-node';
import type { ClusterTarget, EndpointKind } from '../config/cluster-config.ts';
import { UnavailableError } from '../errors.ts';

/** What connecting to GKE needs from google-auth-library: an authorised client. */
export interface GoogleAuthClient {
  request<T>(options: { url: string; timeout?: number }): Promise<{ data: T }>;
  getAccessToken(): Promise<{ token?: string | null }>;
}

const GOOGLE_AUTH_PROVIDER = 'allocator-google-access-token';

/** The fields of GKE's Cluster resource that say how to reach its control plane. */
interface GkeCluster {
  endpoint?: string;
  masterAuth?: { clusterCaCertificate?: string };
  controlPlaneEndpointsConfig?: { dnsEndpointConfig?: { endpoint?: string; allowExternalTraffic?: boolean } };
}

/**
 * The server and CA of the endpoint to use: the IP endpoint with the cluster's
 * own CA, or the DNS-based endpoint, which serves a publicly trusted
 * certificate and works where the IP endpoint is private or behind
 * authorized networks.
 */
export function controlPlaneOf(cluster: GkeCluster, kind: EndpointKind): { server: string; caData?: string } {
  if (kind === 'dns') {
    const dns = cluster.controlPlaneEndpointsConfig?.dnsEndpointConfig;
    if (!dns?.endpoint)
      throw new UnavailableError(
        'the GKE cluster has no DNS-based control-plane endpoint; enable it (gcloud container clusters update --enable-dns-access) or use "endpoint": "ip"',
      );
    if (dns.allowExternalTraffic === false)
      throw new UnavailableError(
        "the GKE cluster's DNS-based endpoint does not allow external traffic; allow it (--enable-dns-access) for Cloud Run to reach it",
      );
    return { server: `https://${dns.endpoint}` };
  }
  if (!cluster.endpoint || !cluster.masterAuth?.clusterCaCertificate)
    throw new UnavailableError('the GKE cluster has no endpoint or CA certificate yet');
  return {
    server: /^https?:\/\//.test(cluster.endpoint) ? cluster.endpoint : `https://${cluster.endpoint}`,
    caData: cluster.masterAuth.clusterCaCertificate,
  };
}
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
  const url = `${deps.containerApi ?? CONTAINER_API}/v1/projects/${encodeURIComponent(target.project)}/locations/${encodeURIComponent(target.location)}/clusters/${encodeURIComponent(target.cluster)}`;
  let cluster: GkeCluster;
  try {
    ({ data: cluster } = await client.request<GkeCluster>({ url, timeout: deps.timeoutMs ?? 30_000 }));
  } catch (error) {
    throw new UnavailableError(`cannot read GKE cluster ${target.project}/${target.location}/${target.cluster}`, { cause: error });
  }
  const { server, caData } = controlPlaneOf(cluster, target.endpoint);
  kubeConfig.loadFromOptions({
    clusters: [{ name: target.cluster, server, ...(caData ? { caData } : {}), skipTLSVerify: false }],
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

import { fileURLToPath } from 'node:url';

export function allocatorEnvFor(o: {
  kubeconfigPath: string;
  namespace: string;
  emulatorUrl: string;
  certsUrl: string;
}): Record<string, string> {
  return {
    ALLOCATOR_SERVER_NAME: 'syncbased',
    ALLOCATOR_TEMPLATE: fileURLToPath(new URL('../templates/syncbased-deployment.json.hbs', import.meta.url)),
    ALLOCATOR_KUBECONFIG: o.kubeconfigPath,
    ALLOCATOR_NAMESPACE: o.namespace,
    ALLOCATOR_GCE_PROJECT: 'bench-project',
    ALLOCATOR_GCE_ZONE: 'us-central1-c',
    ALLOCATOR_COMPUTE_ENDPOINT: o.emulatorUrl,
    ALLOCATOR_TOKEN_CERTS_URL: o.certsUrl,
    ALLOCATOR_AUDIENCES: 'https://allocator.bench',
    ALLOCATOR_MAX_INSTANCES_PER_USER: '5000',
    ALLOCATOR_MAX_INSTANCES: '10000',
  };
}

import { describe, expect, it } from 'vitest';
import { controlPlaneOf } from '../../../../shared/kube/connect.ts';

const cluster = {
  endpoint: '34.1.2.3',
  masterAuth: { clusterCaCertificate: 'Q0E=' },
  controlPlaneEndpointsConfig: { dnsEndpointConfig: { endpoint: 'gke-0123abcd-tests.us-central1.gke.goog', allowExternalTraffic: true } },
};

describe('the control-plane endpoint of a GKE cluster', () => {
  it("is the IP endpoint with the cluster's CA by default", () => {
    expect(controlPlaneOf(cluster, 'ip')).toEqual({ server: 'https://34.1.2.3', caData: 'Q0E=' });
  });

  it('is the DNS-based endpoint, with its publicly trusted certificate, when asked', () => {
    expect(controlPlaneOf(cluster, 'dns')).toEqual({ server: 'https://gke-0123abcd-tests.us-central1.gke.goog' });
  });

  it.each([
    ['no DNS endpoint', { ...cluster, controlPlaneEndpointsConfig: {} }, 'dns', /has no DNS-based control-plane endpoint; enable it/],
    [
      'a DNS endpoint closed to outside traffic',
      { ...cluster, controlPlaneEndpointsConfig: { dnsEndpointConfig: { endpoint: 'x.gke.goog', allowExternalTraffic: false } } },
      'dns',
      /does not allow external traffic/,
    ],
    ['no IP endpoint yet', { masterAuth: {} }, 'ip', /has no endpoint or CA certificate yet/],
  ] as const)('answers 503 for %s', (_label, value, kind, message) => {
    expect(() => controlPlaneOf(value, kind)).toThrow(expect.objectContaining({ status: 503, message: expect.stringMatching(message) }));
  });
});

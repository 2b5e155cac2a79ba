import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, NotFoundError, UnavailableError } from '../../../../shared/errors.ts';
import { ClusterRejectedError, kubeError } from '../../../../shared/kube/kube-errors.ts';

/** What client-node throws for an answered request: its own exception with the status and body. */
const answered = (code: number, message: string) => new ApiException(code, 'HTTP-Code', JSON.stringify({ kind: 'Status', message }), {});

describe('kubeError', () => {
  it.each([
    [answered(404, 'deployments.apps "x" not found'), NotFoundError, 404, /create Deployment x: deployments.apps "x" not found/],
    [answered(409, 'leases "s" already exists'), AlreadyExistsError, 409, /already exists/],
    [answered(422, 'spec.template.spec.containers[0].name: Invalid value'), ClusterRejectedError, 500, /Invalid value/],
    [answered(403, 'forbidden'), ClusterRejectedError, 500, /not allowed to do this \(HTTP 403\); check its RBAC/],
    [
      answered(
        403,
        "deployments.apps \"x\" is forbidden: ValidatingAdmissionPolicy 'allocator-deployments' with binding 'allocator-deployments-ns' denied request: the allocator's runtime account may only run pods as the service account default, not deployer",
      ),
      ClusterRejectedError,
      500,
      /^create Deployment x: the cluster's admission refused it \(HTTP 403\): .* may only run pods as the service account default, not deployer$/,
    ],
    [
      answered(403, 'pods "p" is forbidden: violates PodSecurity "baseline:latest": privileged'),
      ClusterRejectedError,
      500,
      /admission refused it \(HTTP 403\): .*violates PodSecurity "baseline:latest": privileged$/,
    ],
    [answered(429, 'too many requests'), UnavailableError, 503, /unavailable \(HTTP 429\)/],
    [answered(503, 'etcd down'), UnavailableError, 503, /unavailable \(HTTP 503\)/],
    [
      Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }),
      UnavailableError,
      503,
      /did not answer in time/,
    ],
    [new TypeError('fetch failed'), UnavailableError, 503, /cannot reach the Kubernetes API/],
  ] as const)('%s', (cause, kind, status, message) => {
    const mapped = kubeError(cause, 'create Deployment x');
    expect(mapped).toBeInstanceOf(kind);
    expect(mapped.status).toBe(status);
    expect(mapped.message).toMatch(message);
    expect(mapped.cause).toBe(cause);
  });

  it('keeps the Kubernetes status of a rejection', () => {
    expect((kubeError(answered(422, 'bad'), 'a') as ClusterRejectedError).kubeStatus).toBe(422);
  });
});

import { describe, expect, it } from 'vitest';
import { isPermanent } from '../../../../shared/instances/permanent-problems.ts';

// Messages as the kubelet and containerd (or Docker) write them.
const IMAGE = 'us-docker.pkg.dev/p/r/syncbased:v9';
const CONTAINERD_NOT_FOUND = `rpc error: code = NotFound desc = failed to pull and unpack image "${IMAGE}": failed to resolve reference "${IMAGE}": ${IMAGE}: not found`;
const DOCKER_ACCESS =
  "rpc error: code = Unknown desc = Error response from daemon: pull access denied for nosuch, repository does not exist or may require 'docker login'";
const TIMEOUT = `rpc error: code = Unknown desc = failed to pull and unpack image "${IMAGE}": failed to resolve reference "${IMAGE}": failed to do request: Head "https://us-docker.pkg.dev/v2/p/r/syncbased/manifests/v9": dial tcp 142.250.1.82:443: i/o timeout`;
const TOO_MANY = `rpc error: code = Unknown desc = failed to pull and unpack image "${IMAGE}": failed to resolve reference "${IMAGE}": unexpected status from HEAD request to https://us-docker.pkg.dev/v2/p/r/syncbased/manifests/v9: 429 Too Many Requests`;
const REFUSED = `rpc error: code = Unavailable desc = failed to pull and unpack image "${IMAGE}": failed to do request: Head "https://us-docker.pkg.dev/v2/": dial tcp 127.0.0.1:443: connect: connection refused`;

describe('isPermanent: which problems waiting will not mend', () => {
  it.each<[string, string, boolean]>([
    [
      'InvalidImageName',
      'syncbased: Failed to apply default image tag "Bad:Image": couldn\'t parse image name "Bad:Image": invalid reference format',
      true,
    ],
    ['CreateContainerConfigError', 'syncbased: secret "db-password" not found', true],
    ['ErrImagePull', `syncbased: ${CONTAINERD_NOT_FOUND}`, true],
    [
      'ErrImagePull',
      'syncbased: rpc error: code = Unknown desc = Error response from daemon: manifest for nosuch:v9 not found: manifest unknown: manifest unknown',
      true,
    ],
    ['ErrImagePull', `syncbased: ${DOCKER_ACCESS}`, true],
    ['ErrImagePull', `syncbased: ${TIMEOUT}`, false],
    ['ErrImagePull', `syncbased: ${TOO_MANY}`, false],
    ['ErrImagePull', `syncbased: ${REFUSED}`, false],
    ['ImagePullBackOff', `syncbased: Back-off pulling image "${IMAGE}"`, false],
    ['ImagePullBackOff', `syncbased: Back-off pulling image "${IMAGE}": ErrImagePull: ${CONTAINERD_NOT_FOUND}`, true],
    ['ImagePullBackOff', `syncbased: Back-off pulling image "${IMAGE}": ErrImagePull: ${TOO_MANY}`, false],
    ['Failed', `Failed to pull image "${IMAGE}": ${CONTAINERD_NOT_FOUND}`, true],
    ['Failed', `Failed to pull image "${IMAGE}": ${TIMEOUT}`, false],
    ['Failed', 'Error: ErrImagePull', false],
    ['Failed', 'Error: secret "db-password" not found', false],
    ['FailedScheduling', '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available', false],
    ['FailedScheduling', "pod didn't trigger scale-up: 1 node(s) had untolerated taint", false],
    ['CrashLoopBackOff', 'syncbased: back-off 5m0s restarting failed container=syncbased', false],
    ['FailedAttachVolume', 'AttachVolume.Attach failed for volume "data-disk" : rpc error: code = NotFound desc = disk not found', false],
  ])('%s: %s → %s', (reason, message, permanent) => {
    expect(isPermanent({ reason, message })).toBe(permanent);
  });
});

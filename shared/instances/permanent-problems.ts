/**
 * What the kubelet and containerd say when an image or tag does not exist:
 * containerd's gRPC NotFound (`rpc error: code = NotFound desc = failed to
 * pull and unpack image "x": failed to resolve reference "x": x: not found`),
 * a registry's `manifest unknown`, Docker's `manifest for x not found` and
 * `repository does not exist or may require 'docker login'`. A registry that
 * cannot answer now (`i/o timeout`, `429 Too Many Requests`, `connection
 * refused`, `500 Internal Server Error`) says none of these.
 */
const IMAGE_MISSING = /code = NotFound|: not found\b|manifest unknown|manifest for \S+ not found|repository does not exist/i;

/**
 * The problems that waiting will not mend, as one table: a pod reporting one
 * of these will not start until somebody changes the image or the template,
 * so a create, resume or reset stops waiting for it. A reason without a
 * `message` is permanent whatever it says; one with a `message` only when the
 * message says so. Anything else (an `ImagePullBackOff` after a registry
 * error, `FailedScheduling` while nodes scale up, a crash loop) may pass,
 * and is waited out.
 */
export const PERMANENT_PROBLEMS: readonly { readonly reason: string; readonly message?: RegExp }[] = [
  // The image reference cannot be parsed.
  { reason: 'InvalidImageName' },
  // A Secret or ConfigMap the container needs is missing, or its spec cannot be turned into a container.
  { reason: 'CreateContainerConfigError' },
  // The pull failed because the image or tag does not exist.
  { reason: 'ErrImagePull', message: IMAGE_MISSING },
  // Newer kubelets repeat the failed pull's error in the back-off's message.
  { reason: 'ImagePullBackOff', message: IMAGE_MISSING },
  // The kubelet's Warning event of the pull (`Failed to pull image "x": ...`), which outlives the container's ErrImagePull state.
  { reason: 'Failed', message: new RegExp(`^Failed to pull image .*(?:${IMAGE_MISSING.source})`, 'i') },
];

/** Whether a problem with this reason and message will not go away by waiting (`PERMANENT_PROBLEMS`). */
export function isPermanent(problem: { readonly reason: string; readonly message: string }): boolean {
  return PERMANENT_PROBLEMS.some(
    (entry) => entry.reason === problem.reason && (entry.message === undefined || entry.message.test(problem.message)),
  );
}

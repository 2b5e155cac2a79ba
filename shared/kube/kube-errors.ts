import { ApiException } from '@kubernetes/client-node';
import { AllocatorError, AlreadyExistsError, ConflictError, NotFoundError, UnavailableError } from '../errors.ts';

/** The Kubernetes API refused a request that retrying will not fix (an invalid object, missing RBAC). */
export class ClusterRejectedError extends AllocatorError {
  override readonly name = 'ClusterRejectedError';
  readonly kubeStatus: number;
  constructor(kubeStatus: number, message: string, options?: { cause?: unknown }) {
    super(500, 'INTERNAL', message, options);
    this.kubeStatus = kubeStatus;
  }
}

/**
 * Turns what a client-node call threw into a typed error that keeps the
 * status and the cause: 404 and 409 for the callers' idempotency, 429/5xx,
 * timeouts and network failures as retryable 503s, the rest as rejections.
 */
export function kubeError(error: unknown, action: string): AllocatorError {
  if (error instanceof AllocatorError) return error;
  if (error instanceof ApiException) {
    const code = error.code as number;
    const message = `${action}: ${kubeMessage(error.body) ?? `HTTP ${code}`}`;
    if (code === 404) return new NotFoundError(message, { cause: error });
    if (code === 409 && kubeReason(error.body) === 'Conflict') return new ConflictError(message, { cause: error });
    if (code === 409) return new AlreadyExistsError(message, { cause: error });
    if (code === 429 || code >= 500)
      return new UnavailableError(`${action}: the Kubernetes API is unavailable (HTTP ${code})`, { cause: error });
    const refusal = kubeMessage(error.body);
    // Admission (Pod Security, infra/k8s/admission.yaml) says what in the object it refused; the fix is in the template.
    if (code === 403 && refusal !== undefined && ADMISSION_REFUSAL.test(refusal))
      return new ClusterRejectedError(code, `${action}: the cluster's admission refused it (HTTP 403): ${refusal}`, { cause: error });
    if (code === 401 || code === 403)
      return new ClusterRejectedError(
        code,
        `${action}: the allocator's credentials are not allowed to do this (HTTP ${code}); check its RBAC`,
        { cause: error },
      );
    return new ClusterRejectedError(code, message, { cause: error });
  }
  const name = (error as Error | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError')
    return new UnavailableError(`${action}: the Kubernetes API did not answer in time`, { cause: error });
  return new UnavailableError(`${action}: cannot reach the Kubernetes API`, { cause: error });
}

/** How a ValidatingAdmissionPolicy, an admission webhook and Pod Security word a refusal. */
const ADMISSION_REFUSAL = /denied request: |denied the request: |violates PodSecurity /;

function kubeReason(body: unknown): string | undefined {
  const parsed = typeof body === 'string' ? safeParse(body) : body;
  const reason = (parsed as { reason?: unknown } | undefined)?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

function kubeMessage(body: unknown): string | undefined {
  const parsed = typeof body === 'string' ? safeParse(body) : body;
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : undefined;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

import { randomUUID } from 'node:crypto';
import { allocatorEndpoints, type AllocatorEndpoints } from './allocator-url.ts';
import { AllocatorApiError } from './errors.ts';
import { googleIdTokenSource, staticToken, type IdTokenSource } from './id-token.ts';
import { OPERATIONS, operationUrl, type OperationId } from '../shared/api/operations.ts';
import {
  InvalidAnswerError,
  parseDestroyedList,
  parseDestroyResult,
  parseInstance,
  parseInstanceList,
  parseSweepReport,
  type DestroyedInstance,
  type DestroyResult,
  type Instance,
  type SweepReport,
} from '../shared/api-types.ts';

export type { DestroyedInstance, DestroyResult, Instance, SweepReport };

export interface RetryOptions {
  /** Tries in all, the first included; default 4. */
  readonly attempts?: number;
  /** First backoff; it doubles, with jitter, up to `maxDelayMs`. Default 250. */
  readonly baseDelayMs?: number;
  /** Default 5000; a server's Retry-After is honoured up to this. */
  readonly maxDelayMs?: number;
}

export interface AllocatorClientOptions {
  /** The allocator: a URL naming its three functions (see allocatorEndpoints). */
  readonly allocator: string;
  /** An ID token, or where to get them; default google-auth-library, then gcloud. */
  readonly auth?: string | IdTokenSource;
  readonly retry?: RetryOptions;
  /** Per-request timeout, on top of the server's wait; default 300 s. */
  readonly timeoutMs?: number;
}

export interface CreateOptions {
  /** Wait until the instance is ready (default true). */
  readonly wait?: boolean;
  readonly waitTimeoutSeconds?: number;
  /** Makes retries of this create safe; default a fresh UUID per call. */
  readonly idempotencyKey?: string;
  /** Seconds until the cleanup sweep destroys it; default the allocator's. */
  readonly lifetimeSeconds?: number;
}

/** How long a lease lives between renewals, unless asked otherwise: long enough to ride out a slow renewal. */
export const DEFAULT_LEASE_SECONDS = 600;

export interface WaitOptions {
  /** Wait until the instance is ready (default true). */
  readonly wait?: boolean;
  readonly waitTimeoutSeconds?: number;
}

/** An instance held by this process; `release` destroys it. */
export interface InstanceLease {
  readonly instance: Instance;
  release(): Promise<void>;
}

function waitBody(options: WaitOptions): Record<string, unknown> {
  return {
    ...(options.wait === undefined ? {} : { wait: options.wait }),
    ...(options.waitTimeoutSeconds === undefined ? {} : { waitTimeoutSeconds: options.waitTimeoutSeconds }),
  };
}

/** Answers worth another try: 429 and 503, and the 409 ABORTED of a create that is still running (not ALREADY_EXISTS). */
function isRetried(status: number, code: string): boolean {
  return status === 429 || status === 503 || (status === 409 && code === 'ABORTED');
}

/**
 * A typed client of an allocator's three functions, for programs. Retries
 * with backoff on 429, 503 and network failures; every create carries an
 * Idempotency-Key, so a retried create never makes a second instance.
 */
export class AllocatorClient {
  readonly endpoints: AllocatorEndpoints;
  readonly #tokens: IdTokenSource;
  readonly #retry: Required<RetryOptions>;
  readonly #timeoutMs: number;

  constructor(options: AllocatorClientOptions) {
    this.endpoints = allocatorEndpoints(options.allocator);
    this.#tokens = typeof options.auth === 'string' ? staticToken(options.auth) : (options.auth ?? googleIdTokenSource());
    this.#retry = { attempts: 4, baseDelayMs: 250, maxDelayMs: 5_000, ...options.retry };
    this.#timeoutMs = options.timeoutMs ?? 300_000;
  }

  async create(options: CreateOptions = {}): Promise<Instance> {
    const body = {
      ...(options.wait === undefined ? {} : { wait: options.wait }),
      ...(options.waitTimeoutSeconds === undefined ? {} : { waitTimeoutSeconds: options.waitTimeoutSeconds }),
      ...(options.lifetimeSeconds === undefined ? {} : { lifetimeSeconds: options.lifetimeSeconds }),
    };
    return await this.#operation('create', { body, headers: { 'Idempotency-Key': options.idempotencyKey ?? randomUUID() } }, parseInstance);
  }

  /** Sets the instance to expire `lifetimeSeconds` from now (default: the allocator's default lifetime). */
  async extend(name: string, lifetimeSeconds?: number): Promise<Instance> {
    return await this.#operation(
      'extend',
      { body: { name, ...(lifetimeSeconds === undefined ? {} : { lifetimeSeconds }) } },
      parseInstance,
    );
  }

  /** Scales the instance to 0, keeping its disk, name and place in the limits. */
  async suspend(name: string): Promise<Instance> {
    return await this.#operation('suspend', { body: { name } }, parseInstance);
  }

  /** Scales a suspended instance back and, by default, waits until it is ready. */
  async resume(name: string, options: WaitOptions = {}): Promise<Instance> {
    return await this.#operation('resume', { body: { name, ...waitBody(options) } }, parseInstance);
  }

  /** Wipes the instance's disk, keeping its name, mount name, owner and expiry; by default waits until it is ready again. */
  async reset(name: string, options: WaitOptions = {}): Promise<Instance> {
    return await this.#operation('reset', { body: { name, ...waitBody(options) } }, parseInstance);
  }

  /**
   * Creates an instance that lives only while this process keeps it: its
   * lifetime is `leaseSeconds`, renewed every third of that until `release`
   * destroys it. A process that dies without releasing leaves an instance
   * that the next sweep after the lease runs out destroys.
   */
  async lease(
    options: { leaseSeconds?: number; create?: Omit<CreateOptions, 'lifetimeSeconds'>; onRenewalError?: (error: unknown) => void } = {},
  ): Promise<InstanceLease> {
    const leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
    const instance = await this.create({ ...options.create, lifetimeSeconds: leaseSeconds });
    const heartbeat = this.keepAlive(instance.name, leaseSeconds, options.onRenewalError);
    return {
      instance,
      release: async () => {
        heartbeat.stop();
        await this.destroy(instance.name);
      },
    };
  }

  /** Renews an instance's lifetime every third of `leaseSeconds` until `stop`; the timer does not keep the process alive. */
  keepAlive(name: string, leaseSeconds: number, onError: (error: unknown) => void = () => undefined): { stop(): void } {
    const timer = setInterval(() => void this.extend(name, leaseSeconds).catch(onError), Math.max(1, leaseSeconds / 3) * 1000);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  /**
   * Destroys the instance. With the allocator's restore window, its disk is
   * kept until `restorableUntil` in the answer, for `restore`; `now` makes
   * the destroy final.
   */
  async destroy(name: string, options: { now?: boolean } = {}): Promise<DestroyResult> {
    return await this.#operation('destroy', { body: { name, ...(options.now ? { now: true } : {}) } }, parseDestroyResult);
  }

  /** Makes a destroyed instance again on its kept disk (same name, mount name and owner, a fresh lifetime); by default waits until it is ready. */
  async restore(name: string, options: WaitOptions & { lifetimeSeconds?: number } = {}): Promise<Instance> {
    const lifetime = options.lifetimeSeconds === undefined ? {} : { lifetimeSeconds: options.lifetimeSeconds };
    return await this.#operation('restore', { body: { name, ...waitBody(options), ...lifetime } }, parseInstance);
  }

  /** Your destroyed instances that can still be restored, newest destroy first; `all`: everyone's (admins only). */
  async listDestroyed(options: { all?: boolean } = {}): Promise<DestroyedInstance[]> {
    return await this.#operation('destroyed', options.all ? { query: { all: 'true' } } : {}, parseDestroyedList);
  }

  async list(options: { all?: boolean } = {}): Promise<Instance[]> {
    return await this.#operation('list', options.all ? { query: { all: 'true' } } : {}, parseInstanceList);
  }

  /** Destroys expired instances and removes orphans (admins only); `dryRun` reports what it would remove. */
  async sweep(options: { dryRun?: boolean } = {}): Promise<SweepReport> {
    return await this.#operation('sweep', { body: options.dryRun === undefined ? {} : { dryRun: options.dryRun } }, parseSweepReport);
  }

  /** One operation, at the URL and with the method its entry in the table gives. */
  async #operation<T>(
    operation: OperationId,
    request: { body?: unknown; query?: Record<string, string>; headers?: Record<string, string> },
    parse: (answer: unknown) => T,
  ): Promise<T> {
    const query = request.query ? `?${new URLSearchParams(request.query)}` : '';
    return await this.#call(OPERATIONS[operation].methods[0], `${operationUrl(this.endpoints, operation)}${query}`, request, parse);
  }

  /** One call, retried as documented; the answer is checked by `parse` rather than trusted. */
  async #call<T>(
    method: string,
    url: string,
    request: { body?: unknown; headers?: Record<string, string> },
    parse: (answer: unknown) => T,
  ): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      let retryAfterMs: number | undefined;
      try {
        const token = await this.#tokens.getIdToken(this.endpoints.audience);
        const response = await fetch(url, {
          method,
          // Behind Cloud Run's IAM check, X-Serverless-Authorization is checked there and Authorization by the function.
          headers: {
            authorization: `Bearer ${token}`,
            'x-serverless-authorization': `Bearer ${token}`,
            ...(request.body ? { 'content-type': 'application/json' } : {}),
            ...request.headers,
          },
          ...(request.body ? { body: JSON.stringify(request.body) } : {}),
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
        const text = await response.text();
        if (response.ok) return checked(response.status, text, parse);
        const error = apiError(response.status, text);
        if (!isRetried(response.status, error.code) || attempt >= this.#retry.attempts) throw error;
        retryAfterMs = retryAfter(response.headers.get('retry-after'));
      } catch (error) {
        if (error instanceof AllocatorApiError) throw error;
        if (!isNetworkError(error)) throw error;
        if (attempt >= this.#retry.attempts)
          throw new AllocatorApiError(0, 'UNAVAILABLE', `cannot reach ${url}: ${describe(error)}`, { cause: error });
      }
      const backoff = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1));
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(this.#retry.maxDelayMs, retryAfterMs ?? backoff / 2 + Math.random() * (backoff / 2))),
      );
    }
  }
}

function apiError(status: number, text: string): AllocatorApiError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  const error = (body as { error?: { status?: string; message?: string } } | undefined)?.error;
  return new AllocatorApiError(status, error?.status ?? `HTTP_${status}`, error?.message ?? (text.slice(0, 200) || `HTTP ${status}`), {
    body,
  });
}

function checked<T>(status: number, text: string, parse: (answer: unknown) => T): T {
  let answer: unknown;
  try {
    answer = text === '' ? {} : (JSON.parse(text) as unknown);
  } catch (error) {
    throw new AllocatorApiError(
      status,
      'INVALID_ANSWER',
      `the allocator answered ${status} with something that is not JSON: ${text.slice(0, 100)}`,
      { body: text, cause: error },
    );
  }
  try {
    return parse(answer);
  } catch (error) {
    if (!(error instanceof InvalidAnswerError)) throw error;
    throw new AllocatorApiError(status, 'INVALID_ANSWER', `the allocator's answer is not what this client expects: ${error.message}`, {
      body: answer,
      cause: error,
    });
  }
}

function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** fetch reports connection resets, refusals and timeouts as a TypeError or a TimeoutError. */
function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError || (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'));
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

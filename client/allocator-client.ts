import { randomUUID } from 'node:crypto';
import { allocatorEndpoints, type AllocatorEndpoints } from './allocator-url.ts';
import { AllocatorApiError } from './errors.ts';
import { startHeartbeat, type Heartbeat, type HeartbeatHandlers } from './heartbeat.ts';
import { googleIdTokenSource, staticToken, type IdTokenSource } from './id-token.ts';
import { fetchParameterDeclarations, type ParameterDeclaration } from './parameters.ts';
import { readWatch, type WatchEvent } from './instance-events.ts';
import { FOLLOW_UNTIL_HEADER, readLog, type LogSegment } from './log-lines.ts';
import { isProgressStream, ProgressCutError, readProgressStream, type ProgressLine, type StreamedResult } from './progress-stream.ts';
import { PROGRESS_CONTENT_TYPE } from '../shared/api/progress.ts';
import { OPERATIONS, operationUrl, type OperationId } from '../shared/api/operations.ts';
import { readQueuePosition, type QueuePosition } from '../shared/api/queue-position.ts';
import {
  InvalidAnswerError,
  parseClusterEvents,
  type ClusterEvent,
  parseDestroyedAnswer,
  parseDestroyedList,
  type DestroyedList,
  parseDestroyResult,
  parseInstance,
  parseTransferAnswer,
  type TransferAnswer,
  parseInstanceList,
  parseSweepReport,
  type DestroyedInstance,
  type DestroyResult,
  type Instance,
  type SweepReport,
} from '../shared/api-types.ts';

export type { ClusterEvent, DestroyedInstance, DestroyResult, Instance, ProgressLine, QueuePosition, SweepReport, WatchEvent };

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
  /** Values of the parameters the allocator declares (see `parameters()`); each one not named gets its default. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** At a limit, wait in line for a slot instead of failing with 429 (default false). */
  readonly queue?: boolean;
  /** With `queue`: give up after this long in line (the server answers 504 and drops the place). */
  readonly queueTimeoutSeconds?: number;
  /** With `queue`: told the place in line each time the allocator answers it. */
  readonly onQueued?: (place: QueuePosition) => void;
  /** Stops the create (its request, and its wait in line) when aborted. */
  readonly signal?: AbortSignal;
  /** Told each step as the allocator takes it (slots, disk, Deployment, scheduled, ...): the request asks for its progress stream. */
  readonly onProgress?: (line: ProgressLine) => void;
}

export interface LogOptions {
  /** Keep reading as lines are written (default false); the stream is opened again where it ended, each line given once. */
  readonly follow?: boolean;
  /** Only lines written within this long before now: `30s`, `5m`, `2h`, `1h30m`. */
  readonly since?: string;
  /** Only lines written at or after this RFC 3339 time. */
  readonly sinceTime?: string;
  /** Only the last this many lines (before following). */
  readonly tailLines?: number;
  /** Which of the pod's containers; default its first. */
  readonly container?: string;
  /** Stops reading when aborted. */
  readonly signal?: AbortSignal;
}

export interface WatchOptions {
  /** Every user's instances (admins only; default false). */
  readonly all?: boolean;
  /** The id of the last event read earlier: go on from there instead of starting with the listing. */
  readonly since?: string;
  /** Stops the watch when aborted. */
  readonly signal?: AbortSignal;
}

/** How long a lease lives between renewals, unless asked otherwise: long enough to ride out a slow renewal. */
export const DEFAULT_LEASE_SECONDS = 600;

export interface WaitOptions {
  /** Wait until the instance is ready (default true). */
  readonly wait?: boolean;
  readonly waitTimeoutSeconds?: number;
  /** Told each step as the allocator takes it: the request asks for its progress stream. */
  readonly onProgress?: (line: ProgressLine) => void;
}

/** An instance held by this process; `release` destroys it. */
export interface InstanceLease {
  readonly instance: Instance;
  release(): Promise<void>;
}

/** The request's progress listener, when its caller gave one. */
function progressOf(options: { onProgress?: (line: ProgressLine) => void }): { onProgress?: (line: ProgressLine) => void } {
  return options.onProgress ? { onProgress: options.onProgress } : {};
}

function waitBody(options: WaitOptions): Record<string, unknown> {
  return {
    ...(options.wait === undefined ? {} : { wait: options.wait }),
    ...(options.waitTimeoutSeconds === undefined ? {} : { waitTimeoutSeconds: options.waitTimeoutSeconds }),
  };
}

/**
 * Answers worth another try: 429 and 503, and the 409 ABORTED of a create that is still running (not ALREADY_EXISTS).
 * A queued create's 409 ABORTED is not one: `create` sends it again itself, as often as the queue takes.
 */
function isRetried(error: AllocatorApiError): boolean {
  const { status, code } = error;
  return status === 429 || status === 503 || (status === 409 && code === 'ABORTED' && readQueuePosition(error.body) === undefined);
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

  /**
   * Creates an instance. With `queue`, a create at a limit waits in line:
   * each time the allocator answers its place (409 ABORTED, reason QUEUED),
   * `onQueued` hears it and the create is sent again with the same
   * Idempotency-Key, which keeps the place.
   */
  async create(options: CreateOptions = {}): Promise<Instance> {
    const body = {
      ...(options.wait === undefined ? {} : { wait: options.wait }),
      ...(options.waitTimeoutSeconds === undefined ? {} : { waitTimeoutSeconds: options.waitTimeoutSeconds }),
      ...(options.lifetimeSeconds === undefined ? {} : { lifetimeSeconds: options.lifetimeSeconds }),
      ...(options.parameters === undefined ? {} : { parameters: options.parameters }),
      ...(options.queue ? { queue: true } : {}),
      ...(options.queue && options.queueTimeoutSeconds !== undefined ? { queueTimeoutSeconds: options.queueTimeoutSeconds } : {}),
    };
    const headers = { 'Idempotency-Key': options.idempotencyKey ?? randomUUID() };
    for (;;) {
      try {
        return await this.#operation(
          'create',
          { body, headers, ...(options.signal ? { signal: options.signal } : {}), ...progressOf(options) },
          parseInstance,
        );
      } catch (error) {
        const place = error instanceof AllocatorApiError && error.status === 409 ? readQueuePosition(error.body) : undefined;
        if (place === undefined) throw error;
        options.onQueued?.(place);
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(this.#retry.maxDelayMs, (error as AllocatorApiError).retryAfterMs ?? 1_000)),
        );
        options.signal?.throwIfAborted();
      }
    }
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
    return await this.#operation('resume', { body: { name, ...waitBody(options) }, ...progressOf(options) }, parseInstance);
  }

  /** Restarts the instance's pods on the same disk (reset wipes it) and, unless told not to, waits until it is ready. */
  async restart(name: string, options: WaitOptions = {}): Promise<Instance> {
    return await this.#operation('restart', { body: { name, ...waitBody(options) }, ...progressOf(options) }, parseInstance);
  }

  /** Wipes the instance's disk, keeping its name, mount name, owner and expiry; by default waits until it is ready again. */
  async reset(name: string, options: WaitOptions = {}): Promise<Instance> {
    return await this.#operation('reset', { body: { name, ...waitBody(options) }, ...progressOf(options) }, parseInstance);
  }

  /** Shares the instance with each email (its owner or an admin only): they see it in their list and may extend, suspend and resume it. */
  async share(name: string, emails: readonly string[]): Promise<Instance> {
    return await this.#operation('share', { body: { name, emails } }, parseInstance);
  }

  /** Stops sharing the instance with each email; one it was not shared with is no change. */
  async unshare(name: string, emails: readonly string[]): Promise<Instance> {
    return await this.#operation('unshare', { body: { name, emails } }, parseInstance);
  }

  /** Gives the instance to `to` (its owner or an admin only); a 429 if they are at their per-user limit, and nothing changes. */
  async transfer(name: string, to: string): Promise<TransferAnswer> {
    return await this.#operation('transfer', { body: { name, to } }, parseTransferAnswer);
  }

  /**
   * Creates an instance that lives only while this process keeps it: its
   * lifetime is `leaseSeconds`, renewed every third of that until `release`
   * destroys it. A process that dies without releasing leaves an instance
   * that the next sweep after the lease runs out destroys.
   */
  async lease(
    options: {
      leaseSeconds?: number;
      create?: Omit<CreateOptions, 'lifetimeSeconds'>;
      onRenewalError?: HeartbeatHandlers['onError'];
      /** Renewals failed until the lease ran out: the instance may be destroyed by the next sweep. */
      onLost?: HeartbeatHandlers['onLost'];
    } = {},
  ): Promise<InstanceLease> {
    const leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
    const instance = await this.create({ ...options.create, lifetimeSeconds: leaseSeconds });
    const heartbeat = this.keepAlive(instance.name, leaseSeconds, {
      ...(options.onRenewalError ? { onError: options.onRenewalError } : {}),
      ...(options.onLost ? { onLost: options.onLost } : {}),
    });
    return {
      instance,
      release: async () => {
        heartbeat.stop();
        await this.destroy(instance.name);
      },
    };
  }

  /**
   * Renews an instance's lifetime every third of `leaseSeconds` until `stop`,
   * with no end of its own; failed renewals are retried, and `onLost` says
   * when they failed until the lease ran out (`startHeartbeat`). The timers
   * do not keep the process alive.
   */
  keepAlive(name: string, leaseSeconds: number, handlers: HeartbeatHandlers = {}): Heartbeat {
    return startHeartbeat(() => this.extend(name, leaseSeconds), leaseSeconds, handlers);
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
    return await this.#operation('restore', { body: { name, ...waitBody(options), ...lifetime }, ...progressOf(options) }, parseInstance);
  }

  /** Your destroyed instances that can still be restored, newest destroy first; `all`: everyone's (admins only). */
  async listDestroyed(options: { all?: boolean } = {}): Promise<DestroyedInstance[]> {
    return await this.#operation('destroyed', options.all ? { query: { all: 'true' } } : {}, parseDestroyedList);
  }

  /** The destroyed list with the allocator's restore window (0: restore is off, so the list is always empty). */
  async destroyedList(options: { all?: boolean } = {}): Promise<DestroyedList> {
    return await this.#operation('destroyed', options.all ? { query: { all: 'true' } } : {}, parseDestroyedAnswer);
  }

  async list(options: { all?: boolean } = {}): Promise<Instance[]> {
    return await this.#operation('list', options.all ? { query: { all: 'true' } } : {}, parseInstanceList);
  }

  /** The parameters create takes, read from the allocator's published description (no token needed). */
  async parameters(): Promise<ParameterDeclaration[]> {
    return await fetchParameterDeclarations(this.endpoints.list);
  }

  /** Destroys expired instances and removes orphans (admins only); `dryRun` reports what it would remove. */
  async sweep(options: { dryRun?: boolean } = {}): Promise<SweepReport> {
    return await this.#operation('sweep', { body: options.dryRun === undefined ? {} : { dryRun: options.dryRun } }, parseSweepReport);
  }

  /**
   * The lines of an instance's logs, each `<RFC 3339 time> <text>` without
   * its newline, as they arrive. With `follow` it goes on past the list
   * function's timeout: each time the allocator ends the stream, it is
   * opened again from the last line's time, and no line is given twice.
   */
  logs(name: string, options: LogOptions = {}): AsyncIterable<string> {
    return readLog({
      follow: options.follow ?? false,
      open: (resumeAt) => this.#openLog(name, options, resumeAt),
      retryable: (error) => (error instanceof AllocatorApiError ? isRetried(error) : isNetworkError(error)),
    });
  }

  /**
   * What Kubernetes reported about an instance in the last hour or so, in
   * plain words, oldest first, each repeat folded into its `count`.
   */
  async events(name: string): Promise<ClusterEvent[]> {
    return await this.#operation('events', { query: { name } }, parseClusterEvents);
  }

  /**
   * The changes to the caller's instances as they happen: first each
   * instance and `synced`, then an event per change. It goes on past the
   * list function's timeout, resuming from the last event's id each time the
   * allocator ends the stream, so no change is missed or given twice; it
   * ends when `signal` is aborted (or the loop that reads it stops).
   */
  watch(options: WatchOptions = {}): AsyncIterable<WatchEvent> {
    return readWatch({
      open: (since) => this.#openWatch(options, since),
      ...(options.since === undefined ? {} : { since: options.since }),
      ...(options.signal ? { signal: options.signal } : {}),
      retryable: (error) => (error instanceof AllocatorApiError ? isRetried(error) : isNetworkError(error)),
    });
  }

  async #openWatch(options: WatchOptions, since: string | undefined): Promise<AsyncIterable<Uint8Array>> {
    const query: Record<string, string> = {};
    if (options.all) query.all = 'true';
    if (since !== undefined) query.since = since;
    const url = `${operationUrl(this.endpoints, 'watch')}?${new URLSearchParams(query)}`;
    const token = await this.#tokens.getIdToken(this.endpoints.audience);
    const response = await fetch(url, {
      method: OPERATIONS.watch.methods[0],
      headers: { authorization: `Bearer ${token}`, 'x-serverless-authorization': `Bearer ${token}`, accept: 'text/event-stream' },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!response.ok || !response.body) {
      const text = await response.text();
      throw apiError(response.status, text, retryAfter(response.headers.get('retry-after')).retryAfterMs);
    }
    return response.body;
  }

  async #openLog(name: string, options: LogOptions, resumeAt: string | undefined): Promise<LogSegment> {
    const query: Record<string, string> = { name };
    if (options.follow) query.follow = 'true';
    if (options.container !== undefined) query.container = options.container;
    if (resumeAt !== undefined) query.sinceTime = resumeAt;
    else {
      if (options.since !== undefined) query.since = options.since;
      if (options.sinceTime !== undefined) query.sinceTime = options.sinceTime;
      if (options.tailLines !== undefined) query.tailLines = String(options.tailLines);
    }
    const url = `${operationUrl(this.endpoints, 'logs')}?${new URLSearchParams(query)}`;
    const token = await this.#tokens.getIdToken(this.endpoints.audience);
    const response = await fetch(url, {
      method: OPERATIONS.logs.methods[0],
      headers: { authorization: `Bearer ${token}`, 'x-serverless-authorization': `Bearer ${token}` },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!response.ok || !response.body) {
      const text = await response.text();
      throw apiError(response.status, text, retryAfter(response.headers.get('retry-after')).retryAfterMs);
    }
    const until = Date.parse(response.headers.get(FOLLOW_UNTIL_HEADER) ?? '');
    const date = Date.parse(response.headers.get('date') ?? '');
    return {
      body: response.body,
      ...(Number.isNaN(until) ? {} : { followUntil: until }),
      ...(Number.isNaN(date) ? {} : { openedAt: new Date(date).toISOString() }),
    };
  }

  /** One operation, at the URL and with the method its entry in the table gives. */
  async #operation<T>(
    operation: OperationId,
    request: CallRequest & { query?: Record<string, string> },
    parse: (answer: unknown) => T,
  ): Promise<T> {
    const query = request.query ? `?${new URLSearchParams(request.query)}` : '';
    return await this.#call(OPERATIONS[operation].methods[0], `${operationUrl(this.endpoints, operation)}${query}`, request, parse);
  }

  /** One call, retried as documented; the answer is checked by `parse` rather than trusted. */
  async #call<T>(method: string, url: string, request: CallRequest, parse: (answer: unknown) => T): Promise<T> {
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
            ...(request.onProgress ? { accept: `${PROGRESS_CONTENT_TYPE}, application/json` } : {}),
            ...request.headers,
          },
          ...(request.body ? { body: JSON.stringify(request.body) } : {}),
          signal: request.signal
            ? AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), request.signal])
            : AbortSignal.timeout(this.#timeoutMs),
        });
        const answer: StreamedResult =
          request.onProgress && isProgressStream(response)
            ? await readProgressStream(response, request.onProgress)
            : { status: response.status, text: await response.text(), ...retryAfter(response.headers.get('retry-after')) };
        if (answer.status >= 200 && answer.status < 300) return checked(answer.status, answer.text, parse);
        retryAfterMs = answer.retryAfterMs;
        const error = apiError(answer.status, answer.text, retryAfterMs);
        if (!isRetried(error) || attempt >= this.#retry.attempts) throw error;
      } catch (error) {
        if (error instanceof AllocatorApiError) throw error;
        if (!isNetworkError(error) || request.signal?.aborted) throw error;
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

function apiError(status: number, text: string, retryAfterMs: number | undefined): AllocatorApiError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  const error = (body as { error?: { status?: string; message?: string } } | undefined)?.error;
  return new AllocatorApiError(status, error?.status ?? `HTTP_${status}`, error?.message ?? (text.slice(0, 200) || `HTTP ${status}`), {
    body,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
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

function retryAfter(header: string | null): { retryAfterMs?: number } {
  const seconds = header === null ? Number.NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {};
}

/** One call's request: its body, headers, how to stop it, and who hears its progress (which asks for the stream). */
interface CallRequest {
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (line: ProgressLine) => void;
}

/** fetch reports connection resets, refusals and timeouts as a TypeError or a TimeoutError. */
function isNetworkError(error: unknown): boolean {
  return (
    error instanceof TypeError ||
    error instanceof ProgressCutError ||
    (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
  );
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

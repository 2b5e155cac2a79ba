import { email, emails } from './email-fields.ts';
import { flag, instanceName, queryFlag, seconds, type FieldSet, type Parsed } from './fields.ts';
import { watchSince } from './watch-fields.ts';
import { containerName, duration, DURATION_EXAMPLES, lineCount, sinceTime } from './log-fields.ts';
import { parametersField } from './parameters.ts';
import type { SchemaName } from './schemas.ts';

/**
 * Allocator's three Cloud Run functions. Which operation runs on which
 * follows from what it needs, since each function is deployed with its own
 * timeout, memory and bundle:
 * - `create` (300 s, the template engine): operations that bring an instance
 *   up or keep it, waiting at most the readiness timeout (240 s): create,
 *   resume, restart, extend; restore; and share, unshare and transfer. Restore renders
 *   the template again, as share, unshare and transfer do with the new access list.
 * - `destroy` (540 s, no template): operations that let a disk go, whose
 *   release by its node can take minutes, and the sweep that does many:
 *   destroy, suspend, reset (it makes its new disk from settings, not the
 *   template), sweep.
 * - `list` (60 s, 256 MiB, no Compute Engine client): reads only, so its
 *   cold start stays the cheapest; it also serves the dashboard and this
 *   description. The destroyed list reads restore records, which are
 *   Kubernetes objects, so it needs no Compute Engine client either.
 */
export const FUNCTION_NAMES = ['create', 'destroy', 'list'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Who may call an operation: any allowed caller, or an admin. */
export const REQUIREMENTS = ['caller', 'admin'] as const;
export type Requirement = (typeof REQUIREMENTS)[number];

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** One operation of the HTTP API. */
export interface OperationSpec {
  readonly function: FunctionName;
  /** Below the function's URL. */
  readonly path: `/${string}`;
  /** The first is the one clients use. */
  readonly methods: readonly [HttpMethod, ...HttpMethod[]];
  readonly requires: Requirement;
  /** Query flags that, when true, make the operation an admin's (list's `all`). */
  readonly adminWhen?: readonly string[];
  /** For a non-admin's 403: "only admins may <this>". */
  readonly adminAction: string;
  readonly summary: string;
  readonly description: string;
  readonly body?: FieldSet;
  readonly query?: FieldSet;
  /** Takes an `Idempotency-Key` header. */
  readonly idempotent?: boolean;
  /** Streams its steps as they happen (`shared/api/progress.ts`) when the request's Accept asks for `application/x-ndjson`. */
  readonly progress?: true;
  /** Takes a `Last-Event-ID` header (what a browser's EventSource sends when it reconnects), read as the query's `since` when that is absent. */
  readonly lastEventId?: boolean;
  readonly answer: {
    readonly status: 200 | 201;
    readonly schema: SchemaName;
    readonly description: string;
    /** A stream sent as it comes, in place of one JSON document: text (logs) or server-sent events (watch). */
    readonly contentType?: 'text/plain; charset=utf-8' | 'text/event-stream';
    /** Headers the answer carries, each with what it says. */
    readonly headers?: Readonly<Record<string, { readonly description: string; readonly format?: 'date-time' }>>;
  };
  /** Every error status it can answer, besides those every operation can (`COMMON_ERRORS`). */
  readonly errors: readonly number[];
}

const waitFields = {
  wait: flag('Wait until the instance is ready before answering.', true),
  waitTimeoutSeconds: seconds("How long to wait, at most the allocator's own limit (240 s by default).", 1),
} satisfies FieldSet;

const instanceErrors = [404, 409, 500, 503] as const;

const queueFields = {
  queue: flag('At a limit, wait in line for a slot (needs an Idempotency-Key) instead of answering 429.', false),
  queueTimeoutSeconds: seconds(
    'With `queue`: give up (504, and the place in line goes) after this long in line, counted from the first request.',
    1,
  ),
} satisfies FieldSet;

/**
 * Every operation, declared once: the handlers build their routes from this
 * table, the typed client its calls, the list function hands the dashboard
 * the URL of each, and `openapi.ts` describes them.
 */
export const OPERATIONS = {
  create: {
    function: 'create',
    path: '/',
    methods: ['POST'],
    requires: 'caller',
    adminAction: 'create instances',
    summary: 'Create an instance',
    description:
      'Claims a slot of the limits, makes the disk and the Deployment, and by default waits until it is ready. ' +
      'Any failure undoes every step. A retry with the same Idempotency-Key answers the same instance; ' +
      'the same key with other parameters is refused (409). ' +
      'With `queue`, a create at a limit waits in line for a slot instead of answering 429: each request waits a while, then ' +
      'answers 409 ABORTED with its place (a `google.rpc.ErrorInfo` detail, reason `QUEUED`, metadata `position` and `ahead`) and ' +
      '`Retry-After`; sending it again with the same Idempotency-Key keeps the place.',
    body: {
      ...waitFields,
      lifetimeSeconds: seconds("Seconds until the cleanup sweep destroys it; 0: never. Default: the allocator's.", 0),
      ...queueFields,
      parameters: parametersField(
        'Values of the parameters the allocator declares, by name; each one not named gets its default. ' +
          'An unknown name, or a value that breaks its rule, is a 400 naming the parameter.',
      ),
    },
    idempotent: true,
    progress: true,
    answer: { status: 201, schema: 'Instance', description: 'The instance, ready unless `wait` was false.' },
    errors: [409, 429, 500, 503, 504],
  },
  extend: {
    function: 'create',
    path: '/extend',
    methods: ['POST'],
    requires: 'caller',
    adminAction: 'extend instances',
    summary: 'Push back when an instance expires',
    description: "Sets the instance to expire `lifetimeSeconds` from now (default: the allocator's default lifetime), up to its maximum.",
    body: {
      name: instanceName('The instance to extend.'),
      lifetimeSeconds: seconds('Seconds from now until it expires.', 1),
    },
    answer: { status: 200, schema: 'Instance', description: 'The instance with its new expiry.' },
    errors: [404, 409, 500, 503],
  },
  resume: {
    function: 'create',
    path: '/resume',
    methods: ['POST'],
    requires: 'caller',
    adminAction: 'resume instances',
    summary: 'Bring a suspended instance back',
    description: "Scales the instance back to its template's replicas and by default waits until it is ready.",
    body: { name: instanceName('The instance to resume.'), ...waitFields },
    progress: true,
    answer: { status: 200, schema: 'Instance', description: 'The instance, ready unless `wait` was false.' },
    errors: [...instanceErrors, 504],
  },
  restart: {
    function: 'create',
    path: '/restart',
    methods: ['POST'],
    requires: 'caller',
    adminAction: 'restart instances',
    summary: "Restart an instance's pods, keeping its disk",
    description:
      'Rolls the instance out again, as `kubectl rollout restart` does: its pods are made anew on the same disk (reset, by contrast, ' +
      'wipes the disk). By default it waits until the instance is ready again.',
    body: { name: instanceName('The instance to restart.'), ...waitFields },
    progress: true,
    answer: { status: 200, schema: 'Instance', description: 'The instance, ready unless `wait` was false.' },
    errors: [400, ...instanceErrors, 504],
  },
  share: {
    function: 'create',
    path: '/share',
    methods: ['POST'],
    requires: 'caller',
    adminAction: "share other people's instances",
    summary: 'Share an instance with other people',
    description:
      "Adds each email to the instance's access list, after its owner and in the same format; each sees it in their own list and may extend, " +
      'suspend and resume it. The template is rendered again, so a running instance restarts its pod; its disk stays. ' +
      'Only its owner or an admin may share it, with allowed callers only, at most ALLOCATOR_MAX_COLLABORATORS (10) people. ' +
      'Sharing with someone who has it already changes nothing.',
    body: { name: instanceName('The instance to share.'), emails: emails('Who to share it with.') },
    answer: { status: 200, schema: 'Instance', description: 'The instance, with its collaborators.' },
    errors: instanceErrors,
  },
  unshare: {
    function: 'create',
    path: '/unshare',
    methods: ['POST'],
    requires: 'caller',
    adminAction: "unshare other people's instances",
    summary: 'Stop sharing an instance with people',
    description:
      "Takes each email off the instance's access list and their lists. The template is rendered again, so a running instance restarts its pod; " +
      'its disk stays. An email it was not shared with changes nothing.',
    body: { name: instanceName('The instance to unshare.'), emails: emails('Who to take off it.') },
    answer: { status: 200, schema: 'Instance', description: 'The instance, with its collaborators.' },
    errors: instanceErrors,
  },
  transfer: {
    function: 'create',
    path: '/transfer',
    methods: ['POST'],
    requires: 'caller',
    adminAction: "transfer other people's instances",
    summary: 'Give an instance to someone else',
    description:
      "Claims a slot of the new owner's per-user limit (their 429 if they are at it, and nothing changes), then makes them the owner: " +
      'owner labels and annotations and the access list, the template rendered again (a running instance restarts its pod; its disk stays), ' +
      "then lets the old owner's slot go. The creator stays recorded. Only its owner or an admin may transfer it, to an allowed caller. " +
      'A retry finishes an interrupted transfer, and one already done changes nothing.',
    body: { name: instanceName('The instance to transfer.'), to: email('The email of the new owner.') },
    answer: {
      status: 200,
      schema: 'TransferAnswer',
      description: "The instance, with its new owner; to the previous owner's re-sent request, only its name and new owner.",
    },
    errors: [...instanceErrors, 429],
  },
  destroy: {
    function: 'destroy',
    path: '/',
    methods: ['POST', 'DELETE'],
    requires: 'caller',
    adminAction: 'destroy instances',
    summary: 'Destroy an instance',
    description:
      'Deletes the Deployment (its pods first), then its disk, then lets its slots go. With a restore window, ' +
      'the disk is kept until the window ends, and `restore` can bring the instance back; `now` skips the window. ' +
      'A destroy of an instance destroyed already answers as the first did; with `now`, it deletes the kept disk for good.',
    body: {
      name: instanceName('The instance to destroy.'),
      now: flag('Delete the disk now, even with a restore window: the destroy is final.', false),
    },
    answer: { status: 200, schema: 'Destroyed', description: 'The instance is gone; its disk too, unless kept for a restore.' },
    // 429: a Compute Engine 429 that names no rate limit is a quota, and is answered as one.
    errors: [...instanceErrors, 429, 504],
  },
  restore: {
    function: 'create',
    path: '/restore',
    methods: ['POST'],
    requires: 'caller',
    adminAction: 'restore instances',
    summary: 'Bring a destroyed instance back on its disk',
    description:
      'Within the restore window after a destroy: makes the instance again with the same name, mount name and owner, ' +
      'on the same disk. It claims slots again (the limits apply) and gets a fresh lifetime. ' +
      'Past the window, or after a destroy with `now`, there is nothing to restore (404).',
    body: {
      name: instanceName('The destroyed instance to restore.'),
      ...waitFields,
      lifetimeSeconds: seconds("Seconds until the cleanup sweep destroys it; 0: never. Default: the allocator's.", 0),
    },
    progress: true,
    answer: { status: 200, schema: 'Instance', description: 'The instance, ready unless `wait` was false.' },
    errors: [...instanceErrors, 429, 504],
  },
  suspend: {
    function: 'destroy',
    path: '/suspend',
    methods: ['POST'],
    requires: 'caller',
    adminAction: 'suspend instances',
    summary: 'Scale an instance to 0, keeping its disk',
    description: 'The instance keeps its disk, name and mount name, and still counts toward the limits.',
    body: { name: instanceName('The instance to suspend.') },
    answer: { status: 200, schema: 'Instance', description: 'The instance, suspended.' },
    errors: instanceErrors,
  },
  reset: {
    function: 'destroy',
    path: '/reset',
    methods: ['POST'],
    requires: 'caller',
    adminAction: 'reset instances',
    summary: "Wipe an instance's disk and start it again",
    description:
      'Scales the instance to 0, deletes its disk once detached, makes a fresh one with the same name, and scales back. ' +
      'Its name, mount name, owner, access list and expiry stay.',
    body: { name: instanceName('The instance to reset.'), ...waitFields },
    progress: true,
    answer: { status: 200, schema: 'Instance', description: 'The instance, ready unless `wait` was false.' },
    errors: [...instanceErrors, 429, 504],
  },
  sweep: {
    function: 'destroy',
    path: '/sweep',
    methods: ['POST'],
    requires: 'admin',
    adminAction: "sweep (such as the cleanup scheduler's service account)",
    summary: 'Destroy expired instances and remove orphans (admins)',
    description: 'Destroys expired instances and removes disks, Deployments and slots left without their instance.',
    body: { dryRun: flag('Report what would be removed, and remove nothing.', false) },
    answer: { status: 200, schema: 'SweepReport', description: 'What the sweep did, or would do.' },
    // 429: its scan of the disks met a Compute Engine 429 that names no rate limit, a quota (as for destroy).
    errors: [409, 429, 500, 503],
  },
  list: {
    function: 'list',
    path: '/',
    methods: ['GET'],
    requires: 'caller',
    adminWhen: ['all'],
    adminAction: 'list all instances',
    summary: 'List your instances',
    description: 'Your instances, newest first, with what keeps any of them from becoming ready.',
    query: { all: queryFlag("Every user's instances (admins only).", false) },
    answer: { status: 200, schema: 'InstanceList', description: 'The instances, newest first.' },
    errors: [500, 503],
  },
  destroyed: {
    function: 'list',
    path: '/destroyed',
    methods: ['GET'],
    requires: 'caller',
    adminWhen: ['all'],
    adminAction: "list everyone's destroyed instances",
    summary: 'List your destroyed instances that can be restored',
    description:
      'Instances destroyed within the restore window, whose disks are kept, newest destroy first, with until when each can be restored.',
    query: { all: queryFlag("Every user's (admins only).", false) },
    answer: { status: 200, schema: 'DestroyedList', description: 'The destroyed instances, newest destroy first.' },
    errors: [500, 503],
  },
  logs: {
    function: 'list',
    path: '/logs',
    methods: ['GET'],
    requires: 'caller',
    adminAction: "read other people's instances' logs",
    summary: "Read an instance's logs",
    description:
      "The logs of the instance's pod (its newest), streamed as the Kubernetes log API sends them: each line starts with its RFC 3339 " +
      'time. Its owner, its collaborators and admins may read them; to anyone else it is not found (404). ' +
      'With `follow`, the stream stays open and carries new lines until the list function ends it, shortly before its own timeout; ' +
      "to go on, ask again with `sinceTime` set to the last line's time and drop the lines up to and including that line " +
      "(the CLI and the typed client do). An unknown `container` is a 400 that names the pod's containers.",
    query: {
      name: instanceName('The instance whose logs to read.'),
      follow: queryFlag('Keep the stream open and send new lines as they are written.', false),
      since: duration(`Only lines written within this long before now, such as ${DURATION_EXAMPLES}.`),
      sinceTime: sinceTime("Only lines written at or after this time (a resume sends its last line's time); not with `since`."),
      tailLines: lineCount('Only the last this many lines (before following).'),
      container: containerName("Which of the pod's containers; default its first."),
    },
    answer: {
      status: 200,
      schema: 'LogLines',
      description: 'The lines, each `<RFC 3339 time> <text>`, streamed as they come.',
      contentType: 'text/plain; charset=utf-8',
      headers: {
        'X-Allocator-Follow-Until': {
          description:
            'With `follow`: when the list function will end the stream. One that ends earlier has no more to give (the container stopped); ' +
            'one that ends then is resumed with `sinceTime`.',
          format: 'date-time',
        },
      },
    },
    errors: [404, 500, 503],
  },
  events: {
    function: 'list',
    path: '/events',
    methods: ['GET'],
    requires: 'caller',
    adminAction: "read other people's instances' events",
    summary: 'Show what happened to an instance',
    description:
      'What Kubernetes reported about the instance (the events of its Deployment, its pods and its Services, kept by Kubernetes for ' +
      "about an hour), in plain words rather than Kubernetes' own, oldest first, each repeat folded into a count. " +
      'Its owner, its collaborators and admins may read them; to anyone else it is not found (404).',
    query: { name: instanceName('The instance whose events to show.') },
    answer: { status: 200, schema: 'ClusterEventList', description: 'The events, oldest first.' },
    errors: [404, 500, 503],
  },
  watch: {
    function: 'list',
    path: '/watch',
    methods: ['GET'],
    requires: 'caller',
    adminWhen: ['all'],
    adminAction: 'watch all instances',
    summary: 'Watch your instances change',
    description:
      'The instances list shows you, as server-sent events: on connect one `instance` event for each, then `synced` with all their ' +
      'names; then an `instance` event (the instance whole, as list shows it) each time one changes, and `deleted` (its name) when ' +
      "one goes or you no longer see it. Each event's `id` says where the stream stands: resume with `since` (or `Last-Event-ID`) set " +
      'to the last id read, and nothing is missed or sent twice; if the cluster no longer holds that history, everything is sent ' +
      'again, closed by `synced`. The list function ends the stream shortly before its own timeout (`X-Allocator-Follow-Until`).',
    query: {
      all: queryFlag("Every user's instances (admins only).", false),
      since: watchSince('The `id` of the last event read: go on from there, without the listing of a new watch.'),
    },
    lastEventId: true,
    answer: {
      status: 200,
      schema: 'InstanceEvents',
      description: 'Server-sent events `instance`, `deleted` and `synced`, each `data` one line of JSON, sent as they happen.',
      contentType: 'text/event-stream',
      headers: {
        'X-Allocator-Follow-Until': {
          description: 'When the list function will end the stream; the client then resumes with `since`.',
          format: 'date-time',
        },
      },
    },
    errors: [500, 503],
  },
} as const satisfies Record<string, OperationSpec>;

export type OperationId = keyof typeof OPERATIONS;

/** The statuses any operation may answer: a bad body, no or a bad token, no access, wrong method, too large a body. */
export const COMMON_ERRORS = [400, 401, 403, 405, 413] as const;

/** The operations each function serves. */
export type OperationOf<F extends FunctionName> = {
  [K in OperationId]: (typeof OPERATIONS)[K]['function'] extends F ? K : never;
}[OperationId];

export function operationsOf<F extends FunctionName>(fn: F): OperationOf<F>[] {
  return (Object.keys(OPERATIONS) as OperationId[]).filter((id) => OPERATIONS[id].function === fn) as OperationOf<F>[];
}

type BodyOf<K extends OperationId> = (typeof OPERATIONS)[K] extends { body: infer B extends FieldSet } ? Parsed<B> : object;
type QueryOf<K extends OperationId> = (typeof OPERATIONS)[K] extends { query: infer Q extends FieldSet } ? Parsed<Q> : object;

/** What an operation's request parses into: its body's fields, its query's, and its Idempotency-Key if it takes one. */
export type RequestOf<K extends OperationId> = BodyOf<K> &
  QueryOf<K> &
  ((typeof OPERATIONS)[K] extends { idempotent: true } ? { idempotencyKey?: string } : object);

/** What a caller may send, before defaults: every field optional where the table says so. */
export type RequestInputOf<K extends OperationId> = Partial<BodyOf<K>> & Partial<QueryOf<K>>;

/** The URL of an operation, given its function's. */
export function operationUrl(functionUrls: Readonly<Record<FunctionName, string>>, operation: OperationId): string {
  const spec: OperationSpec = OPERATIONS[operation];
  return `${functionUrls[spec.function]}${spec.path === '/' ? '' : spec.path}`;
}

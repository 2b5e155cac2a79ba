import { createHash, randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { FilterSyntaxError, parseComputeFilter } from './compute-filter.ts';
import { closeServer, listenOnLoopback, readBody, sendJson } from './http.ts';

/**
 * A local emulator of the Compute Engine v1 disks REST API (disks insert, get,
 * list, delete, setLabels; zoneOperations get and wait) for the real `@google-cloud/compute`
 * client. It holds snapshots and images too (`addSnapshot`, `addImage`, or
 * `POST /emulator/snapshots` and `/emulator/images`), for disks made from one. Its state lives in memory only and is gone when it stops. Any bearer
 * token is accepted; a request without one gets the real 401.
 */
export interface DisksEmulator {
  /** e.g. `http://127.0.0.1:41234`; clients use host and port as their apiEndpoint. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Makes the next `count` calls of `method` fail or slow down. */
  injectFault(fault: FaultSpec): void;
  clearFaults(): void;
  /** Marks a disk as in use by an instance, as attaching it to a VM would. */
  attachDisk(target: DiskRef, instance: string): void;
  detachDisk(target: DiskRef, instance: string): void;
  /** Holds a snapshot that disks can be made from (`sourceSnapshot`); its disks are `diskSizeGb` (default 10) or larger. */
  addSnapshot(project: string, name: string, options?: { diskSizeGb?: number }): SourceResource;
  /** Holds an image that disks can be made from (`sourceImage`), in a family if given (the newest one of a family is used). */
  addImage(project: string, name: string, options?: { family?: string; diskSizeGb?: number }): SourceResource;
  /** Snapshot of the disks of one zone (all zones when omitted). */
  disks(where?: { project: string; zone: string }): Disk[];
  /** How many calls of each method arrived. */
  readonly calls: Readonly<Record<string, number>>;
  reset(): void;
  stop(): Promise<void>;
}

export const EMULATED_METHODS = [
  'disks.insert',
  'disks.get',
  'disks.list',
  'disks.delete',
  'disks.setLabels',
  'zoneOperations.get',
  'zoneOperations.wait',
] as const;
export type EmulatedMethod = (typeof EMULATED_METHODS)[number];

export interface FaultSpec {
  method: EmulatedMethod;
  /** How many calls it affects; default 1. */
  count?: number;
  /** `http`: answer with an HTTP error (default). `operation`: accept the call, then end its Operation with an error. `drop`: do the work, then cut the connection before answering. `latency`: only delay. */
  kind?: 'http' | 'operation' | 'drop' | 'latency';
  /** For `http`; default 503. */
  status?: number;
  /** The error reason; default `backendError` for http, `QUOTA_EXCEEDED` for operation. */
  reason?: string;
  /** Extra delay before answering, for any kind. */
  latencyMs?: number;
}

export interface DiskRef {
  project: string;
  zone: string;
  name: string;
}

/** A snapshot or an image, as far as a disk made from it needs. */
export interface SourceResource {
  id: string;
  name: string;
  selfLink: string;
  diskSizeGb: string;
  family?: string;
  creationTimestamp: string;
}

export interface Disk {
  kind: 'compute#disk';
  id: string;
  creationTimestamp: string;
  name: string;
  description?: string;
  sizeGb: string;
  zone: string;
  status: 'CREATING' | 'READY' | 'DELETING';
  selfLink: string;
  type: string;
  labels?: Record<string, string>;
  labelFingerprint: string;
  users?: string[];
  physicalBlockSizeBytes: string;
  sourceSnapshot?: string;
  sourceSnapshotId?: string;
  sourceImage?: string;
  sourceImageId?: string;
}

interface Operation {
  kind: 'compute#operation';
  id: string;
  name: string;
  zone: string;
  operationType: OperationType;
  targetLink: string;
  targetId: string;
  status: 'PENDING' | 'RUNNING' | 'DONE';
  user: string;
  progress: number;
  insertTime: string;
  startTime: string;
  endTime?: string;
  selfLink: string;
  error?: { errors: { code: string; message: string }[] };
  httpErrorStatusCode?: number;
  httpErrorMessage?: string;
}

type OperationType = 'insert' | 'delete' | 'setLabels';

class ComputeError extends Error {
  readonly status: number;
  readonly reason: string;
  /** Where the refused input was, for a precondition: `If-Match` in a `header`. */
  readonly location: { readonly location: string; readonly locationType: string } | undefined;
  constructor(status: number, reason: string, message: string, location?: { location: string; locationType: string }) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.location = location;
  }
}

const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const WAIT_LIMIT_MS = 120_000;

export interface DisksEmulatorOptions {
  /**
   * How long an operation runs before it is DONE: one figure, or one per kind
   * (a real disk insert takes about 2 s, a delete about 1 s; setLabels
   * defaults to the insert's). Default 25 ms.
   */
  operationDelayMs?: number | { readonly insert: number; readonly delete: number; readonly setLabels?: number };
  port?: number;
}

export async function startDisksEmulator(options: DisksEmulatorOptions = {}): Promise<DisksEmulator> {
  const delays = options.operationDelayMs ?? 25;
  const operationDelayMs = (type: OperationType): number =>
    typeof delays === 'number' ? delays : type === 'setLabels' ? (delays.setLabels ?? delays.insert) : delays[type];
  const disks = new Map<string, Disk>();
  /** Snapshots and images by `project/name`. */
  const sources = { snapshots: new Map<string, SourceResource>(), images: new Map<string, SourceResource>() };
  const operations = new Map<string, { op: Operation; done: Promise<void> }>();
  const requestIds = new Map<string, Operation>();
  const faults: (FaultSpec & { count: number })[] = [];
  const calls: Record<string, number> = {};
  let baseUrl = '';

  const key = (ref: DiskRef): string => `${ref.project}/${ref.zone}/${ref.name}`;
  const zoneLink = (project: string, zone: string): string => `${baseUrl}/compute/v1/projects/${project}/zones/${zone}`;
  const globalLink = (project: string): string => `${baseUrl}/compute/v1/projects/${project}/global`;
  const now = (): string => new Date().toISOString();
  const numericId = (): string => `${randomInt(1, 9)}${Array.from({ length: 18 }, () => randomInt(0, 10)).join('')}`;

  function takeFault(method: EmulatedMethod): FaultSpec | undefined {
    const index = faults.findIndex((fault) => fault.method === method);
    if (index < 0) return undefined;
    const fault = faults[index];
    if (!fault) return undefined;
    fault.count -= 1;
    if (fault.count <= 0) faults.splice(index, 1);
    return fault;
  }

  function startOperation(options: {
    project: string;
    zone: string;
    type: OperationType;
    target: Disk;
    requestId?: string;
    failWith?: { reason: string };
    complete: () => void;
  }): Operation {
    const name = `operation-${Date.now()}-${randomBytes(6).toString('hex')}-${randomBytes(4).toString('hex')}`;
    const op: Operation = {
      kind: 'compute#operation',
      id: numericId(),
      name,
      zone: zoneLink(options.project, options.zone),
      operationType: options.type,
      targetLink: options.target.selfLink,
      targetId: options.target.id,
      status: 'RUNNING',
      user: 'emulator@allocator.test',
      progress: 0,
      insertTime: now(),
      startTime: now(),
      selfLink: `${zoneLink(options.project, options.zone)}/operations/${name}`,
    };
    const done = new Promise<void>((resolve) => {
      setTimeout(() => {
        if (options.failWith) {
          op.error = { errors: [{ code: options.failWith.reason, message: `Injected failure: ${options.failWith.reason}` }] };
          op.httpErrorStatusCode = 403;
          op.httpErrorMessage = 'FORBIDDEN';
        } else {
          options.complete();
        }
        op.status = 'DONE';
        op.progress = 100;
        op.endTime = now();
        resolve();
      }, operationDelayMs(options.type)).unref();
    });
    operations.set(`${options.project}/${options.zone}/${name}`, { op, done });
    if (options.requestId) requestIds.set(options.requestId, op);
    return op;
  }

  type Route = { method: EmulatedMethod; params: Record<string, string> };
  function route(httpMethod: string, path: string): Route | undefined {
    const match = /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/(disks|operations)(?:\/([^/]+))?(\/wait|\/setLabels)?$/.exec(path);
    if (!match) return undefined;
    const [, project = '', zone = '', collection, name, action] = match;
    const wait = action === '/wait';
    const setLabels = action === '/setLabels';
    const params = {
      project: decodeURIComponent(project),
      zone: decodeURIComponent(zone),
      name: name === undefined ? '' : decodeURIComponent(name),
    };
    if (collection === 'disks' && !action) {
      if (name === undefined && httpMethod === 'POST') return { method: 'disks.insert', params };
      if (name === undefined && httpMethod === 'GET') return { method: 'disks.list', params };
      if (name !== undefined && httpMethod === 'GET') return { method: 'disks.get', params };
      if (name !== undefined && httpMethod === 'DELETE') return { method: 'disks.delete', params };
    }
    if (collection === 'disks' && name !== undefined && httpMethod === 'POST' && setLabels) return { method: 'disks.setLabels', params };
    if (collection === 'operations' && name !== undefined) {
      if (!wait && httpMethod === 'GET') return { method: 'zoneOperations.get', params };
      if (wait && httpMethod === 'POST') return { method: 'zoneOperations.wait', params };
    }
    return undefined;
  }

  async function serve(
    method: EmulatedMethod,
    params: Record<string, string>,
    url: URL,
    req: IncomingMessage,
    fault: FaultSpec | undefined,
  ): Promise<unknown> {
    const { project = '', zone = '', name = '' } = params;
    const diskPath = (diskName: string): string => `projects/${project}/zones/${zone}/disks/${diskName}`;
    switch (method) {
      case 'disks.insert': {
        const body = parseJson(await readBody(req));
        const requestId = url.searchParams.get('requestId') ?? undefined;
        const repeated = requestId ? requestIds.get(requestId) : undefined;
        if (repeated) return repeated;
        const disk = validateDisk(body, { project, zone, selfLinkBase: zoneLink(project, zone) });
        if (disks.has(key({ project, zone, name: disk.name }))) {
          throw new ComputeError(409, 'alreadyExists', `The resource '${diskPath(disk.name)}' already exists`);
        }
        const failing = fault?.kind === 'operation';
        if (!failing) disks.set(key({ project, zone, name: disk.name }), disk);
        return startOperation({
          project,
          zone,
          type: 'insert',
          target: disk,
          ...(requestId ? { requestId } : {}),
          ...(failing ? { failWith: { reason: fault.reason ?? 'QUOTA_EXCEEDED' } } : {}),
          complete: () => {
            disk.status = 'READY';
          },
        });
      }
      case 'disks.get': {
        const disk = disks.get(key({ project, zone, name }));
        if (!disk) throw new ComputeError(404, 'notFound', `The resource '${diskPath(name)}' was not found`);
        return disk;
      }
      case 'disks.list': {
        let filter;
        try {
          filter = parseComputeFilter(url.searchParams.get('filter') ?? undefined);
        } catch (error) {
          if (error instanceof FilterSyntaxError) throw new ComputeError(400, 'invalid', error.message);
          throw error;
        }
        const maxResults = Math.min(Number(url.searchParams.get('maxResults') ?? 500), 500);
        if (!Number.isInteger(maxResults) || maxResults < 0) throw new ComputeError(400, 'invalid', "Invalid value for field 'maxResults'");
        const pageToken = url.searchParams.get('pageToken');
        const after = pageToken ? Buffer.from(pageToken, 'base64url').toString('utf8') : '';
        const matching = [...disks.values()]
          .filter(
            (disk) => disk.zone === zoneLink(project, zone) && disk.name > after && filter(disk as unknown as Record<string, unknown>),
          )
          .sort((a, b) => a.name.localeCompare(b.name));
        const items = matching.slice(0, maxResults);
        const last = items.at(-1);
        return {
          kind: 'compute#diskList',
          id: `projects/${project}/zones/${zone}/disks`,
          selfLink: `${zoneLink(project, zone)}/disks`,
          ...(items.length > 0 ? { items } : {}),
          ...(matching.length > items.length && last ? { nextPageToken: Buffer.from(last.name).toString('base64url') } : {}),
        };
      }
      case 'disks.delete': {
        const requestId = url.searchParams.get('requestId') ?? undefined;
        const repeated = requestId ? requestIds.get(requestId) : undefined;
        if (repeated) return repeated;
        const diskKey = key({ project, zone, name });
        const disk = disks.get(diskKey);
        if (!disk) throw new ComputeError(404, 'notFound', `The resource '${diskPath(name)}' was not found`);
        if (disk.users && disk.users.length > 0) {
          throw new ComputeError(
            400,
            'resourceInUseByAnotherResource',
            `The disk resource '${diskPath(name)}' is already being used by '${disk.users[0]}'`,
          );
        }
        const failing = fault?.kind === 'operation';
        if (!failing) disk.status = 'DELETING';
        return startOperation({
          project,
          zone,
          type: 'delete',
          target: disk,
          ...(requestId ? { requestId } : {}),
          ...(failing ? { failWith: { reason: fault.reason ?? 'INTERNAL_ERROR' } } : {}),
          complete: () => {
            disks.delete(diskKey);
          },
        });
      }
      case 'disks.setLabels': {
        const body = parseJson(await readBody(req));
        const requestId = url.searchParams.get('requestId') ?? undefined;
        const repeated = requestId ? requestIds.get(requestId) : undefined;
        if (repeated) return repeated;
        const disk = disks.get(key({ project, zone, name }));
        if (!disk) throw new ComputeError(404, 'notFound', `The resource '${diskPath(name)}' was not found`);
        const labels = validateLabels(body.labels ?? {}, 'labels');
        // Checked and taken when the call is accepted, so that of two calls with one fingerprint only one gets through.
        if (body.labelFingerprint !== disk.labelFingerprint)
          throw new ComputeError(412, 'conditionNotMet', 'Labels fingerprint either invalid or resource labels have changed', {
            location: 'If-Match',
            locationType: 'header',
          });
        const failing = fault?.kind === 'operation';
        if (!failing) {
          if (Object.keys(labels).length > 0) disk.labels = labels;
          else delete disk.labels;
          disk.labelFingerprint = labelFingerprintOf(labels);
        }
        return startOperation({
          project,
          zone,
          type: 'setLabels',
          target: disk,
          ...(requestId ? { requestId } : {}),
          ...(failing ? { failWith: { reason: fault.reason ?? 'INTERNAL_ERROR' } } : {}),
          complete: () => undefined,
        });
      }
      case 'zoneOperations.get':
      case 'zoneOperations.wait': {
        const entry = operations.get(`${project}/${zone}/${name}`);
        if (!entry)
          throw new ComputeError(404, 'notFound', `The resource 'projects/${project}/zones/${zone}/operations/${name}' was not found`);
        if (method === 'zoneOperations.wait') {
          // Like the real API, wait returns when the operation is done or after about two minutes.
          await Promise.race([entry.done, new Promise((resolve) => setTimeout(resolve, WAIT_LIMIT_MS).unref())]);
        }
        return entry.op;
      }
    }
  }

  const server = createServer((req, res) => void handle(req, res));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    if (url.pathname === '/emulator' && req.method === 'GET') {
      sendJson(res, 200, { storage: 'memory', note: 'state is kept in memory and lost when the emulator stops', disks: disks.size });
      return;
    }
    if (url.pathname === '/emulator/faults' && req.method === 'POST') {
      try {
        injectFault(parseJson(await readBody(req)) as unknown as FaultSpec);
        sendJson(res, 200, { faults });
      } catch (error) {
        sendComputeError(res, error instanceof ComputeError ? error : new ComputeError(400, 'invalid', String(error)));
      }
      return;
    }
    const addSource = /^\/emulator\/(snapshots|images)$/.exec(url.pathname);
    if (addSource && req.method === 'POST') {
      try {
        const body = parseJson(await readBody(req)) as { project?: unknown; name?: unknown; family?: unknown; diskSizeGb?: unknown };
        if (typeof body.project !== 'string' || typeof body.name !== 'string' || !NAME.test(body.name))
          throw new ComputeError(400, 'invalid', 'give "project" and "name" (a resource name)');
        const options = {
          ...(typeof body.diskSizeGb === 'number' ? { diskSizeGb: body.diskSizeGb } : {}),
          ...(typeof body.family === 'string' ? { family: body.family } : {}),
        };
        sendJson(
          res,
          200,
          addSource[1] === 'snapshots' ? addSnapshot(body.project, body.name, options) : addImage(body.project, body.name, options),
        );
      } catch (error) {
        sendComputeError(res, error instanceof ComputeError ? error : new ComputeError(400, 'invalid', String(error)));
      }
      return;
    }
    const matched = route(req.method ?? 'GET', url.pathname);
    if (!matched) {
      sendComputeError(res, new ComputeError(404, 'notFound', `The requested URL ${url.pathname} was not found on this server.`));
      return;
    }
    calls[matched.method] = (calls[matched.method] ?? 0) + 1;
    if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) {
      sendComputeError(
        res,
        new ComputeError(
          401,
          'required',
          'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        ),
      );
      return;
    }
    const fault = takeFault(matched.method);
    if (fault?.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    if (fault?.kind === undefined || fault.kind === 'http') {
      if (fault) {
        sendComputeError(res, new ComputeError(fault.status ?? 503, fault.reason ?? 'backendError', `Injected fault on ${matched.method}`));
        return;
      }
    }
    try {
      const body = await serve(matched.method, matched.params, url, req, fault);
      if (fault?.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      sendJson(res, 200, body);
    } catch (error) {
      sendComputeError(res, error instanceof ComputeError ? error : new ComputeError(500, 'internalError', String(error)));
    }
  }

  function injectFault(fault: FaultSpec): void {
    if (!EMULATED_METHODS.includes(fault.method))
      throw new ComputeError(400, 'invalid', `unknown method ${String(fault.method)}; one of ${EMULATED_METHODS.join(', ')}`);
    faults.push({ ...fault, count: fault.count ?? 1 });
  }

  function addSource(
    kind: 'snapshots' | 'images',
    project: string,
    name: string,
    options: { family?: string; diskSizeGb?: number },
  ): SourceResource {
    const resource: SourceResource = {
      id: numericId(),
      name,
      selfLink: `${globalLink(project)}/${kind}/${name}`,
      diskSizeGb: String(options.diskSizeGb ?? 10),
      ...(options.family === undefined ? {} : { family: options.family }),
      creationTimestamp: now(),
    };
    sources[kind].set(`${project}/${name}`, resource);
    return structuredClone(resource);
  }
  const addSnapshot = (project: string, name: string, options: { diskSizeGb?: number } = {}): SourceResource =>
    addSource('snapshots', project, name, options);
  const addImage = (project: string, name: string, options: { family?: string; diskSizeGb?: number } = {}): SourceResource =>
    addSource('images', project, name, options);

  /**
   * Resolves a disk's sourceSnapshot or sourceImage as Compute Engine does: a
   * full URL or a partial path (`projects/p/global/...` or `global/...`, in the
   * disk's project); an image family stands for its newest image. A value of
   * another shape is a 400 `invalid`, one that names nothing a 404 `notFound`.
   */
  function resolveSource(field: 'sourceSnapshot' | 'sourceImage', value: unknown, diskProject: string): SourceResource {
    const text = String(value);
    const path = text.replace(/^https:\/\/(?:www|compute)\.googleapis\.com\/compute\/v1\//, '').replace(`${baseUrl}/compute/v1/`, '');
    const kind = field === 'sourceSnapshot' ? 'snapshots' : 'images';
    const match = new RegExp(`^(?:projects/([^/]+)/)?global/${kind}/(${kind === 'images' ? '(?:family/)?' : ''}[^/]+)$`).exec(path);
    if (typeof value !== 'string' || !match)
      throw new ComputeError(400, 'invalid', `Invalid value for field 'resource.${field}': '${text}'. The URL is malformed.`);
    const [, project = diskProject, name = ''] = match;
    const family = name.startsWith('family/') ? name.slice('family/'.length) : undefined;
    const found =
      family === undefined
        ? sources[kind].get(`${project}/${name}`)
        : [...sources[kind].entries()]
            .filter(([at, image]) => at.startsWith(`${project}/`) && image.family === family)
            .map(([, image]) => image)
            .sort((a, b) => b.creationTimestamp.localeCompare(a.creationTimestamp))[0];
    if (!found) throw new ComputeError(404, 'notFound', `The resource 'projects/${project}/global/${kind}/${name}' was not found`);
    return found;
  }

  baseUrl = await listenOnLoopback(server, options.port);
  const { port } = new URL(baseUrl);
  const findDisk = (ref: DiskRef): Disk => {
    const disk = disks.get(key(ref));
    if (!disk) throw new Error(`no disk ${key(ref)}`);
    return disk;
  };
  return {
    url: baseUrl,
    host: '127.0.0.1',
    port: Number(port),
    injectFault,
    clearFaults: () => void faults.splice(0),
    addSnapshot,
    addImage,
    attachDisk: (ref, instance) => {
      const disk = findDisk(ref);
      disk.users = [...(disk.users ?? []), instance];
    },
    detachDisk: (ref, instance) => {
      const disk = findDisk(ref);
      const users = (disk.users ?? []).filter((user) => user !== instance);
      if (users.length > 0) disk.users = users;
      else delete disk.users;
    },
    disks: (where) =>
      [...disks.values()]
        .filter((disk) => !where || disk.zone === zoneLink(where.project, where.zone))
        .map((disk) => structuredClone(disk)),
    get calls() {
      return { ...calls };
    },
    reset: () => {
      disks.clear();
      sources.snapshots.clear();
      sources.images.clear();
      operations.clear();
      requestIds.clear();
      faults.splice(0);
      for (const method of Object.keys(calls)) delete calls[method];
    },
    stop: () => closeServer(server),
  };

  function validateDisk(body: Record<string, unknown>, where: { project: string; zone: string; selfLinkBase: string }): Disk {
    const { name, sizeGb, type, labels, description, sourceSnapshot, sourceImage } = body;
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new ComputeError(
        400,
        'invalid',
        `Invalid value for field 'resource.name': '${String(name)}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`,
      );
    }
    if (sourceSnapshot !== undefined && sourceImage !== undefined)
      throw new ComputeError(
        400,
        'invalid',
        "Invalid value for field 'resource': only one of sourceSnapshot and sourceImage may be given.",
      );
    const source =
      sourceSnapshot !== undefined
        ? { field: 'sourceSnapshot' as const, kind: 'snapshot', resource: resolveSource('sourceSnapshot', sourceSnapshot, where.project) }
        : sourceImage !== undefined
          ? { field: 'sourceImage' as const, kind: 'image', resource: resolveSource('sourceImage', sourceImage, where.project) }
          : undefined;
    const size = sizeGb === undefined ? (source?.resource.diskSizeGb ?? '10') : String(sizeGb);
    if (!/^[1-9]\d*$/.test(size)) throw new ComputeError(400, 'invalid', `Invalid value for field 'resource.sizeGb': '${size}'.`);
    if (source && Number(size) < Number(source.resource.diskSizeGb))
      throw new ComputeError(
        400,
        'invalid',
        `Invalid value for field 'resource.sizeGb': '${size}'. Requested disk size cannot be smaller than the ${source.kind} size (${source.resource.diskSizeGb} GB).`,
      );
    const validLabels = labels === undefined ? undefined : validateLabels(labels, 'resource.labels');
    const diskType = typeof type === 'string' && type !== '' ? type.replace(/^.*\/diskTypes\//, '') : 'pd-standard';
    return {
      kind: 'compute#disk',
      id: numericId(),
      creationTimestamp: now(),
      name,
      ...(typeof description === 'string' ? { description } : {}),
      sizeGb: size,
      zone: where.selfLinkBase,
      status: 'CREATING',
      selfLink: `${where.selfLinkBase}/disks/${name}`,
      type: `${where.selfLinkBase}/diskTypes/${diskType}`,
      ...(validLabels ? { labels: validLabels } : {}),
      labelFingerprint: labelFingerprintOf(validLabels ?? {}),
      physicalBlockSizeBytes: '4096',
      ...(source ? { [source.field]: source.resource.selfLink, [`${source.field}Id`]: source.resource.id } : {}),
    };
  }
}

function validateLabels(labels: unknown, field: string): Record<string, string> {
  if (labels === null || typeof labels !== 'object') throw new ComputeError(400, 'invalid', `Invalid value for field '${field}'`);
  for (const [labelKey, labelValue] of Object.entries(labels)) {
    if (!LABEL_KEY.test(labelKey) || typeof labelValue !== 'string' || !LABEL_VALUE.test(labelValue)) {
      throw new ComputeError(
        400,
        'invalid',
        `Invalid value for field '${field}': '${labelKey}'. Label keys and values can only contain lowercase letters, numeric characters, underscores and dashes.`,
      );
    }
  }
  return { ...(labels as Record<string, string>) };
}

/** Like Compute Engine's: a hash of the labels (base64 of 8 bytes), so equal labels have one fingerprint. */
function labelFingerprintOf(labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((labelKey) => [labelKey, labels[labelKey]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest().subarray(0, 8).toString('base64');
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text === '' ? '{}' : text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ComputeError(400, 'parseError', 'This API does not support parsing form-encoded input.');
}

/**
 * Compute Engine's own errors carry code, message and errors[] but no
 * `status` (so gax maps the HTTP code: 409 becomes ABORTED). Only the 401 of
 * Google's front end, before Compute Engine sees the call, has one.
 */
function sendComputeError(res: ServerResponse, error: ComputeError): void {
  sendJson(res, error.status, {
    error: {
      code: error.status,
      message: error.message,
      errors: [{ message: error.message, domain: 'global', reason: error.reason, ...error.location }],
      ...(error.status === 401 ? { status: 'UNAUTHENTICATED' } : {}),
    },
  });
}

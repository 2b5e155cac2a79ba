import { randomUUID } from 'node:crypto';
import type { DisksClient, ZoneOperationsClient } from '@google-cloud/compute';
import type { AuthClient } from 'google-auth-library';
import { systemClock, type Clock } from '../clock.ts';
import { DeadlineExceededError, NotFoundError, UnavailableError } from '../errors.ts';
import { computeError, operationError } from './compute-errors.ts';

export { DiskInUseError, StaleFingerprintError } from './compute-errors.ts';

/** A disk as Allocator reads it. */
export interface DiskInfo {
  readonly name: string;
  readonly sizeGb: string;
  readonly status: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly users: readonly string[];
  readonly creationTimestamp: string;
  /** What `setLabels` must be given to replace these labels: Compute Engine's hash of them. */
  readonly labelFingerprint: string;
}

/** A `setLabels` that Compute Engine accepted: the fingerprint was checked and the labels are taken; `done` settles with its operation. */
export interface LabelsChange {
  readonly done: Promise<void>;
}

/**
 * What a disk is made from: a snapshot or an image, as a path Compute Engine
 * resolves, and the setting that named it, which the errors about it name.
 */
export type DiskSource = ({ readonly snapshot: string } | { readonly image: string }) & { readonly setting?: string };

/** A disk to make: what create and reset plan, and the adapter sends. */
export interface DiskSpec {
  readonly name: string;
  readonly sizeGb: number;
  readonly type: string;
  readonly labels: Readonly<Record<string, string>>;
  /** What it is made from (its `sourceSnapshot` or `sourceImage`); absent: an empty disk. */
  readonly source?: DiskSource;
}

/** The Compute Engine disk calls Allocator makes, in one project and zone. */
export interface DisksApi {
  /** Creates a disk and waits for its operation; AlreadyExistsError if it exists. */
  createDisk(disk: DiskSpec): Promise<void>;
  /** Deletes a disk and waits for its operation; false if it was already gone; DiskInUseError while attached. */
  deleteDisk(name: string): Promise<boolean>;
  getDisk(name: string): Promise<DiskInfo | undefined>;
  /**
   * Replaces a disk's labels if `labelFingerprint` is still theirs, else
   * StaleFingerprintError (Compute Engine checks it when it accepts the call,
   * so of two calls with one fingerprint only one is accepted). Resolves on
   * acceptance; the returned `done` when the operation has finished.
   */
  setLabels(request: { name: string; labels: Readonly<Record<string, string>>; labelFingerprint: string }): Promise<LabelsChange>;
  /** One page of disks matching a Compute Engine filter. */
  listDisks(options: { filter: string; maxResults?: number; pageToken?: string }): Promise<{ items: DiskInfo[]; nextPageToken?: string }>;
  close(): Promise<void>;
}

/** Every disk matching `filter`, asking for one page after another. */
export async function allDisks(disks: Pick<DisksApi, 'listDisks'>, options: { filter: string; maxResults?: number }): Promise<DiskInfo[]> {
  const found: DiskInfo[] = [];
  let pageToken: string | undefined;
  do {
    const page = await disks.listDisks({ ...options, ...(pageToken ? { pageToken } : {}) });
    found.push(...page.items);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return found;
}

export interface DisksApiOptions {
  project: string;
  zone: string;
  /** Another endpoint than Google's, as `http://host:port` (the local emulator). */
  endpoint?: string;
  /** Credentials; default Application Default Credentials. */
  authClient?: AuthClient;
  /** Bound on each call, and on waiting for each operation. */
  timeoutMs: number;
  /** What the operation-wait deadline is measured by; default systemClock. */
  clock?: Clock;
}

interface Clients {
  disks: DisksClient;
  operations: ZoneOperationsClient;
}

/**
 * The clients are built on first use, which only create and destroy pay.
 * They are imported one by one: the package's index loads all of its ~100
 * clients, about 650 ms and 80 MB more. The bundles also cut their protos
 * (infra/compute-protos.ts).
 */
export function makeDisksApi(options: DisksApiOptions): DisksApi {
  const { project, zone, timeoutMs, clock = systemClock } = options;
  let clients: Promise<Clients> | undefined;
  const getClients = (): Promise<Clients> =>
    (clients ??= (async () => {
      const [{ DisksClient }, { ZoneOperationsClient }] = await Promise.all([
        import('@google-cloud/compute/build/src/v1/disks_client.js'),
        import('@google-cloud/compute/build/src/v1/zone_operations_client.js'),
      ]);
      const endpoint = options.endpoint ? new URL(options.endpoint) : undefined;
      const clientOptions = {
        ...(endpoint
          ? {
              apiEndpoint: endpoint.hostname,
              port: Number(endpoint.port || (endpoint.protocol === 'http:' ? 80 : 443)),
              protocol: endpoint.protocol.replace(':', ''),
            }
          : {}),
        ...(options.authClient ? { authClient: options.authClient } : {}),
      };
      return { disks: new DisksClient(clientOptions), operations: new ZoneOperationsClient(clientOptions) };
    })());
  const callSettings = { timeout: timeoutMs };

  async function waitForOperation(operations: ZoneOperationsClient, operationName: string, action: string): Promise<void> {
    const deadline = clock.now() + timeoutMs;
    for (;;) {
      const [operation] = await operations.wait({ project, zone, operation: operationName }, callSettings);
      if (operation.status === 'DONE') {
        const first = operation.error?.errors?.[0];
        if (!first) return;
        throw operationError(first, action, operation.httpErrorStatusCode);
      }
      if (clock.now() > deadline)
        throw new DeadlineExceededError(`${action}: operation ${operationName} did not finish in ${timeoutMs} ms`);
    }
  }

  return {
    async createDisk(disk) {
      const action = `create disk ${disk.name}`;
      try {
        const { disks, operations } = await getClients();
        const [operation] = await disks.insert(
          {
            project,
            zone,
            requestId: randomUUID(), // lets GCE drop a duplicate if gax retries the call
            diskResource: {
              name: disk.name,
              sizeGb: String(disk.sizeGb),
              type: `zones/${zone}/diskTypes/${disk.type}`,
              labels: { ...disk.labels },
              ...sourceFields(disk.source),
            },
          },
          callSettings,
        );
        await waitForOperation(operations, operationName(operation), action);
      } catch (error) {
        throw computeError(error, action);
      }
    },
    async deleteDisk(name) {
      const action = `delete disk ${name}`;
      try {
        const { disks, operations } = await getClients();
        const [operation] = await disks.delete({ project, zone, disk: name, requestId: randomUUID() }, callSettings);
        await waitForOperation(operations, operationName(operation), action);
        return true;
      } catch (error) {
        const mapped = computeError(error, action);
        if (mapped instanceof NotFoundError) return false;
        throw mapped;
      }
    },
    async getDisk(name) {
      try {
        const { disks } = await getClients();
        const [disk] = await disks.get({ project, zone, disk: name }, callSettings);
        return diskInfo(disk);
      } catch (error) {
        const mapped = computeError(error, `read disk ${name}`);
        if (mapped instanceof NotFoundError) return undefined;
        throw mapped;
      }
    },
    async setLabels({ name, labels, labelFingerprint }) {
      const action = `set the labels of disk ${name}`;
      try {
        const { disks, operations } = await getClients();
        const [operation] = await disks.setLabels(
          {
            project,
            zone,
            resource: name,
            requestId: randomUUID(),
            zoneSetLabelsRequestResource: { labels: { ...labels }, labelFingerprint },
          },
          callSettings,
        );
        const done = waitForOperation(operations, operationName(operation), action).catch((error: unknown) => {
          throw computeError(error, action);
        });
        done.catch(() => undefined); // the caller awaits it when it needs to
        return { done };
      } catch (error) {
        throw computeError(error, action);
      }
    },
    async listDisks({ filter, maxResults = 500, pageToken }) {
      try {
        const { disks } = await getClients();
        const [items, , response] = await disks.list(
          { project, zone, filter, maxResults, ...(pageToken ? { pageToken } : {}) },
          { ...callSettings, autoPaginate: false },
        );
        const next = (response as { nextPageToken?: string | null } | undefined)?.nextPageToken;
        return { items: items.map(diskInfo), ...(next ? { nextPageToken: next } : {}) };
      } catch (error) {
        throw computeError(error, 'list disks');
      }
    },
    async close() {
      if (!clients) return;
      const { disks, operations } = await clients;
      await Promise.all([disks.close(), operations.close()]);
    },
  };
}

/** A disk source as the Disk resource's fields: Compute Engine resolves a partial path against the disk's project. */
function sourceFields(source: DiskSource | undefined): { sourceSnapshot?: string; sourceImage?: string } {
  if (source === undefined) return {};
  return 'snapshot' in source ? { sourceSnapshot: source.snapshot } : { sourceImage: source.image };
}

function operationName(operation: { latestResponse?: unknown; name?: string | null }): string {
  const latest = operation.latestResponse as { name?: string } | undefined;
  const name = latest?.name ?? operation.name;
  if (!name) throw new UnavailableError('Compute Engine returned an operation without a name');
  return name;
}

function diskInfo(disk: {
  name?: string | null;
  sizeGb?: { toString(): string } | string | number | null;
  status?: string | null;
  labels?: Record<string, string> | null;
  users?: string[] | null;
  creationTimestamp?: string | null;
  labelFingerprint?: string | null;
}): DiskInfo {
  return {
    name: disk.name ?? '',
    sizeGb: String(disk.sizeGb ?? ''),
    status: disk.status ?? '',
    labels: { ...disk.labels },
    users: [...(disk.users ?? [])],
    creationTimestamp: disk.creationTimestamp ?? '',
    labelFingerprint: disk.labelFingerprint ?? '',
  };
}

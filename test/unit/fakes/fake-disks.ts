import type { DiskSource } from '../../../shared/gce/disks.ts';
import { AlreadyExistsError, NotFoundError } from '../../../shared/errors.ts';
import { DiskInUseError, StaleFingerprintError, type DiskInfo, type DisksApi, type DiskSpec } from '../../../shared/gce/disks.ts';
import type { FakeClock } from './fake-clock.ts';
import { Faults, pageOf } from './faults.ts';

/** An in-memory DisksApi: names are unique, an attached disk cannot be deleted, and labels change only with their current fingerprint. */
export class FakeDisks implements DisksApi {
  readonly disks = new Map<string, DiskInfo>();
  /** What each disk was made from, for those made from a snapshot or an image. */
  readonly sources = new Map<string, DiskSource>();
  readonly faults = new Faults();
  readonly #clock: FakeClock;
  #fingerprints = 0;

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  createDisk(disk: DiskSpec) {
    return this.faults.run('createDisk', () => {
      if (this.disks.has(disk.name)) throw new AlreadyExistsError(`create disk ${disk.name}: The resource already exists`);
      if (disk.source) this.sources.set(disk.name, { ...disk.source });
      else this.sources.delete(disk.name);
      this.disks.set(disk.name, {
        name: disk.name,
        sizeGb: String(disk.sizeGb),
        status: 'READY',
        labels: { ...disk.labels },
        users: [],
        creationTimestamp: new Date(this.#clock.now()).toISOString(),
        labelFingerprint: this.#nextFingerprint(),
      });
    });
  }

  deleteDisk(name: string) {
    return this.faults.run('deleteDisk', () => {
      const disk = this.disks.get(name);
      if (!disk) return false;
      if (disk.users.length > 0)
        throw new DiskInUseError(`delete disk ${name}: The disk resource is already being used by ${disk.users[0]}`);
      this.disks.delete(name);
      this.sources.delete(name);
      return true;
    });
  }

  getDisk(name: string) {
    return this.faults.run('getDisk', () => structuredClone(this.disks.get(name)));
  }

  /** Checks and takes the fingerprint at once, as Compute Engine does when it accepts the call; `done` has nothing left to wait for. */
  setLabels(request: { name: string; labels: Readonly<Record<string, string>>; labelFingerprint: string }) {
    return this.faults.run('setLabels', () => {
      const disk = this.disks.get(request.name);
      if (!disk) throw new NotFoundError(`set the labels of disk ${request.name}: not found`);
      if (disk.labelFingerprint !== request.labelFingerprint)
        throw new StaleFingerprintError(
          `set the labels of disk ${request.name}: Labels fingerprint either invalid or resource labels have changed`,
        );
      this.disks.set(request.name, { ...disk, labels: { ...request.labels }, labelFingerprint: this.#nextFingerprint() });
      return { done: Promise.resolve() };
    });
  }

  #nextFingerprint(): string {
    this.#fingerprints += 1;
    return `fp${this.#fingerprints}`;
  }

  /** Understands the one filter Allocator sends: `labels.<key> = "<value>"`. */
  listDisks(options: { filter: string; maxResults?: number; pageToken?: string }) {
    return this.faults.run('listDisks', () => {
      const [, key = '', value] = /^labels\.([\w-]+) = "([^"]*)"$/.exec(options.filter) ?? [];
      const matching = [...this.disks.values()]
        .filter((disk) => value === undefined || disk.labels[key] === value)
        .map((disk) => structuredClone(disk));
      const page = pageOf(matching, {
        ...(options.maxResults === undefined ? {} : { limit: options.maxResults }),
        ...(options.pageToken === undefined ? {} : { token: options.pageToken }),
      });
      return { items: page.items, ...(page.next ? { nextPageToken: page.next } : {}) };
    });
  }

  async close() {}
}

import { describe, expect, it } from 'vitest';
import { parseServiceConfig } from '../../../../shared/config/service-config.ts';
import { NotFoundError, UnavailableError } from '../../../../shared/errors.ts';
import { blameDiskSource, DiskSourceError } from '../../../../shared/executors/disk-source.ts';
import { executeCreate } from '../../../../shared/executors/create.ts';
import { resetInstance } from '../../../../shared/executors/lifecycle.ts';
import { ComputeRejectedError } from '../../../../shared/gce/compute-errors.ts';
import { planCreate } from '../../../../shared/plans/create-plan.ts';
import { caller, config, leftovers, NOTHING, template, world } from '../../fakes/world.ts';

const ENV = { ALLOCATOR_SERVER_NAME: 'syncbased', ALLOCATOR_TEMPLATE: 't.json.hbs', ALLOCATOR_AUDIENCES: 'https://a.test' };
// As the settings give them: each source names the setting it came from.
const snapshot = parseServiceConfig({ ...ENV, ALLOCATOR_DISK_SOURCE_SNAPSHOT: 'global/snapshots/golden' }).disk.source!;
const image = parseServiceConfig({ ...ENV, ALLOCATOR_DISK_SOURCE_IMAGE: 'projects/p/global/images/family/golden' }).disk.source!;
const notFound = (path: string) => new NotFoundError(`create disk d: The resource '${path}' was not found`);
const rejected = (message: string) =>
  new ComputeRejectedError(`create disk d: ${message}`, { upstreamCode: 'INVALID_ARGUMENT', upstreamStatus: 400 });

describe('blameDiskSource', () => {
  it.each([
    [
      'a missing snapshot',
      notFound('projects/q/global/snapshots/golden'),
      snapshot,
      /^ALLOCATOR_DISK_SOURCE_SNAPSHOT names a snapshot that does not exist \(global\/snapshots\/golden\)/,
    ],
    [
      'a missing image family',
      notFound('projects/p/global/images/family/golden'),
      image,
      /^ALLOCATOR_DISK_SOURCE_IMAGE names an image that does not exist/,
    ],
    [
      'a malformed snapshot',
      rejected("Invalid value for field 'resource.sourceSnapshot': 'global/snapshots/golden'. The URL is malformed."),
      snapshot,
      /^Compute Engine refused ALLOCATOR_DISK_SOURCE_SNAPSHOT \(global\/snapshots\/golden\)/,
    ],
    [
      'a disk smaller than its image',
      rejected("Invalid value for field 'resource.sizeGb': '10'. Requested disk size cannot be smaller than the image size (20 GB)."),
      image,
      /^ALLOCATOR_DISK_SIZE_GB is smaller than the image ALLOCATOR_DISK_SOURCE_IMAGE names/,
    ],
  ])('makes %s a 500 naming the setting', (_, error, source, message) => {
    const blamed = blameDiskSource(error, source);
    expect(blamed).toBeInstanceOf(DiskSourceError);
    expect(blamed).toMatchObject({ status: 500, statusName: 'INTERNAL', message: expect.stringMatching(message), cause: error });
  });

  it.each([
    ['no source', notFound('projects/q/global/snapshots/golden'), undefined],
    ['a missing disk type', notFound('projects/q/zones/z/diskTypes/pd-nope'), snapshot],
    ['a missing snapshot that is not the source', notFound('projects/q/global/snapshots/other'), snapshot],
    ['a bad disk type', rejected("Invalid value for field 'resource.type'"), image],
    ['an outage', new UnavailableError('create disk d: Compute Engine is unavailable'), snapshot],
  ])('leaves %s as it was', (_, error, source) => {
    expect(blameDiskSource(error, source)).toBe(error);
  });
});

describe('a disk source in create and reset', () => {
  const withSource = { ...config, disk: { ...config.disk, source: snapshot } };
  const plan = (w: ReturnType<typeof world>) =>
    planCreate({
      config: withSource,
      template,
      caller: caller(),
      request: { wait: true, waitMs: 60_000 },
      nowMs: w.clock.now(),
      random: w.random,
    });

  it('a create whose snapshot is missing answers 500 naming the setting and leaves nothing behind', async () => {
    const w = world();
    w.disks.faults.inject({ method: 'createDisk', when: 'before', error: () => notFound('projects/q/global/snapshots/golden') });
    await expect(executeCreate(w.context, plan(w))).rejects.toMatchObject({
      name: 'DiskSourceError',
      status: 500,
      message: expect.stringContaining('ALLOCATOR_DISK_SOURCE_SNAPSHOT'),
    });
    expect(leftovers(w)).toEqual(NOTHING);
  });

  it('create and reset both make the disk from the source', async () => {
    const w = world();
    const { name } = await executeCreate(w.context, plan(w));
    expect(w.disks.sources.get(name)).toEqual(snapshot);
    w.disks.sources.clear();
    await resetInstance({ ...w.context, disk: withSource.disk }, { name, wait: true, waitMs: 10_000 });
    expect(w.disks.sources.get(name)).toEqual(snapshot);
  });

  it('a reset whose snapshot is gone answers 500 naming the setting and leaves the instance suspended', async () => {
    const w = world();
    const { name } = await executeCreate(w.context, plan(w));
    w.disks.faults.inject({ method: 'createDisk', when: 'before', error: () => notFound('projects/q/global/snapshots/golden') });
    await expect(resetInstance({ ...w.context, disk: withSource.disk }, { name, wait: true, waitMs: 10_000 })).rejects.toMatchObject({
      status: 500,
      message: expect.stringContaining('ALLOCATOR_DISK_SOURCE_SNAPSHOT'),
    });
    expect(w.cluster.deployments.get(name)?.spec?.replicas).toBe(0);
  });
});

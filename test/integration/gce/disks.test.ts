import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlreadyExistsError, NotFoundError, QuotaExceededError, toHttpError, UnavailableError } from '../../../shared/errors.ts';
import {
  COMPUTE_RATE_LIMIT_RETRY_AFTER_SECONDS,
  ComputeRejectedError,
  DiskInUseError,
  StaleFingerprintError,
} from '../../../shared/gce/compute-errors.ts';
import { makeDisksApi, type DisksApi } from '../../../shared/gce/disks.ts';
import { startDisksEmulator, type DisksEmulator } from '../../harness/disks-emulator.ts';
import { OAuth2Client } from 'google-auth-library';

const project = 'p';
const zone = 'us-central1-c';
let emulator: DisksEmulator;
let disks: DisksApi;
beforeAll(async () => {
  emulator = await startDisksEmulator();
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'test' });
  disks = makeDisksApi({ project, zone, endpoint: emulator.url, authClient, timeoutMs: 10_000 });
});
afterAll(async () => {
  await disks?.close();
  await emulator?.stop();
});

const disk = (name: string) => ({ name, sizeGb: 10, type: 'pd-standard', labels: { allocator: 'syncbased' } });

describe('the disks adapter through the real client', () => {
  it.each([
    [{ snapshot: 'global/snapshots/golden' }, 'sourceSnapshot'],
    [{ image: `projects/${project}/global/images/family/golden` }, 'sourceImage'],
  ] as const)("sends the source %j as the Disk resource's %s", async (source, field) => {
    const held =
      'snapshot' in source ? emulator.addSnapshot(project, 'golden') : emulator.addImage(project, 'golden-v1', { family: 'golden' });
    const name = `from-${field.toLowerCase()}`;
    await disks.createDisk({ ...disk(name), source });
    expect(emulator.disks({ project, zone }).find((made) => made.name === name)).toMatchObject({
      [field]: held.selfLink,
      [`${field}Id`]: held.id,
    });
  });

  it("reports a source that does not exist as Compute's 404 names it; the create step turns that into the setting's 500", async () => {
    const failed = disks.createDisk({ ...disk('from-nothing'), source: { snapshot: 'global/snapshots/nothing' } });
    await expect(failed).rejects.toThrow(NotFoundError);
    await expect(failed).rejects.toThrow(`The resource 'projects/${project}/global/snapshots/nothing' was not found`);
  });

  it('reports an insert of an existing disk (HTTP 409, which gax calls ABORTED) as a conflict', async () => {
    await disks.createDisk(disk('dup'));
    await expect(disks.createDisk(disk('dup'))).rejects.toThrow(AlreadyExistsError);
    await expect(disks.createDisk(disk('dup'))).rejects.toMatchObject({ status: 409, statusName: 'ALREADY_EXISTS' });
  });

  it.each([
    ['QUOTA_EXCEEDED', QuotaExceededError, 429],
    ['ZONE_RESOURCE_POOL_EXHAUSTED', UnavailableError, 503],
    ['INTERNAL_ERROR', UnavailableError, 503],
    ['INVALID_FIELD_VALUE', ComputeRejectedError, 500],
    ['RESOURCE_ALREADY_EXISTS', AlreadyExistsError, 409],
  ] as const)('reports an operation that ends in %s as %s', async (reason, kind, status) => {
    emulator.injectFault({ method: 'disks.insert', kind: 'operation', reason });
    const failed = disks.createDisk(disk(`op-${reason.toLowerCase().replaceAll('_', '-')}`));
    await expect(failed).rejects.toThrow(kind);
    await expect(failed).rejects.toMatchObject({ status, message: expect.stringContaining(reason) });
  });

  it('reports an operation that ends in RESOURCE_OPERATION_RATE_EXCEEDED as retryable, with Retry-After', async () => {
    emulator.injectFault({ method: 'disks.insert', kind: 'operation', reason: 'RESOURCE_OPERATION_RATE_EXCEEDED' });
    const failed = await disks.createDisk(disk('op-rate-limited')).then(
      () => expect.unreachable('the insert should have failed'),
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(UnavailableError);
    expect(failed).toMatchObject({
      status: 503,
      statusName: 'UNAVAILABLE',
      retryAfterSeconds: COMPUTE_RATE_LIMIT_RETRY_AFTER_SECONDS,
      message: expect.stringContaining('create disk op-rate-limited: RESOURCE_OPERATION_RATE_EXCEEDED'),
    });
    expect(toHttpError(failed)).toMatchObject({ status: 503, headers: { 'Retry-After': String(COMPUTE_RATE_LIMIT_RETRY_AFTER_SECONDS) } });
    expect(emulator.disks({ project, zone }).map((d) => d.name)).not.toContain('op-rate-limited');
  });

  it('keeps the HTTP status of an operation that Compute Engine refused', async () => {
    emulator.injectFault({ method: 'disks.insert', kind: 'operation', reason: 'INVALID_FIELD_VALUE' });
    await expect(disks.createDisk(disk('op-refused'))).rejects.toMatchObject({
      status: 500,
      upstreamStatus: 403, // what the emulator reports for every failed operation
      upstreamCode: 'INVALID_FIELD_VALUE',
    });
  });

  it('reports a disk in use, and a missing one', async () => {
    await disks.createDisk(disk('busy'));
    emulator.attachDisk({ project, zone, name: 'busy' }, 'instances/vm-1');
    await expect(disks.deleteDisk('busy')).rejects.toThrow(DiskInUseError);
    emulator.detachDisk({ project, zone, name: 'busy' }, 'instances/vm-1');
    expect(await disks.deleteDisk('busy')).toBe(true);
    expect(await disks.deleteDisk('busy')).toBe(false);
    expect(await disks.getDisk('busy')).toBeUndefined();
    await expect(disks.listDisks({ filter: 'labels.allocator = "syncbased"' })).resolves.toMatchObject({ items: expect.any(Array) });
  });

  it('replaces labels on the fingerprint read, and refuses a stale one (412) as StaleFingerprintError, leaving the labels alone', async () => {
    await disks.createDisk(disk('claimed'));
    const read = await disks.getDisk('claimed');
    expect(read?.labelFingerprint).toMatch(/\S/);
    const change = await disks.setLabels({
      name: 'claimed',
      labels: { allocator: 'syncbased', owner: 'a' },
      labelFingerprint: read!.labelFingerprint,
    });
    await change.done;
    const after = await disks.getDisk('claimed');
    expect(after?.labels).toEqual({ allocator: 'syncbased', owner: 'a' });
    expect(after?.labelFingerprint).not.toBe(read?.labelFingerprint);
    const stale = disks.setLabels({
      name: 'claimed',
      labels: { allocator: 'syncbased', owner: 'b' },
      labelFingerprint: read!.labelFingerprint,
    });
    await expect(stale).rejects.toThrow(StaleFingerprintError);
    await expect(stale).rejects.toThrow('Labels fingerprint either invalid or resource labels have changed');
    expect((await disks.getDisk('claimed'))?.labels).toEqual({ allocator: 'syncbased', owner: 'a' });
  });

  it('lets only one of two setLabels with one fingerprint through', async () => {
    await disks.createDisk(disk('contested'));
    const { labelFingerprint } = (await disks.getDisk('contested'))!;
    const tries = await Promise.allSettled(
      ['a', 'b'].map((owner) => disks.setLabels({ name: 'contested', labels: { owner }, labelFingerprint })),
    );
    expect(tries.map((t) => t.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(tries.find((t) => t.status === 'rejected')).toMatchObject({ reason: expect.any(StaleFingerprintError) });
  });
});

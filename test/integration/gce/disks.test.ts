import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlreadyExistsError, QuotaExceededError, UnavailableError } from '../../../shared/errors.ts';
import { ComputeRejectedError, DiskInUseError } from '../../../shared/gce/compute-errors.ts';
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
});

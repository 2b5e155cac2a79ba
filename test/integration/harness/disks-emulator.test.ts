import { DisksClient, ZoneOperationsClient } from '@google-cloud/compute';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDisksEmulator, type DisksEmulator } from '../../harness/disks-emulator.ts';

const project = 'test-project';
const zone = 'us-central1-a';
let emulator: DisksEmulator;
let disks: DisksClient;
let operations: ZoneOperationsClient;

beforeAll(async () => {
  emulator = await startDisksEmulator();
  // The emulator accepts any bearer token; the real client still sends one.
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'local-test-token' });
  const clientOptions = { apiEndpoint: emulator.host, port: emulator.port, protocol: 'http', authClient };
  disks = new DisksClient(clientOptions);
  operations = new ZoneOperationsClient(clientOptions);
});
afterAll(async () => {
  await Promise.all([disks.close(), operations.close()]);
  await emulator.stop();
});
beforeEach(() => emulator.reset());

async function insertAndWait(name: string, labels: Record<string, string> = {}): Promise<void> {
  const [operation] = await disks.insert({ project, zone, diskResource: { name, sizeGb: '10', labels } });
  const [done] = await operations.wait({ project, zone, operation: operation.latestResponse.name });
  expect(done.status).toBe('DONE');
  expect(done.error).toBeFalsy();
}

describe('Compute Engine disks emulator, through @google-cloud/compute', () => {
  it('creates a disk, waits for its operation and reads it back', async () => {
    const [operation] = await disks.insert({ project, zone, diskResource: { name: 'disk-a', sizeGb: '20', labels: { owner: 'abc' } } });
    expect((operation.latestResponse as { status?: string }).status).toBe('RUNNING');
    const [done] = await operations.wait({ project, zone, operation: operation.latestResponse.name });
    expect(done.status).toBe('DONE');

    const [disk] = await disks.get({ project, zone, disk: 'disk-a' });
    expect(disk).toMatchObject({ name: 'disk-a', sizeGb: '20', status: 'READY', labels: { owner: 'abc' } });
    const [polled] = await operations.get({ project, zone, operation: operation.latestResponse.name });
    expect(polled.status).toBe('DONE');
  });

  it('lists disks by label filter', async () => {
    await insertAndWait('mine-1', { owner: 'me', app: 'x' });
    await insertAndWait('mine-2', { owner: 'me' });
    await insertAndWait('theirs', { owner: 'them' });
    await insertAndWait('unlabelled');

    const [mine] = await disks.list({ project, zone, filter: 'labels.owner = "me"' });
    expect(mine.map((disk) => disk.name).sort()).toEqual(['mine-1', 'mine-2']);
    const [both] = await disks.list({ project, zone, filter: '(labels.owner = "me") (labels.app = "x")' });
    expect(both.map((disk) => disk.name)).toEqual(['mine-1']);
    const [labelled] = await disks.list({ project, zone, filter: 'labels.owner:*' });
    expect(labelled).toHaveLength(3);
  });

  it('pages a list with maxResults and pageToken', async () => {
    for (const name of ['p-1', 'p-2', 'p-3']) await insertAndWait(name, { set: 'paged' });
    const names: string[] = [];
    for await (const disk of disks.listAsync({ project, zone, filter: 'labels.set = "paged"', maxResults: 2 })) names.push(disk.name ?? '');
    expect(names).toEqual(['p-1', 'p-2', 'p-3']);
    expect(emulator.calls['disks.list']).toBe(2);
  });

  it('answers 409 alreadyExists for a duplicate and 404 notFound for a missing disk', async () => {
    await insertAndWait('dup');
    const duplicate = await disks.insert({ project, zone, diskResource: { name: 'dup' } }).catch((error: unknown) => error);
    // Compute Engine sends no `status`, so gax maps HTTP 409 to ABORTED (10), not ALREADY_EXISTS (6).
    expect(duplicate).toMatchObject({ code: 10 });
    expect(String((duplicate as Error).message)).toMatch(/The resource 'projects\/[^']+\/disks\/dup' already exists/);
    const raw = await fetch(`${emulator.url}/compute/v1/projects/${project}/zones/${zone}/disks`, {
      method: 'POST',
      headers: { authorization: 'Bearer x' },
      body: JSON.stringify({ name: 'dup' }),
    });
    expect(raw.status).toBe(409);
    expect(await raw.json()).toEqual({
      error: {
        code: 409,
        message: expect.any(String),
        errors: [{ message: expect.any(String), domain: 'global', reason: 'alreadyExists' }],
      },
    });

    const missing = await disks.get({ project, zone, disk: 'nope' }).catch((error: unknown) => error);
    expect(missing).toMatchObject({ code: 5 }); // NOT_FOUND from 404
    const missingDelete = await disks.delete({ project, zone, disk: 'nope' }).catch((error: unknown) => error);
    expect(missingDelete).toMatchObject({ code: 5 });
  });

  it('refuses to delete a disk in use with resourceInUseByAnotherResource, and deletes it once detached', async () => {
    await insertAndWait('busy');
    emulator.attachDisk({ project, zone, name: 'busy' }, 'instances/vm-1');
    const inUse = await disks.delete({ project, zone, disk: 'busy' }).catch((error: unknown) => error);
    expect(inUse).toMatchObject({ code: 3 }); // INVALID_ARGUMENT from 400
    expect(String((inUse as Error).message)).toMatch(/already being used/);
    // gax keeps only google.rpc.Status fields; the wire body carries the reason.
    const raw = await fetch(`${emulator.url}/compute/v1/projects/${project}/zones/${zone}/disks/busy`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer x' },
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({
      error: { code: 400, errors: [{ reason: 'resourceInUseByAnotherResource', domain: 'global' }] },
    });

    emulator.detachDisk({ project, zone, name: 'busy' }, 'instances/vm-1');
    const [operation] = await disks.delete({ project, zone, disk: 'busy' });
    await operations.wait({ project, zone, operation: operation.latestResponse.name });
    expect(emulator.disks()).toEqual([]);
  });

  it('injects HTTP faults, failed operations and latency on demand', async () => {
    emulator.injectFault({ method: 'disks.get', count: 2, status: 503 });
    for (let i = 0; i < 2; i += 1) {
      expect(await disks.get({ project, zone, disk: 'x' }, { retry: null }).catch((error: unknown) => error)).toMatchObject({ code: 14 }); // UNAVAILABLE
    }
    expect(await disks.get({ project, zone, disk: 'x' }).catch((error: unknown) => error)).toMatchObject({ code: 5 });

    emulator.injectFault({ method: 'disks.insert', kind: 'operation', reason: 'QUOTA_EXCEEDED' });
    const [operation] = await disks.insert({ project, zone, diskResource: { name: 'over-quota' } });
    const [done] = await operations.wait({ project, zone, operation: operation.latestResponse.name });
    expect(done.status).toBe('DONE');
    expect(done.error?.errors?.[0]?.code).toBe('QUOTA_EXCEEDED');
    expect(emulator.disks()).toEqual([]);

    emulator.injectFault({ method: 'disks.list', kind: 'latency', latencyMs: 300 });
    const started = Date.now();
    await disks.list({ project, zone });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it.each([
    ['a partial path', 'global/snapshots/golden'],
    ['a project path', `projects/${project}/global/snapshots/golden`],
    ['a full URL', `https://www.googleapis.com/compute/v1/projects/${project}/global/snapshots/golden`],
  ])('makes a disk from a snapshot named by %s, recording sourceSnapshot and sourceSnapshotId', async (_, sourceSnapshot) => {
    const snapshot = emulator.addSnapshot(project, 'golden', { diskSizeGb: 20 });
    const [operation] = await disks.insert({ project, zone, diskResource: { name: 'from-snapshot', sourceSnapshot } });
    const [done] = await operations.wait({ project, zone, operation: operation.latestResponse.name });
    expect(done.error).toBeFalsy();
    const [disk] = await disks.get({ project, zone, disk: 'from-snapshot' });
    expect(disk).toMatchObject({ sizeGb: '20', sourceSnapshot: snapshot.selfLink, sourceSnapshotId: snapshot.id });
    expect(snapshot.selfLink).toMatch(new RegExp(`/compute/v1/projects/${project}/global/snapshots/golden$`));
    expect(disk.sourceImage).toBeFalsy();
  });

  it("makes a disk from an image or its family's newest image, recording sourceImage and sourceImageId", async () => {
    emulator.addImage('images-project', 'golden-v1', { family: 'golden' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const newest = emulator.addImage('images-project', 'golden-v2', { family: 'golden' });
    const [operation] = await disks.insert({
      project,
      zone,
      diskResource: { name: 'from-family', sizeGb: '10', sourceImage: 'projects/images-project/global/images/family/golden' },
    });
    await operations.wait({ project, zone, operation: operation.latestResponse.name });
    const [disk] = await disks.get({ project, zone, disk: 'from-family' });
    expect(disk).toMatchObject({ sourceImage: newest.selfLink, sourceImageId: newest.id });
    expect(disk.sourceSnapshot).toBeFalsy();

    const response = await fetch(`${emulator.url}/emulator/images`, {
      method: 'POST',
      body: JSON.stringify({ project, name: 'posted' }),
    });
    expect(response.status).toBe(200);
    const [second] = await disks.insert({ project, zone, diskResource: { name: 'from-posted', sourceImage: 'global/images/posted' } });
    await operations.wait({ project, zone, operation: second.latestResponse.name });
    expect((await disks.get({ project, zone, disk: 'from-posted' }))[0].sourceImage).toMatch(/\/global\/images\/posted$/);
  });

  it.each([
    ['sourceSnapshot', 'global/snapshots/missing', `projects/${project}/global/snapshots/missing`],
    ['sourceSnapshot', 'projects/other/global/snapshots/missing', 'projects/other/global/snapshots/missing'],
    ['sourceImage', 'projects/p2/global/images/missing', 'projects/p2/global/images/missing'],
    ['sourceImage', 'projects/p2/global/images/family/none', 'projects/p2/global/images/family/none'],
  ])('answers a %s of %s that does not exist with the real 404 notFound, and makes no disk', async (field, value, path) => {
    const message = `The resource '${path}' was not found`;
    const failed = await disks.insert({ project, zone, diskResource: { name: 'orphan', [field]: value } }).catch((error: unknown) => error);
    expect(failed).toMatchObject({ code: 5 }); // NOT_FOUND from 404
    expect(String((failed as Error).message)).toContain(message);
    const raw = await fetch(`${emulator.url}/compute/v1/projects/${project}/zones/${zone}/disks`, {
      method: 'POST',
      headers: { authorization: 'Bearer x' },
      body: JSON.stringify({ name: 'orphan', [field]: value }),
    });
    expect(raw.status).toBe(404);
    expect(await raw.json()).toEqual({ error: { code: 404, message, errors: [{ message, domain: 'global', reason: 'notFound' }] } });
    expect(emulator.disks()).toEqual([]);
  });

  it.each([
    ['sourceSnapshot', 'golden'],
    ['sourceSnapshot', 'projects/p/global/images/i'],
    ['sourceImage', 'projects/p/zones/z/images/i'],
  ])('answers a malformed %s (%s) with the real 400 invalid', async (field, value) => {
    const message = `Invalid value for field 'resource.${field}': '${value}'. The URL is malformed.`;
    const raw = await fetch(`${emulator.url}/compute/v1/projects/${project}/zones/${zone}/disks`, {
      method: 'POST',
      headers: { authorization: 'Bearer x' },
      body: JSON.stringify({ name: 'bad', [field]: value }),
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({ error: { code: 400, message, errors: [{ message, domain: 'global', reason: 'invalid' }] } });
    const failed = await disks.insert({ project, zone, diskResource: { name: 'bad', [field]: value } }).catch((error: unknown) => error);
    expect(failed).toMatchObject({ code: 3 }); // INVALID_ARGUMENT from 400
  });

  it('refuses a disk smaller than its snapshot', async () => {
    emulator.addSnapshot(project, 'big', { diskSizeGb: 50 });
    const failed = await disks
      .insert({ project, zone, diskResource: { name: 'small', sizeGb: '10', sourceSnapshot: 'global/snapshots/big' } })
      .catch((error: unknown) => error);
    expect(failed).toMatchObject({ code: 3 });
    expect(String((failed as Error).message)).toMatch(/cannot be smaller than the snapshot size \(50 GB\)/);
  });

  it('answers 401 to a request without credentials', async () => {
    const response = await fetch(`${emulator.url}/compute/v1/projects/${project}/zones/${zone}/disks`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 401, errors: [{ reason: 'required' }] } });
  });

  it("answers setLabels with an Operation, and a stale fingerprint with Compute Engine's 412 conditionNotMet body", async () => {
    await insertAndWait('labelled', { owner: 'me' });
    const [read] = await disks.get({ project, zone, disk: 'labelled' });
    const [operation] = await disks.setLabels({
      project,
      zone,
      resource: 'labelled',
      zoneSetLabelsRequestResource: { labels: { owner: 'you' }, labelFingerprint: read.labelFingerprint },
    });
    const [done] = await operations.wait({ project, zone, operation: operation.latestResponse.name });
    expect(done).toMatchObject({ status: 'DONE', operationType: 'setLabels' });
    const [after] = await disks.get({ project, zone, disk: 'labelled' });
    expect(after.labels).toEqual({ owner: 'you' });
    expect(after.labelFingerprint).not.toBe(read.labelFingerprint);

    const response = await fetch(`${emulator.url}/compute/v1/projects/${project}/zones/${zone}/disks/labelled/setLabels`, {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: JSON.stringify({ labels: { owner: 'them' }, labelFingerprint: read.labelFingerprint }),
    });
    expect(response.status).toBe(412);
    const message = 'Labels fingerprint either invalid or resource labels have changed';
    expect(await response.json()).toEqual({
      error: {
        code: 412,
        message,
        errors: [{ message, domain: 'global', reason: 'conditionNotMet', location: 'If-Match', locationType: 'header' }],
      },
    });
    const [unchanged] = await disks.get({ project, zone, disk: 'labelled' });
    expect(unchanged.labels).toEqual({ owner: 'you' });
  });
});

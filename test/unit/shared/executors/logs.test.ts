import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { CallerIdentity } from '../../../../shared/auth/identity.ts';
import { BadRequestError, FailedPreconditionError, NotFoundError, PermissionDeniedError } from '../../../../shared/errors.ts';
import { newestPod, readLogs, type LogsContext } from '../../../../shared/executors/logs.ts';
import { shareInstance } from '../../../../shared/executors/share.ts';
import { suspendInstance } from '../../../../shared/executors/lifecycle.ts';
import { LABELS } from '../../../../shared/instances/metadata.ts';
import type { PodLogsClient } from '../../../../shared/kube/pod-logs.ts';
import { accessAs, instanceOwnedBy } from '../../fakes/access.ts';
import { caller, config, world } from '../../fakes/world.ts';

type World = ReturnType<typeof world>;

const ADA = caller('ada@example.com');
const BEA = caller('bea@example.com');
const EVE = caller('eve@example.com');
const ROOT = caller('root@example.com');

function pod(instance: string, name: string, containers: string[], createdMs = 0): V1Pod {
  return {
    metadata: {
      name,
      creationTimestamp: new Date(createdMs),
      labels: { [LABELS.allocator]: config.serverName, [LABELS.instance]: instance },
    },
    spec: { containers: containers.map((container) => ({ name: container })) },
  };
}

/** A log client that answers `body` and records what it was asked. */
function fakeLogs(body = '2026-01-02T15:04:05.000000001Z hello\n'): PodLogsClient & { asked: { pod: string; params: string }[] } {
  const asked: { pod: string; params: string }[] = [];
  return {
    asked,
    open: async ({ pod, params }) => {
      asked.push({ pod, params: params.toString() });
      return Readable.from([body]);
    },
  };
}

function logsAs(w: World, who: CallerIdentity, podLogs: PodLogsClient, followLimitMs = 60_000): LogsContext {
  return { ...w.context, caller: who, podLogs, followLimitMs, signal: new AbortController().signal };
}

describe('readLogs', () => {
  it("streams the newest pod's first container to its owner, with timestamps, the API's body as it is", async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    w.cluster.pods = [pod(name, 'old', ['app'], 1_000), pod(name, 'new', ['app', 'sidecar'], 2_000), pod('other', 'x', ['app'], 3_000)];
    const logs = fakeLogs();
    const { stream, followUntil } = await readLogs(logsAs(w, ADA, logs), { name, follow: false, tailLines: 10, since: 60 });
    expect(await text(stream)).toBe('2026-01-02T15:04:05.000000001Z hello\n');
    expect(followUntil).toBeUndefined();
    expect(logs.asked).toEqual([{ pod: 'new', params: 'container=app&timestamps=true&follow=false&sinceSeconds=60&tailLines=10' }]);
  });

  it('lets collaborators and admins read; a stranger gets the 404 of an instance that does not exist', async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    w.cluster.pods = [pod(name, 'p', ['app'])];
    await shareInstance(accessAs(w, ADA), { name, emails: ['bea@example.com'] });
    await expect(text((await readLogs(logsAs(w, BEA, fakeLogs()), { name, follow: false })).stream)).resolves.toContain('hello');
    await expect(text((await readLogs(logsAs(w, ROOT, fakeLogs()), { name, follow: false })).stream)).resolves.toContain('hello');
    const stranger = readLogs(logsAs(w, EVE, fakeLogs()), { name, follow: false });
    await expect(stranger).rejects.toThrow(NotFoundError);
    await expect(readLogs(logsAs(w, EVE, fakeLogs()), { name, follow: false })).rejects.toThrow(`instance ${name} not found`);
    await expect(readLogs(logsAs(w, ADA, fakeLogs()), { name: 'syncbased-00000000', follow: false })).rejects.toThrow(
      'instance syncbased-00000000 not found',
    );
  });

  it("asks an admin with gcloud's token to sign in, as every admin action on others' instances does", async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    w.cluster.pods = [pod(name, 'p', ['app'])];
    await expect(readLogs(logsAs(w, { ...ROOT, sharedAudience: true }, fakeLogs()), { name, follow: false })).rejects.toThrow(
      PermissionDeniedError,
    );
  });

  it('refuses an unknown container naming the containers, and since with sinceTime', async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    w.cluster.pods = [pod(name, 'p', ['app', 'sidecar'])];
    const unknown = readLogs(logsAs(w, ADA, fakeLogs()), { name, follow: false, container: 'db' });
    await expect(unknown).rejects.toThrow(BadRequestError);
    await expect(readLogs(logsAs(w, ADA, fakeLogs()), { name, follow: false, container: 'db' })).rejects.toThrow(
      `instance ${name} has no container "db"; its pod's containers are app, sidecar`,
    );
    await expect(
      readLogs(logsAs(w, ADA, fakeLogs()), { name, follow: false, since: 5, sinceTime: '2026-01-02T15:04:05Z' }),
    ).rejects.toThrow('give "since" or "sinceTime", not both');
  });

  it('says a suspended instance has no pod to read', async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    await suspendInstance({ ...w.context, caller: ADA }, { name });
    const read = readLogs(logsAs(w, ADA, fakeLogs()), { name, follow: false });
    await expect(read).rejects.toThrow(FailedPreconditionError);
    await expect(readLogs(logsAs(w, ADA, fakeLogs()), { name, follow: false })).rejects.toThrow('has no pod while suspended');
  });

  it('ends a followed stream cleanly at the follow limit and closes the one to the API server', async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    w.cluster.pods = [pod(name, 'p', ['app'])];
    let upstream: Readable | undefined;
    const endless: PodLogsClient = {
      open: async () => {
        upstream = new Readable({ read() {} });
        upstream.push('2026-01-02T15:04:05Z first\n');
        return upstream;
      },
    };
    const { stream, followUntil } = await readLogs(logsAs(w, ADA, endless, 50), { name, follow: true });
    expect(Date.parse(followUntil!)).toBe(w.clock.now() + 50);
    expect(await text(stream)).toBe('2026-01-02T15:04:05Z first\n');
    expect(upstream?.destroyed).toBe(true);
  });
});

describe('newestPod', () => {
  it('prefers the newest pod not being deleted', () => {
    const going = {
      ...pod('i', 'going', ['app'], 5_000),
      metadata: { ...pod('i', 'going', ['app'], 5_000).metadata, deletionTimestamp: new Date(6_000) },
    };
    expect(newestPod([pod('i', 'a', ['app'], 1_000), going, pod('i', 'b', ['app'], 2_000)])?.metadata?.name).toBe('b');
    expect(newestPod([going])?.metadata?.name).toBe('going');
    expect(newestPod([])).toBeUndefined();
  });
});

import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { authorize, checkBoundTokenFor, checkMayChangeAccess, isAdmin, mayAccessInstance } from '../../../../shared/auth/policy.ts';
import type { CallerIdentity } from '../../../../shared/auth/identity.ts';
import { withInstanceMetadata } from '../../../../shared/instances/metadata.ts';
import { ownerHashOf } from '../../../../shared/instances/naming.ts';

// Workspace accounts: the token's hd is the email's domain.
const user = (email: string): CallerIdentity => ({ email, subject: '1', kind: 'user', hostedDomain: email.split('@')[1] ?? '' });
const owned = (email: string, serverName = 'syncbased'): V1Deployment =>
  withInstanceMetadata(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'syncbased-1a2b3c4d', creationTimestamp: new Date('2026-11-25T01:02:03Z') },
      spec: { replicas: 1, selector: {}, template: {} },
    },
    {
      serverName,
      diskZone: 'us-central1-c',
      name: 'syncbased-1a2b3c4d',
      ownerEmail: email,
      ownerSubject: '1',
      ownerHash: ownerHashOf(email),
      mountName: '/m/syncbased-1a2b3c4d',
      accessList: [email, 'root@example.com'],
      version: 'v1',
      diskName: 'syncbased-1a2b3c4d',
      createdAt: '2026-11-25T01:02:03.456Z',
    },
  );
const policy = {
  serverName: 'syncbased',
  admins: ['root@example.com'],
  allowedCallers: ['*@example.com'],
  workspaceDomains: ['example.com'],
};

describe('who may see and destroy an instance', () => {
  it.each([
    ['its owner', owned('ada@example.com'), 'ada@example.com', true],
    ['another user', owned('ada@example.com'), 'bob@example.com', false],
    ['an admin', owned('ada@example.com'), 'root@example.com', true],
    ["its owner, on another allocator's Deployment", owned('ada@example.com', 'other'), 'ada@example.com', false],
    ["an admin, on another allocator's Deployment", owned('ada@example.com', 'other'), 'root@example.com', false],
    ['anyone, on an unlabelled Deployment', { metadata: { name: 'x' } }, 'root@example.com', false],
  ] as const)('%s: %s', (_label, deployment, email, expected) => {
    expect(mayAccessInstance(policy, user(email), deployment)).toBe(expected);
  });

  it('does not accept an owner label whose annotation names somebody else', () => {
    const forged = owned('ada@example.com');
    forged.metadata!.annotations!['allocator.dev/owner'] = 'mallory@example.com';
    expect(mayAccessInstance(policy, user('ada@example.com'), forged)).toBe(false);
    expect(mayAccessInstance(policy, user('mallory@example.com'), forged)).toBe(false);
  });

  it('knows admins by exact email', () => {
    expect(isAdmin(policy, user('root@example.com'))).toBe(true);
    expect(isAdmin(policy, user('root@example.com.evil'))).toBe(false);
  });
});

describe('what a caller may ask for', () => {
  it.each([
    ['an allowed caller, a caller operation', 'ada@example.com', 'caller', undefined],
    ['an allowed caller, an admin operation', 'ada@example.com', 'admin', /only admins may sweep/],
    ['an admin, an admin operation', 'root@example.com', 'admin', undefined],
    ['a caller outside the allowed domain', 'eve@elsewhere.org', 'caller', /eve@elsewhere.org may not use this allocator/],
  ] as const)('%s', (_label, email, requirement, refusal) => {
    const run = () => authorize(policy, user(email), requirement, 'sweep');
    if (refusal === undefined) expect(run).not.toThrow();
    else expect(run).toThrow(expect.objectContaining({ status: 403, message: expect.stringMatching(refusal) }));
  });

  it('lets admins in even when they are outside ALLOCATOR_ALLOWED_CALLERS', () => {
    expect(() => authorize({ ...policy, admins: ['ops@corp.test'] }, user('ops@corp.test'), 'admin', 'sweep')).not.toThrow();
  });
});

describe('a token minted for gcloud', () => {
  const viaGcloud = (email: string): CallerIdentity => ({ ...user(email), sharedAudience: true });

  it("refuses an admin's operation with a 403 that names allocator login", () => {
    expect(() => authorize(policy, viaGcloud('root@example.com'), 'admin', 'sweep')).toThrow(
      expect.objectContaining({
        status: 403,
        message: expect.stringMatching(/minted for gcloud .* to sweep, sign in with `allocator login`/),
      }),
    );
  });

  it("gives an admin no access to other people's instances, and keeps their own", () => {
    expect(mayAccessInstance(policy, viaGcloud('root@example.com'), owned('ada@example.com'))).toBe(false);
    expect(mayAccessInstance(policy, viaGcloud('root@example.com'), owned('root@example.com'))).toBe(true);
    expect(isAdmin(policy, viaGcloud('root@example.com'))).toBe(false);
  });

  it('lets anyone allowed use their own instances with it', () => {
    expect(() => authorize(policy, viaGcloud('ada@example.com'), 'caller', 'create instances')).not.toThrow();
    expect(mayAccessInstance(policy, viaGcloud('ada@example.com'), owned('ada@example.com'))).toBe(true);
  });
});

describe('owners pinned by account id', () => {
  it('refuses the same email on another account', () => {
    expect(mayAccessInstance(policy, { ...user('ada@example.com'), subject: '2' }, owned('ada@example.com'))).toBe(false);
  });

  it('keeps instances made before the id was recorded working by email', () => {
    const old = owned('ada@example.com');
    delete old.metadata!.annotations!['allocator.dev/owner-sub'];
    expect(mayAccessInstance(policy, { ...user('ada@example.com'), subject: '2' }, old)).toBe(true);
  });

  it('knows an admin by account id', () => {
    expect(isAdmin({ ...policy, admins: ['sub:42'] }, { ...user('new-root@example.com'), subject: '42' })).toBe(true);
    expect(isAdmin({ ...policy, admins: ['sub:42'] }, { ...user('root@example.com'), subject: '43' })).toBe(false);
  });
});

describe('changing who can reach an instance (issue 29, collision 5)', () => {
  const viaGcloud = (email: string): CallerIdentity => ({ ...user(email), sharedAudience: true });

  it.each(['share', 'unshare', 'transfer'] as const)(
    'refuses %s with a token minted for gcloud, even its own instance, naming allocator login',
    (operation) => {
      expect(() => checkMayChangeAccess(viaGcloud('ada@example.com'), operation)).toThrow(
        expect.objectContaining({
          status: 403,
          message: expect.stringMatching(new RegExp(`minted for gcloud .* to ${operation} an instance, sign in with \`allocator login\``)),
        }),
      );
    },
  );

  it.each(['share', 'unshare', 'transfer'] as const)('lets %s through with a token bound to this allocator', (operation) => {
    expect(() => checkMayChangeAccess(user('ada@example.com'), operation)).not.toThrow();
  });

  it.each(['extend', 'suspend', 'resume', 'destroy', 'create', 'list'] as const)('leaves %s to the usual rules', (operation) => {
    expect(() => checkMayChangeAccess(viaGcloud('ada@example.com'), operation)).not.toThrow();
  });
});

describe('where only the token keeps an admin out (issue 29, collision 9)', () => {
  const viaGcloud = (email: string): CallerIdentity => ({ ...user(email), sharedAudience: true });
  const record = (email: string, serverName = 'syncbased') => ({ metadata: owned(email, serverName).metadata ?? {} });

  it("refuses an admin's gcloud token on another's instance or record with the 403 naming allocator login", () => {
    for (const object of [owned('ada@example.com'), record('ada@example.com')])
      expect(() => checkBoundTokenFor(policy, viaGcloud('root@example.com'), object, "restore other people's instances")).toThrow(
        expect.objectContaining({
          status: 403,
          message: expect.stringMatching(/minted for gcloud .* to restore other people's instances, sign in with `allocator login`/),
        }),
      );
  });

  it.each([
    ['a bound admin token', user('root@example.com'), record('ada@example.com')],
    ["a non-admin's gcloud token (the 404 stays)", viaGcloud('bob@example.com'), record('ada@example.com')],
    ["the admin's own, by gcloud token", viaGcloud('root@example.com'), record('root@example.com')],
    ["another allocator's", viaGcloud('root@example.com'), record('ada@example.com', 'other')],
    ['nothing there', viaGcloud('root@example.com'), undefined],
  ] as const)('says nothing for %s', (_label, caller, object) => {
    expect(() => checkBoundTokenFor(policy, caller, object, 'restore')).not.toThrow();
  });
});

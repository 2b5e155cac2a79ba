import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withStateDiagram } from '../../../../shared/model/diagram-doc.ts';
import { allowedOperations, endPhase, failurePhase, holdingPhase, refusalOf, type Phase } from '../../../../shared/model/transitions.ts';

const owner = { role: 'owner', boundToken: true } as const;
const ownerByGcloud = { role: 'owner', boundToken: false } as const;
const collaborator = { role: 'collaborator', boundToken: true } as const;
const admin = { role: 'admin', boundToken: true } as const;

describe('the table of transitions', () => {
  it.each<[Phase, typeof owner | typeof ownerByGcloud | typeof collaborator | typeof admin, string[]]>([
    ['running', owner, ['extend', 'suspend', 'resume', 'restart', 'reset', 'share', 'unshare', 'transfer', 'destroy']],
    ['suspended', owner, ['extend', 'suspend', 'resume', 'reset', 'share', 'unshare', 'transfer', 'destroy']],
    // A gcloud token reaches its holder's instances, but may not change who else reaches them.
    ['running', ownerByGcloud, ['extend', 'suspend', 'resume', 'restart', 'reset', 'destroy']],
    ['running', collaborator, ['extend', 'suspend', 'resume', 'restart']],
    ['destroying', owner, ['destroy']],
    // Destroyed with its disk kept: restored, or destroyed now for good.
    ['destroyed', owner, ['destroy', 'restore']],
    ['destroyed', ownerByGcloud, ['destroy']],
    ['destroyed', collaborator, []],
    ['resetting', admin, ['destroy']],
    ['gone', admin, []],
  ])('lets the %s instance be, for %o: %o', (phase, standing, expected) => {
    expect(allowedOperations(phase, standing)).toEqual(expected);
  });

  it("refuses an admin's gcloud token everything, and a collaborator's share by role", () => {
    expect(refusalOf('suspend', 'running', { role: 'admin', boundToken: false })).toEqual({ reason: 'token' });
    expect(refusalOf('share', 'running', collaborator)).toEqual({ reason: 'role' });
    expect(refusalOf('restart', 'suspended', owner)).toEqual({ reason: 'phase', phase: 'suspended', from: ['running'] });
  });

  it('holds, ends and fails where each operation says', () => {
    expect([holdingPhase('suspend', 'running'), endPhase('suspend', 'running'), failurePhase('suspend', 'running')]).toEqual([
      'running',
      'suspended',
      'running',
    ]);
    expect([holdingPhase('reset', 'running'), endPhase('reset', 'running'), failurePhase('reset', 'running')]).toEqual([
      'resetting',
      'running',
      'suspended',
    ]);
    expect([
      endPhase('destroy', 'running'),
      endPhase('destroy', 'running', 'destroyed'),
      endPhase('destroy', 'running', 'suspended'),
    ]).toEqual(['gone', 'destroyed', 'gone']);
    expect([endPhase('extend', 'suspended'), failurePhase('restore', 'destroyed')]).toEqual(['suspended', 'destroyed']);
  });
});

describe("docs/architecture.md's state diagram", () => {
  const docs = readFileSync(new URL('../../../../docs/architecture.md', import.meta.url), 'utf8');

  it('is the one the table draws (npm run docs:api writes it)', () => {
    expect(withStateDiagram(docs)).toBe(docs);
  });

  it('shows the arrows of the table as a person would draw them', () => {
    for (const arrow of [
      '[*] --> provisioning: create',
      'running --> suspended: suspend',
      'suspended --> resetting: reset',
      'running --> restarting: restart',
      'destroying --> destroyed: destroy done',
      'destroyed --> restoring: restore',
    ])
      expect(docs).toContain(`  ${arrow}\n`);
    expect(docs).not.toContain('suspended --> restarting');
  });
});

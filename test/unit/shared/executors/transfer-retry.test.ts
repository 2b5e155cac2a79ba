import { describe, expect, it } from 'vitest';
import type { CallerIdentity } from '../../../../shared/auth/identity.ts';
import { shareInstance } from '../../../../shared/executors/share.ts';
import { transferInstance } from '../../../../shared/executors/transfer.ts';
import { accessAs, instanceOwnedBy } from '../../fakes/access.ts';
import { caller, world } from '../../fakes/world.ts';

// Issue 29, collision 7: after a transfer, the previous owner may no longer see the instance; their re-sent
// transfer (a lost answer) must say it is done, and no more. Passes once transfer.ts answers that retry with
// only the name and the new owner.
const ADA = caller('ada@example.com');
const BEA: CallerIdentity = { email: 'bea@example.com', subject: '2', kind: 'user' };
const ACKNOWLEDGMENT = ['name', 'owner', 'transferred'];

describe("the previous owner's re-sent transfer", () => {
  it('answers the name and the new owner only, not the instance: no collaborators, access list, state or problems', async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    await transferInstance(accessAs(w, ADA), { name, to: 'bea@example.com' });
    // The new owner shares it: none of this is the previous owner's to see.
    await shareInstance(accessAs(w, BEA), { name, emails: ['cy@example.com'] });
    w.clock.advance(3_600_000);
    const again = (await transferInstance(accessAs(w, ADA), { name, to: 'bea@example.com' })) as unknown as Record<string, unknown>;
    expect(again).toMatchObject({ name, owner: 'bea@example.com' });
    expect(Object.keys(again).filter((key) => !ACKNOWLEDGMENT.includes(key))).toEqual([]);
  });

  it('still answers the whole instance to an admin, who may see it', async () => {
    const w = world();
    const name = await instanceOwnedBy(w, 'ada@example.com');
    await transferInstance(accessAs(w, ADA), { name, to: 'bea@example.com' });
    const root: CallerIdentity = { email: 'root@example.com', subject: '99', kind: 'user' };
    await expect(transferInstance(accessAs(w, root), { name, to: 'bea@example.com' })).resolves.toMatchObject({
      name,
      owner: 'bea@example.com',
      collaborators: [],
      state: expect.any(String) as string,
    });
  });
});

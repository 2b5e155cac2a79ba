import { create, type Domain } from 'node:domain';
import { describe, expect, it } from 'vitest';
import { outsideDomain } from '../../../../shared/http/outside-domain.ts';

const active = (): Domain | null | undefined => (process as { domain?: Domain | null }).domain;

describe('outsideDomain', () => {
  it('runs its work, and what that work schedules, with no domain active, then re-enters the domain', async () => {
    const d = create();
    const seen = await new Promise<{ inside?: Domain | null; scheduled?: Domain | null; after?: Domain | null; value: number }>((resolve) =>
      d.run(() => {
        let inside: Domain | null | undefined;
        const value = outsideDomain(() => {
          inside = active();
          setImmediate(() => resolve({ inside, scheduled: active(), after, value }));
          return 7;
        });
        const after = active();
      }),
    );
    expect(seen).toEqual({ inside: undefined, scheduled: undefined, after: d, value: 7 });
  });

  it('re-enters the domain when its work throws', () => {
    const d = create();
    d.run(() => {
      expect(() =>
        outsideDomain(() => {
          throw new Error('no');
        }),
      ).toThrow('no');
      expect(active()).toBe(d);
    });
  });

  it('runs its work as it is where no domain is active', () => {
    expect(outsideDomain(() => active())).toBe(active());
  });
});

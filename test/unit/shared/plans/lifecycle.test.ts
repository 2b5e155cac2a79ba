import { describe, expect, it } from 'vitest';
import { ownerHashOf } from '../../../../shared/instances/naming.ts';
import { resetDisk } from '../../../../shared/plans/lifecycle.ts';

const ADA = ownerHashOf('ada@example.com');
const deployment = {
  metadata: { name: 'syncbased-01010101', labels: { 'allocator.dev/owner-hash': ADA } },
};
const labels = { allocator: 'syncbased', 'allocator-owner-hash': ADA, 'allocator-instance': 'syncbased-01010101' };

describe('resetDisk', () => {
  it("makes an empty disk of the configured size and type, with the instance's name and labels", () => {
    expect(resetDisk(deployment, { serverName: 'syncbased', disk: { sizeGb: 20, type: 'pd-ssd' } })).toEqual({
      name: 'syncbased-01010101',
      sizeGb: 20,
      type: 'pd-ssd',
      labels,
    });
  });

  it.each([[{ snapshot: 'projects/p/global/snapshots/golden' }], [{ image: 'global/images/golden' }]])(
    'makes it from the configured source %j, as create does',
    (source) => {
      expect(resetDisk(deployment, { serverName: 'syncbased', disk: { sizeGb: 10, type: 'pd-standard', source } })).toEqual({
        name: 'syncbased-01010101',
        sizeGb: 10,
        type: 'pd-standard',
        labels,
        source,
      });
    },
  );
});

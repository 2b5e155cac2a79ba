import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../../shared/errors.ts';
import { warmUp } from '../../../../shared/runtime/warm-up.ts';
import { FakeClock } from '../../fakes/fake-clock.ts';
import { FakeCluster } from '../../fakes/fake-cluster.ts';

describe('warming up at cold start', () => {
  it('starts fetching the certificates and connecting to the cluster, without waiting for either', async () => {
    const started: string[] = [];
    let finishConnect: () => void = () => undefined;
    const connected = new Promise<void>((resolve) => (finishConnect = resolve));
    warmUp({
      verifier: { verify: () => Promise.reject(new Error('not called')), warmUp: async () => void started.push('certificates') },
      cluster: async () => {
        started.push('cluster');
        await connected;
        return new FakeCluster(new FakeClock());
      },
    });
    await Promise.resolve();
    expect(started).toEqual(['certificates', 'cluster']);
    finishConnect();
  });

  it('leaves failures to the first request: nothing is thrown or left unhandled', async () => {
    const failing = () => Promise.reject(new UnavailableError('down'));
    expect(() => warmUp({ verifier: { verify: failing, warmUp: failing }, cluster: failing })).not.toThrow();
    // An unhandled rejection would fail this test file.
    await new Promise((resolve) => setTimeout(resolve, 10));
  });
});

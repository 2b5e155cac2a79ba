import { describe, expect, it } from 'vitest';
import { formatEventLines } from '../../../cli/events-command.ts';

describe('formatEventLines', () => {
  it('prints one line per event: its time to the second, what it is about (padded), warnings marked, repeats counted', () => {
    expect(
      formatEventLines([
        {
          time: '2026-01-02T15:04:01.000Z',
          about: 'instance',
          warning: false,
          count: 1,
          reason: 'ScalingReplicaSet',
          message: 'Scaled up to 1 pod',
        },
        {
          time: '2026-01-02T15:04:03.250Z',
          about: 'service',
          service: 'syncbased-1a2b3c4d-db',
          warning: false,
          count: 1,
          reason: 'EnsuringLoadBalancer',
          message: 'Setting up its load balancer',
        },
        {
          time: '2026-01-02T15:09:00.000Z',
          firstTime: '2026-01-02T15:05:00.000Z',
          about: 'pod',
          warning: true,
          count: 5,
          reason: 'BackOff',
          message: 'Its container syncbased keeps crashing; waiting before starting it again',
        },
      ]),
    ).toEqual([
      '2026-01-02T15:04:01Z  instance                       Scaled up to 1 pod',
      '2026-01-02T15:04:03Z  service syncbased-1a2b3c4d-db  Setting up its load balancer',
      '2026-01-02T15:09:00Z  pod                            warning: Its container syncbased keeps crashing; waiting before starting it again (5 times since 2026-01-02T15:05:00Z)',
    ]);
  });

  it("escapes control characters that come from the cluster's messages", () => {
    expect(
      formatEventLines([
        { time: '2026-01-02T15:04:01Z', about: 'pod', warning: true, count: 1, reason: 'Failed', message: 'bad\u001b[2Jname' },
      ]),
    ).toEqual(['2026-01-02T15:04:01Z  pod  warning: bad\\x1b[2Jname']);
  });
});

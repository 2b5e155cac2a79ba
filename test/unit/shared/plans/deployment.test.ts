import { describe, expect, it } from 'vitest';
import { pinnedToZone } from '../../../../shared/instances/metadata.ts';
import { accessListOf, buildInstanceDeployment, checkTemplate, withoutServiceAccountToken } from '../../../../shared/plans/deployment.ts';
import { compileDeploymentTemplate } from '../../../../shared/template/deployment-template.ts';
import { template } from '../../fakes/world.ts';

describe('buildInstanceDeployment', () => {
  it("puts Allocator's labels and annotations over whatever the template wrote", () => {
    const forging = compileDeploymentTemplate(
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          name: '{{Name}}',
          labels: { 'allocator.dev/owner-hash': 'forged', app: 'x' },
          annotations: { 'allocator.dev/owner': 'mallory@example.com' },
        },
        spec: {
          selector: { matchLabels: { app: 'x' } },
          template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
        },
      }),
      { format: 'json' },
    );
    const deployment = buildInstanceDeployment(forging, {
      serverName: 's',
      diskZone: 'z-a',
      name: 's-00000001',
      ownerEmail: 'ada@example.com',
      ownerSubject: '1',
      admins: [],
      accessListFormat: '{email}',
      mountRoot: '',
      version: 'v',
      createdAt: '2026-11-25T00:00:00.000Z',
    });
    expect(deployment.metadata?.labels).toEqual({
      app: 'x',
      'allocator.dev/allocator': 's',
      'allocator.dev/owner-hash': expect.not.stringMatching('forged'),
      'allocator.dev/instance': 's-00000001',
    });
    expect(deployment.metadata?.annotations?.['allocator.dev/owner']).toBe('ada@example.com');
  });

  it('lists an admin who is also the owner once, owner first', () => {
    expect(accessListOf('a@x', ['b@x', 'a@x'])).toEqual(['a@x', 'b@x']);
  });

  it('writes each access-list entry by the configured format, and the result stays one escaped value', () => {
    const owner = 'o"b$&rien\\@example.com';
    expect(accessListOf(owner, ['root@example.com'], 'dev.v.io:u:{email}')).toEqual([`dev.v.io:u:${owner}`, 'dev.v.io:u:root@example.com']);
    const deployment = buildInstanceDeployment(template, {
      serverName: 'syncbased',
      diskZone: 'us-central1-c',
      name: 'syncbased-00000001',
      ownerEmail: owner,
      ownerSubject: '1',
      admins: ['root@example.com'],
      accessListFormat: 'dev.v.io:u:{email}',
      mountRoot: '',
      version: 'v',
      createdAt: '2026-11-25T00:00:00.000Z',
    });
    const command = deployment.spec?.template.spec?.containers[0]?.command ?? [];
    const permissions = command.find((arg) => arg.startsWith('--v23.permissions.literal='));
    expect(JSON.parse(permissions!.slice('--v23.permissions.literal='.length))).toEqual({
      Admin: { In: [`dev.v.io:u:${owner}`, 'dev.v.io:u:root@example.com'] },
    });
    expect(JSON.parse(deployment.metadata?.annotations?.['allocator.dev/access-list'] ?? '')).toEqual({
      In: [`dev.v.io:u:${owner}`, 'dev.v.io:u:root@example.com'],
    });
  });

  it('checks a template at cold start through the same assembly', () => {
    expect(
      checkTemplate(template, {
        serverName: 'syncbased',
        admins: ['root@example.com'],
        accessListFormat: '{email}',
        mountRoot: '/m',
        version: 'v1',
        compute: { zone: 'us-central1-c' },
      }).metadata?.labels?.['allocator.dev/instance'],
    ).toBe('syncbased-00000000');
  });

  it('mounts no service-account token in the pods, unless the template says either way', () => {
    const podSpec = (automount?: boolean) => ({
      containers: [{ name: 'c', image: 'i' }],
      ...(automount === undefined ? {} : { automountServiceAccountToken: automount }),
    });
    const withPod = (spec: ReturnType<typeof podSpec>) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec } },
    });
    const silent = withPod(podSpec());
    expect(withoutServiceAccountToken(silent)).toEqual(withPod(podSpec(false)));
    expect(silent).toEqual(withPod(podSpec())); // the input is not changed
    for (const chosen of [true, false]) expect(withoutServiceAccountToken(withPod(podSpec(chosen)))).toEqual(withPod(podSpec(chosen)));
  });

  it.each([
    ['says nothing', undefined, false],
    ['asks for the token', true, true],
    ['turns it off itself', false, false],
  ])("builds every instance's pods without a token when the template %s", (_label, automount, expected) => {
    const spec = {
      containers: [{ name: 'c', image: 'i' }],
      ...(automount === undefined ? {} : { automountServiceAccountToken: automount }),
    };
    const withToken = compileDeploymentTemplate(
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: '{{Name}}' },
        spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec } },
      }),
      { format: 'json' },
    );
    const deployment = buildInstanceDeployment(withToken, {
      serverName: 's',
      diskZone: 'z-a',
      name: 's-00000001',
      ownerEmail: 'ada@example.com',
      ownerSubject: '1',
      admins: [],
      accessListFormat: '{email}',
      mountRoot: '',
      version: 'v',
      createdAt: '2026-11-25T00:00:00.000Z',
    });
    expect(deployment.spec?.template.spec).toEqual({
      containers: [{ name: 'c', image: 'i' }],
      automountServiceAccountToken: expected,
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['z-a'] }] }],
          },
        },
      },
    });
  });

  it("pins the pods to the disk's zone, ANDed into each of the template's own node terms", () => {
    const spec = {
      containers: [{ name: 'c', image: 'i' }],
      affinity: {
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] },
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'pool', operator: 'In', values: ['a'] }] },
              { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n'] }] },
            ],
          },
        },
      },
    };
    expect(pinnedToZone(spec, 'us-central1-c')).toEqual({
      containers: [{ name: 'c', image: 'i' }],
      affinity: {
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] },
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: 'pool', operator: 'In', values: ['a'] },
                  { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-central1-c'] },
                ],
              },
              {
                matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n'] }],
                matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-central1-c'] }],
              },
            ],
          },
        },
      },
    });
    expect(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]?.matchExpressions).toHaveLength(
      1,
    ); // the input is not changed
  });
});

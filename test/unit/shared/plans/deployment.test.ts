import { describe, expect, it } from 'vitest';
import { accessListOf, buildInstanceDeployment, checkTemplate } from '../../../../shared/plans/deployment.ts';
import { compileDeploymentTemplate } from '../../../../shared/template/deployment-template.ts';
import { template } from '../../fakes/world.ts';

describe('buildInstanceDeployment', () => {
  it('puts Allocator\'s labels and annotations over whatever the template wrote', () => {
    const forging = compileDeploymentTemplate(
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: '{{Name}}', labels: { 'allocator.dev/owner-hash': 'forged', app: 'x' }, annotations: { 'allocator.dev/owner': 'mallory@example.com' } },
        spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
      }),
      { format: 'json' },
    );
    const deployment = buildInstanceDeployment(forging, { serverName: 's', name: 's-00000001', ownerEmail: 'ada@example.com', admins: [], mountRoot: '', version: 'v', createdAt: '2026-11-25T00:00:00.000Z' });
    expect(deployment.metadata?.labels).toEqual({ app: 'x', 'allocator.dev/allocator': 's', 'allocator.dev/owner-hash': expect.not.stringMatching('forged'), 'allocator.dev/instance': 's-00000001' });
    expect(deployment.metadata?.annotations?.['allocator.dev/owner']).toBe('ada@example.com');
  });

  it('lists an admin who is also the owner once, owner first', () => {
    expect(accessListOf('a@x', ['b@x', 'a@x'])).toEqual(['a@x', 'b@x']);
  });

  it('checks a template at cold start through the same assembly', () => {
    expect(checkTemplate(template, { serverName: 'syncbased', admins: ['root@example.com'], mountRoot: '/m', version: 'v1' }).metadata?.labels?.['allocator.dev/instance']).toBe('syncbased-00000000');
  });
});

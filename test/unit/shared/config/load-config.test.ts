import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_GKE_NAMESPACE, loadConfig } from '../../../../shared/config/load-config.ts';

describe("loadConfig's namespace", () => {
  const dir = mkdtempSync(join(tmpdir(), 'allocator-namespace-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'bare.cfg'), JSON.stringify({ project: 'p', zone: 'us-central1-c', cluster: 'c' }));
  writeFileSync(join(dir, 'named.cfg'), JSON.stringify({ project: 'p', zone: 'us-central1-c', cluster: 'c', namespace: 'ns' }));
  const base = { ALLOCATOR_SERVER_NAME: 'syncbased', ALLOCATOR_AUDIENCES: 'aud' };

  it.each([
    ['a vkube.cfg without one: the dedicated namespace, not default', { ALLOCATOR_VKUBE_CFG: 'bare.cfg' }, DEFAULT_GKE_NAMESPACE],
    ["a vkube.cfg's own", { ALLOCATOR_VKUBE_CFG: 'named.cfg' }, 'ns'],
    ['ALLOCATOR_NAMESPACE over the vkube.cfg', { ALLOCATOR_VKUBE_CFG: 'named.cfg', ALLOCATOR_NAMESPACE: 'other' }, 'other'],
    [
      'a kubeconfig without ALLOCATOR_NAMESPACE: default',
      { ALLOCATOR_KUBECONFIG: 'kubeconfig', ALLOCATOR_GCE_PROJECT: 'p', ALLOCATOR_GCE_ZONE: 'us-central1-c' },
      'default',
    ],
  ])('is %s', (_label, env, namespace) => {
    expect(loadConfig({ ...base, ...env }, dir).cluster.namespace).toBe(namespace);
  });
});

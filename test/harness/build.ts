import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTROL_PLANE_VERSIONS } from './versions.ts';

/** Paths of the built control-plane binaries. */
export interface ControlPlaneBinaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  /** The same release's kubectl, which the tests apply infra/k8s/ with as infra/setup.sh does. */
  readonly kubectl: string;
  readonly kwok: string;
  /** Directory of kwok's stage definitions (node-initialize, pod-ready, ...). */
  readonly kwokStagesDir: string;
}

const BUILD_SCRIPT = fileURLToPath(new URL('./build-control-plane.sh', import.meta.url));

/**
 * The cache directory: `$ALLOCATOR_CACHE_DIR`, else `$XDG_CACHE_HOME/allocator`,
 * else `~/.cache/allocator`.
 */
export function controlPlaneCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.ALLOCATOR_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'allocator');
}

/** Where each binary lives in the cache, for the pinned versions. */
export function controlPlaneBinaries(cacheDir: string = controlPlaneCacheDir()): ControlPlaneBinaries {
  const { etcd, kubernetes, kwok } = CONTROL_PLANE_VERSIONS;
  const k8sDir = join(cacheDir, `kubernetes-${kubernetes}`);
  return {
    etcd: join(cacheDir, `etcd-${etcd}`, 'etcd'),
    kubeApiserver: join(k8sDir, 'kube-apiserver'),
    kubeControllerManager: join(k8sDir, 'kube-controller-manager'),
    kubeScheduler: join(k8sDir, 'kube-scheduler'),
    kubectl: join(cacheDir, `kubectl-${kubernetes}`, 'kubectl'),
    kwok: join(cacheDir, `kwok-${kwok}`, 'kwok'),
    kwokStagesDir: join(cacheDir, `kwok-${kwok}`, 'stages'),
  };
}

/**
 * Builds whatever is missing from the cache (a cold build takes tens of
 * minutes on 2 cores) and returns the binaries. Progress lines go to
 * `onProgress` (stderr by default).
 */
export async function ensureControlPlaneBinaries(
  options: { cacheDir?: string; onProgress?: (line: string) => void } = {},
): Promise<ControlPlaneBinaries> {
  const cacheDir = options.cacheDir ?? controlPlaneCacheDir();
  const onProgress = options.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { etcd, kubernetes, kwok } = CONTROL_PLANE_VERSIONS;
  const child = spawn('bash', [BUILD_SCRIPT], {
    env: {
      ...process.env,
      ALLOCATOR_CACHE_DIR: cacheDir,
      ETCD_VERSION: etcd,
      KUBERNETES_VERSION: kubernetes,
      KWOK_VERSION: kwok,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const tail: string[] = [];
  let pending = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (line.startsWith('[control-plane build')) onProgress(line);
    }
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    throw new Error(`control-plane build failed (exit ${code}); last output:\n${tail.join('\n')}`);
  }
  return controlPlaneBinaries(cacheDir);
}

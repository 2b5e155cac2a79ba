// The local stack every benchmark runs on: a control plane, the token issuer
// and the disks emulator, a `bench` namespace ready for pods, and the three
// functions served in this process.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { DisksApi } from '../shared/gce/disks.ts';
import type { ClusterClient } from '../shared/kube/cluster.ts';
import { loadConfig } from '../shared/config/load-config.ts';
import { makeCreateRuntime } from '../shared/runtime/create-runtime.ts';
import type { CreateRuntime } from '../shared/runtime/runtimes.ts';
import { startControlPlane, type ControlPlane, type StartControlPlaneOptions } from '../test/harness/control-plane.ts';
import { startDisksEmulator, type DisksEmulator, type DisksEmulatorOptions } from '../test/harness/disks-emulator.ts';
import { serveInProcess } from '../test/harness/serve-in-process.ts';
import { startTokenIssuer, type TokenIssuer } from '../test/harness/token-issuer.ts';
import { allocatorEnvFor } from './serve.ts';

export const BENCH_NAMESPACE = 'bench';

export interface BenchStack {
  readonly controlPlane: ControlPlane;
  readonly issuer: TokenIssuer;
  readonly emulator: DisksEmulator;
  readonly env: Record<string, string>;
  readonly runtime: CreateRuntime;
  readonly urls: Awaited<ReturnType<typeof serveInProcess>>['urls'];
  readonly cluster: ClusterClient;
  readonly disks: DisksApi;
  /** Headers with an ID token of `email` for the allocator's audience. */
  headersFor(email: string): Record<string, string>;
  /** The owner a create by `email` records: the email and the account id its tokens carry. */
  ownerFor(email: string): { email: string; subject: string };
  stop(): Promise<void>;
}

export async function startBenchStack(
  options: { controlPlane?: StartControlPlaneOptions; emulator?: DisksEmulatorOptions } = {},
): Promise<BenchStack> {
  const controlPlane = await startControlPlane(options.controlPlane);
  const issuer = await startTokenIssuer();
  const emulator = await startDisksEmulator(options.emulator);
  const stopServices = async (): Promise<void> => {
    await Promise.all([issuer.stop(), emulator.stop()]);
    await controlPlane.stop();
  };
  try {
    await createBenchNamespace(controlPlane.kubeconfigPath);
    const env = allocatorEnvFor({
      kubeconfigPath: controlPlane.kubeconfigPath,
      namespace: BENCH_NAMESPACE,
      emulatorUrl: emulator.url,
      certsUrl: issuer.certsUrl,
    });
    const runtime = makeCreateRuntime(loadConfig(env));
    const served = await serveInProcess(runtime);
    const disks = runtime.disks();
    return {
      controlPlane,
      issuer,
      emulator,
      env,
      runtime,
      urls: served.urls,
      cluster: await runtime.cluster(),
      disks,
      headersFor: (email) => ({ authorization: `Bearer ${issuer.issueIdToken({ email, audience: env.ALLOCATOR_AUDIENCES! })}` }),
      ownerFor: (email) => ({ email, subject: issuer.claimsFor({ email, audience: env.ALLOCATOR_AUDIENCES! }).sub }),
      stop: async () => {
        await served.stop();
        await disks.close();
        await stopServices();
      },
    };
  } catch (error) {
    await stopServices();
    throw error;
  }
}

/** Creates the `bench` namespace and waits for its default service account, without which no pod is admitted. */
export async function createBenchNamespace(kubeconfigPath: string): Promise<void> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: BENCH_NAMESPACE } } });
  for (let i = 0; i < 300; i += 1) {
    try {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: BENCH_NAMESPACE });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** POSTs a create (waiting for ready) to a create function at `url`; the answer, which must be 201. */
export async function createThrough(url: string, headers: Record<string, string>): Promise<Response> {
  const answer = await fetch(url, { method: 'POST', headers, body: '{}' });
  if (answer.status !== 201) throw new Error(`create answered ${answer.status}: ${await answer.text()}`);
  return answer;
}

/** The name of the instance a create answered, leaving the answer unread. */
export async function createdName(answer: Response): Promise<string> {
  return ((await answer.clone().json()) as { name: string }).name;
}

/** POSTs a destroy of `name` to a destroy function at `url`, which must answer 200. */
export async function destroyThrough(url: string, headers: Record<string, string>, name: string): Promise<void> {
  const answer = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ name }) });
  if (answer.status !== 200) throw new Error(`destroy answered ${answer.status}: ${await answer.text()}`);
}

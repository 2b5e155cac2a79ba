import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  loadYaml,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { ensureControlPlaneBinaries, type ControlPlaneBinaries } from './build.ts';
import { criLogLine } from './pod-logs.ts';
import { selfSignedCertificatePem } from './x509.ts';
import { getFreePort } from './ports.ts';
import { removeWhenParentDies, startProcess, waitUntil, type ManagedProcess } from './processes.ts';

/** A running local control plane. */
export interface ControlPlane {
  /** Path of a kubeconfig with cluster-admin rights. */
  readonly kubeconfigPath: string;
  /** Path of a kubeconfig for `RUNTIME_USER`, which has no rights until a test binds it some (as infra/k8s/rbac.yaml does). */
  readonly runtimeKubeconfigPath: string;
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  /** Name of the kwok fake node that pods are scheduled on. */
  readonly nodeName: string;
  /**
   * The log every pod has unless given its own (kwok's `ClusterLogs`): a CRI log file
   * that kwok follows. A test gives a pod its own with `attachPodLog` (test/harness/pod-logs.ts).
   */
  readonly defaultPodLog: string;
  /** The temp directory holding data, certs and logs; removed by `stop()`. */
  readonly dir: string;
  /** Stops every component and removes `dir`. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartControlPlaneOptions {
  binaries?: ControlPlaneBinaries;
  onProgress?: (line: string) => void;
  /** Per-component readiness timeout; default 90 s (a cold apiserver start on 2 busy cores is slow). */
  readyTimeoutMs?: number;
  /** How long a pod takes to become Ready, as a range (kwok picks a time in it); default at once. */
  podReadyDelayMs?: { readonly min: number; readonly max: number };
  /** The controller manager's API rate limit, requests a second (its flag's default: 20, with bursts of 30). */
  controllerManagerQps?: number;
}

const ADMIN_USER = 'allocator-admin';
/** The user a deployed allocator's runtime account stands for: a plain authenticated user. */
export const RUNTIME_USER = 'allocator-runtime';
/**
 * kwok's fake nodes: one per zone of one region, labelled as GKE labels its
 * nodes, so that the tests see where the scheduler puts each pod.
 */
export const NODES = [
  { name: 'kwok-node-0', zone: 'us-central1-c' },
  { name: 'kwok-node-1', zone: 'us-central1-a' },
] as const;
export const REGION = 'us-central1';
const NODE_NAME = NODES[0].name;

/**
 * Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
 * kwok on free loopback ports, installs Allocator's custom resource
 * (infra/k8s/instance-crd.yaml), registers the fake nodes and writes a
 * kubeconfig. Builds the binaries first if the cache lacks them.
 */
export async function startControlPlane(options: StartControlPlaneOptions = {}): Promise<ControlPlane> {
  const progress = options.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const binaries = options.binaries ?? (await ensureControlPlaneBinaries({ onProgress: progress }));
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const dir = mkdtempSync(join(tmpdir(), 'allocator-cp-'));
  const releaseSentinel = removeWhenParentDies(dir);
  const processes: ManagedProcess[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.off('exit', removeDirOnExit);
    // Reverse order: clients first, etcd last.
    for (const child of [...processes].reverse()) await child.stop();
    rmSync(dir, { recursive: true, force: true });
    releaseSentinel();
  };
  const removeDirOnExit = (): void => rmSync(dir, { recursive: true, force: true });
  process.on('exit', removeDirOnExit);

  const start = (name: string, command: string, args: string[]): ManagedProcess => {
    const child = startProcess({ name, command, args, logFile: join(dir, `${name}.log`) });
    processes.push(child);
    return child;
  };
  const ready = async (child: ManagedProcess, probe: () => Promise<boolean>): Promise<void> => {
    const startedAt = Date.now();
    let exitedEarly = false;
    void child.exited.then(() => (exitedEarly = true));
    await waitUntil(
      async () => {
        if (exitedEarly) throw new Error(`${child.name} exited`);
        return await probe();
      },
      { timeoutMs: readyTimeoutMs, what: `${child.name} to become healthy`, describe: () => `${child.name} log:\n${child.logTail()}` },
    );
    progress(`[control plane] ${child.name} ready in ${Date.now() - startedAt} ms`);
  };

  try {
    const [etcdClientPort, etcdPeerPort, apiserverPort, controllerManagerPort, schedulerPort, kwokPort] = await Promise.all(
      Array.from({ length: 6 }, getFreePort),
    );

    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const etcdPeerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = start('etcd', binaries.etcd, [
      `--data-dir=${join(dir, 'etcd')}`,
      '--name=default',
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${etcdPeerUrl}`,
      `--initial-advertise-peer-urls=${etcdPeerUrl}`,
      `--initial-cluster=default=${etcdPeerUrl}`,
      '--unsafe-no-fsync', // throwaway data; fsync only slows the tests
      '--log-level=warn',
    ]);
    await ready(etcd, async () => (await fetch(`${etcdUrl}/health`)).ok);

    const adminToken = randomBytes(24).toString('hex');
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const runtimeToken = randomBytes(24).toString('hex');
    writeFileSync(
      join(dir, 'tokens.csv'),
      `${adminToken},${ADMIN_USER},${ADMIN_USER},"system:masters"\n${runtimeToken},${RUNTIME_USER},${RUNTIME_USER}\n`,
      { mode: 0o600 },
    );
    const certDir = join(dir, 'apiserver-certs');
    mkdirSync(certDir);
    const server = `https://127.0.0.1:${apiserverPort}`;
    const apiserver = start('kube-apiserver', binaries.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiserverPort}`,
      `--cert-dir=${certDir}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--endpoint-reconciler-type=none',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--enable-priority-and-fairness=false',
      // New nodes get a not-ready taint that only the node-lifecycle controller
      // lifts; kwok keeps the fake node Ready, so that controller is not run.
      '--disable-admission-plugins=TaintNodesByCondition',
      // As on GKE: privileged containers are for admission (Pod Security, infra/k8s/admission.yaml) to refuse,
      // not turned off for the whole cluster, which would hide whether those refuse them.
      '--allow-privileged=true',
      // Pods' logs are proxied to their node's kubelet, which kwok's server stands in for: at the node's
      // InternalIP (kwok's --node-ip), not its name, which resolves nowhere. Its certificate is self-signed,
      // which the API server accepts without --kubelet-certificate-authority.
      '--kubelet-preferred-address-types=InternalIP',
    ]);
    await ready(apiserver, () => httpsOk(`${server}/readyz`));

    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigFor({ server, caPem: readCertBundle(certDir), token: adminToken }), { mode: 0o600 });
    const runtimeKubeconfigPath = join(dir, 'runtime-kubeconfig');
    writeFileSync(runtimeKubeconfigPath, kubeconfigFor({ server, caPem: readCertBundle(certDir), token: runtimeToken }), { mode: 0o600 });

    const controllerManager = start('kube-controller-manager', binaries.kubeControllerManager, [
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${controllerManagerPort}`,
      `--cert-dir=${join(dir, 'controller-manager-certs')}`,
      '--controllers=deployment-controller,replicaset-controller,garbage-collector-controller,namespace-controller,serviceaccount-controller',
      '--use-service-account-credentials=false',
      ...(options.controllerManagerQps
        ? [`--kube-api-qps=${options.controllerManagerQps}`, `--kube-api-burst=${Math.ceil(options.controllerManagerQps * 1.5)}`]
        : []),
    ]);
    const scheduler = start('kube-scheduler', binaries.kubeScheduler, [
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${schedulerPort}`,
      `--cert-dir=${join(dir, 'scheduler-certs')}`,
    ]);
    const stageFiles = kwokStages(binaries.kwokStagesDir, dir, options.podReadyDelayMs);
    const logs = kwokLogs(dir);
    // kwok watches Logs objects from its start: their definition must be served first.
    await installCustomResource(kubeconfigPath, readyTimeoutMs, progress, KWOK_LOGS_CRD);
    const kwok = start('kwok', binaries.kwok, [
      `--kubeconfig=${kubeconfigPath}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      `--server-address=127.0.0.1:${kwokPort}`,
      // The kubelet's address and port that the node says it has, where the API server asks for pods' logs.
      '--node-ip=127.0.0.1',
      `--node-port=${kwokPort}`,
      `--tls-cert-file=${logs.certFile}`,
      `--tls-private-key-file=${logs.keyFile}`,
      '--enable-crds=Logs',
      '--cidr=10.244.0.0/16',
      ...[...stageFiles, logs.configFile].map((file) => `--config=${file}`),
    ]);
    await Promise.all([
      // Side by side with the other components' start: the API server alone serves it.
      installCustomResource(kubeconfigPath, readyTimeoutMs, progress, INSTANCE_CRD),
      ready(controllerManager, () => httpsOk(`https://127.0.0.1:${controllerManagerPort}/healthz`)),
      ready(scheduler, () => httpsOk(`https://127.0.0.1:${schedulerPort}/healthz`)),
      ready(kwok, async () => (await fetch(`http://127.0.0.1:${kwokPort}/healthz`)).ok),
    ]);

    await Promise.all(NODES.map((node) => registerFakeNode(kubeconfigPath, node, readyTimeoutMs)));
    progress(`[control plane] nodes ${NODES.map((node) => `${node.name} (${node.zone})`).join(', ')} ready; kubeconfig ${kubeconfigPath}`);
    return { kubeconfigPath, runtimeKubeconfigPath, server, nodeName: NODE_NAME, defaultPodLog: logs.defaultLog, dir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Allocator's custom resource, which infra/setup.sh applies to a real cluster (infra/k8s/manifests.sh). */
const INSTANCE_CRD = fileURLToPath(new URL('../../infra/k8s/instance-crd.yaml', import.meta.url));

/** kwok's definition of `Logs` (sigs.k8s.io/kwok v0.8.0, kustomize/crd/bases), by which a test gives one pod its own log. */
const KWOK_LOGS_CRD = fileURLToPath(new URL('./kwok-crds/logs.yaml', import.meta.url));

/**
 * What kwok needs to serve pods' logs as a kubelet does: a serving
 * certificate (the API server speaks only TLS to kubelets), and a
 * `ClusterLogs` giving every pod a default log, which kwok follows.
 */
function kwokLogs(dir: string): { certFile: string; keyFile: string; configFile: string; defaultLog: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const certFile = join(dir, 'kwok.crt');
  const keyFile = join(dir, 'kwok.key');
  const now = Date.now();
  writeFileSync(
    certFile,
    selfSignedCertificatePem({
      privateKey,
      commonName: '127.0.0.1',
      notBefore: new Date(now - 3_600_000),
      notAfter: new Date(now + 86_400_000),
    }),
  );
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const defaultLog = join(dir, 'pod-logs', 'default.log');
  mkdirSync(join(dir, 'pod-logs'));
  writeFileSync(defaultLog, criLogLine(new Date(now), 'kwok: this pod runs no container; this is its default log'));
  const configFile = join(dir, 'kwok-logs.yaml');
  writeFileSync(
    configFile,
    JSON.stringify({
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'ClusterLogs',
      metadata: { name: 'default' },
      spec: { logs: [{ logsFile: defaultLog, follow: true }] },
    }),
  );
  return { certFile, keyFile, configFile, defaultLog };
}

/** Creates a definition (Allocator's Instance, kwok's Logs) as the cluster's admin and waits until the API server serves it (`Established`). */
async function installCustomResource(
  kubeconfigPath: string,
  timeoutMs: number,
  progress: (line: string) => void,
  file: string,
): Promise<void> {
  const startedAt = Date.now();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  // client-node's loadYaml (js-yaml, then its models): the API class sends only the fields its models know, by
  // their TypeScript names, so a schema read by js-yaml alone would lose its `enum`s (the models' `_enum`).
  const definition = loadYaml<V1CustomResourceDefinition>(readFileSync(file, 'utf8'));
  const name = definition.metadata?.name;
  if (!name) throw new Error(`${file}: metadata.name is missing`);
  try {
    await api.createCustomResourceDefinition({ body: definition });
  } catch (error) {
    throw new Error(`the API server refused ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  let conditions = '';
  await waitUntil(
    async () => {
      const read = await api.readCustomResourceDefinition({ name });
      conditions = JSON.stringify(read.status?.conditions ?? []);
      return read.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
    },
    { timeoutMs, intervalMs: 20, what: `${name} to be established`, describe: () => `its conditions: ${conditions}` },
  );
  // Established is not yet served from the watch cache: a list answers 429 "storage is (re)initializing" until it is.
  const version = definition.spec.versions.find((v) => v.storage)?.name ?? definition.spec.versions[0]?.name ?? 'v1';
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  let refusal = '';
  await waitUntil(
    async () =>
      await custom.listClusterCustomObject({ group: definition.spec.group, version, plural: definition.spec.names.plural, limit: 1 }).then(
        () => true,
        (error: unknown) => ((refusal = error instanceof Error ? error.message.slice(0, 200) : String(error)), false),
      ),
    { timeoutMs, intervalMs: 20, what: `${name} to be listed`, describe: () => `the last refusal: ${refusal}` },
  );
  progress(`[control plane] ${name} established and listed in ${Date.now() - startedAt} ms`);
}

/** The apiserver writes its self-signed serving certificate followed by its CA. */
function readCertBundle(certDir: string): string {
  return readFileSync(join(certDir, 'apiserver.crt'), 'utf8');
}

function kubeconfigFor(options: { server: string; caPem: string; token: string }): string {
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'local',
          cluster: { server: options.server, 'certificate-authority-data': Buffer.from(options.caPem).toString('base64') },
        },
      ],
      users: [{ name: ADMIN_USER, user: { token: options.token } }],
      contexts: [{ name: 'local', context: { cluster: 'local', user: ADMIN_USER, namespace: 'default' } }],
      'current-context': 'local',
    },
    null,
    2,
  );
}

/** GET over TLS without verifying the certificate: only for loopback health probes. */
async function httpsOk(url: string): Promise<boolean> {
  return await new Promise((resolve, reject) => {
    const req = httpsRequest(url, { rejectUnauthorized: false, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function registerFakeNode(kubeconfigPath: string, node: (typeof NODES)[number], timeoutMs: number): Promise<void> {
  const NODE_NAME = node.name;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNode({
    body: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: NODE_NAME,
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: {
          type: 'kwok',
          'kubernetes.io/hostname': NODE_NAME,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'topology.kubernetes.io/zone': node.zone,
          'topology.kubernetes.io/region': REGION,
        },
      },
      status: {
        allocatable: { cpu: '64', memory: '256Gi', pods: '10000' },
        capacity: { cpu: '64', memory: '256Gi', pods: '10000' },
      },
    },
  });
  await waitUntil(
    async () => {
      const node = await core.readNode({ name: NODE_NAME });
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    },
    { timeoutMs, what: `node ${NODE_NAME} to become Ready` },
  );
}

/** Stages in which the tests' pods fail, keyed on their `allocator.test/fails-with` annotation. */
const FAILURE_STAGES_DIR = fileURLToPath(new URL('./kwok-stages/', import.meta.url));
export const FAILS_WITH = 'allocator.test/fails-with';
/** On a pod that a test asks to become ready only after SLOW_READY_MS, so that the steps before its ready are far apart. */
export const SLOW_READY = 'allocator.test/slow-ready';
const SLOW_READY_MS = 1_000;

/**
 * kwok's own stages, with pod-ready told to leave alone the pods that a test
 * asks to fail or to be slow and, if given, to wait `readyDelay` (written to
 * `dir`); a copy of pod-ready for the slow pods; and the failure stages.
 */
function kwokStages(cachedDir: string, dir: string, readyDelay?: { readonly min: number; readonly max: number }): string[] {
  const cached = readdirSync(cachedDir).filter((file) => file.endsWith('.yaml'));
  const files = cached.flatMap((file) => {
    if (file !== 'pod-ready.yaml') return [join(cachedDir, file)];
    const source = readFileSync(join(cachedDir, file), 'utf8');
    if (!source.includes('    matchExpressions:\n')) throw new Error(`kwok's ${file} has no matchExpressions to guard`);
    if (!source.includes('\n  next:\n')) throw new Error(`kwok's ${file} has no next to delay`);
    if (!source.includes('\n  name: pod-ready\n')) throw new Error(`kwok's ${file} is not named pod-ready`);
    const guarded = (slow: 'Exists' | 'DoesNotExist'): string =>
      source.replace(
        '    matchExpressions:\n',
        `    matchExpressions:\n    - key: '.metadata.annotations["${FAILS_WITH}"]'\n      operator: 'DoesNotExist'\n` +
          `    - key: '.metadata.annotations["${SLOW_READY}"]'\n      operator: '${slow}'\n`,
      );
    const delayed = (text: string, delay: { readonly min: number; readonly max: number } | undefined): string =>
      delay
        ? text.replace(
            '\n  next:\n',
            `\n  delay:\n    durationMilliseconds: ${delay.min}\n    jitterDurationMilliseconds: ${delay.max}\n  next:\n`,
          )
        : text;
    const ready = join(dir, 'pod-ready.yaml');
    writeFileSync(ready, delayed(guarded('DoesNotExist'), readyDelay));
    const slow = join(dir, 'pod-ready-slow.yaml');
    writeFileSync(
      slow,
      delayed(guarded('Exists'), { min: SLOW_READY_MS, max: SLOW_READY_MS }).replace(
        '\n  name: pod-ready\n',
        '\n  name: allocator-test-pod-ready-slow\n',
      ),
    );
    return [ready, slow];
  });
  const failures = readdirSync(FAILURE_STAGES_DIR)
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => join(FAILURE_STAGES_DIR, file));
  return [...files, ...failures];
}

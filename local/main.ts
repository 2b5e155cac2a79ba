// `npm run local`: the whole allocator on this machine. Starts the local
// control plane, the disks emulator, the token issuer and the three functions
// (each as its own functions-framework process, as on Cloud Run), prints how
// to call them, and stops everything on Ctrl-C.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane } from '../test/harness/control-plane.ts';
import { startDisksEmulator } from '../test/harness/disks-emulator.ts';
import { startGateway } from '../test/harness/gateway.ts';
import { FUNCTION_NAMES, startFunctionProcess, type FunctionProcess } from '../test/harness/function-process.ts';
import { startTokenIssuer } from '../test/harness/token-issuer.ts';
import { localFunctionEnv } from './local-env.ts';
import { STACK_FILE, type LocalStackInfo } from './stack-file.ts';

const ALLOCATOR_NAME = 'allocator';
const ADMIN = 'admin@example.com';
const TEMPLATE = fileURLToPath(new URL('../templates/syncbased-deployment.json.hbs', import.meta.url));

async function main(): Promise<void> {
  const stops: (() => Promise<void>)[] = [];
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    rmSync(STACK_FILE, { force: true });
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (): void => {
      console.log('\nstopping...');
      void stopAll().then(resolve);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });

  try {
    const controlPlane = await startControlPlane();
    stops.push(() => controlPlane.stop());
    const issuer = await startTokenIssuer();
    stops.push(() => issuer.stop());
    issuer.registerOAuthClient({ clientId: LOCAL_CLI_CLIENT_ID, clientSecret: LOCAL_CLI_CLIENT_SECRET });
    const emulator = await startDisksEmulator();
    stops.push(() => emulator.stop());
    const gateway = await startGateway();
    stops.push(() => gateway.stop());
    // As deployed, the allocator value is also the audience its tokens carry.
    const allocator = gateway.allocatorFor(ALLOCATOR_NAME);

    // The user's own ALLOCATOR_* settings win over these local defaults; their audiences add to the stack's.
    const env = localFunctionEnv(
      {
        ALLOCATOR_SERVER_NAME: 'syncbased',
        ALLOCATOR_TEMPLATE: TEMPLATE,
        ALLOCATOR_MOUNT_ROOT: '/ns.local/allocated',
        ALLOCATOR_KUBECONFIG: controlPlane.kubeconfigPath,
        ALLOCATOR_NAMESPACE: 'default',
        ALLOCATOR_GCE_PROJECT: 'local-project',
        ALLOCATOR_GCE_ZONE: 'us-central1-c', // a zone of the local control plane's nodes
        ALLOCATOR_COMPUTE_ENDPOINT: emulator.url,
        ALLOCATOR_TOKEN_CERTS_URL: issuer.certsUrl,
        ALLOCATOR_AUDIENCES: allocator,
        ALLOCATOR_URL: allocator,
        ALLOCATOR_ADMINS: ADMIN,
        // The sample template's syncbased compares blessings, so blessing patterns, as the deploy's
        // default (cloudbuild.yaml's _ACCESS_LIST_FORMAT); {email} writes bare emails.
        ALLOCATOR_ACCESS_LIST_FORMAT: 'dev.v.io:u:{email}',
        // The dashboard signs in through the local issuer's stand-in for Google's sign-in script.
        ALLOCATOR_DASHBOARD_CLIENT_ID: LOCAL_DASHBOARD_CLIENT_ID,
        ALLOCATOR_DASHBOARD_ALLOCATOR: allocator,
        ALLOCATOR_DASHBOARD_SIGN_IN_SCRIPT: `${issuer.url}/gsi/client`,
        // allocator login signs in through the local issuer's stand-in for Google's OAuth endpoints.
        ALLOCATOR_CLI_CLIENT_ID: LOCAL_CLI_CLIENT_ID,
        ALLOCATOR_CLI_CLIENT_SECRET: LOCAL_CLI_CLIENT_SECRET,
        ALLOCATOR_OAUTH_AUTHORIZATION_URL: `${issuer.url}/o/oauth2/v2/auth`,
        ALLOCATOR_OAUTH_TOKEN_URL: `${issuer.url}/token`,
        ALLOCATOR_OAUTH_REVOCATION_URL: `${issuer.url}/revoke`,
      },
      process.env,
    );
    const functions: FunctionProcess[] = await Promise.all(
      FUNCTION_NAMES.map((name) => startFunctionProcess({ name, env, logFile: join(controlPlane.dir, `function-${name}.log`) })),
    );
    for (const fn of functions) {
      stops.push(() => fn.stop());
      gateway.route(`/${ALLOCATOR_NAME}-${fn.name}`, fn.url);
    }
    const urls = Object.fromEntries(functions.map((fn) => [fn.name, `${allocator}-${fn.name}`])) as unknown as LocalStackInfo['urls'];
    const info: LocalStackInfo = {
      issuerUrl: issuer.url,
      audience: allocator,
      allocator,
      urls,
      dashboard: `${urls.list}/dashboard/`,
      pid: process.pid,
    };
    mkdirSync(dirname(STACK_FILE), { recursive: true });
    writeFileSync(STACK_FILE, `${JSON.stringify(info, null, 2)}\n`);
    console.log(instructions(info, controlPlane.dir, controlPlane.kubeconfigPath));
  } catch (error) {
    console.error(`npm run local failed: ${(error as Error).message}`);
    process.exitCode = 1;
    await stopAll();
    clearInterval(keepAlive);
    return;
  }
  await stopped;
  clearInterval(keepAlive);
}

/** The dashboard's OAuth client id on the local stack; a deployment uses its own from Google Cloud's console. */
const LOCAL_DASHBOARD_CLIENT_ID = 'local-dashboard.apps.googleusercontent.com';
/** The CLI's "Desktop app" client on the local stack; its secret is no secret, as a Desktop app's is not at Google. */
const LOCAL_CLI_CLIENT_ID = 'local-cli.apps.googleusercontent.com';
const LOCAL_CLI_CLIENT_SECRET = 'local-cli-secret';

function instructions(info: LocalStackInfo, logDir: string, kubeconfig: string): string {
  return `
Allocator is running locally.
  create   POST   ${info.urls.create}
  destroy  POST   ${info.urls.destroy}
  list     GET    ${info.urls.list}
  dashboard       ${info.dashboard}   (sign in as any email; ${ADMIN} is the admin)

Tokens: the local issuer signs Google-style ID tokens for any email (admin: ${ADMIN}).
  TOKEN=$(npm run --silent local:token -- ada@example.com)

With the CLI, signed in as a person (a browser page asks for any email):
  export ALLOCATOR=${info.allocator}
  npm run --silent allocator -- login        # or login --no-browser to print the URL
  npm run --silent allocator -- list         # ...; allocator logout signs out

With the CLI and a token instead:
  export ALLOCATOR=${info.allocator} ALLOCATOR_TOKEN=$TOKEN
  npm run --silent allocator -- create
  npm run --silent allocator -- list -l
  npm run --silent allocator -- destroy <name>
  npm run --silent allocator -- run -- sh -c 'echo testing against $ALLOCATOR_INSTANCE_NAME'

With curl:
  curl -s -X POST -H "Authorization: Bearer $TOKEN" ${info.urls.create} -d '{}'
  curl -s -H "Authorization: Bearer $TOKEN" ${info.urls.list}
  curl -s -X POST -H "Authorization: Bearer $TOKEN" ${info.urls.destroy} -d '{"name": "<name from create>"}'

Kubernetes: export KUBECONFIG=${kubeconfig}
Logs: ${logDir}
Ctrl-C stops everything.`;
}

await main();

// `npm run control-plane -- build|up|where`: builds the local control plane,
// or runs it until Ctrl-C, printing the kubeconfig to use.
import { controlPlaneBinaries, controlPlaneCacheDir, ensureControlPlaneBinaries } from './build.ts';
import { startControlPlane } from './control-plane.ts';

const USAGE = `usage: npm run control-plane -- <command>
  build   build the control plane into the cache (or confirm it is cached)
  up      start it and keep it running until Ctrl-C
  where   print the cache directory (delete it to force a rebuild)`;

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'build': {
      const started = Date.now();
      await ensureControlPlaneBinaries();
      console.log(`control plane ready in ${controlPlaneCacheDir()} (${Math.round((Date.now() - started) / 1000)} s)`);
      return 0;
    }
    case 'up': {
      const controlPlane = await startControlPlane();
      console.log(
        `control plane up: ${controlPlane.server}\n  export KUBECONFIG=${controlPlane.kubeconfigPath}\n  logs in ${controlPlane.dir}\nCtrl-C stops it.`,
      );
      const keepAlive = setInterval(() => undefined, 1 << 30);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      clearInterval(keepAlive);
      await controlPlane.stop();
      return 0;
    }
    case 'where':
      console.log(JSON.stringify({ cacheDir: controlPlaneCacheDir(), binaries: controlPlaneBinaries() }, null, 2));
      return 0;
    default:
      console.error(USAGE);
      return 2;
  }
}

process.exitCode = await main(process.argv[2]);

import type { TestProject } from 'vitest/node';
import { startControlPlane } from '../harness/control-plane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfigPath: string;
    runtimeKubeconfigPath: string;
  }
}

/** One control plane for the whole integration run; each test file works in its own namespace. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const controlPlane = await startControlPlane();
  project.provide('kubeconfigPath', controlPlane.kubeconfigPath);
  project.provide('runtimeKubeconfigPath', controlPlane.runtimeKubeconfigPath);
  const stopOnSignal = (signal: NodeJS.Signals): void => {
    void controlPlane.stop().finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  return async () => {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    await controlPlane.stop();
  };
}

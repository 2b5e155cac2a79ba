import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { systemClock } from '../clock.ts';
import { makeBackground } from './background.ts';
import { ConfigError } from '../config/config-error.ts';
import { loadConfig, type AllocatorConfig } from '../config/load-config.ts';
import { checkTemplate } from '../plans/deployment.ts';
import {
  compileDeploymentTemplate,
  PRECOMPILED_SUFFIX,
  templateFormatOf,
  type DeploymentTemplate,
  type PrecompiledTemplate,
} from '../template/deployment-template.ts';
import { clusterFor, connectionFor, disksFor, instanceObjectsFor, verifierFor } from './clients.ts';
import type { CreateRuntime } from './runtimes.ts';

/** Reads and compiles the template, and renders it once, so that a broken one fails at cold start. */
export function loadTemplate(config: AllocatorConfig): DeploymentTemplate {
  const path = config.templatePath;
  if (path === undefined)
    throw new ConfigError(
      'ALLOCATOR_TEMPLATE is required: set it to the path of the deployment template, e.g. templates/syncbased-deployment.json.hbs',
    );
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`ALLOCATOR_TEMPLATE: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
      cause: error,
    });
  }
  const precompiled = precompiledBeside(path);
  const template = compileDeploymentTemplate(source, {
    format: templateFormatOf(path),
    source: path,
    internalLoadBalancers: config.internalLoadBalancers === 'allow',
    ...(precompiled ? { precompiled } : {}),
  });
  checkTemplate(template, config);
  return template;
}

/** The template's compilation that the bundle ships beside it (`<template>.precompiled.cjs`), if there is one. */
function precompiledBeside(path: string): PrecompiledTemplate | undefined {
  const file = `${resolve(path)}${PRECOMPILED_SUFFIX}`;
  if (!existsSync(file)) return undefined;
  try {
    return createRequire(import.meta.url)(file) as PrecompiledTemplate;
  } catch (error) {
    throw new ConfigError(
      `cannot load ${file}, the template's compilation that npm run bundle made (${(error as Error).message.split('\n')[0]}); bundle again, or delete it to compile the template at start`,
      { cause: error },
    );
  }
}

export function makeCreateRuntime(config: AllocatorConfig): CreateRuntime {
  const connection = connectionFor(config);
  return {
    config,
    verifier: verifierFor(config),
    cluster: clusterFor(config, connection),
    instanceObjects: instanceObjectsFor(config, connection),
    disks: disksFor(config),
    clock: systemClock,
    template: loadTemplate(config),
    random: (bytes) => randomBytes(bytes),
    background: makeBackground(),
  };
}

/** Create's runtime at cold start: the template is compiled and checked now. */
export function loadCreateRuntime(env: NodeJS.ProcessEnv = process.env): CreateRuntime {
  return makeCreateRuntime(loadConfig(env));
}

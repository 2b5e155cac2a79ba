// `node infra/template-images.ts TEMPLATE VERSION [PARAMETERS]`: the container
// images that instances of TEMPLATE run at VERSION, one a line, after rendering
// it once as the create function does at cold start: with every parameter
// declared in PARAMETERS (if given) at its default. The build checks each
// exists before it deploys (cloudbuild.yaml, step image-check); an image made
// from another value of a parameter can only be checked when a create asks
// for it, where one that cannot be pulled is the instance's problem.
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ParameterDeclaration } from '../shared/api/parameters.ts';
import { loadParameterDeclarations } from '../shared/config/parameters.ts';
import { checkTemplate } from '../shared/plans/deployment.ts';
import { compileDeploymentTemplate, templateFormatOf } from '../shared/template/deployment-template.ts';

export function templateImages(path: string, version: string, parameters: readonly ParameterDeclaration[] = []): string[] {
  // Load balancers allowed: this lists images; the create function's own start checks the Services against its settings.
  const template = compileDeploymentTemplate(readFileSync(path, 'utf8'), {
    format: templateFormatOf(path),
    source: path,
    internalLoadBalancers: true,
  });
  const deployment = checkTemplate(template, {
    serverName: 'allocator',
    admins: [],
    accessListFormat: '{email}',
    mountRoot: '',
    version,
    compute: { zone: 'zone' },
    parameters,
  });
  const pod = deployment.spec?.template.spec;
  return [...new Set([...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].map((container) => container.image ?? ''))];
}

/** What the build says beside the images: which parameter values they were rendered with, and when the others are checked. */
export function parametersNote(parameters: readonly ParameterDeclaration[]): string | undefined {
  if (parameters.length === 0) return undefined;
  const defaults = parameters.map((parameter) => `${parameter.name}=${JSON.stringify(parameter.default)}`).join(', ');
  return `images rendered with each parameter at its default (${defaults}); an image another value names is checked only at create, where one that cannot be pulled shows as the instance's problem`;
}

const [path, version, parametersPath] = process.argv.slice(2);
// Real paths: the build may run it through a symlinked checkout, and tests import it.
const isMain = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (isMain && path !== undefined && version !== undefined) {
  try {
    const parameters = parametersPath ? loadParameterDeclarations(parametersPath) : [];
    process.stdout.write(`${templateImages(path, version, parameters).join('\n')}\n`);
    const note = parametersNote(parameters);
    if (note !== undefined) process.stderr.write(`${note}\n`);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}

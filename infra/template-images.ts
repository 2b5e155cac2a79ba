// `node infra/template-images.ts TEMPLATE VERSION`: the container images that
// instances of TEMPLATE run at VERSION, one a line, after rendering it once as
// the create function does at cold start. The build checks each exists before
// it deploys (cloudbuild.yaml, step image-check).
import { readFileSync } from 'node:fs';
import { checkTemplate } from '../shared/plans/deployment.ts';
import { compileDeploymentTemplate, templateFormatOf } from '../shared/template/deployment-template.ts';

export function templateImages(path: string, version: string): string[] {
  const template = compileDeploymentTemplate(readFileSync(path, 'utf8'), { format: templateFormatOf(path), source: path });
  const deployment = checkTemplate(template, {
    serverName: 'allocator',
    admins: [],
    accessListFormat: '{email}',
    mountRoot: '',
    version,
    compute: { zone: 'zone' },
  });
  const pod = deployment.spec?.template.spec;
  return [...new Set([...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].map((container) => container.image ?? ''))];
}

const [path, version] = process.argv.slice(2);
if (path !== undefined && version !== undefined) {
  try {
    process.stdout.write(`${templateImages(path, version).join('\n')}\n`);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}

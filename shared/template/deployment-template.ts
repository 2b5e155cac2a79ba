import Handlebars from 'handlebars';
import { loadAll as loadAllYaml } from 'js-yaml';
import type { V1Deployment } from '@kubernetes/client-node';
import { TEMPLATE_FIELDS, type TemplateData } from './template-data.ts';

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

export const TEMPLATE_FORMATS = ['json', 'yaml'] as const;
export type TemplateFormat = (typeof TEMPLATE_FORMATS)[number];

/** A compiled deployment template: data in, one validated Deployment out. */
export interface DeploymentTemplate {
  readonly format: TemplateFormat;
  render(data: TemplateData): V1Deployment;
}

/** `.json.hbs`/`.json` are JSON; `.yaml.hbs`/`.yml.hbs`/`.yaml`/`.yml` are YAML. */
export function templateFormatOf(path: string): TemplateFormat {
  const bare = path.replace(/\.(hbs|handlebars)$/, '');
  if (/\.ya?ml$/.test(bare)) return 'yaml';
  if (/\.json$/.test(bare)) return 'json';
  throw new TemplateError(`cannot tell the format of template ${path}: name it *.json.hbs or *.yaml.hbs`);
}

/**
 * Compiles `source` strictly (no HTML escaping, no helpers beyond the built-in
 * ones, a missing field is an error) and renders it once with `sample` data,
 * so that a broken template fails at cold start rather than at the first
 * request.
 */
export function compileDeploymentTemplate(source: string, options: { format: TemplateFormat; sample: TemplateData; source?: string }): DeploymentTemplate {
  const where = options.source ?? 'deployment template';
  let compiled: HandlebarsTemplateDelegate<TemplateData>;
  try {
    compiled = Handlebars.compile<TemplateData>(source, { noEscape: true, strict: true, knownHelpersOnly: true });
  } catch (error) {
    throw new TemplateError(`${where}: ${(error as Error).message}`, { cause: error });
  }
  const render = (data: TemplateData): V1Deployment => {
    let text: string;
    try {
      text = compiled(data, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false });
    } catch (error) {
      const message = (error as Error).message;
      const unknown = /"(\w+)" not defined/.exec(message)?.[1];
      throw new TemplateError(unknown ? `${where} uses {{${unknown}}}, which is not a template field; the fields are ${TEMPLATE_FIELDS.join(', ')}` : `${where}: ${message}`, { cause: error });
    }
    return parseDeployment(text, { format: options.format, expectedName: unquote(data.Name), where });
  };
  render(options.sample);
  return { format: options.format, render };
}

/** Parses expanded template text and checks it is exactly one apps/v1 Deployment named `expectedName`. */
export function parseDeployment(text: string, options: { format: TemplateFormat; expectedName: string; where: string }): V1Deployment {
  let documents: unknown[];
  try {
    documents = options.format === 'json' ? [JSON.parse(text)] : loadAllYaml(text).filter((doc) => doc !== null && doc !== undefined);
  } catch (error) {
    throw new TemplateError(`${options.where} does not expand to valid ${options.format.toUpperCase()}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  if (documents.length !== 1) throw new TemplateError(`${options.where} must expand to exactly one Deployment; found ${documents.length} documents`);
  const [document] = documents;
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new TemplateError(`${options.where} must expand to an object; found ${Array.isArray(document) ? 'an array' : typeof document}`);
  }
  const object = document as Record<string, unknown>;
  if (object.kind !== 'Deployment' || object.apiVersion !== 'apps/v1') {
    throw new TemplateError(`${options.where} must expand to an apps/v1 Deployment; found ${String(object.apiVersion)} ${String(object.kind)}`);
  }
  const metadata = object.metadata as Record<string, unknown> | undefined;
  if (metadata?.name !== options.expectedName) {
    throw new TemplateError(`${options.where}: the Deployment's metadata.name must be {{Name}} (expected "${options.expectedName}", found ${JSON.stringify(metadata?.name)})`);
  }
  return object as V1Deployment;
}

function unquote(escaped: string): string {
  return JSON.parse(`"${escaped}"`) as string;
}

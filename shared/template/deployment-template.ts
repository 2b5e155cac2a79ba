import Handlebars from 'handlebars';
import { loadAll as loadAllYaml } from 'js-yaml';
import type { V1Deployment } from '@kubernetes/client-node';
import { TEMPLATE_FIELDS, type TemplateData } from './template-data.ts';
import { TemplateError, validateDeployment } from './validate-deployment.ts';

export { TemplateError };

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
 * Compiles `source` strictly: no HTML escaping, no helpers beyond the built-in
 * ones, a missing field is an error. The create runtime renders it once at
 * cold start (`checkTemplate`), so a broken template fails before any request.
 */
export function compileDeploymentTemplate(source: string, options: { format: TemplateFormat; source?: string }): DeploymentTemplate {
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
  return { format: options.format, render };
}

/** Parses expanded template text and validates it as exactly one apps/v1 Deployment named `expectedName`. */
export function parseDeployment(text: string, options: { format: TemplateFormat; expectedName: string; where: string }): V1Deployment {
  let documents: unknown[];
  try {
    documents = options.format === 'json' ? [JSON.parse(text)] : loadAllYaml(text).filter((doc) => doc !== null && doc !== undefined);
  } catch (error) {
    throw new TemplateError(`${options.where} does not expand to valid ${options.format.toUpperCase()}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  if (documents.length !== 1) throw new TemplateError(`${options.where} must expand to exactly one Deployment; found ${documents.length} documents`);
  return validateDeployment(documents[0], { expectedName: options.expectedName, where: options.where });
}

function unquote(escaped: string): string {
  return JSON.parse(`"${escaped}"`) as string;
}

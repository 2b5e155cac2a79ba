import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import runtimeModule from 'handlebars/runtime.js';
import { loadAll as loadAllYaml } from 'js-yaml';
import type { V1Deployment } from '@kubernetes/client-node';
import { TEMPLATE_FIELDS, type TemplateData } from './template-data.ts';
import { TemplateError } from './validate-deployment.ts';
import { validateRendered, type RenderedInstance } from './validate-objects.ts';

export { TemplateError };
export type { RenderedInstance };

export const TEMPLATE_FORMATS = ['json', 'yaml'] as const;
export type TemplateFormat = (typeof TEMPLATE_FORMATS)[number];

/** A compiled deployment template: data in, one validated Deployment (and any Services and ConfigMaps beside it) out. */
export interface DeploymentTemplate {
  readonly format: TemplateFormat;
  /** The Deployment alone. */
  render(data: TemplateData): V1Deployment;
  /** The Deployment and the other objects, each checked (`validateRendered`). */
  renderInstance(data: TemplateData): RenderedInstance;
}

/** `.json.hbs`/`.json` are JSON; `.yaml.hbs`/`.yml.hbs`/`.yaml`/`.yml` are YAML. */
export function templateFormatOf(path: string): TemplateFormat {
  const bare = path.replace(/\.(hbs|handlebars)$/, '');
  if (/\.ya?ml$/.test(bare)) return 'yaml';
  if (/\.json$/.test(bare)) return 'json';
  throw new TemplateError(`cannot tell the format of template ${path}: name it *.json.hbs or *.yaml.hbs`);
}

/** Handlebars without its compiler; its typings declare nothing of it, so it is typed from the whole. */
const HandlebarsRuntime = runtimeModule as unknown as Pick<typeof import('handlebars'), 'template' | 'VERSION'>;

/** Strictly: no HTML escaping, no helpers beyond the built-in ones, a missing field is an error. */
const COMPILE_OPTIONS = { noEscape: true, strict: true, knownHelpersOnly: true } as const;

/** Where the bundle puts a template's compilation: beside it, under its name and this. */
export const PRECOMPILED_SUFFIX = '.precompiled.cjs';

/** A template compiled ahead of time, by the Handlebars version named, from the source whose SHA-256 it names. */
export interface PrecompiledTemplate {
  readonly sha256: string;
  readonly handlebars: string;
  readonly spec: TemplateSpecification;
}

/**
 * Handlebars' compiler, loaded only where no precompiled template fits: it
 * and its parser cost create's cold start about 12 ms.
 */
function handlebarsCompiler(): typeof import('handlebars') {
  return createRequire(import.meta.url)('handlebars') as typeof import('handlebars');
}

const sha256Of = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A CommonJS module holding `source` compiled as compileDeploymentTemplate compiles it, for the bundle to ship beside the template. */
export function precompiledTemplateModule(source: string): string {
  const fields = [
    `sha256: ${JSON.stringify(sha256Of(source))}`,
    `handlebars: ${JSON.stringify(HandlebarsRuntime.VERSION)}`,
    `spec: ${handlebarsCompiler().precompile(source, COMPILE_OPTIONS)}`,
  ];
  return `// Made by infra/bundle.ts: the template beside it, compiled.\nmodule.exports = {\n  ${fields.join(',\n  ')},\n};\n`;
}

/**
 * Compiles `source` strictly (COMPILE_OPTIONS), or takes `precompiled` when
 * it was made from this very source by this Handlebars. The create runtime
 * renders it once at cold start (`checkTemplate`), so a broken template
 * fails before any request.
 */
export function compileDeploymentTemplate(
  source: string,
  options: {
    format: TemplateFormat;
    source?: string;
    precompiled?: PrecompiledTemplate;
    /** Whether a Service may be an internal LoadBalancer (ALLOCATOR_INTERNAL_LOAD_BALANCERS); default no. */
    internalLoadBalancers?: boolean;
  },
): DeploymentTemplate {
  const where = options.source ?? 'deployment template';
  const { precompiled } = options;
  let compiled: HandlebarsTemplateDelegate<TemplateData>;
  try {
    compiled =
      precompiled !== undefined && precompiled.handlebars === HandlebarsRuntime.VERSION && precompiled.sha256 === sha256Of(source)
        ? HandlebarsRuntime.template<TemplateData>(precompiled.spec)
        : handlebarsCompiler().compile<TemplateData>(source, COMPILE_OPTIONS);
  } catch (error) {
    throw new TemplateError(`${where}: ${(error as Error).message}`, { cause: error });
  }
  const renderInstance = (data: TemplateData): RenderedInstance => {
    let text: string;
    try {
      text = compiled(data, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false });
    } catch (error) {
      const message = (error as Error).message;
      const unknown = /"(\w+)" not defined/.exec(message)?.[1];
      throw new TemplateError(unknown ? unknownFieldMessage(where, unknown, data) : `${where}: ${message}`, { cause: error });
    }
    return parseRendered(text, {
      format: options.format,
      expectedName: unquote(data.Name),
      where,
      internalLoadBalancers: options.internalLoadBalancers ?? false,
    });
  };
  return { format: options.format, render: (data) => renderInstance(data).deployment, renderInstance };
}

/** Parses expanded template text and validates it as exactly one apps/v1 Deployment named `expectedName`. */
export function parseDeployment(text: string, options: { format: TemplateFormat; expectedName: string; where: string }): V1Deployment {
  return parseRendered(text, { ...options, internalLoadBalancers: false }).deployment;
}

/**
 * Parses expanded template text, a YAML multi-document or one JSON (or YAML)
 * object, where a `List` stands for its items, and checks it: exactly one
 * apps/v1 Deployment named `expectedName`, and Services and ConfigMaps.
 */
export function parseRendered(
  text: string,
  options: { format: TemplateFormat; expectedName: string; where: string; internalLoadBalancers: boolean },
): RenderedInstance {
  let documents: unknown[];
  try {
    documents = options.format === 'json' ? [JSON.parse(text)] : loadAllYaml(text).filter((doc) => doc !== null && doc !== undefined);
  } catch (error) {
    throw new TemplateError(
      `${options.where} does not expand to valid ${options.format.toUpperCase()}: ${(error as Error).message.split('\n')[0]}`,
      { cause: error },
    );
  }
  return validateRendered(documents.flatMap(listItems), options);
}

/** A `List`'s items, in order; any other document as it is. */
function listItems(document: unknown): unknown[] {
  const list = document as { kind?: unknown; items?: unknown } | null;
  return list !== null && typeof list === 'object' && list.kind === 'List' && Array.isArray(list.items) ? list.items : [document];
}

/**
 * Handlebars names only the last part of a missing path: `{{Parameters.tag}}`
 * fails as "tag" not defined, so a name that is no field is said both ways.
 */
function unknownFieldMessage(where: string, unknown: string, data: TemplateData): string {
  const fields = `the fields are ${TEMPLATE_FIELDS.join(', ')}`;
  if ((TEMPLATE_FIELDS as readonly string[]).includes(unknown)) return `${where}: {{${unknown}}} is not defined; ${fields}`;
  const declared = Object.keys(data.Parameters);
  return `${where} uses {{${unknown}}}, which is not a template field (nor, as {{Parameters.${unknown}}}, a declared parameter); ${fields}, and the parameters (ALLOCATOR_PARAMETERS) are ${declared.length > 0 ? declared.join(', ') : 'none'}`;
}

function unquote(escaped: string): string {
  return JSON.parse(`"${escaped}"`) as string;
}

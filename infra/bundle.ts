// `npm run bundle -- [--out DIR] [--template PATH] [--vkube-cfg PATH] [--parameters PATH]`: one
// self-contained source directory per function, for `gcloud functions deploy
// --source=DIR`, which uploads only DIR. Each holds index.js (our code,
// bundled), start.js and prime-compile-cache.js (see FUNCTION_FILES), a
// package.json with just the packages that bundle imports, and, for create
// alone, the deployment template and its compilation; with --vkube-cfg, the
// cluster config too; with --parameters, the parameter declarations, checked
// and written as PARAMETERS_FILE (JSON, whatever the source's format).
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { ConfigError } from '../shared/config/config-error.ts';
import { declarationsDocument, loadParameterDeclarations } from '../shared/config/parameters.ts';
import { PRECOMPILED_SUFFIX, precompiledTemplateModule } from '../shared/template/deployment-template.ts';
import { DISK_SERVICES, trimProtos } from './compute-protos.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const FUNCTIONS = ['create', 'destroy', 'list'] as const;
type FunctionName = (typeof FUNCTIONS)[number];
const NEEDS_TEMPLATE: readonly FunctionName[] = ['create'];

/**
 * Installed beside the bundle rather than bundled: the framework Cloud Run
 * starts, and handlebars' compiler, which a cold start loads only when the
 * template's compilation does not fit (see shared/template). Everything else
 * is bundled and tree-shaken: importing @kubernetes/client-node whole costs
 * a cold start about 200 ms and 37 MB more; @google-cloud/compute's two disk
 * clients come with their protos cut to what they use, and with google-gax
 * as REST mode needs it (see gaxForCompute); google-auth-library is one
 * bundled copy for all of them.
 */
export const INSTALLED_PACKAGES = ['@google-cloud/functions-framework', 'handlebars'];

/**
 * Beside each bundle: its entry, which turns on Node's compile cache before
 * loading index.js, and the script that fills that cache at build time (the
 * `gcp-build` script, which Cloud Run's Node.js buildpack runs after
 * installing). Where the cache is missing or stale, the function starts as
 * if it were not there.
 */
export const FUNCTION_FILES = ['start.js', 'prime-compile-cache.js'];

/** Where each bundle carries the parameter declarations, which `ALLOCATOR_PARAMETERS` then names (cloudbuild.yaml). */
export const PARAMETERS_FILE = 'parameters.json';

export interface BundleResult {
  readonly name: FunctionName;
  readonly dir: string;
  readonly bytes: number;
  readonly dependencies: Readonly<Record<string, string>>;
  /** The modules whose code the bundle carries (paths from the checkout, as esbuild names them). */
  readonly modules: readonly string[];
  /** What the bundle imports as ES modules rather than requires (see requiredNotImported). */
  readonly esImports: readonly string[];
  /** For list: the size of the dashboard's files. */
  readonly dashboardBytes?: number;
}

/** The installed npm packages a bundle imports, from esbuild's metafile (Node's own modules aside). */
export function importedPackages(metafile: Metafile): string[] {
  const packages = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) {
      if (!imported.external || imported.path.startsWith('node:') || isBuiltin(imported.path)) continue;
      const parts = imported.path.split('/');
      packages.add(imported.path.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string));
    }
  }
  return [...packages].filter((name) => INSTALLED_PACKAGES.includes(name)).sort();
}

/** The directory of the package `name` as `from` (a file) resolves it: the nearest above its main file whose package.json names it. */
function packageDir(name: string, from: string): string {
  let dir = dirname(createRequire(from).resolve(name));
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === name) return dir;
    } catch {
      // not the package root yet
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the installed package ${name}`);
    dir = parent;
  }
}

/** The version installed here, pinned exactly, so that a deploy runs what the tests ran. */
function installedVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(join(packageDir(name, join(ROOT, 'package.json')), 'package.json'), 'utf8')) as {
    version?: string;
  };
  if (!manifest.version) throw new Error(`the installed package ${name} has no version`);
  return manifest.version;
}

/**
 * Gives the modules under `importedBy` that import `pkg` the module
 * `contents` instead, resolved from `pkg`'s own directory: the parts of
 * `pkg` they use, without what its index loads besides.
 */
function narrowedImport(options: { name: string; pkg: string; importedBy: string; contents: string }): Plugin {
  return {
    name: options.name,
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^[@\w]/ }, (args) =>
        args.path === options.pkg && args.importer.includes(options.importedBy)
          ? { path: packageDir(options.pkg, args.importer), namespace: options.name }
          : undefined,
      );
      pluginBuild.onLoad({ filter: /.*/, namespace: options.name }, (args) => ({
        contents: options.contents,
        resolveDir: args.path,
        loader: 'js',
      }));
    },
  };
}

/** Gives the bundled compute clients their protos cut to the disk services (see compute-protos.ts). */
const computeProtosCut: Plugin = {
  name: 'compute-protos-cut',
  setup(pluginBuild) {
    let trimmed: string | undefined;
    pluginBuild.onResolve({ filter: /\/protos\/protos\.json$/ }, (args) =>
      args.resolveDir.includes(join('@google-cloud', 'compute'))
        ? { path: resolve(args.resolveDir, args.path), namespace: 'compute-protos' }
        : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'compute-protos' }, (args) => {
      trimmed ??= JSON.stringify(trimProtos(JSON.parse(readFileSync(args.path, 'utf8')), DISK_SERVICES));
      return { contents: trimmed, loader: 'json' };
    });
  },
};

/**
 * Lets esbuild drop the parts of @kubernetes/client-node that a function does
 * not use (exec, attach, cp, port-forward, metrics and the like, with ws, tar
 * and socks behind them). Its package.json does not say its modules are free
 * of side effects, so esbuild keeps every module its index imports. Only
 * polyfill.js has any (it sets globalThis.File); it and the index that
 * imports it keep theirs.
 */
const CLIENT_NODE_DIST = `${join('@kubernetes', 'client-node', 'dist')}${sep}`;
const CLIENT_NODE_SIDE_EFFECTS = ['index.js', 'polyfill.js'];
const clientNodeSideEffectFree: Plugin = {
  name: 'client-node-side-effect-free',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /.*/ }, async (args) => {
      if (
        args.pluginData === clientNodeSideEffectFree.name ||
        !(args.importer.includes(CLIENT_NODE_DIST) || args.path.startsWith('@kubernetes/client-node'))
      )
        return undefined;
      const resolved = await pluginBuild.resolve(args.path, {
        resolveDir: args.resolveDir,
        kind: args.kind,
        importer: args.importer,
        pluginData: clientNodeSideEffectFree.name,
      });
      const inDist = resolved.path.split(CLIENT_NODE_DIST)[1];
      if (resolved.errors.length > 0 || resolved.external || inDist === undefined || CLIENT_NODE_SIDE_EFFECTS.includes(inDist))
        return undefined;
      return { path: resolved.path, sideEffects: false };
    });
  },
};

/**
 * Gives client-node the three things it takes from undici (Agent, ProxyAgent
 * and fetch) from their own modules. Its index loads all of undici, with the
 * mock agents, caches, cookies, WebSocket and EventSource, and costs a cold
 * start about 10 ms more.
 */
const UNDICI_AS_CLIENT_NODE_USES_IT = `
export { default as Agent } from './lib/dispatcher/agent.js';
export { default as ProxyAgent } from './lib/dispatcher/proxy-agent.js';
import fetchModule from './lib/web/fetch/index.js';
export const fetch = fetchModule.fetch;
`;
const undiciForClientNode = narrowedImport({
  name: 'undici-for-client-node',
  pkg: 'undici',
  importedBy: CLIENT_NODE_DIST,
  contents: UNDICI_AS_CLIENT_NODE_USES_IT,
});

/**
 * Gives the bundled compute disk clients google-gax as they use it in REST
 * mode, the only mode Compute Engine serves: its fallback module (the
 * clients take `.fallback`), its logging utilities and, for a failed call's
 * details, decodeAnyProtosInArray. Its index also loads gRPC (@grpc/grpc-js
 * and its proto loader, which read files at run time), so google-gax had to
 * stay installed, with a second copy of google-auth-library. Bundled this
 * way, the first create or destroy on a new instance answered 55 to 90 ms
 * sooner here, with 17 MB less.
 */
const GAX_FOR_COMPUTE = `
const fallback = require('google-gax/fallback');
module.exports = {
  fallback,
  loggingUtils: require('google-logging-utils'),
  decodeAnyProtosInArray: (...args) => require('./build/src/util.js').decodeAnyProtosInArray(...args),
};
`;
const COMPUTE_DIR = `${join('@google-cloud', 'compute')}${sep}`;
const gaxForCompute = narrowedImport({ name: 'gax-for-compute', pkg: 'google-gax', importedBy: COMPUTE_DIR, contents: GAX_FOR_COMPUTE });

/**
 * Has the bundle require, where its ES modules import them, Node's own
 * modules and the installed packages (all CommonJS).
 * - Importing a builtin as an ES module reads all of its exports, which runs
 *   their lazy getters: node:http's load Node's internal undici (for
 *   http.WebSocket), node:tls's build the root certificates, node:crypto's
 *   set up webcrypto. In the list bundle that cost about 20 ms of its start.
 * - Importing a CommonJS package as an ES module has Node scan its files
 *   for the names they export, which require() does not need.
 * The bundle's require is Node's own (see the banner).
 */
function requiredNotImported(installed: readonly string[]): Plugin {
  const isInstalled = (path: string): boolean => installed.some((name) => path === name || path.startsWith(`${name}/`));
  return {
    name: 'required-not-imported',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /.*/ }, (args) =>
        args.namespace !== 'required' &&
        (args.kind === 'import-statement' || args.kind === 'dynamic-import') &&
        (isBuiltin(args.path) || isInstalled(args.path))
          ? { path: args.path, namespace: 'required' }
          : undefined,
      );
      pluginBuild.onLoad({ filter: /.*/, namespace: 'required' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
    },
  };
}

/** How every function is bundled (and the benchmark's probes, to measure the same thing). */
export function bundleOptions(entryPoint: string, outfile: string): BuildOptions & { metafile: true } {
  return {
    entryPoints: [entryPoint],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: INSTALLED_PACKAGES,
    // Bundled CommonJS code calls require(); give it one.
    banner: {
      js: "import { createRequire as __allocatorCreateRequire } from 'node:module'; const require = __allocatorCreateRequire(import.meta.url);",
    },
    plugins: [requiredNotImported(INSTALLED_PACKAGES), gaxForCompute, computeProtosCut, undiciForClientNode, clientNodeSideEffectFree],
    metafile: true,
    legalComments: 'none',
    // Half the bytes for Node to read, hash against its compile cache and scan; names are kept, for logs and stacks.
    minifyWhitespace: true,
    minifySyntax: true,
    absWorkingDir: ROOT,
    logLevel: 'warning',
  };
}

export async function bundleFunctions(options: {
  outDir: string;
  template: string;
  vkubeCfg?: string;
  parameters?: string;
}): Promise<BundleResult[]> {
  // Checked before anything is built: a malformed declaration stops the build as it would stop a cold start.
  const parameters = options.parameters === undefined ? undefined : loadParameterDeclarations(options.parameters);
  const results: BundleResult[] = [];
  for (const name of FUNCTIONS) {
    const dir = join(options.outDir, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const { metafile } = await build(bundleOptions(join(ROOT, 'functions', name, 'index.ts'), join(dir, 'index.js')));
    const dependencies = Object.fromEntries(importedPackages(metafile).map((pkg) => [pkg, installedVersion(pkg)]));
    const manifest = {
      name: `allocator-${name}`,
      private: true,
      description: `Allocator's ${name} function, bundled by infra/bundle.ts`,
      type: 'module',
      main: 'start.js',
      engines: { node: '22' },
      scripts: { 'gcp-build': 'node prime-compile-cache.js' },
      dependencies,
    };
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const file of FUNCTION_FILES) copyFileSync(join(ROOT, 'infra', 'function-files', file), join(dir, file));
    if (NEEDS_TEMPLATE.includes(name)) {
      mkdirSync(join(dir, 'templates'));
      const template = join(dir, 'templates', basename(options.template));
      copyFileSync(options.template, template);
      // Compiled now, so that a cold start loads Handlebars' runtime and not its compiler; used only while it matches the template.
      writeFileSync(`${template}${PRECOMPILED_SUFFIX}`, precompiledTemplateModule(readFileSync(template, 'utf8')));
    }
    if (options.vkubeCfg) copyFileSync(options.vkubeCfg, join(dir, 'vkube.cfg'));
    // Every function gets them: create checks and renders them, list describes them, and all three load the same settings.
    if (parameters) writeFileSync(join(dir, PARAMETERS_FILE), `${JSON.stringify(declarationsDocument(parameters), null, 2)}\n`);
    // The dashboard's page ships beside list's code, read only when a browser asks for it.
    let dashboardBytes: number | undefined;
    if (name === 'list') {
      cpSync(join(ROOT, 'functions', 'list', 'dashboard'), join(dir, 'dashboard'), { recursive: true });
      dashboardBytes = readdirSync(join(dir, 'dashboard')).reduce((sum, file) => sum + statSync(join(dir, 'dashboard', file)).size, 0);
    }
    const outputs = Object.values(metafile.outputs);
    const modules = outputs.flatMap((output) =>
      Object.entries(output.inputs)
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([path]) => path),
    );
    const esImports = outputs.flatMap((output) =>
      output.imports.filter((imported) => imported.external && imported.kind !== 'require-call').map((imported) => imported.path),
    );
    results.push({
      name,
      dir,
      bytes: statSync(join(dir, 'index.js')).size,
      dependencies,
      modules,
      esImports,
      ...(dashboardBytes === undefined ? {} : { dashboardBytes }),
    });
  }
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: join(ROOT, 'dist', 'functions') },
      template: { type: 'string', default: join(ROOT, 'templates', 'syncbased-deployment.json.hbs') },
      'vkube-cfg': { type: 'string' },
      parameters: { type: 'string' },
    },
  });
  const results = await bundleFunctions({
    outDir: resolve(values.out),
    template: resolve(values.template),
    ...(values['vkube-cfg'] ? { vkubeCfg: resolve(values['vkube-cfg']) } : {}),
    ...(values.parameters ? { parameters: resolve(values.parameters) } : {}),
  });
  for (const result of results) {
    const page = result.dashboardBytes === undefined ? '' : `  dashboard ${(result.dashboardBytes / 1024).toFixed(1)} KiB`;
    console.log(
      `${result.name.padEnd(8)} ${result.dir}  index.js ${(result.bytes / 1024).toFixed(1)} KiB${page}  dependencies: ${Object.keys(result.dependencies).join(', ')}`,
    );
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main().catch((error: unknown) => {
    // A configuration error's message says what to fix; anything else keeps its stack.
    console.error(error instanceof ConfigError ? error.message : error);
    process.exitCode = 1;
  });
}

// A stand-in for gcloud and kubectl in tests: it checks every invocation
// against the reference's flag tables (commands.ts) and keeps enough state in
// a JSON file ($CLOUD_SDK_STANDIN_STATE) for a second run to meet what the
// first one made, answering as the real tools do: exit 1 and an ERROR line.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { load as loadYaml, loadAll } from 'js-yaml';
import { GCLOUD, GCLOUD_WIDE_FLAGS, KUBECTL, type CommandSpec } from './commands.ts';

export interface StandInState {
  projectNumber: string;
  calls: string[];
  services: string[];
  serviceAccounts: string[];
  roles: Record<string, string[]>;
  bindings: string[];
  functions: Record<string, { revisions: number; traffic: 'latest' | number; env: string; buildEnv: string; audiences: string[] }>;
  jobs: Record<string, Record<string, string>>;
  namespaces: string[];
  objects: string[];
  /** Images in the project's Artifact Registry. */
  images: string[];
  /** Compute Engine snapshots and disk images, as `project/name`; an image in a family as `project/name family`. */
  computeSnapshots?: string[];
  computeImages?: string[];
  metrics: Record<string, unknown>;
  policies: Record<string, unknown>;
  kubeContext?: string;
}

class Refusal extends Error {}

function parse(
  tool: 'gcloud' | 'kubectl',
  argv: string[],
): { path: string; spec: CommandSpec; flags: Map<string, string | true>; positionals: string[] } {
  const table = tool === 'gcloud' ? GCLOUD : KUBECTL;
  const words = argv.filter((arg) => !arg.startsWith('-'));
  let path = '';
  for (let n = Math.min(4, words.length); n > 0 && !path; n -= 1) {
    const candidate = words.slice(0, n).join(' ');
    if (table[candidate] && argv.slice(0, n).join(' ') === candidate) path = candidate;
  }
  if (!path) throw new Refusal(`(${tool}) Invalid choice: '${words.slice(0, 3).join(' ')}'.`);
  const spec = table[path] as CommandSpec;
  const known = tool === 'gcloud' ? { ...GCLOUD_WIDE_FLAGS, ...spec.flags } : spec.flags;
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  const rest = argv.slice(path.split(' ').length);
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i] as string;
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (!(name in known)) throw new Refusal(`(${tool} ${path}) unrecognized arguments: ${name} (see ${spec.reference})`);
    if (known[name]) {
      const value = inline ?? rest[(i += 1)];
      if (value === undefined) throw new Refusal(`(${tool} ${path}) argument ${name}: expected one argument`);
      flags.set(name, value);
    } else {
      if (inline !== undefined) throw new Refusal(`(${tool} ${path}) argument ${name}: ignored explicit argument '${inline}'`);
      flags.set(name, true);
    }
  }
  for (const name of spec.required ?? []) if (!flags.has(name)) throw new Refusal(`(${tool} ${path}) argument ${name}: Must be specified.`);
  for (const group of spec.exclusive ?? []) {
    const given = group.filter((name) => flags.has(name));
    if (given.length > 1) throw new Refusal(`(${tool} ${path}) argument ${given.join(', ')}: At most one of these can be specified.`);
  }
  for (const [name, needed] of Object.entries(spec.needs ?? {})) {
    if (flags.has(name) && !flags.has(needed)) throw new Refusal(`(${tool} ${path}) argument ${name}: ${needed} must be specified.`);
  }
  if (spec.positionals >= 0 && positionals.length !== spec.positionals)
    throw new Refusal(`(${tool} ${path}) expected ${spec.positionals} positional argument(s), got ${positionals.length}`);
  return { path, spec, flags, positionals };
}

function load(file: string): StandInState {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as StandInState;
  return {
    projectNumber: '123456789012',
    calls: [],
    services: [],
    serviceAccounts: [],
    roles: {},
    bindings: [],
    functions: {},
    jobs: {},
    namespaces: ['default'],
    objects: [],
    images: [],
    metrics: {},
    policies: {},
  };
}

const value = (flags: Map<string, string | true>, name: string): string => String(flags.get(name) ?? '');

/**
 * The --condition of an IAM binding command, as gcloud's iam_util reads it: undefined when not given,
 * null for `None`, else its keys, of which `expression` and `title` are required.
 */
function conditionOf(
  flags: Map<string, string | true>,
  command: string,
): { expression: string; title: string; description: string } | null | undefined {
  if (!flags.has('--condition')) return undefined;
  const text = value(flags, '--condition');
  if (text === 'None') return null;
  const keys = Object.fromEntries(
    text.split(',').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const),
  ) as Record<string, string | undefined>;
  if (!keys.expression || !keys.title)
    throw new Refusal(`(${command}) argument --condition: If not \`None\`, \`expression\` and \`title\` are required keys.`);
  return { expression: keys.expression, title: keys.title, description: keys.description ?? '' };
}

/** A binding as the state keeps it: resource, member and role, and its condition's title and expression if it has one. */
const bindingOf = (resource: string, member: string, role: string, condition: ReturnType<typeof conditionOf>): string =>
  condition ? `${resource} ${member} ${role} if ${condition.title}: ${condition.expression}` : `${resource} ${member} ${role}`;

/** Runs one invocation against `state`; returns what it prints. */
export function run(tool: 'gcloud' | 'kubectl', argv: string[], state: StandInState, stdin: string): string {
  state.calls.push([tool, ...argv].join(' '));
  const { path, flags, positionals } = parse(tool, argv);
  const [first = ''] = positionals;
  const project = value(flags, '--project');
  const located = (name: string) => `${value(flags, '--region') || value(flags, '--location')}/${name}`;
  switch (`${tool} ${path}`) {
    case 'gcloud services enable':
      state.services.push(...positionals.filter((service) => !state.services.includes(service)));
      return '';
    case 'gcloud projects describe':
      return value(flags, '--format') === 'value(projectNumber)' ? `${state.projectNumber}\n` : `projectNumber: '${state.projectNumber}'\n`;
    case 'gcloud projects add-iam-policy-binding':
    case 'gcloud iam service-accounts add-iam-policy-binding': {
      if (path.startsWith('iam') && !state.serviceAccounts.includes(first))
        throw new Refusal(`(gcloud.${path.replaceAll(' ', '.')}) NOT_FOUND: Unknown service account ${first}`);
      const command = `gcloud.${path.replaceAll(' ', '.')}`;
      const condition = conditionOf(flags, command);
      if (condition === undefined && state.bindings.some((binding) => binding.startsWith(`${first} `) && binding.includes(' if ')))
        throw new Refusal(
          `(${command}) Adding a binding without specifying a condition to a policy containing conditions is prohibited in non-interactive mode. Run the command again with \`--condition=None\``,
        );
      // The same role, condition and member again changes nothing, as gcloud's _AddBindingToIamPolicyWithCondition.
      const binding = bindingOf(first, value(flags, '--member'), value(flags, '--role'), condition);
      if (!state.bindings.includes(binding)) state.bindings.push(binding);
      return 'Updated IAM policy.\n';
    }
    case 'gcloud projects remove-iam-policy-binding': {
      const condition = conditionOf(flags, 'gcloud.projects.remove-iam-policy-binding');
      const binding = bindingOf(first, value(flags, '--member'), value(flags, '--role'), condition);
      if (!state.bindings.includes(binding))
        throw new Refusal(
          '(gcloud.projects.remove-iam-policy-binding) Policy binding with the specified principal, role, and condition not found!',
        );
      state.bindings.splice(state.bindings.indexOf(binding), 1);
      return 'Updated IAM policy.\n';
    }
    case 'gcloud projects get-iam-policy': {
      // Only the query infra/setup.sh asks: one row per member of a role, the role printed for each match.
      const query = /^bindings\.role=(\S+) AND bindings\.members=(\S+)$/.exec(value(flags, '--filter'));
      if (value(flags, '--flatten') !== 'bindings[].members' || !query || value(flags, '--format') !== 'value(bindings.role)')
        throw new Refusal(
          'the stand-in answers get-iam-policy only flattened by member, filtered by role and member, as value(bindings.role)',
        );
      const [, role = '', member = ''] = query;
      return state.bindings
        .filter((binding) => binding.split(' ')[0] === first && binding.split(' ')[1] === member && binding.split(' ')[2] === role)
        .map(() => `${role}\n`)
        .join('');
    }
    case 'gcloud iam service-accounts create': {
      const email = `${first}@${project}.iam.gserviceaccount.com`;
      if (state.serviceAccounts.includes(email))
        throw new Refusal(
          `(gcloud.iam.service-accounts.create) Resource in projects [${project}] is the subject of a conflict: Service account ${first} already exists within project projects/${project}.`,
        );
      state.serviceAccounts.push(email);
      return `Created service account [${first}].\n`;
    }
    case 'gcloud iam service-accounts describe':
      if (!state.serviceAccounts.includes(first))
        throw new Refusal(`(gcloud.iam.service-accounts.describe) NOT_FOUND: Unknown service account`);
      return `email: ${first}\n`;
    case 'gcloud iam roles create':
      if (state.roles[`${project}/${first}`])
        throw new Refusal(`(gcloud.iam.roles.create) ALREADY_EXISTS: A role named ${first} in projects/${project} already exists.`);
      state.roles[`${project}/${first}`] = value(flags, '--permissions').split(',');
      return `Created role [${first}].\n`;
    case 'gcloud iam roles update':
      if (!state.roles[`${project}/${first}`])
        throw new Refusal(`(gcloud.iam.roles.update) NOT_FOUND: The role named projects/${project}/roles/${first} was not found.`);
      if (flags.has('--permissions')) state.roles[`${project}/${first}`] = value(flags, '--permissions').split(',');
      return `name: projects/${project}/roles/${first}\n`;
    case 'gcloud iam roles describe':
      if (!state.roles[`${project}/${first}`])
        throw new Refusal(`(gcloud.iam.roles.describe) NOT_FOUND: The role named projects/${project}/roles/${first} was not found.`);
      return `name: projects/${project}/roles/${first}\n`;
    case 'gcloud container clusters get-credentials':
      if (!flags.has('--location') && !flags.has('--zone') && !flags.has('--region'))
        throw new Refusal('(gcloud.container.clusters.get-credentials) One of [--location, --zone, --region] must be supplied.');
      state.kubeContext = `gke_${project}_${value(flags, '--location') || value(flags, '--zone') || value(flags, '--region')}_${first}`;
      return 'kubeconfig entry generated.\n';
    case 'gcloud builds get-default-service-account':
      return value(flags, '--format') === 'value(serviceAccountEmail)'
        ? `projects/${project}/serviceAccounts/${state.projectNumber}-compute@developer.gserviceaccount.com\n`
        : '';
    case 'gcloud functions deploy': {
      const fn = (state.functions[located(first)] ??= { revisions: 0, traffic: 'latest', env: '', buildEnv: '', audiences: [] });
      fn.revisions += 1;
      fn.env = value(flags, '--env-vars-file');
      fn.buildEnv = value(flags, '--build-env-vars-file');
      // A pinned service keeps its pinned revision unless told otherwise, as Cloud Run does.
      if (flags.has('--serve-all-traffic-latest-revision')) fn.traffic = 'latest';
      return `Deploying function (may take a while)...done.\n`;
    }
    case 'gcloud functions add-invoker-policy-binding':
      if (!state.functions[located(first)]) throw new Refusal(`(gcloud.functions.add-invoker-policy-binding) NOT_FOUND: function ${first}`);
      return '';
    case 'gcloud run services update':
    case 'gcloud run services update-traffic': {
      const fn = state.functions[located(first)];
      if (!fn) throw new Refusal(`(gcloud.run.services.${path.split(' ').at(-1)}) Service [${first}] could not be found.`);
      if (flags.has('--add-custom-audiences')) fn.audiences = [...new Set([...fn.audiences, value(flags, '--add-custom-audiences')])];
      if (flags.has('--to-latest')) fn.traffic = 'latest';
      if (flags.has('--to-revisions')) fn.traffic = Number(/-(\d+)=100$/.exec(value(flags, '--to-revisions'))?.[1] ?? 1);
      return '';
    }
    case 'gcloud run revisions list':
      return '';
    case 'gcloud logging metrics describe':
      if (!state.metrics[first]) throw new Refusal(`(gcloud.logging.metrics.describe) NOT_FOUND: Metric ${first} does not exist.`);
      return `name: ${first}\n`;
    case 'gcloud logging metrics create':
    case 'gcloud logging metrics update': {
      const exists = state.metrics[first] !== undefined;
      if (path.endsWith('create') && exists)
        throw new Refusal(`(gcloud.logging.metrics.create) ALREADY_EXISTS: Metric ${first} already exists.`);
      if (path.endsWith('update') && !exists)
        throw new Refusal(`(gcloud.logging.metrics.update) NOT_FOUND: Metric ${first} does not exist.`);
      state.metrics[first] = loadYaml(readFileSync(value(flags, '--config-from-file'), 'utf8'));
      return '';
    }
    case 'gcloud alpha monitoring policies list': {
      const wanted = /displayName="([^"]+)"/.exec(value(flags, '--filter'))?.[1];
      return Object.entries(state.policies)
        .filter(([, policy]) => (policy as { displayName?: string }).displayName === wanted)
        .map(([name]) => `${name}\n`)
        .join('');
    }
    case 'gcloud alpha monitoring policies create': {
      const name = `projects/${project}/alertPolicies/${Object.keys(state.policies).length + 1}`;
      state.policies[name] = loadYaml(readFileSync(value(flags, '--policy-from-file'), 'utf8'));
      return `Created alert policy [${name}].\n`;
    }
    case 'gcloud alpha monitoring policies update':
      if (!state.policies[first]) throw new Refusal(`(gcloud.alpha.monitoring.policies.update) NOT_FOUND: ${first}`);
      state.policies[first] = loadYaml(readFileSync(value(flags, '--policy-from-file'), 'utf8'));
      return `Updated alert policy [${first}].\n`;
    case 'gcloud compute snapshots describe':
    case 'gcloud compute images describe':
    case 'gcloud compute images describe-from-family': {
      // Without --project, gcloud uses its configured project; the build always gives one.
      const kind = path === 'compute snapshots describe' ? 'snapshots' : 'images';
      const held = (kind === 'snapshots' ? state.computeSnapshots : state.computeImages) ?? [];
      const family = path.endsWith('describe-from-family');
      const found = held.find((entry) =>
        family ? entry.startsWith(`${project}/`) && entry.endsWith(` ${first}`) : entry.split(' ')[0] === `${project}/${first}`,
      );
      if (!found)
        throw new Refusal(
          `(gcloud.${path.replaceAll(' ', '.')}) Could not fetch resource:\n - The resource 'projects/${project}/global/${kind}/${family ? `family/${first}` : first}' was not found`,
        );
      const name = (found.split(' ')[0] ?? '').slice(project.length + 1);
      return value(flags, '--format') === 'value(selfLink)'
        ? `https://www.googleapis.com/compute/v1/projects/${project}/global/${kind}/${name}\n`
        : `name: ${name}\n`;
    }
    case 'gcloud artifacts docker images describe':
      if (!(state.images ?? []).includes(first)) throw new Refusal(`(gcloud.artifacts.docker.images.describe) Image not found: ${first}`);
      return `image_summary:\n  fully_qualified_digest: ${first}@sha256:0\n`;
    case 'gcloud scheduler jobs describe':
      if (!state.jobs[located(first)]) throw new Refusal(`(gcloud.scheduler.jobs.describe) NOT_FOUND: Job not found.`);
      return `name: ${first}\n`;
    case 'gcloud scheduler jobs create http':
    case 'gcloud scheduler jobs update http': {
      const exists = state.jobs[located(first)] !== undefined;
      if (path.includes('create') && exists)
        throw new Refusal(`(gcloud.scheduler.jobs.create.http) ALREADY_EXISTS: Job ${first} already exists.`);
      if (path.includes('update') && !exists) throw new Refusal(`(gcloud.scheduler.jobs.update.http) NOT_FOUND: Job not found.`);
      state.jobs[located(first)] = { ...state.jobs[located(first)], ...Object.fromEntries([...flags].map(([k, v]) => [k, String(v)])) };
      return '';
    }
    case 'kubectl create namespace':
      if (!flags.has('--dry-run')) {
        if (state.namespaces.includes(first)) throw new Refusal(`from server (AlreadyExists): namespaces "${first}" already exists`);
        state.namespaces.push(first);
        return `namespace/${first} created\n`;
      }
      return `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${first}\n`;
    case 'kubectl apply': {
      if (value(flags, '-f') !== '-') throw new Refusal('the stand-in applies only -f -');
      if (!state.kubeContext) throw new Refusal('error: no context is set: run gcloud container clusters get-credentials first');
      const out: string[] = [];
      for (const doc of loadAll(stdin) as { kind?: string; metadata?: { name?: string; namespace?: string } }[]) {
        if (!doc) continue;
        const { kind = '', metadata = {} } = doc;
        if (kind === 'Namespace') {
          if (!state.namespaces.includes(metadata.name ?? '')) state.namespaces.push(metadata.name ?? '');
        } else if (metadata.namespace && !state.namespaces.includes(metadata.namespace)) {
          throw new Refusal(`Error from server (NotFound): error when creating "STDIN": namespaces "${metadata.namespace}" not found`);
        }
        const id = `${kind}/${metadata.namespace ?? ''}/${metadata.name ?? ''}`;
        out.push(`${kind.toLowerCase()}/${metadata.name} ${state.objects.includes(id) ? 'unchanged' : 'created'}`);
        if (!state.objects.includes(id)) state.objects.push(id);
      }
      return `${out.join('\n')}\n`;
    }
    default:
      throw new Refusal(`the stand-in does not act on ${tool} ${path}`);
  }
}

export function main(tool: 'gcloud' | 'kubectl', argv: string[]): number {
  const file = process.env.CLOUD_SDK_STANDIN_STATE;
  if (!file) {
    process.stderr.write('CLOUD_SDK_STANDIN_STATE is not set\n');
    return 2;
  }
  const state = load(file);
  const stdin = argv.includes('-') || argv.includes('-f') ? readFileSync(0, 'utf8') : '';
  try {
    process.stdout.write(run(tool, argv, state, stdin));
    return 0;
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    process.stderr.write(`ERROR: ${error.message}\n`);
    return 1;
  } finally {
    writeFileSync(file, JSON.stringify(state, null, 2));
  }
}

const tool = process.argv[2];
if (tool === 'gcloud' || tool === 'kubectl') process.exitCode = main(tool, process.argv.slice(3));

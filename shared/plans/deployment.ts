import type { V1Deployment } from '@kubernetes/client-node';
import { SUBJECT_PREFIX } from '../auth/allowed-callers.ts';
import { parameterDefaults, type ParameterDeclaration } from '../api/parameters.ts';
import { instanceParameters, withInstanceMetadata } from '../instances/metadata.ts';
import { mountNameOf, ownerHashOf } from '../instances/naming.ts';
import type { DeploymentTemplate, RenderedInstance } from '../template/deployment-template.ts';
import { makeTemplateData } from '../template/template-data.ts';
import { withObjectMetadata } from './instance-objects.ts';

/** Everything an instance's Deployment is made from. */
export interface DeploymentInputs {
  readonly serverName: string;
  readonly name: string;
  /** The zone of its disk: its pods are pinned there. */
  readonly diskZone: string;
  readonly ownerEmail: string;
  readonly ownerSubject: string;
  /** Who made it, as the template's CreatorInfo tells; default the owner (a transferred instance keeps its creator). */
  readonly creatorEmail?: string;
  readonly admins: readonly string[];
  /** Who the owner shares it with (emails), on its access list after the owner. */
  readonly collaborators?: readonly string[];
  /** How an access-list entry is written from an email (`{email}`, `dev.v.io:u:{email}`). */
  readonly accessListFormat: string;
  readonly mountRoot: string;
  /** Where it publishes itself, when not `<mountRoot>/<name>`: a restored instance keeps the one it had. */
  readonly mountName?: string;
  readonly version: string;
  /** Millisecond ISO time: the instance's creation time. */
  readonly createdAt: string;
  readonly idempotencyKeyHash?: string;
  readonly expiresAt?: string;
  /** The value of every declared parameter (defaults filled in); none when none are declared. */
  readonly parameters?: Readonly<Record<string, string>>;
}

/** The owner first, then the collaborators, then each admin, each once: who the instance lets in. */
export function accessListOf(
  ownerEmail: string,
  admins: readonly string[],
  format = '{email}',
  collaborators: readonly string[] = [],
): string[] {
  const adminEmails = admins.filter((entry) => !entry.startsWith(SUBJECT_PREFIX)); // an account id is no blessing
  return [...new Set([ownerEmail, ...collaborators, ...adminEmails])].map((email) => format.replace('{email}', () => email));
}

/**
 * The one place an instance's Deployment is assembled: the template's output
 * plus Allocator's labels and annotations, on which selection and ownership
 * rest, and pods that mount no service-account token unless the template
 * says. Create, the cold-start template check and the bench all use it.
 */
export function buildInstanceDeployment(template: DeploymentTemplate, inputs: DeploymentInputs): V1Deployment {
  return buildInstance(template, inputs).deployment;
}

/**
 * The Deployment as `buildInstanceDeployment` assembles it, and the
 * template's Services and ConfigMaps, each with Allocator's labels: what a
 * create makes.
 */
export function buildInstance(template: DeploymentTemplate, inputs: DeploymentInputs): RenderedInstance {
  const { serverName, name, ownerEmail, version, createdAt } = inputs;
  const ownerHash = ownerHashOf(ownerEmail);
  const mountName = inputs.mountName ?? mountNameOf(inputs.mountRoot, name);
  const accessList = accessListOf(ownerEmail, inputs.admins, inputs.accessListFormat, inputs.collaborators);
  const rendered = template.renderInstance(
    makeTemplateData({
      name,
      accessList,
      mountName,
      ownerHash,
      version,
      creatorInfo: { email: inputs.creatorEmail ?? ownerEmail, mountName, createdAt, allocator: serverName },
      ...(inputs.parameters ? { parameters: inputs.parameters } : {}),
    }),
  );
  const deployment = withInstanceMetadata(rendered.deployment, {
    serverName,
    diskZone: inputs.diskZone,
    name,
    ownerEmail,
    ownerSubject: inputs.ownerSubject,
    ownerHash,
    mountName,
    accessList,
    version,
    diskName: name,
    createdAt,
    ...(inputs.idempotencyKeyHash ? { idempotencyKeyHash: inputs.idempotencyKeyHash } : {}),
    ...(inputs.expiresAt ? { expiresAt: inputs.expiresAt } : {}),
    ...(inputs.parameters ? { parameters: inputs.parameters } : {}),
  });
  return {
    deployment: withoutServiceAccountToken(deployment),
    objects: rendered.objects.map((object) => withObjectMetadata(object, { serverName, ownerHash, name })),
  };
}

/**
 * A copy of `deployment` whose pods get no service-account token unless the
 * template says whether they should: an instance has no business with the
 * Kubernetes API, and a mounted token is a credential for whoever gets into
 * the pod.
 */
export function withoutServiceAccountToken(deployment: V1Deployment): V1Deployment {
  const pod = deployment.spec?.template;
  if (!deployment.spec || !pod?.spec || pod.spec.automountServiceAccountToken !== undefined) return deployment;
  return {
    ...deployment,
    spec: { ...deployment.spec, template: { ...pod, spec: { ...pod.spec, automountServiceAccountToken: false } } },
  };
}

/**
 * The parameters to render an existing instance's template again with (a
 * share, a transfer, a restore): the values it was made with, kept in its
 * annotations, over the current defaults, so that a parameter declared since
 * it was made gets its default rather than failing the render.
 */
export function parametersToRenderAgain(
  annotations: Readonly<Record<string, string>> | undefined,
  declarations: readonly ParameterDeclaration[] = [],
): Record<string, string> {
  return { ...parameterDefaults(declarations), ...instanceParameters(annotations) };
}

/**
 * Renders the template once with sample inputs and every parameter's default,
 * through the same assembly as a create, so that a broken template (or one
 * that uses an undeclared parameter) fails at cold start.
 */
export function checkTemplate(
  template: DeploymentTemplate,
  config: Pick<DeploymentInputs, 'serverName' | 'admins' | 'accessListFormat' | 'mountRoot' | 'version'> & {
    compute: { zone: string };
    parameters?: readonly ParameterDeclaration[];
  },
): V1Deployment {
  // The whole instance is built, so that a refused Service or ConfigMap fails now too.
  return buildInstance(template, {
    parameters: parameterDefaults(config.parameters ?? []),
    serverName: config.serverName,
    admins: config.admins,
    accessListFormat: config.accessListFormat,
    mountRoot: config.mountRoot,
    version: config.version,
    diskZone: config.compute.zone,
    name: `${config.serverName}-00000000`,
    ownerEmail: 'sample@example.com',
    ownerSubject: '0',
    createdAt: new Date(0).toISOString(),
  }).deployment;
}

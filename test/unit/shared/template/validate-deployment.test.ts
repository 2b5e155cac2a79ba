import { describe, expect, it } from 'vitest';
import { TemplateError, validateDeployment } from '../../../../shared/template/validate-deployment.ts';

const valid = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'syncbased-1a2b3c4d', labels: { a: 'b' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { application: 'x' } },
    template: {
      metadata: { labels: { application: 'x', extra: 'y' } },
      spec: { containers: [{ name: 'c', image: 'i' }], volumes: [{ name: 'data' }] },
    },
  },
});

type Doc = ReturnType<typeof valid>;
const options = { expectedName: 'syncbased-1a2b3c4d', where: 't.json.hbs' };

describe('validateDeployment', () => {
  it('returns a valid Deployment as it is', () => {
    expect(validateDeployment(valid(), options)).toEqual(valid());
  });

  it.each<[string, (d: Doc) => unknown, RegExp]>([
    ['no spec', (d) => ({ ...d, spec: undefined }), /t\.json\.hbs: spec is missing/],
    ['a negative replica count', (d) => ({ ...d, spec: { ...d.spec, replicas: -1 } }), /spec.replicas must be a whole number >= 0/],
    ['a fractional replica count', (d) => ({ ...d, spec: { ...d.spec, replicas: 0.5 } }), /spec.replicas/],
    ['no selector', (d) => ({ ...d, spec: { ...d.spec, selector: undefined } }), /spec.selector is missing/],
    [
      'an empty selector',
      (d) => ({ ...d, spec: { ...d.spec, selector: { matchLabels: {} } } }),
      /spec.selector.matchLabels must name at least one label/,
    ],
    [
      'pods the selector does not match',
      (d) => ({ ...d, spec: { ...d.spec, template: { ...d.spec.template, metadata: { labels: { application: 'z' } } } } }),
      /spec.template.metadata.labels must include the selector's application: "x"/,
    ],
    [
      'no containers',
      (d) => ({ ...d, spec: { ...d.spec, template: { ...d.spec.template, spec: { containers: [] } } } }),
      /spec.template.spec.containers must list at least one container/,
    ],
    [
      'a container without an image',
      (d) => ({ ...d, spec: { ...d.spec, template: { ...d.spec.template, spec: { containers: [{ name: 'c' }] } } } }),
      /spec.template.spec.containers\[0\].image is missing/,
    ],
    [
      'volumes without names',
      (d) => ({ ...d, spec: { ...d.spec, template: { ...d.spec.template, spec: { ...d.spec.template.spec, volumes: [{}] } } } }),
      /spec.template.spec.volumes must be a list of objects with a name/,
    ],
    [
      'annotations that are not strings',
      (d) => ({ ...d, metadata: { ...d.metadata, annotations: { a: { b: 1 } } } }),
      /metadata.annotations must map names to strings/,
    ],
    ['a Service', (d) => ({ ...d, kind: 'Service' }), /found apps\/v1 Service/],
  ])('refuses %s', (_label, change, message) => {
    expect(() => validateDeployment(change(valid()), options)).toThrow(TemplateError);
    expect(() => validateDeployment(change(valid()), options)).toThrow(message);
  });
});

import { createRequire } from 'node:module';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { DISK_SERVICES, trimProtos } from '../../../infra/compute-protos.ts';

const full = createRequire(import.meta.url)('@google-cloud/compute/build/protos/protos.json') as Parameters<typeof trimProtos>[0];

describe('trimProtos on the installed compute protos', () => {
  const trimmed = trimProtos(full, DISK_SERVICES);
  const root = protobuf.Root.fromJSON(trimmed);

  it('keeps the disk services whole, with every type their methods reach', () => {
    const fullRoot = protobuf.Root.fromJSON(full);
    for (const name of DISK_SERVICES) {
      const service = root.lookupService(name);
      expect(Object.keys(service.methods)).toEqual(Object.keys(fullRoot.lookupService(name).methods));
      for (const method of service.methodsArray)
        expect(method.parsedOptions).toEqual(fullRoot.lookupService(name).methods[method.name]!.parsedOptions);
    }
    expect(() => root.resolveAll()).not.toThrow();
    const disk = root.lookupType('google.cloud.compute.v1.Disk');
    expect(disk.toObject(disk.fromObject({ name: 'd', sizeGb: 10, labels: { a: 'b' } }), { longs: String })).toEqual({
      name: 'd',
      sizeGb: '10',
      labels: { a: 'b' },
    });
  });

  it('drops the services and types disks never use', () => {
    expect(() => root.lookupService('google.cloud.compute.v1.Instances')).toThrow();
    expect(root.lookup('google.cloud.compute.v1.Instance')).toBeNull();
    expect(JSON.stringify(trimmed).length).toBeLessThan(JSON.stringify(full).length / 50);
  });
});

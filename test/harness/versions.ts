/** Versions of the local control plane. Changing one rebuilds only that component. */
export const CONTROL_PLANE_VERSIONS = {
  etcd: 'v3.6.16',
  kubernetes: 'v1.35.4',
  kwok: 'v0.8.0',
} as const;

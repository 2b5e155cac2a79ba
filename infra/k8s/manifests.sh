#!/usr/bin/env bash
# Prints the cluster side of Allocator for one namespace, ready for
# `kubectl apply -f -` (which infra/setup.sh runs; applying again changes
# nothing): first the Instance custom resource definition (instance-crd.yaml),
# then the namespace with its Pod Security labels (namespace.yaml), the
# runtime account's RBAC (rbac.yaml), and the admission policy on its
# Deployments with its params and binding (admission.yaml).
# The definition and the admission policy are cluster-wide: applying them
# needs cluster-admin (a project owner has it on GKE), and they are the same
# for every namespace, so applying them again for another namespace changes
# nothing.
#
# usage: infra/k8s/manifests.sh --namespace NS --runtime-account USER [--pod-service-account default]
#          [--internal-load-balancers refuse|allow]
# USER is the username the API server gives the runtime account: on GKE, the
# Google service account's email. --pod-service-account is the Kubernetes
# service account the template's pods run as (its serviceAccountName).
# --internal-load-balancers is ALLOCATOR_INTERNAL_LOAD_BALANCERS: whether
# admission lets an instance's Service be an internal LoadBalancer.
set -euo pipefail

namespace='' runtime_account='' pod_service_account=default internal_load_balancers=refuse
while [[ $# -gt 0 ]]; do
  case $1 in
    --namespace) namespace=$2; shift 2 ;;
    --runtime-account) runtime_account=$2; shift 2 ;;
    --pod-service-account) pod_service_account=$2; shift 2 ;;
    --internal-load-balancers) internal_load_balancers=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "manifests.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
# Each value lands in a sed replacement and a YAML scalar: only the characters these names may hold.
[[ $namespace =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] ||
  { echo "manifests.sh: --namespace must be a DNS label (lowercase letters, digits, dashes), got '$namespace'" >&2; exit 2; }
[[ $runtime_account =~ ^[A-Za-z0-9][-A-Za-z0-9@._:]*$ ]] ||
  { echo "manifests.sh: --runtime-account must be a username such as allocator-runtime@my-project.iam.gserviceaccount.com, got '$runtime_account'" >&2; exit 2; }
[[ $pod_service_account =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] ||
  { echo "manifests.sh: --pod-service-account must be a service account name, got '$pod_service_account'" >&2; exit 2; }

[[ $internal_load_balancers == refuse || $internal_load_balancers == allow ]] ||
  { echo "manifests.sh: --internal-load-balancers must be refuse or allow, got '$internal_load_balancers'" >&2; exit 2; }

dir=$(dirname "$0")
# The definition first: kubectl applies in order, and it names no namespace.
echo '---'
cat "$dir/instance-crd.yaml"
for file in namespace.yaml rbac.yaml admission.yaml; do
  echo '---'
  sed -e "s/NAMESPACE/$namespace/g" -e "s/POD_SERVICE_ACCOUNT/$pod_service_account/g" \
    -e "s/RUNTIME_ACCOUNT/$runtime_account/g" -e "s/INTERNAL_LOAD_BALANCERS/$internal_load_balancers/g" "$dir/$file"
done

#!/usr/bin/env bash
# End-to-end on a real cluster (kind), for users who have Docker: builds the image, installs the
# chart, labels a namespace, deploys two apps and checks that the webhook injected them and that the
# client reaches the server through the sidecars. Not part of CI here (no Docker or API server).
#   test/e2e-cluster.sh            # creates the kind cluster "ztmesh-e2e" and deletes it at the end
#   KEEP=1 test/e2e-cluster.sh     # keeps it
set -euo pipefail
cd "$(dirname "$0")/.."
CLUSTER=${CLUSTER:-ztmesh-e2e}
IMAGE=ghcr.io/ztmesh/ztmesh:0.1.0
for tool in docker kind kubectl helm openssl; do command -v "$tool" >/dev/null || { echo "e2e: needs $tool"; exit 1; }; done

kind get clusters | grep -qx "$CLUSTER" || kind create cluster --name "$CLUSTER" --image kindest/node:v1.31.0
[ "${KEEP:-0}" = 1 ] || trap 'kind delete cluster --name "$CLUSTER"' EXIT
kubectl config use-context "kind-$CLUSTER"

docker build -t "$IMAGE" .
kind load docker-image "$IMAGE" --name "$CLUSTER"

work=$(mktemp -d)
export ZTMESH_SEAL_KEY="$(openssl rand -base64 32)"
node bin/ztmesh.js ca init --trust-domain cluster.local --dir "$work/ca"
kubectl create namespace ztmesh-system --dry-run=client -o yaml | kubectl apply -f -
kubectl -n ztmesh-system create secret generic ztmesh-seal-key --from-literal=seal.key="$ZTMESH_SEAL_KEY" --dry-run=client -o yaml | kubectl apply -f -
kubectl -n ztmesh-system create secret generic ztmesh-ca-keys --from-file="$work/ca" --dry-run=client -o yaml | kubectl apply -f -

helm upgrade --install ztmesh charts/ztmesh --namespace ztmesh-system --set image.pullPolicy=Never --wait --timeout 5m

kubectl create namespace shop --dry-run=client -o yaml | kubectl apply -f -
kubectl label namespace shop ztmesh.io/inject=enabled --overwrite
kubectl apply -f test/fixtures/k8s/e2e/apps.yaml
kubectl -n shop rollout status deploy/server deploy/client --timeout 5m

echo "e2e: checking injection"
for app in server client; do
  pod=$(kubectl -n shop get pod -l app=$app -o jsonpath='{.items[0].metadata.name}')
  kubectl -n shop get pod "$pod" -o jsonpath='{.metadata.annotations.ztmesh\.io/status}' | grep -q ztmesh-proxy || { echo "e2e: $pod not injected"; exit 1; }
done

echo "e2e: client -> server through the sidecars"
kubectl -n shop exec deploy/client -c client -- curl -sf -o /dev/null -w '%{http_code}\n' http://server.shop.svc/ | grep -qx 200
echo "e2e: a pod outside the mesh cannot reach the server's app port"
kubectl create namespace outside --dry-run=client -o yaml | kubectl apply -f -
if kubectl -n outside run probe --rm -i --restart=Never --image=curlimages/curl:8.10.1 -- curl -sf -m 5 http://server.shop.svc/; then
  echo "e2e: plaintext from outside the mesh was served"; exit 1
fi
echo "e2e: ok"

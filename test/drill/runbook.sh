#!/usr/bin/env bash
# The recovery runbook's commands, unchanged, against the drill world: kubectl for the cluster,
# the AWS CLI for both S3 endpoints. Run from anywhere:  bash test/drill/runbook.sh
# Needs node (24), kubectl and aws on PATH. OBJECTS=N changes the world's size (default 1000).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
node source/bin.js drill serve --objects "${OBJECTS:-1000}" >"$work/ready.json" 2>"$work/serve.log" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
until [ -s "$work/ready.json" ]; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.2
done
json() { node -e "const j=JSON.parse(require('fs').readFileSync('$work/ready.json','utf8')); console.log($1)"; }
export KUBECONFIG=$(json j.kubeconfig)
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
k() { step kubectl "$@"; kubectl --cache-dir "$work/kube-cache" "$@"; }
s3() { local side=$1; shift; step aws --endpoint-url "$(json "j.$side.endpoint")" "$@";
  AWS_ACCESS_KEY_ID=$(json "j.$side.accessKeyId") AWS_SECRET_ACCESS_KEY=$(json "j.$side.secretAccessKey") AWS_DEFAULT_REGION=us-east-1 AWS_PAGER='' \
    aws --endpoint-url "$(json "j.$side.endpoint")" "$@"; }

k get csidriver -o custom-columns=NAME:.metadata.name,SNAP:.spec.attachRequired
k get volumesnapshotclass
PVC=$(kubectl --cache-dir "$work/kube-cache" -n ilum get pvc -l app.kubernetes.io/name=rustfs -o jsonpath='{.items[0].metadata.name}')
k -n ilum get pvc -l app.kubernetes.io/name=rustfs -o jsonpath='{.items[0].metadata.name}'; echo
SNAP=ilum-objectstorage-pre-restore
k -n ilum apply -f - <<YAML
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata:
  name: $SNAP
  namespace: ilum
spec:
  volumeSnapshotClassName: ilum-objectstorage-snapshots
  source:
    persistentVolumeClaimName: $PVC
YAML
k -n ilum get volumesnapshot
k -n ilum wait --for=jsonpath='{.status.readyToUse}'=true volumesnapshot/$SNAP --timeout=120s

kubectl --cache-dir "$work/kube-cache" -n ilum get pvc -w >"$work/watch.txt" 2>&1 &
watch=$!
k -n ilum scale statefulset ilum-objectstorage --replicas=0
k -n ilum wait --for=delete pod/ilum-objectstorage-0 --timeout=120s
PV=$(kubectl --cache-dir "$work/kube-cache" -n ilum get pvc "$PVC" -o jsonpath='{.spec.volumeName}')
k patch pv "$PV" -p '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}'
k -n ilum delete pvc "$PVC"
cat >"$work/restore-pvc.yaml" <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: $PVC
  namespace: ilum
  labels:
    app.kubernetes.io/name: rustfs
spec:
  accessModes: ["ReadWriteOnce"]
  storageClassName: gp3
  resources:
    requests:
      storage: 50Gi
  dataSource:
    apiGroup: snapshot.storage.k8s.io
    kind: VolumeSnapshot
    name: $SNAP
YAML
k apply -f "$work/restore-pvc.yaml"
k -n ilum scale statefulset ilum-objectstorage --replicas=1
k -n ilum wait --for=jsonpath='{.status.readyReplicas}'=1 statefulset/ilum-objectstorage --timeout=120s
kill "$watch" 2>/dev/null || true
step "kubectl -n ilum get pvc -w   (what the watch saw)"; cat "$work/watch.txt"
k -n ilum describe pvc "$PVC"
k -n ilum create job --from=cronjob/ilum-objectstorage-backup manual-1
k -n ilum wait --for=condition=complete job/manual-1 --timeout=300s
k -n ilum create secret generic ilum-restore-drill --from-literal=access-key=drill --from-literal=secret-key=drill
k -n ilum describe volumesnapshot "$SNAP"
s3 provider s3 ls
s3 backup s3 ls
s3 provider s3 ls s3://ilum-mlflow/ --recursive --summarize | tail -2
s3 backup s3 ls s3://ilum-mlflow/ --recursive --summarize | tail -2
printf '\nThe runbook ran against the drill world.\n'

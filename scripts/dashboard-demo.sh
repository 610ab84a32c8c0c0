#!/usr/bin/env bash
# The province server on the demo (issues #12, #16): a throwaway PostgreSQL cluster on loopback
# (and Garage, an S3-compatible object store, when it is installed), a generated Liaoning
# province (150 halls × 5 years; --halls N for more), `hallmark serve --postgres [--s3]` on
# https://127.0.0.1:8443, then the demo's real evaluation over sync: five assessors' tablets push
# their signed bundles, the lead sends its signed report, which the server verifies against them
# and loads with its photos. Stop it with Ctrl-C (the cluster stops with it).
# Usage: scripts/dashboard-demo.sh [--halls N] [--listen ADDR]
set -euo pipefail
cd "$(dirname "$0")/.."
halls=150
listen=127.0.0.1:8443
while (($#)); do
  case $1 in
    --halls) halls=$2; shift 2 ;;
    --listen) listen=$2; shift 2 ;;
    *) echo "dashboard-demo.sh: unknown argument '$1' (--halls N, --listen ADDR)" >&2; exit 2 ;;
  esac
done
scripts/setup.sh
cargo build --locked --workspace --exclude hallmark-bare-window --bins
H=$PWD/${CARGO_TARGET_DIR:-target}/debug/hallmark
out=$PWD/target/dashboard-demo
[[ -f $out/pg/data/postmaster.pid ]] && scripts/postgres.sh stop "$out/pg"
rm -rf "$out"; mkdir -p "$out"
server=
export PATH="$HOME/.cargo/bin:$PATH"
stop() {
  [[ -n $server ]] && kill "$server" 2>/dev/null; wait 2>/dev/null
  scripts/postgres.sh stop "$out/pg"
  [[ -d $out/garage ]] && scripts/garage.sh stop "$out/garage"
}
trap stop EXIT
trap 'exit 130' INT TERM
eval "$(scripts/postgres.sh start "$out/pg")"
s3=()
if command -v garage >/dev/null; then
  eval "$(scripts/garage.sh start "$out/garage")"
  s3=(--s3 "$HALLMARK_S3")
  echo "== the bundles' and reports' files in Garage (S3) on loopback"
else
  echo "== the bundles' and reports' files in PostgreSQL (garage is not installed: cargo install garage --locked)"
fi
demo=$out/demo
echo "== the demo: signed bundles of five Liaoning assessors, the lead's signed report"
$H demo "$demo" --lead "$out/lead.db" >/dev/null
$H import --db "$out/lead.db" "$demo"/*.hallmark >/dev/null
$H report --db "$out/lead.db" --rubric liaoning-demo-window --details "$demo/report-details.toml" --out "$out/liaoning-report.pdf"
echo "== the province records: $halls generated halls, the registry, the demo's panel"
$H records generate --halls "$halls"
$H records import-halls "$demo/sync/halls.xlsx"
members=()
for t in "$demo"/tablets/liaoning-*; do members+=(--member "$t/certificate.pem"); done
$H assignment add --postgres "$HALLMARK_PG" --id TL-2026 --site 铁岭县医疗保障事务服务中心 --rubric liaoning-demo-window \
  --lead "$demo/sync/lead-certificate.pem" "${members[@]}"
password=demo-password-1
export HALLMARK_STAFF_PASSWORD=$password
$H records staff add --username sheng --name 省医保局管理员 --role province --region 210000 --admin
$H records staff add --username tieling --name 铁岭市医保局 --role city --region 211200
$H records staff add --username shenji --name 省局审计 --role auditor --region 210000
# The server (its hall registry is the records' halls), then the demo's tablets push their
# signed bundles and the lead sends its signed report over sync; every device presents its
# certificate so the bureau can put it on a panel (评价任务).
$H serve --data "$out/server" --listen "$listen" --cert "$demo/sync/server.pem" --key "$demo/sync/server.key" \
  --trust "$demo/bureau-root.pem" --trust "$demo/bureau-crl.pem" --postgres "$HALLMARK_PG" "${s3[@]}" >"$out/serve.out" &
server=$!
for _ in $(seq 100); do grep -q listening "$out/serve.out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$out/serve.out" || { echo "dashboard-demo.sh: the server did not start (is $listen taken?)" >&2; exit 1; }
echo "== over sync: the five tablets push, the lead sends the signed report"
for device in "$demo"/tablets/* "$out/lead.db"; do
  $H sync assignments --db "$device" --server "https://$listen" --trust "$demo/bureau-root.pem" >/dev/null 2>&1
done
for t in "$demo"/tablets/liaoning-*; do
  $H sync push --db "$t" --server "https://$listen" --trust "$demo/bureau-root.pem" 2>&1 | tail -1
done
$H sync report --db "$out/lead.db" --server "https://$listen" --trust "$demo/bureau-root.pem" --hall LN-211221-01 "$out/liaoning-report.pdf"
cat <<TXT

== the dashboard: https://$listen/
   Its TLS certificate is issued by the demo bureau root: trust $demo/bureau-root.pem in the
   browser (certificate settings → authorities → import), or accept the warning once.
   Log in as sheng (省级管理员), tieling (铁岭市) or shenji (审计，只读); password $password
   The demo's evaluation is 铁岭县医疗保障事务服务中心 (LN-211221-01); 评价任务 offers the
   demo's enrolled tablets for a new panel.
   Ctrl-C stops the server and the database.

TXT
wait "$server"

#!/usr/bin/env bash
# Issue #12: the bureau dashboard's pages on the province-scale dataset (1,500 halls × 5 years ×
# 5 assessors in a throwaway PostgreSQL cluster), served by `hallmark serve --postgres` over TLS,
# logged in as a province user. Prints p50/p99 of the server's own time per page (its
# Server-Timing header: handler, queries and rendering) and of the client's round trip, RUNS
# requests each (default 200). Goal: halls page and a hall page p99 < 300 ms server time.
# Usage: scripts/bench-dashboard.sh [HALLS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
cargo build --locked --release -q -p hallmark-cli --bin hallmark
H=$PWD/target/release/hallmark
halls=${1:-1500}
runs=${2:-200}
dir=$(mktemp -d)
chmod 755 "$dir"   # the cluster below belongs to the postgres user when run as root
server=
trap '[[ -n $server ]] && kill $server 2>/dev/null; scripts/postgres.sh stop "$dir/pg"; rm -rf "$dir"' EXIT
eval "$(scripts/postgres.sh start "$dir/pg")"
echo "== generating $halls halls × 5 years × 5 assessors"
t0=$(date +%s)
$H records generate --halls "$halls" >/dev/null
echo "   $(( $(date +%s) - t0 )) s; $(psql -tA "$HALLMARK_PG" -c "select pg_size_pretty(pg_database_size(current_database()))")"
$H demo "$dir/demo" >/dev/null
HALLMARK_STAFF_PASSWORD=bench-password-1 $H records staff add --username bench --name 压测 --role province --region 210000 >/dev/null
$H serve --data "$dir/server" --listen 127.0.0.1:0 --cert "$dir/demo/sync/server.pem" --key "$dir/demo/sync/server.key" \
  --trust "$dir/demo/bureau-root.pem" --postgres "$HALLMARK_PG" >"$dir/serve.out" 2>"$dir/serve.err" &
server=$!
for _ in $(seq 100); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(awk '/listening on/ {print $3}' "$dir/serve.out")
hall=$(psql -tA "$HALLMARK_PG" -c "select id from halls order by id limit 1 offset 700")
python3 - "$url" "$dir/demo/bureau-root.pem" "$runs" "$hall" <<'PY'
import http.client, ssl, statistics, sys, time, urllib.parse
url, root, runs, hall = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
host = urllib.parse.urlparse(url)
ctx = ssl.create_default_context(cafile=root)
conn = http.client.HTTPSConnection(host.hostname, host.port, context=ctx)
conn.request("POST", "/login", "username=bench&password=bench-password-1", {"Content-Type": "application/x-www-form-urlencoded"})
r = conn.getresponse(); r.read()
cookie = r.getheader("set-cookie").split(";")[0]
assert r.status == 303, r.status
pages = [
    ("halls, the province, page 1", "/halls"),
    ("halls, the province, page 20 by score", "/halls?sort=score&desc=1&page=20"),
    ("halls, a city, passed, search", "/halls?city=211200&result=pass&q=%E7%AA%97%E5%8F%A3"),
    ("halls, due in 90 days", "/halls?due=90"),
    ("a hall (5 evaluations, its panel)", "/halls/" + hall),
    ("due list, 30 days", "/due"),
    ("items, the province", "/items"),
    ("items, a city", "/items?city=211200"),
]
def pct(xs, p):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
print(f"{'page':42} {'server p50':>11} {'server p99':>11} {'round trip p99':>15} {'bytes':>8}")
for name, path in pages:
    server, client, size = [], [], 0
    for _ in range(runs):
        t = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie})
        r = conn.getresponse(); body = r.read()
        client.append((time.perf_counter() - t) * 1000)
        assert r.status == 200, (path, r.status)
        server.append(float(r.getheader("server-timing").split("dur=")[1])); size = len(body)
    print(f"{name:42} {pct(server, 50):9.2f}ms {pct(server, 99):9.2f}ms {pct(client, 99):13.2f}ms {size:8}")
PY

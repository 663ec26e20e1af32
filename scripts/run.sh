#!/usr/bin/env bash
# Sets everything up and runs the main job: builds Fides, starts a local
# validator (data under ./run/ in the checkout, generated demo keys),
# notarises some demo documents, and then
#  - with a display: opens the desktop app connected to it;
#  - without one: prints how to reach the node and walks through the CLI
#    (notarise, prove), then keeps the node running until Ctrl-C.
#   FIDES_RUN_ONCE=1  stop the node after the walk-through (no waiting)
#   FIDES_RPC=ADDR    listen address (default 127.0.0.1:26657)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target fides-node fides $( [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && echo fides-desktop )

BIN="$ROOT/build/bin"
HOME_DIR="$ROOT/run/validator-0"
RPC="${FIDES_RPC:-127.0.0.1:26657}"
if [ ! -f "$HOME_DIR/config/genesis.json" ]; then
  "$BIN/fides-node" init --home "$HOME_DIR" --chain-id fides-demo --moniker "state-it-centre"
fi

LOG="$ROOT/run/validator-0.log"
"$BIN/fides-node" start --home "$HOME_DIR" --rpc-listen "$RPC" >"$ROOT/run/validator-0.out" 2>"$LOG" &
NODE_PID=$!
cleanup() { kill "$NODE_PID" 2>/dev/null || true; wait "$NODE_PID" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

for _ in $(seq 1 100); do
  grep -q "listening on" "$ROOT/run/validator-0.out" 2>/dev/null && break
  if ! kill -0 "$NODE_PID" 2>/dev/null; then echo "fides-node failed to start:"; cat "$LOG"; exit 1; fi
  sleep 0.1
done
ADDR=$(sed -n 's/^fides-node: listening on //p' "$ROOT/run/validator-0.out")
export FIDES_NODE="$ADDR" FIDES_GENESIS="$HOME_DIR/config/genesis.json"
export FIDES_CLIENT_KEY="$ROOT/run/demo-client.key"

cat <<MSG

Fides validator running (pid $NODE_PID)
  gRPC:     $ADDR   (NodeService, grpc.health.v1, server reflection)
  home:     $HOME_DIR
  log:      $LOG
  CLI:      FIDES_NODE=$ADDR FIDES_GENESIS=$FIDES_GENESIS $BIN/fides status

MSG

# Demo data: notarise the project's own design documents (once).
mkdir -p "$ROOT/run/demo"
for f in README.md doc/ARCHITECTURE.md doc/spec/encoding.md; do
  [ -f "$f" ] || continue
  out="$ROOT/run/demo/$(basename "$f").receipt"
  [ -f "$out" ] && continue
  "$BIN/fides" notarize "$f" --label "demo: $f" >"$out" 2>&1 || true
done

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x "$BIN/fides-desktop" ] && [ "${FIDES_RUN_ONCE:-0}" != 1 ]; then
  echo "Opening the desktop app…"
  "$BIN/fides-desktop" --node "$ADDR" --genesis "$FIDES_GENESIS"
  exit 0
fi

echo "== CLI walk-through (no display)"
DOC="$ROOT/run/demo/letter-$(date +%s).txt"
echo "Decision of the municipal council, $(date -u)" >"$DOC"
set -x
"$BIN/fides" status
"$BIN/fides" notarize "$DOC" --label "council decision"
"$BIN/fides" prove "$DOC"
"$BIN/fides" block 1
set +x
echo "A file that was never registered gives a proof of absence (exit code 1):"
echo "never registered $(date +%s%N)" >"$ROOT/run/demo/unregistered.txt"
"$BIN/fides" prove "$ROOT/run/demo/unregistered.txt" || true

if [ "${FIDES_RUN_ONCE:-0}" = 1 ]; then exit 0; fi
echo
echo "The validator keeps running at $ADDR; press Ctrl-C to stop it."
wait "$NODE_PID"

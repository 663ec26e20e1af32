#!/usr/bin/env bash
# Sets everything up and runs the main job: builds Fides, starts a local
# network of 4 validators (`fides devnet`, data under ./run/devnet in the
# checkout, generated keys and certificates), notarises some demo
# documents, and then
#  - with a display: opens the desktop app connected to validator 0;
#  - without one: prints how to reach the validators and walks through the
#    CLI (notarise through one validator, prove through another).
# The devnet keeps running afterwards: `build/bin/fides devnet status|stop|reset`.
#   FIDES_RUN_ONCE=1            stop the devnet after the walk-through
#   FIDES_DEVNET_BASE_PORT=P    validator i: RPC P + 2i, peers P + 2i + 1 (default 26700)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target fides-node fides $( [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && echo fides-desktop )

BIN="$ROOT/build/bin"
DEVNET="$ROOT/run/devnet"
BASE="${FIDES_DEVNET_BASE_PORT:-26700}"

# A local network of 4 validators: separate processes and encrypted stores,
# mutual TLS on loopback, keys and certificates generated under run/devnet.
"$BIN/fides" devnet start --dir "$DEVNET" --validators 4 --base-port "$BASE"
stop_devnet() { "$BIN/fides" devnet stop --dir "$DEVNET" >/dev/null 2>&1 || true; }

export FIDES_NODE="127.0.0.1:$BASE" FIDES_GENESIS="$DEVNET/genesis.json"
export FIDES_CLIENT_KEY="$ROOT/run/demo-client.key"

cat <<MSG

Fides devnet running: 4 validators (logs: $DEVNET/validator-*.log)
  gRPC:     validators 0-3 at 127.0.0.1:$BASE, :$(( BASE + 2 )), :$(( BASE + 4 )), :$(( BASE + 6 ))  (NodeService, health, reflection)
  genesis:  $FIDES_GENESIS  (the trust anchor clients check commits against)
  manage:   $BIN/fides devnet status | stop | reset
  CLI:      FIDES_NODE=$FIDES_NODE FIDES_GENESIS=$FIDES_GENESIS $BIN/fides status

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
  echo "Opening the desktop app (connected to validator 0)…"
  "$BIN/fides-desktop" --node "$FIDES_NODE" --genesis "$FIDES_GENESIS"
  echo "The devnet keeps running; stop it with: $BIN/fides devnet stop"
  exit 0
fi

echo "== CLI walk-through (no display)"
DOC="$ROOT/run/demo/letter-$(date +%s).txt"
echo "Decision of the municipal council, $(date -u)" >"$DOC"
V2="127.0.0.1:$(( BASE + 4 ))"
set -x
"$BIN/fides" status
"$BIN/fides" notarize "$DOC" --label "council decision"
"$BIN/fides" --node "$V2" prove "$DOC"
"$BIN/fides" block 1
set +x
echo "(notarised through validator 0, proven through validator 2: the proof checks the validators' signatures, not the node)"
echo "A file that was never registered gives a proof of absence (exit code 1):"
echo "never registered $(date +%s%N)" >"$ROOT/run/demo/unregistered.txt"
"$BIN/fides" prove "$ROOT/run/demo/unregistered.txt" || true
"$BIN/fides" devnet status --dir "$DEVNET"

if [ "${FIDES_RUN_ONCE:-0}" = 1 ]; then
  stop_devnet
  exit 0
fi
echo
echo "The devnet keeps running; stop it with: $BIN/fides devnet stop   (reset: $BIN/fides devnet reset)"

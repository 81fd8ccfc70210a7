#!/bin/sh
# The main job, through the `etomkit` command, on the example data shipped here:
# import a catalogue and the products customers bought (eTOM 1.2.4.2), issue
# resource orders for a file of TMF641 service orders with a rule file (eTOM
# 1.5.6.7), audit the inventory's data quality and report usage and cost.
#
#   sh examples/cli/main_job.sh [STORE]     (default STORE: ./etomkit-data)
#
# Re-runnable: imports upsert, issuing is idempotent per service order, and
# each audit compares itself with the one before; a second run says what it
# found from the first. Set ETOMKIT to the command to run (default: etomkit,
# or .venv/bin/etomkit when there is one).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
store="${1:-etomkit-data}"
if [ -z "${ETOMKIT:-}" ]; then
  if [ -x .venv/bin/etomkit ]; then ETOMKIT=.venv/bin/etomkit; else ETOMKIT=etomkit; fi
fi
run() { "$ETOMKIT" --store "$store" "$@"; }

run offerings import --mode upsert "$here/catalogue.json"
run products import --mode upsert "$here/products.json"
run issue --rules "$here/../resource_orders/rules.toml" \
  --specs "$here/../resource_orders/resource_specifications.json" \
  --out "$store/resource_orders.jsonl" "$here/service_orders.jsonl"
run audit --compare
run report usage --period week

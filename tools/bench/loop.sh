#!/usr/bin/env bash
# tools/bench/loop.sh: the decision loop's scaling table (build/bench-loop)
# with its heading, for docs/bench.md.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
echo "## Decision loop as guest RAM grows ($(date -u +%F), $(nproc) cores, $(uname -r), outside the lab)"
echo
echo "One epoch of the engine's own code (heat decay and update, hot set, DRAM set, migration"
echo "choices, feedback) on simulated VMs: 10% of each VM's 2 MiB regions hot, every region in"
echo "the heat reading (the worst case), half of guest RAM in DRAM, budget a quarter, so every"
echo "epoch moves as much as the rate limits allow. Median of 10 epochs after 5. Not included:"
echo "reading the BPF heat map and move_pages itself (kernel work, in the lab figures)."
echo "\"tables\" is what the real engine allocates per VM (regions, every 8th page's address)."
echo
"$top/build/bench-loop"
# the figure tools/bench/plot draws from this table (make bench), at
# docs/bench.md's path
echo
echo "![The decision loop's ms per epoch against total guest RAM](figures/bench-loop.png)"

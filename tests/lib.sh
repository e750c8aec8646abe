# Helpers for tierd's shell tests. Source it; `set -e` is on.
set -euo pipefail
top=${TIERD_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
cd "$top"
TIERD=$top/build/tierd
STANDIN=$top/build/vm-standin

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }
need_lab() { [ "${LAB:-}" = 1 ] || skip "runs only inside the lab"; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }

# expect_fail "what" cmd... : the command must fail with a message on stderr
expect_fail() {
	local what=$1 out rc; shift
	out=$("$@" 2>&1) && fail "$what: succeeded, should have failed"
	rc=$?
	[ -n "$out" ] || fail "$what: failed (exit $rc) without a message"
	echo "ok: $what -> exit $rc: $(echo "$out" | head -n1)"
}

# tierd_wrapper PATH CONF: an executable PATH that runs $TIERD with
# --config CONF, for callers that take a tierd to run (the hookscript's TIERD)
tierd_wrapper() {
	printf '#!/bin/sh\nexec %s "$@" --config %s\n' "$TIERD" "$2" >"$1"
	chmod +x "$1"
}

# Cleanup stack: on_exit 'cmd' runs at exit, last first.
_cleanups=()
on_exit() { _cleanups+=("$1"); }
_run_cleanups() { for ((i=${#_cleanups[@]}-1; i>=0; i--)); do eval "${_cleanups[i]}" || true; done; }
trap _run_cleanups EXIT

# The host knobs tierd owns (NUMA balancing's sysctl and debugfs files):
# every test that runs tierd checks they are put back.
HOST_KNOBS=(/proc/sys/kernel/numa_balancing /proc/sys/kernel/numa_balancing_promote_rate_limit_MBps
	    /sys/kernel/debug/sched/numa_balancing/scan_size_mb /sys/kernel/debug/sched/numa_balancing/scan_period_min_ms
	    /sys/kernel/debug/sched/numa_balancing/scan_period_max_ms)
# hog_start SECS X.json NUMACTL-POLICY STAND-IN-OPTIONS...: a stand-in
# outside any VM (unregistered, no scope) holding memory under a numactl
# policy, its JSON lines in X.json (a fresh file: the wait must not read
# the last run's), its errors in X.err; waits SECS for its first line;
# sets HOG_PID and kills it on exit
hog_start() {
	local secs=$1 log=$2 pol=$3 t0=$SECONDS; shift 3
	rm -f "$log"
	numactl "$pol" "$STANDIN" --no-register "$@" >"$log" 2>"${log%.json}.err" &
	HOG_PID=$!
	on_exit "kill $HOG_PID 2>/dev/null; wait $HOG_PID 2>/dev/null"
	until [ -s "$log" ]; do
		kill -0 $HOG_PID 2>/dev/null && (( SECONDS - t0 < secs )) ||
			fail "the memory hog did not start in $((SECONDS - t0)) s: $(tail -n 3 "${log%.json}.err")"
		sleep 0.5
	done
}
# knob_values [FILE...]: "file=value" for each host knob, then each FILE
knob_values() { local k; for k in "${HOST_KNOBS[@]}" "$@"; do echo "$k=$(cat "$k" 2>/dev/null || echo absent)"; done; }

# standin_start VMID LOG [options...]: start a stand-in VM; waits for its
# first JSON line; sets STANDIN_PID (the supervisor) and VM_PID.
# Under systemd (the lab's --systemd) the stand-in runs in a transient
# N.scope in qemu.slice made by systemd, as qm's StartTransientUnit does.
under_systemd() { [ -d /run/systemd/system ]; }
standin_start() {
	local id=$1 log=$2; shift 2
	# emptied here, not by the redirection below: that happens in the
	# background child, and a wait that starts first would read what the
	# last stand-in left in the file (its pid among it)
	: >"$log"
	if under_systemd; then
		# a scope of the same name from the last run may still be going away
		for _ in $(seq 50); do systemctl -q is-active "$id.scope" 2>/dev/null || break; sleep 0.1; done
		systemctl reset-failed "$id.scope" 2>/dev/null || true
		systemd-run --quiet --scope --slice=qemu --unit="$id" -p KillMode=process -p SendSIGKILL=no \
			"$STANDIN" -id "$id" "$@" >"$log" 2>"$log.err" &
	else
		"$STANDIN" -id "$id" "$@" >"$log" 2>"$log.err" &
	fi
	STANDIN_PID=$!
	on_exit "kill $STANDIN_PID 2>/dev/null; wait $STANDIN_PID 2>/dev/null"
	for _ in $(seq 600); do
		[ -s "$log" ] && break
		kill -0 $STANDIN_PID 2>/dev/null || { cat "$log.err" >&2; fail "stand-in $id died"; }
		sleep 0.1
	done
	[ -s "$log" ] || fail "stand-in $id printed nothing"
	VM_PID=$(jq -r .pid <(head -n1 "$log"))
}

# standin_stop: SIGTERM, wait; returns the stand-in's exit status
standin_stop() {
	kill -TERM "$STANDIN_PID"
	local rc=0
	wait "$STANDIN_PID" || rc=$?
	return $rc
}

# A stand-in appends one JSON line per second; a read can catch the last
# line half written. json_lines FILE prints only the lines that parse.
json_lines() { jq -cR 'fromjson? // empty' "$1"; }
last_json() { json_lines "$1" | tail -n1; }

# tierd_daemon LOG [options]: start the tierd host daemon, logging to LOG;
# waits for its socket (fails if it does not come up); sets DAEMON_PID.
tierd_daemon() {
	local log=$1; shift
	"$TIERD" "$@" >"$log" 2>&1 &
	DAEMON_PID=$!
	on_exit "kill $DAEMON_PID 2>/dev/null; wait $DAEMON_PID 2>/dev/null"
	for _ in $(seq 100); do [ -S /run/tierd/tierd.sock ] && return 0; sleep 0.2; done
	cat "$log" >&2
	fail "the tierd daemon did not come up"
}

# stat_start OUT [stat options]: run `tierd stat --json` in the background,
# its JSON to OUT and its stderr to OUT.err; return once it has read its
# opening counters (its "counting ... from now" line), so what the test
# does next falls inside the window. Sets STAT_PID.
stat_start() {
	local out=$1; shift
	: >"$out.err"	# here: the background child's redirection may come after the first poll
	"$TIERD" stat --json "$@" >"$out" 2>"$out.err" &
	STAT_PID=$!
	on_exit "kill $STAT_PID 2>/dev/null; wait $STAT_PID 2>/dev/null"
	wait_for 120 "grep -q 'counting .* from now' $out.err || ! kill -0 $STAT_PID 2>/dev/null" \
		"tierd stat never opened its window"
	grep -q 'counting .* from now' "$out.err" || fail "tierd stat: $(cat "$out.err")"
}

# wait_for SECONDS 'condition' 'what': poll the condition SECONDS x 2
# times, 0.5 s apart. The bound is in polls, not in wall-clock time: a
# condition that takes a second itself (tierd status under TCG) stretches
# it, so the failure says how long it really waited.
wait_for() {
	local t=$1 cond=$2 what=$3 t0=$SECONDS
	for _ in $(seq $((t * 2))); do eval "$cond" && return 0; sleep 0.5; done
	fail "after $((t * 2)) polls in $((SECONDS - t0)) s: $what"
}

# step 'what': a line with the seconds since the test began, so a slow run's
# log shows where its time went
step() { echo "[${SECONDS}s] $*"; }

# Progress in tierd's own epochs, not in wall-clock seconds. Under TCG a
# busy machine stretches the guest's accesses, the NUMA scanner and tierd's
# migrations alike; a fixed sleep then measures the machine, not tierd.
# tierd_epoch: the daemon's epoch count.
tierd_epoch() { "$TIERD" status --json | jq .epoch; }
# wait_epochs N [CAP]: until the daemon has finished N more epochs; fails
# after CAP seconds (default: 10 x N epochs' worth).
wait_epochs() {
	local n=$1 e0 e
	e0=$(tierd_epoch)
	local ep; ep=$("$TIERD" status --json | jq .epoch_s)
	local cap=${2:-$(awk -v n="$n" -v s="$ep" 'BEGIN { printf "%d", n * s * 10 + 30 }')}
	local until=$((SECONDS + cap))
	while [ $SECONDS -lt $until ]; do
		e=$(tierd_epoch)
		[ $((e - e0)) -ge "$n" ] && return 0
		sleep 0.5
	done
	fail "tierd ran $((e - e0)) of $n epochs in ${cap}s"
}
# settle_hot_set VMID: until tierd's hot set of VM VMID stops growing: at
# least 30 epochs, then 10 at a time until one added at most 4 MiB, 150
# epochs at most (then the test measures as it stands). How many NUMA scan
# passes fit in a fixed number of epochs follows the machine's speed.
# Prints the epochs it took and the hot set.
hot_set_of() { "$TIERD" status --json | jq --argjson v "$1" '.vms[] | select(.vmid == $v) | .hot_set_bytes'; }
settle_hot_set() {
	local id=$1 e1 h0 grew
	e1=$(tierd_epoch)
	wait_epochs 30
	while :; do
		h0=$(hot_set_of $id)
		wait_epochs 10
		grew=$(( $(hot_set_of $id) - h0 ))
		[ $grew -le $((4 << 20)) ] && break
		[ $(( $(tierd_epoch) - e1 )) -ge 150 ] && { step "hot set still growing after 150 epochs"; break; }
	done
	step "settled $(( $(tierd_epoch) - e1 )) epochs on, hot set $(( $(hot_set_of $id) >> 20 )) MiB"
}

# A VM's DRAM by the kernel's own per-cgroup counters: anon bytes on NODE in
# its scope's memory.numa_stat (the stand-in's bookkeeping included, so a
# budget check with it is, if anything, stricter). The stand-in's own
# bytes_per_node is a walk over its pages with move_pages that takes a
# while under TCG; a region tierd promotes after the walk passed it while
# the one it evicted is read before it went would count twice, so a budget
# is checked against this instead.
scope_anon() {	# VMID NODE
	# bash alone, no awk: watch_anon calls it every 0.5 s, and under TCG
	# a fork and exec took seconds (a 7.3 run sampled 4 times in 21 s)
	local p=/sys/fs/cgroup/qemu.slice/$1.scope/memory.numa_stat line f
	[ -r "$p" ] || return 1
	while read -r line; do
		case $line in
		"anon "*) for f in $line; do [[ $f == "N$2="* ]] && echo "${f#N$2=}"; done ;;
		esac
	done <"$p"
	return 0
}
# watch_anon VMID NODE FILE: sample it every 0.5 s into FILE until the test
# ends (or kill $WATCH_PID). It waits with read -t on a FIFO it holds open
# itself, not with sleep: no fork and exec per sample, which under TCG with
# the kernel migrating took seconds (2 samples in 19 s in one run).
watch_anon() {
	local fifo; fifo=$(mktemp -u /tmp/watch.XXXXXX)
	mkfifo "$fifo"
	: >"$3"
	( exec 3<>"$fifo"; rm -f "$fifo"
	  while :; do scope_anon "$1" "$2" || break; read -r -t 0.5 -u 3 _ || :; done ) >"$3" 2>/dev/null &
	WATCH_PID=$!
	on_exit "kill $WATCH_PID 2>/dev/null"
}

# The Grafana dashboard (tools/grafana/tierd-dashboard.json) and the metric
# names it relies on. dashboard_exprs FILE: each panel query's PromQL, one a
# line; dashboard_metrics FILE: every metric name its panel queries and
# template variables name, sorted.
DASHBOARD=$top/tools/grafana/tierd-dashboard.json
dashboard_exprs() { jq -r '.. | objects | select(has("targets")) | .targets[].expr' "$1"; }
dashboard_metrics() {
	{ dashboard_exprs "$1"; jq -r '.templating.list[] | .query | objects | .query' "$1"; } |
		grep -o 'tierd_[a-z0-9_]*' | sort -u
}

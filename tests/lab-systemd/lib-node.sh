# Helpers for the tests under systemd (tests/lab-systemd; sourced after
# ../lib.sh): tierd installed with `make install PREFIX=/usr` and run as
# tierd.service, and a stand-in for pmxcfs at /etc/pve.
need_lab
under_systemd || skip "needs systemd as PID 1 (tools/lab/run --systemd)"

knobs() { knob_values; }

# pmxcfs_mount: /etc/pve as pmxcfs shows it (a tmpfs here): .version,
# qemu-server/, and what is in $PVE_SRC (a folder the test fills)
PVE_SRC=$(mktemp -d /tmp/pve-src.XXXXXX)
mkdir -p "$PVE_SRC/qemu-server"
pmxcfs_mount() {
	mkdir -p /etc/pve
	mount -t tmpfs -o mode=0755 pmxcfs /etc/pve
	cp -a "$PVE_SRC/." /etc/pve/
	echo 1 >/etc/pve/.version
}
pmxcfs_umount() { umount /etc/pve; }

# tierd_service: install, start tierd.service; sets DAEMON_PID
tierd_service() {
	make -s install PREFIX=/usr >/dev/null || fail "make install failed"
	mkdir -p /var/lib/prometheus/node-exporter
	systemctl daemon-reload
	on_exit "systemctl stop tierd 2>/dev/null"
	systemctl start tierd || { journalctl -b -u tierd --no-pager | tail -n 30 >&2; fail "systemctl start tierd failed"; }
	DAEMON_PID=$(systemctl show -P MainPID tierd)
}
journal() { journalctl -b -u tierd --no-pager -o cat; }
# journal_has PATTERN: grep -q would stop reading at the first match, and
# under pipefail journalctl's SIGPIPE would then fail the pipeline
journal_has() { journal | grep -c -- "$1" >/dev/null; }

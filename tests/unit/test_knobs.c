// SPDX-License-Identifier: GPL-2.0-only
/* Which journal lines tierd will put back: only knobs it sets itself. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "knobs.h"
#include "util.h"

int main(void)
{
	const char *cg = cgroup2_mount();
	char p[512];

	CHECK(knob_restorable("/proc/sys/kernel/numa_balancing", "3"), "the sysctl");
	CHECK(knob_restorable("/proc/sys/kernel/numa_balancing_promote_rate_limit_MBps", "65536"), "the rate limit");
	CHECK(knob_restorable("/sys/kernel/debug/sched/numa_balancing/scan_size_mb", "256"), "a debugfs knob");
	CHECK(!knob_restorable("/etc/passwd", "0"), "a file tierd never writes");
	CHECK(!knob_restorable("/proc/sys/kernel/numa_balancing/../../vm/drop_caches", "3"), "a path with ..");
	CHECK(!knob_restorable("/proc/sys/kernel/numa_balancing", "3; rm"), "a value no knob takes");
	CHECK(!knob_restorable("/proc/sys/kernel/numa_balancing", ""), "an empty value");
	CHECK(!knob_restorable("proc/sys/kernel/numa_balancing", "1"), "a relative path");
	if (cg) {
		snprintf(p, sizeof(p), "%s/qemu.slice/101.scope/memory.low", cg);
		CHECK(knob_restorable(p, "268435456"), "a VM's memory.low");
		CHECK(knob_restorable(p, "max"), "max");
		snprintf(p, sizeof(p), "%s/qemu.slice/memory.low", cg);
		CHECK(knob_restorable(p, "0"), "qemu.slice's memory.low");
		snprintf(p, sizeof(p), "%s/qemu.slice/101.scope/memory.swap.max", cg);
		CHECK(knob_restorable(p, "max"), "a VM's memory.swap.max");
		snprintf(p, sizeof(p), "%s/system.slice/memory.low", cg);
		CHECK(!knob_restorable(p, "0"), "a cgroup outside qemu.slice");
		snprintf(p, sizeof(p), "%s/qemu.slice.evil/memory.low", cg);
		CHECK(!knob_restorable(p, "0"), "a sibling whose name starts with qemu.slice");
		snprintf(p, sizeof(p), "%s/qemu.slice/101.scope/cgroup.procs", cg);
		CHECK(!knob_restorable(p, "1"), "a cgroup file tierd does not set");
	}
	printf("test_knobs: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}

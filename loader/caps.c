// SPDX-License-Identifier: GPL-2.0-only
/* Capability dropping by raw capget/capset: no libcap dependency for it. */
#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "caps.h"
#include "log.h"
#include "util.h"

static const int keep[] = { CAP_SYS_ADMIN, CAP_SYS_NICE, CAP_SYS_PTRACE };

int caps_drop_after_attach(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};
	__u32 mask[2] = { 0, 0 };
	char buf[16];
	int last = 40;

	if (syscall(SYS_capget, &h, d))
		return -errno;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		mask[keep[i] / 32] |= 1u << (keep[i] % 32);
	/* the bounding set first, while CAP_SETPCAP may still be effective
	 * (under tierd.service it is not, and the unit bounds the set itself) */
	if (read_file("/proc/sys/kernel/cap_last_cap", buf, sizeof(buf)) > 0)
		last = atoi(buf);
	for (int c = 0; c <= last; c++)
		if (!(mask[c / 32] & (1u << (c % 32))) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	for (int i = 0; i < 2; i++) {
		d[i].effective &= mask[i];
		d[i].permitted &= mask[i];
		d[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return 0;
}

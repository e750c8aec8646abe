/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_MEMCG_H
#define TIERD_MEMCG_H

#include <stdbool.h>
#include <stdint.h>

#define MEMCG_NODES 64

/*
 * A cgroup's own tiering counters, per node, from its memory.numa_stat,
 * where the kernel keeps them (6.12+: pgdemote_kswapd, _direct,
 * _khugepaged, and _proactive from 6.16, pgpromote_success). These count
 * demotions by kswapd too, which no BPF program can attribute to a VM
 * (kswapd runs for the node, not for a cgroup).
 */
struct memcg_tier {
	bool have;			/* the file has the counters (probed, not by version) */
	uint64_t demoted[MEMCG_NODES];	/* pages demoted from node N, all reclaimers */
	uint64_t promoted[MEMCG_NODES];	/* pages promoted to node N */
	uint64_t demoted_total, promoted_total;
};

/* Read <scope_dir>/memory.numa_stat; 0 (t->have false where the kernel
 * lacks the counters) or -errno. */
int memcg_tier_read(const char *scope_dir, struct memcg_tier *t);

/*
 * memory.reclaim with a swappiness argument, where the kernel takes one
 * (found by the write itself: older kernels refuse any argument with
 * EINVAL before reclaiming anything): swappiness=200 (anon first, 6.11+)
 * keeps the kernel on guest RAM rather than QEMU's page cache. Not "max"
 * (anon only, 6.16+): on Debian's 7.3.4 (MGLRU on) a 488 MiB
 * "swappiness=max" reclaim of a 1.5 GiB VM took 22 s and demoted nothing,
 * where a plain one demoted 256 MiB of a VM. 0, -EAGAIN (less than asked)
 * or -errno; *used names the argument that was taken ("" for none).
 */
int memcg_reclaim(const char *scope_dir, uint64_t bytes, const char **used);

#endif

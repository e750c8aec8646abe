/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_TOPO_H
#define TIERD_TOPO_H

#include <stdint.h>

#define TOPO_MAX_NODES 64
/* exit status of the daemon on a host with no slower memory tier
 * (sysexits' EX_CONFIG): nothing to do here, not a failure to retry */
#define TIERD_EXIT_NO_TIER 78

/* Which NUMA nodes are DRAM (the top memory tier) and which are slower. */
struct topo {
	uint64_t fast, slow;		/* node bitmasks */
	int tier[TOPO_MAX_NODES];	/* memory_tier id, -1: none */
	uint64_t total[TOPO_MAX_NODES];	/* bytes */
	int first_fast, first_slow;	/* migration targets */
	char how[160];			/* where the split came from */
};

/*
 * Read the kernel's memory tiers (/sys/devices/virtual/memory_tiering):
 * the lowest tier id holding memory is DRAM, every lower tier is slow.
 * `fast_opt` / `slow_opt` ("0", "1-2,4"; NULL: from the tiers) override.
 * 0, or -1 with `why` filled (no slower tier, a node that does not exist).
 */
int topo_read(const char *sysroot, const char *fast_opt, const char *slow_opt,
	      struct topo *t, char *why, size_t whylen);
/* MemFree of a node, bytes; 0 if unknown. */
uint64_t node_free(const char *sysroot, int node);

#endif

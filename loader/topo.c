// SPDX-License-Identifier: GPL-2.0-only
/*
 * Topology: DRAM and slow (CXL) nodes, from the kernel's memory tiers.
 *
 * Linux puts each memory node in a memory tier by its abstract distance;
 * dax/kmem (how CXL Type-3 expanders and the lab's node 1 come online)
 * places its nodes in a lower tier than CPU-attached DRAM. A node with
 * memory and no tier (kernels before 6.1) counts as DRAM if it has CPUs,
 * slow otherwise.
 */
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "topo.h"
#include "util.h"

static uint64_t meminfo(const char *sysroot, int node, const char *key)
{
	char path[512], buf[4096], *p;

	snprintf(path, sizeof(path), "%s/sys/devices/system/node/node%d/meminfo", sysroot, node);
	if (read_file(path, buf, sizeof(buf)) <= 0 || !(p = strstr(buf, key)))
		return 0;
	return strtoull(p + strlen(key), NULL, 10) * 1024;
}

uint64_t node_free(const char *sysroot, int node)
{
	return meminfo(sysroot, node, "MemFree:");
}

static int lowest(uint64_t m)
{
	return m ? __builtin_ctzll(m) : -1;
}

int topo_read(const char *sysroot, const char *fast_opt, const char *slow_opt,
	      struct topo *t, char *why, size_t whylen)
{
	char path[512], buf[256];
	uint64_t mem = 0, cpus = 0;
	int best = -1;
	DIR *d;
	struct dirent *e;

	memset(t, 0, sizeof(*t));
	for (int n = 0; n < TOPO_MAX_NODES; n++) {
		t->tier[n] = -1;
		if ((t->total[n] = meminfo(sysroot, n, "MemTotal:")))
			mem |= 1ULL << n;
		snprintf(path, sizeof(path), "%s/sys/devices/system/node/node%d/cpulist", sysroot, n);
		if (read_file(path, buf, sizeof(buf)) > 1)
			cpus |= 1ULL << n;
	}
	if (!mem) {
		snprintf(why, whylen, "no NUMA node with memory under %s/sys/devices/system/node", sysroot);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/sys/devices/virtual/memory_tiering", sysroot);
	if ((d = opendir(path))) {
		while ((e = readdir(d))) {
			int id;
			uint64_t m;

			if (sscanf(e->d_name, "memory_tier%d", &id) != 1)
				continue;
			snprintf(path, sizeof(path), "%s/sys/devices/virtual/memory_tiering/%s/nodelist",
				 sysroot, e->d_name);
			if (read_file(path, buf, sizeof(buf)) <= 0 || parse_nodelist(buf, &m))
				continue;
			m &= mem;
			for (int n = 0; n < TOPO_MAX_NODES; n++)
				if (m & (1ULL << n))
					t->tier[n] = id;
			if (m && (best < 0 || id < best))
				best = id;
		}
		closedir(d);
	}
	if (best >= 0) {
		for (int n = 0; n < TOPO_MAX_NODES; n++)
			if (mem & (1ULL << n))
				(t->tier[n] == best || t->tier[n] < 0 ? &t->fast : &t->slow)[0] |= 1ULL << n;
		snprintf(t->how, sizeof(t->how), "memory tiers: DRAM is memory_tier%d", best);
	} else {
		t->fast = mem & cpus;
		t->slow = mem & ~cpus;
		snprintf(t->how, sizeof(t->how), "no memory tiers in sysfs: nodes with CPUs are DRAM");
	}
	if (fast_opt || slow_opt) {
		uint64_t f = t->fast, s = t->slow;

		if (fast_opt && parse_nodelist(fast_opt, &f)) {
			snprintf(why, whylen, "--dram-nodes: '%s' is not a node list like 0 or 0-1,3", fast_opt);
			return -1;
		}
		if (slow_opt && parse_nodelist(slow_opt, &s)) {
			snprintf(why, whylen, "--slow-nodes: '%s' is not a node list like 1 or 2-3", slow_opt);
			return -1;
		}
		if (fast_opt && !slow_opt)
			s = mem & ~f;
		if (slow_opt && !fast_opt)
			f = mem & ~s;
		if ((f | s) & ~mem) {
			snprintf(why, whylen, "node %d has no memory (or does not exist)", lowest((f | s) & ~mem));
			return -1;
		}
		if (f & s) {
			snprintf(why, whylen, "node %d is named both DRAM and slow", lowest(f & s));
			return -1;
		}
		t->fast = f;
		t->slow = s;
		snprintf(t->how, sizeof(t->how), "from the command line");
	}
	if (!t->fast) {
		snprintf(why, whylen, "no DRAM node (%s)", t->how);
		return -1;
	}
	if (!t->slow) {
		snprintf(why, whylen, "no slower memory tier on this host: every node with memory is DRAM (%s); "
			 "tierd has nowhere to demote to", t->how);
		return -ENOENT;
	}
	t->first_fast = lowest(t->fast);
	t->first_slow = lowest(t->slow);
	return 0;
}

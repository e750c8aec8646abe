/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every tierd BPF object shares: the tracked-VM table (cgroup id ->
 * vm_cfg, written by userspace) and the per-VM counters. Each object
 * declares both; the loader creates them once and hands the same fds to
 * every object (bpf_map__reuse_fd), so all samplers see one VM table.
 */
#ifndef TIERD_COMMON_BPF_H
#define TIERD_COMMON_BPF_H

#include "tierd.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TIERD_MAX_VMS);
	__type(key, __u64);		/* cgroup id of <vmid>.scope */
	__type(value, struct vm_cfg);
} vms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TIERD_MAX_VMS);
	__type(key, __u32);		/* vm_cfg.slot */
	__type(value, struct vm_stats);
} vm_stats SEC(".maps");

/* The VM the current task belongs to, or NULL. */
static __always_inline struct vm_cfg *current_vm(void)
{
	__u64 cgid = bpf_get_current_cgroup_id();

	return bpf_map_lookup_elem(&vms, &cgid);
}

static __always_inline void vm_stat_add(__u32 slot, enum vm_stat s, __u64 n)
{
	struct vm_stats *st = bpf_map_lookup_elem(&vm_stats, &slot);

	if (st && s < NR_VM_STATS)
		st->v[s] += n;
}

#endif

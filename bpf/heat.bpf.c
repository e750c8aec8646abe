// SPDX-License-Identifier: GPL-2.0-only
/*
 * Page-access heat per VM.
 *
 * Every page fault of a task in a tracked VM's cgroup is counted against
 * the region (2 MiB by default) of the faulting address. With NUMA
 * balancing on, the kernel turns a sample of each process's pages
 * PROT_NONE every scan period, and the next access to such a page takes a
 * "hint fault": so faults per region are sampled accesses. A KVM guest's
 * hint faults reach handle_mm_fault() from the vCPU thread through
 * get_user_pages(), not through the x86 user page-fault path, which is why
 * the primary samplers sit on handle_mm_fault itself.
 *
 * Three interchangeable entry points, chosen by the loader after probing:
 *   heat_fentry  fentry/handle_mm_fault (cheapest; not every kernel allows it)
 *   heat_kprobe  kprobe/handle_mm_fault
 *   heat_perf    perf_event: hardware memory sampling with data addresses
 *                (PEBS, IBS) or software page-fault events
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "common.bpf.h"

const volatile __u32 region_shift = 21;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TIERD_REGIONS_DEFAULT);	/* loader may resize */
	__type(key, struct region_key);
	__type(value, __u64);		/* cumulative sampled accesses */
} heat SEC(".maps");

struct rate {
	__u64 window;			/* start of the current second, ns */
	__u64 count;			/* events in it */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TIERD_MAX_VMS);
	__type(key, __u32);
	__type(value, struct rate);
} rate SEC(".maps");

static __always_inline bool in_ranges(const struct vm_cfg *vm, __u64 addr)
{
	__u32 n = vm->nr_ranges;

	if (!n)
		return true;
	for (__u32 i = 0; i < TIERD_MAX_RANGES; i++)
		if (i < n && addr >= vm->start[i] && addr < vm->end[i])
			return true;
	return false;
}

/* Per-VM cap on sampled events per second (racy by design: it is a cap). */
static __always_inline bool over_cap(const struct vm_cfg *vm, __u32 slot)
{
	struct rate *r;
	__u64 now;

	if (!vm->cap)
		return false;
	r = bpf_map_lookup_elem(&rate, &slot);
	if (!r)
		return false;
	now = bpf_ktime_get_ns();
	if (now - r->window >= 1000000000ULL) {
		r->window = now;
		r->count = 0;
	}
	return __sync_fetch_and_add(&r->count, 1) >= vm->cap;
}

static __always_inline int account(__u64 addr)
{
	struct region_key key = {};
	struct vm_cfg *vm;
	__u64 one = 1, *cnt;
	__u32 slot;

	vm = current_vm();
	if (!vm)
		return 0;
	slot = vm->slot;
	if (!in_ranges(vm, addr)) {
		vm_stat_add(slot, VS_OUT_OF_RANGE, 1);
		return 0;
	}
	if (over_cap(vm, slot)) {
		vm_stat_add(slot, VS_THROTTLED, 1);
		return 0;
	}
	key.slot = slot;
	key.region = addr >> region_shift;
	cnt = bpf_map_lookup_elem(&heat, &key);
	if (!cnt) {
		if (!bpf_map_update_elem(&heat, &key, &one, BPF_NOEXIST)) {
			vm_stat_add(slot, VS_SAMPLED, 1);
			return 0;
		}
		cnt = bpf_map_lookup_elem(&heat, &key);	/* lost a race? */
		if (!cnt) {
			vm_stat_add(slot, VS_MAP_FULL, 1);
			return 0;
		}
	}
	__sync_fetch_and_add(cnt, 1);
	vm_stat_add(slot, VS_SAMPLED, 1);
	return 0;
}

SEC("fentry/handle_mm_fault")
int BPF_PROG(heat_fentry, struct vm_area_struct *vma, unsigned long address)
{
	return account(address);
}

SEC("kprobe/handle_mm_fault")
int BPF_KPROBE(heat_kprobe, struct vm_area_struct *vma, unsigned long address)
{
	return account(address);
}

SEC("perf_event")
int heat_perf(struct bpf_perf_event_data *ctx)
{
	return account(ctx->addr);
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Migration accounting: the mm_migrate_pages tracepoint fires once per
 * migrate_pages() call with the pages that moved and the reason.
 *
 * Host-wide figures by reason go to mig_stats. Per-VM figures are counted
 * only where the kernel runs the migration in the VM's own context: NUMA
 * balancing promotion (MR_NUMA_MISPLACED) runs in the faulting task.
 * Demotion by kswapd runs in kswapd and cannot be attributed here; the
 * loader takes per-VM demotion from the scope's memory.stat instead.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.bpf.h"
#include "compat.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mig_stats);
} mig_stats SEC(".maps");

static __always_inline enum mig_reason classify(__u64 reason)
{
	if (reason == bpf_core_enum_value(enum migrate_reason, MR_NUMA_MISPLACED))
		return MIG_PROMOTE;
	if (reason == bpf_core_enum_value(enum migrate_reason, MR_DEMOTION))
		return MIG_DEMOTE;
	if (reason == bpf_core_enum_value(enum migrate_reason, MR_SYSCALL))
		return MIG_SYSCALL;
	return MIG_OTHER;
}

static __always_inline int on_migrate(__u64 succeeded, __u64 failed, __u64 reason)
{
	enum mig_reason r = classify(reason);
	struct mig_stats *ms;
	struct vm_cfg *vm;
	__u32 zero = 0;

	ms = bpf_map_lookup_elem(&mig_stats, &zero);
	if (ms && r < NR_MIG_REASONS) {
		ms->pages[r] += succeeded;
		ms->failed[r] += failed;
		ms->calls[r] += 1;
	}
	vm = current_vm();
	if (!vm)
		return 0;
	if (r == MIG_PROMOTE)
		vm_stat_add(vm->slot, VS_PROMOTED, succeeded);
	else if (r == MIG_DEMOTE)
		vm_stat_add(vm->slot, VS_DEMOTED, succeeded);
	else
		vm_stat_add(vm->slot, VS_MIGRATED_OTHER, succeeded);
	vm_stat_add(vm->slot, VS_MIGRATE_FAILED, failed);
	return 0;
}

SEC("tp_btf/mm_migrate_pages")
int migrate_btf(__u64 *ctx)
{
	return on_migrate(ctx[0], ctx[1], migrate_reason_arg(ctx));
}

SEC("raw_tp/mm_migrate_pages")
int migrate_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return on_migrate(ctx->args[0], ctx->args[1], migrate_reason_arg(ctx));
}

char LICENSE[] SEC("license") = "GPL";

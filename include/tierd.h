/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Types shared by tierd's BPF programs (bpf/) and its daemon (loader/).
 * Plain __u32/__u64 only, so both sides agree on the layout.
 */
#ifndef TIERD_H
#define TIERD_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TIERD_MAX_VMS		256	/* tracked VMs (slots) */
#define TIERD_MAX_RANGES	8	/* guest RAM ranges per VM the BPF side filters on (vm_bpf_ranges folds more) */
/*
 * Latency histograms are log-linear: 8 buckets per power of two, so a
 * bucket is at most 1/8 of its value wide. Values below 8 ns have a bucket
 * each; slot (o * 8 + m) holds [(8 + m) << (o - 3), (9 + m) << (o - 3)).
 */
#define TIERD_HIST_SUB		8
#define TIERD_HIST_SLOTS	(36 * TIERD_HIST_SUB)	/* up to 2^36 ns, ~69 s */
#define TIERD_MAX_QUEUES	1024	/* (controller, queue) pairs */
#define TIERD_REGIONS_DEFAULT	(1 << 18)	/* heat map entries */

/* A VM tierd watches: filled in by userspace, keyed by cgroup id. */
struct vm_cfg {
	__u32 slot;			/* index into per-VM arrays */
	__u32 nr_ranges;		/* 0: count every address */
	__u64 start[TIERD_MAX_RANGES];	/* guest RAM ranges, [start, end) */
	__u64 end[TIERD_MAX_RANGES];
	__u32 cap;			/* sampled events per second, 0: none */
	__u32 pad;
};

/* Heat map key: one region of one VM's address space. */
struct region_key {
	__u32 slot;
	__u32 pad;
	__u64 region;			/* address >> region_shift */
};

/* Heat map value: sampled faults and their summed weight (see heat.bpf.c). */
struct heat_val {
	__u64 count;			/* samples: faults and hardware samples */
	__u64 score;			/* sum of fault weights (1000 at the latency
					 * floor, by 1/wait^2 beyond it), and
					 * TIERD_HW_SAMPLE_SCORE per hardware sample */
};

/* A fault more than this long after the scan that covers it is not
 * weighted: it is not that scan's hint fault. */
#define TIERD_SCAN_HORIZON_NS	(10ULL * 1000000000ULL)

/* A fault sooner than the latency floor after its scan weighs as if that
 * late, and weighs TIERD_WEIGHT_MAX * (floor / wait)^2 (1000 at the floor). */
#define TIERD_LAT_FLOOR_NS	1000000ULL
#define TIERD_WEIGHT_MAX	1000ULL

/*
 * Hardware and fault samples in one region's heat_val (one heat map, shared
 * by the fault-path sampler and the hardware sampler beside it). Every
 * sample adds 1 to count. A fault adds its weight (0..TIERD_WEIGHT_MAX) to
 * score; a hardware sample (PEBS/IBS) adds TIERD_WEIGHT_MAX: it is an
 * access seen as it happens, as strong a sign of use as a hint fault can
 * give (one at the latency floor), and it has no scan to be timed against.
 * So a hardware sample weighs as one floor-latency fault both where the
 * engine ranks by score (scan windows loaded) and where it ranks by count
 * x TIERD_WEIGHT_MAX (no scan windows), and neither reading needs to know
 * which sampler a region's samples came from.
 */
#define TIERD_HW_SAMPLE_SCORE	TIERD_WEIGHT_MAX

/* Per-VM counters of the samplers, a per-CPU array indexed by slot. */
enum vm_stat {
	VS_SAMPLED,		/* accesses counted in the heat map */
	VS_THROTTLED,		/* over the per-VM cap, not counted */
	VS_OUT_OF_RANGE,	/* outside guest RAM */
	VS_MAP_FULL,		/* heat map full, not counted */
	VS_PROMOTED,		/* pages promoted, in the VM's own context */
	VS_DEMOTED,		/* pages demoted, in the VM's own context */
	VS_MIGRATED_OTHER,	/* pages migrated for other reasons */
	VS_MIGRATE_FAILED,	/* pages that failed to migrate */
	VS_SCANS,		/* NUMA-balancing scan windows recorded */
	VS_HINTED,		/* sampled faults inside a recorded window */
	VS_SWEEP_NS,		/* time spent protecting recorded windows */
	VS_SWEEP_PAGES,		/* and their size, in 4 KiB pages */
	VS_OFF_CPU_WAITS,	/* hint faults whose wait for the sweeper had
				 * its time off the CPU taken out */
	NR_VM_STATS,
};

struct vm_stats {
	__u64 v[NR_VM_STATS];
};

/* Host-wide migration counters, by reason (a per-CPU array). */
enum mig_reason {
	MIG_PROMOTE,		/* MR_NUMA_MISPLACED */
	MIG_DEMOTE,		/* MR_DEMOTION */
	MIG_SYSCALL,		/* MR_SYSCALL: move_pages, migrate_pages */
	MIG_OTHER,
	NR_MIG_REASONS,
};

struct mig_stats {
	__u64 pages[NR_MIG_REASONS];
	__u64 failed[NR_MIG_REASONS];
	__u64 calls[NR_MIG_REASONS];
};

/* NVMe queue: (controller instance, queue id); queue 0 is the admin queue. */
struct nvme_qkey {
	__u32 ctrl;
	__u32 qid;
};

#define TIERD_TRANSPORT_LEN 8

struct nvme_qstats {
	char transport[TIERD_TRANSPORT_LEN];	/* ctrl->ops->name: "tcp", "pci", ... */
	__u64 done;			/* completed I/Os */
	__u64 lat_ns;			/* summed latency */
	__u64 hist[TIERD_HIST_SLOTS];	/* latency, log-linear in ns */
	__s64 inflight;			/* set up, not yet completed */
};

/* Global NVMe counters (a per-CPU array). */
enum nvme_stat {
	NS_SETUP,		/* nvme_setup_cmd seen */
	NS_COMPLETE,		/* nvme_complete_rq seen */
	NS_UNMATCHED,		/* completions with no recorded setup */
	NS_INFLIGHT_FULL,	/* setups not recorded: their in-flight slot taken */
	NS_QUEUE_FULL,		/* queues not recorded: queue map full */
	NR_NVME_STATS,
};

/* Per-VM NVMe latency, keyed by the slot of the issuing VM. */
struct vm_io {
	__u64 done;
	__u64 lat_ns;
	__u64 hist[TIERD_HIST_SLOTS];
};

/* Histogram slot of a value (ns); loop-free, so BPF and userspace share it. */
static inline __u32 tierd_hist_slot(__u64 v)
{
	__u32 o = 0, shift;
	__u64 x = v;

	if (v < TIERD_HIST_SUB)
		return (__u32)v;
	shift = (x > 0xffffffffULL) << 5; x >>= shift; o |= shift;
	shift = (x > 0xffff) << 4; x >>= shift; o |= shift;
	shift = (x > 0xff) << 3; x >>= shift; o |= shift;
	shift = (x > 0xf) << 2; x >>= shift; o |= shift;
	shift = (x > 0x3) << 1; x >>= shift; o |= shift;
	o |= (__u32)(x >> 1);
	if (o >= 36)
		return TIERD_HIST_SLOTS - 1;
	return o * TIERD_HIST_SUB + (__u32)((v >> (o - 3)) & (TIERD_HIST_SUB - 1));
}

/* Lowest value of a slot. */
static inline __u64 tierd_hist_low(__u32 slot)
{
	__u32 o = slot / TIERD_HIST_SUB, m = slot % TIERD_HIST_SUB;

	if (o < 3)
		return slot;
	return (__u64)(TIERD_HIST_SUB + m) << (o - 3);
}

#endif /* TIERD_H */

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
 * A count alone does not rank regions: with THP a 2 MiB page takes one
 * hint fault per scan whether it is touched a thousand times a second or
 * once. What separates them is how soon after the scan the fault comes,
 * which is how the kernel's own tiering judges hotness (its "hint fault
 * latency"), at a finer grain here: scan_fentry/scan_kprobe and
 * scan_fexit/scan_kretprobe record each change_prot_numa() window of a
 * tracked VM (its range, when it began and ended, which thread swept it)
 * in a small ring per VM, and a fault inside a recorded window adds a
 * weight falling with how long the page waited for it to its region's
 * score (see prot_time and fault_weight).
 *
 * Three interchangeable entry points, chosen by the loader after probing:
 *   heat_fentry  fentry/handle_mm_fault (cheapest; not every kernel allows it)
 *   heat_kprobe  kprobe/handle_mm_fault
 *   heat_perf    perf_event: hardware memory sampling with data addresses
 *                (PEBS, IBS) or software page-fault events
 *
 * Hardware sampling also runs as a second object beside a fault-path
 * sampler (the loader's heat2), on the same heat map: both kinds of sample
 * add to one region's heat_val, by the rule in tierd.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.bpf.h"

const volatile __u32 region_shift = 21;
/* Set by the loader for the hardware sampler (heat2): each sample then
 * adds TIERD_HW_SAMPLE_SCORE, not a fault's weight (see tierd.h). */
const volatile bool hw_samples = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TIERD_REGIONS_DEFAULT);	/* loader may resize */
	__type(key, struct region_key);
	__type(value, struct heat_val);
} heat SEC(".maps");

/*
 * Recent NUMA-balancing scan windows per VM, newest at next - 1. A window
 * is one change_prot_numa() call: t when it began, t_end when it returned
 * (0 while it runs), tid the thread that swept it. Protecting a window
 * takes time (a 256 MiB window of 4 KiB pages, tens of ms under TCG) and
 * the thread that protects it is one of the VM's own, which touches no
 * guest RAM until it is done; see prot_time for when a fault's wait is
 * counted from.
 */
#define SCAN_RING 16
struct scan_win {
	__u64 start, end, t, t_end;
	__u64 run_mark;			/* the sweeper's run_mark() at t_end */
	__u32 tid, pad;
};

struct scans {
	__u32 next;
	__u32 open;			/* 1 + index of the window being swept, or 0 */
	__u64 ns_per_mib;		/* sweep time per MiB, averaged over windows */
	struct scan_win w[SCAN_RING];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TIERD_MAX_VMS);
	__type(key, __u32);
	__type(value, struct scans);
} scans SEC(".maps");

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

/* Does [start, end) overlap guest RAM? (no ranges known: all of it) */
static __always_inline bool overlaps_ranges(const struct vm_cfg *vm, __u64 start, __u64 end)
{
	__u32 n = vm->nr_ranges;

	if (!n)
		return true;
	for (__u32 i = 0; i < TIERD_MAX_RANGES; i++)
		if (i < n && start < vm->end[i] && end > vm->start[i])
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

/*
 * The current thread's run time minus the scheduler clock: the scheduler
 * adds the time since exec_start to sum_exec_runtime and moves exec_start
 * to now whenever it accounts a running task, so this stays the same while
 * the thread runs and falls by the time it spends off the CPU. Two marks of
 * one thread differ by the time it was off the CPU between them.
 */
static __always_inline __u64 run_mark(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, se.sum_exec_runtime) - BPF_CORE_READ(task, se.exec_start);
}

/*
 * When the wait for a fault at addr by thread tid began, in window w:
 * - for the thread that swept w, once it is swept, its end, moved on by
 *   the time the thread has spent off the CPU since (it touched nothing
 *   while it swept, nor while it waited for a CPU after; a sweeper that
 *   lost the CPU for 30 ms once it was done made every fault of that
 *   window, hot regions' too, weigh nothing, and so one window's regions
 *   outranked another's);
 * - for the VM's other threads, when the sweep reached addr: w's start
 *   plus the sweep time to addr's offset, at w's own rate once it is swept,
 *   at the average rate of earlier windows while it is being swept.
 * 0 if w had not reached addr by now (then the fault is not this window's).
 */
static __always_inline __u64 prot_time(const struct scans *sc, const struct scan_win *w,
				       __u64 addr, __u64 now, __u32 tid, bool *moved)
{
	__u64 pages = (w->end - w->start) >> 12, off = (addr - w->start) >> 12, t;

	if (w->t_end && tid == w->tid) {
		__s64 away = (__s64)(w->run_mark - run_mark());	/* off the CPU since */

		t = w->t_end;
		if (away > 0) {
			*moved = true;
			t += (__u64)away < now - t ? (__u64)away : now - t;
		}
	}
	else if (w->t_end && pages)
		t = w->t + (w->t_end - w->t) * off / pages;
	else
		t = w->t + ((sc->ns_per_mib * off) >> 8);
	return t <= now ? t : 0;
}

/*
 * Weight of a fault at addr: TIERD_WEIGHT_MAX (1000) x (floor / wait)^2,
 * the wait in ns from prot_time of the newest recorded window that covers
 * it, taken as at least the latency floor; 0 if no recorded window covers
 * it. The floor is where "touched at once" ends. After a scan the hot
 * regions fault first but not at once: each hint fault takes its time
 * (tens of us under TCG), so a hot set's regions fault one after another
 * over about a millisecond, and a region that faults sooner than the floor
 * is no hotter for it. With a 100 us floor the few regions that happened to
 * fault first, hot or not, outweighed the rest of the hot set (the lab's
 * heat-precision found 17 and 23 of the 32 hottest in the hot set, not 32).
 * Squared, so that a late fault weighs next to nothing and a region's
 * score is near a count of the scans after which it faulted early.
 *
 * The floor is fixed; docs/engine-notes.md has the floors that followed
 * the machine's speed, tried and not taken.
 */
#define FLOOR_US (TIERD_LAT_FLOOR_NS / 1000)
static __always_inline __u64 fault_weight(__u32 slot, __u64 addr, __u64 now, __u32 tid)
{
	struct scans *sc = bpf_map_lookup_elem(&scans, &slot);
	__u64 best = 0, lat, t;
	bool moved, best_moved = false;

	if (!sc)
		return 0;
	for (__u32 i = 0; i < SCAN_RING; i++) {
		struct scan_win *w = &sc->w[i];

		moved = false;
		if (addr >= w->start && addr < w->end && w->t && w->t <= now &&
		    (t = prot_time(sc, w, addr, now, tid, &moved)) > best) {
			best = t;
			best_moved = moved;
		}
	}
	if (!best)
		return 0;
	if (best_moved)
		vm_stat_add(slot, VS_OFF_CPU_WAITS, 1);
	lat = now - best;
	if (lat > TIERD_SCAN_HORIZON_NS)
		return 0;
	if (lat < TIERD_LAT_FLOOR_NS)
		lat = TIERD_LAT_FLOOR_NS;
	/* in us, so that the square does not overflow (1e15 / ns^2 did past
	 * 4.29 s): lat^2 <= 1e14 */
	lat /= 1000;
	return TIERD_WEIGHT_MAX * FLOOR_US * FLOOR_US / (lat * lat);
}

static __always_inline int record_scan(__u64 start, __u64 end)
{
	struct vm_cfg *vm = current_vm();
	struct scans *sc;
	__u32 slot, i;

	if (!vm)
		return 0;
	slot = vm->slot;
	sc = bpf_map_lookup_elem(&scans, &slot);
	if (!sc)
		return 0;
	/* a window whose return was missed (a kretprobe can be) stays open no
	 * longer than the next call's entry */
	sc->open = 0;
	/* Only windows over guest RAM: one task_numa_work() pass goes on
	 * through QEMU's many small mappings after the RAM, and their windows
	 * would push the RAM's out of the ring before its faults arrive (the
	 * last regions of guest RAM then never scored). */
	if (!overlaps_ranges(vm, start, end))
		return 0;
	/* one scanner per mm at a time (task_numa_work), so no atomics */
	i = sc->next++ & (SCAN_RING - 1);
	sc->w[i].t = 0;			/* not matched while half written */
	sc->w[i].t_end = 0;
	sc->w[i].start = start;
	sc->w[i].end = end;
	sc->w[i].tid = (__u32)bpf_get_current_pid_tgid();
	sc->w[i].t = bpf_ktime_get_ns();
	sc->open = i + 1;
	vm_stat_add(slot, VS_SCANS, 1);
	return 0;
}

/* change_prot_numa() returned: the open window is swept. Windows of at
 * least 2 MiB set the average sweep rate (3/4 old, 1/4 new). */
static __always_inline int end_scan(void)
{
	struct vm_cfg *vm = current_vm();
	struct scan_win *w;
	struct scans *sc;
	__u64 pages, now;
	__u32 slot, i;

	if (!vm)
		return 0;
	slot = vm->slot;
	sc = bpf_map_lookup_elem(&scans, &slot);
	if (!sc || !sc->open)
		return 0;
	i = (sc->open - 1) & (SCAN_RING - 1);
	sc->open = 0;
	w = &sc->w[i];
	now = bpf_ktime_get_ns();
	if (!w->t || now < w->t)
		return 0;
	w->run_mark = run_mark();
	w->t_end = now;
	pages = (w->end - w->start) >> 12;
	if (pages >= 512) {
		__u64 r = (now - w->t) * 256 / pages;

		sc->ns_per_mib = sc->ns_per_mib ? (3 * sc->ns_per_mib + r) / 4 : r;
		vm_stat_add(slot, VS_SWEEP_NS, now - w->t);
		vm_stat_add(slot, VS_SWEEP_PAGES, pages);
	}
	return 0;
}

static __always_inline int account(__u64 addr)
{
	struct region_key key = {};
	struct heat_val one = { .count = 1 }, *val;
	struct vm_cfg *vm;
	__u32 slot;

	vm = current_vm();
	if (!vm)
		return 0;
	slot = vm->slot;
	if (!overlaps_ranges(vm, addr, addr + 1)) {
		vm_stat_add(slot, VS_OUT_OF_RANGE, 1);
		return 0;
	}
	if (over_cap(vm, slot)) {
		vm_stat_add(slot, VS_THROTTLED, 1);
		return 0;
	}
	if (hw_samples)
		one.score = TIERD_HW_SAMPLE_SCORE;
	else if ((one.score = fault_weight(slot, addr, bpf_ktime_get_ns(), (__u32)bpf_get_current_pid_tgid())))
		vm_stat_add(slot, VS_HINTED, 1);
	key.slot = slot;
	key.region = addr >> region_shift;
	val = bpf_map_lookup_elem(&heat, &key);
	if (!val) {
		if (!bpf_map_update_elem(&heat, &key, &one, BPF_NOEXIST)) {
			vm_stat_add(slot, VS_SAMPLED, 1);
			return 0;
		}
		val = bpf_map_lookup_elem(&heat, &key);	/* lost a race? */
		if (!val) {
			vm_stat_add(slot, VS_MAP_FULL, 1);
			return 0;
		}
	}
	__sync_fetch_and_add(&val->count, 1);
	if (one.score)
		__sync_fetch_and_add(&val->score, one.score);
	vm_stat_add(slot, VS_SAMPLED, 1);
	return 0;
}

SEC("fentry/change_prot_numa")
int BPF_PROG(scan_fentry, struct vm_area_struct *vma, unsigned long addr, unsigned long end)
{
	return record_scan(addr, end);
}

SEC("fexit/change_prot_numa")
int BPF_PROG(scan_fexit, struct vm_area_struct *vma, unsigned long addr, unsigned long end)
{
	return end_scan();
}

SEC("kprobe/change_prot_numa")
int BPF_KPROBE(scan_kprobe, struct vm_area_struct *vma, unsigned long addr, unsigned long end)
{
	return record_scan(addr, end);
}

SEC("kretprobe/change_prot_numa")
int BPF_KRETPROBE(scan_kretprobe)
{
	return end_scan();
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

/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_ENGINE_H
#define TIERD_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "options.h"
#include "samplers.h"
#include "topo.h"
#include "vm.h"

/* Hot: a region's heat at least this many times its VM's mean heat. */
#define HOT_X_MEAN	1.5

/*
 * One 2 MiB region of a VM's guest RAM (engine.c; the unit tests build
 * them). The fields every per-region pass of an epoch reads (the heat,
 * the placement's counts, the hot set's) come first and fill the first of
 * its two cache lines; the rest, for moves only, the second. Arrays of
 * them are 64-byte aligned (engine.c allocates them so).
 */
struct region {
	double heat;
	double warmth;			/* heat over a longer time: orders the fill */
	double delta;			/* this epoch's score */
	uint64_t cum;			/* cumulative score last read */
	int64_t moved_at;		/* epoch of its last migration, -1 */
	uint32_t fast, slow;		/* pages on each tier */
	uint32_t npg;			/* its sampled pages in evm.pages, from pg0 */
	int streak;			/* strong readings in a row at or above the hot line */
	int pp;				/* its ping-pongs of late: it must be hot longer */
	bool hot, want;
	bool ask, known;		/* where() reads it this epoch; it has, once */
	/* the second cache line */
	int dir __attribute__((aligned(64)));	/* +1 promoted, -1 demoted */
	int range;			/* its range in evm.vm.ram */
	size_t pg0;
	uint64_t lo, hi;		/* its bytes of guest RAM, [lo, hi) */
	uint32_t unmovable;		/* pages move_pages refused at the last try */
	int fails;			/* tries in a row that moved under half of it */
	int64_t retry_at;		/* backed off until this epoch */
	uint64_t shield_until;		/* epoch before which memory.low covers it; 0 never */
} __attribute__((aligned(64)));
struct engine;
struct evm;

/*
 * What the engine reads and moves of a VM's memory, and all it asks the
 * kernel for that: the kernel's mover (move_pages, numa_maps,
 * memory.reclaim, sysfs, memory.low) or the simulated one (engine_sim_*:
 * its own record of where each region is). The epoch's phases run the
 * same through either, every guard included.
 */
struct mover {
	const char *name;
	/* each asked region's sampled pages on each tier (r->ask, or all with
	 * v->ask_all): r->fast, r->slow (absent: neither); their sums over all
	 * the VM's regions in pages: fast, slow, absent; returns the pages asked */
	size_t (*where)(struct engine *e, struct evm *v, uint64_t sum[3]);
	/* move_pages(2) for the VM's pages: to nodes[], or (nodes NULL) only
	 * where they are, into status[]; as move_pages, errno set on -1 */
	long (*move_pages)(struct engine *e, struct evm *v, size_t n, void **pages, const int *nodes, int *status);
	/* the VM's guest RAM per node, exact (numa_maps): 0 or -1 */
	int (*node_bytes)(struct engine *e, struct evm *v, uint64_t *bytes, int max_nodes);
	/* memory.reclaim of bytes on the VM's scope, only where that demotes
	 * and cannot swap guest RAM out: 0 (perhaps less than asked) or
	 * -errno (does not apply, or failed); *how: the arguments written */
	int (*reclaim)(struct engine *e, struct evm *v, uint64_t bytes, const char **how);
	uint64_t (*node_free)(struct engine *e, int node);	/* bytes free on a node */
	/* free huge pages of kb kB on a node, -1 unknown */
	long long (*huge_free)(struct engine *e, int node, unsigned long long kb);
	/* v->low_bytes into the VM's scope's memory.low (and its parent's sum) */
	void (*set_low)(struct engine *e, struct evm *v);
};
extern const struct mover mover_kernel, mover_sim;

/* One steered VM (engine.c; metrics.c reads it). */
struct evm {
	struct policy pol;
	struct vm vm;
	uint32_t slot;
	struct region *r;
	size_t nr;
	void **pages;			/* every page of guest RAM */
	int *status;
	size_t npages;
	struct erange {			/* guest RAM ranges, sorted by address */
		uint64_t first, last;	/* region numbers */
		size_t ridx;		/* the first one's index in r */
		int range;		/* index in vm.ram */
	} *rg;
	int nrg;
	/* tuned */
	double hyst;			/* hysteresis */
	int seen;			/* epochs in which it had samples */
	/* figures of the last epoch */
	/* DRAM: dram_est is the figure the phases steer by, the snapshot's
	 * (exact from numa_maps where readable, else from the sampled pages)
	 * with the epoch's moves booked on it as their sampled pages say;
	 * dram_exact is numa_maps' own at its last reading (exact_epoch),
	 * which the exact-budget hold reads again after promotions */
	uint64_t dram_est, dram_exact, exact_epoch;
	uint64_t slow_bytes, absent_bytes, hot_bytes, want_bytes, low_bytes;
	double slow_share, budget_use;
	int budget_full;
	uint64_t promoted, demoted, pingpong, failed;
	uint64_t unmovable;		/* pages move_pages refused (-EBUSY, -EACCES, ...) at their last try */
	uint64_t backed_off;		/* regions not tried again for a while */
	uint64_t huge_blocked;		/* hugetlb moves skipped: no free huge pages on the target */
	char huge_note[96];		/* "no free 2048 kB huge pages on node 1" */
	uint64_t moves;			/* regions moved, ever */
	uint64_t win_pp, win_moves;	/* ping-pongs and moves this window */
	uint64_t kernel_promoted, kernel_demoted;	/* pages, the kernel's own (BPF in the VM's context;
							 * demotions from memory.numa_stat where it has them) */
	uint64_t memcg_demoted0;	/* memory.numa_stat's demotions at attach */
	uint64_t kernel_promoted_new;	/* the kernel's promotions of it this epoch, pages */
	/* the kernel promoting this VM's pages back: tierd stops demoting a while */
	uint64_t yield_until, yield_len;
	struct vm_io io_prev;
	bool io_valid, storage_slow, budget_bound;
	uint64_t io_done;
	double io_p50, io_p99;
	char adjust[256];
	uint64_t adjust_epoch, attached_epoch;
	/* guest RAM per node from numa_maps, read once per epoch (placement,
	 * or the incoming wait); metrics.c reports it */
	uint64_t node_bytes[VM_MAX_NODES];
	bool node_bytes_valid;
	/* the two placement reads' cost on a large VM (pick_where,
	 * exact_totals): where() asks every region (ask_all) or some, from
	 * ask_next on in turn; ns per sampled page asked, pages asked last;
	 * numa_maps' time credit (s) and its reads */
	bool ask_all;
	size_t ask_next, where_asked, where_total;	/* sampled pages asked: last, of all */
	double where_ns, maps_credit;
	uint64_t maps_reads;
	/* live-migration target: place nothing until its RAM has arrived */
	bool incoming;
	uint64_t resident_prev;
	int steady;
	double incoming_since;
	uint32_t *sim_fast;		/* the simulated mover's truth: each region's sampled pages in DRAM */
	/* and its numa_maps: pages (sampled) in and out of DRAM, regions in
	 * DRAM, as of sim_valid (where() counts them, moves keep them) */
	uint64_t sim_fast_pages, sim_slow_pages, sim_fast_regions;
	bool sim_valid;
};

struct engine {
	struct engine_opts o;
	struct topo topo;
	struct samplers s;
	struct host_paths hp;
	struct evm *vm[TIERD_MAX_VMS];
	int nvm;
	uint64_t epoch;
	double host_budget_left;	/* bytes this epoch */
	const struct mover *mv;		/* the kernel's, or the simulated (engine_sim_start) */
	uint64_t sim_free[2];		/* the simulated mover: bytes free on nodes 0 and 1 */
	uint64_t sim_extra;		/* and numa_maps' bytes per DRAM region beyond its sampled pages */
	double sim_where_ns, sim_maps_s;	/* and what its where() costs per page asked, its numa_maps a read */
	/* the slow tier refused a demotion (ENOMEM: no room on the node):
	 * since which epoch, and the last epoch it did; cleared by the next
	 * demotion that moves pages */
	uint64_t slow_full_since, slow_full_at;
	double cpu_s;			/* tierd's own CPU time */
};

int engine_start(struct engine *e, const struct engine_opts *o, char *why, size_t whylen);
/* Attach or replace a VM's policy; 0 or -1 with why filled (nothing changed).
 * incoming: the VM is a live-migration target (placement waits for its
 * RAM); an attached VM still waiting keeps waiting either way. */
int engine_attach(struct engine *e, const struct policy *p, bool incoming, char *why, size_t whylen);
bool engine_has(struct engine *e, long vmid);
/* Drop a VM's policy and put its knobs back; -1 if not attached. */
int engine_detach(struct engine *e, long vmid);
/* One epoch for every VM: sample, decide, migrate, tune. */
void engine_epoch(struct engine *e);
/* Status as JSON (one document) or text. */
void engine_status(struct engine *e, FILE *f, bool json);
void engine_stop(struct engine *e);
/* A region's cumulative heat from its heat map entry (score with scan
 * windows, else count x TIERD_WEIGHT_MAX; hardware samples count in both). */
uint64_t engine_heat_cum(const struct region_count *h, bool scan_windows);

/*
 * The decision loop alone, for tools/bench/loop (the simulated mover, no kernel):
 * a VM of ram_bytes guest RAM at a made-up address, the first `dram_share`
 * of it in DRAM; then epochs fed with heat readings (region numbers are
 * address >> 21 from 1 << 40 / 2 MiB up; slot = the VM's index).
 */
void engine_sim_start(struct engine *e);	/* no kernel: epoch 2 s, 1024 MB/s, nodes 0 and 1 */
int engine_sim_vm(struct engine *e, const struct policy *p, uint64_t ram_bytes, double dram_share);
void engine_sim_epoch(struct engine *e, const struct region_count *h, long nh);
/* The simulated VMs freed (engine_sim_start again, or the end). */
void engine_sim_stop(struct engine *e);
/* What engine_attach allocates for a VM of ram_bytes (regions, sampled pages). */
uint64_t engine_table_bytes(uint64_t ram_bytes);

#endif

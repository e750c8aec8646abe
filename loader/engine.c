// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engine: each epoch, for every VM with a policy (the numbers are the
 * phases' in the code below: engine_epoch, epoch_vm, steer),
 *
 *  1. heat: the samplers' latency-weighted hint-fault score per 2 MiB
 *     region, decayed (heat = heat * DECAY + this epoch's score);
 *  2. the snapshot: the kernel's counters of the VM (its own promotions,
 *     demotions), where each region is (move_pages, query only, every
 *     STRIDE-th page), the DRAM total exact from numa_maps, the VM's
 *     storage latency; the phases after read it and write the epoch's plan;
 *  3. rank: regions by heat; the hot set: regions at or above HOT_X_MEAN x the
 *     VM's mean heat after two strong readings in a row;
 *  4. the DRAM set: the hot set, hottest first, within the budget, the
 *     rest of the budget to the warmest (heat decayed more slowly);
 *  5. over budget: demote the coldest (before any heat of the VM,
 *     memory.reclaim on its scope: the kernel's LRU picks);
 *  6. cold moves: with no budget, demote what is cold;
 *  7. promotions with room: the DRAM set's slow regions hottest first,
 *     making room by demoting regions outside it that are colder by the
 *     hysteresis factor (never the hot set with --pin-hot); within the
 *     VM's and the host's MB/s limits (the migration budget, which phases
 *     5-8 spend) and the host's DRAM free watermark; by move_pages on the
 *     QEMU pid;
 *  8. the exact-budget hold: after promotions, the exact DRAM figure read
 *     again and the budget held against it;
 *  9. feedback: ping-pong (a region moved back within PINGPONG_EPOCHS) and
 *     a used-up migration budget widen the hysteresis; slow NVMe/TCP
 *     storage doubles the hysteresis and extends memory.low. Every
 *     adjustment is logged with its reason. The slow tier's share of the
 *     heat is reported, not steered on: hint faults cannot tell a page
 *     touched a thousand times a second from one touched a million times,
 *     so it is no share of accesses (docs/heat-rate-estimate.md);
 * 10. shield: memory.low on the VM's scope over its recent hot set.
 *
 * The kernel's levers: NUMA balancing in mode 3 (scan every tier, so every
 * region gets hint faults to sample) with its promotion rate limit at 0,
 * so the kernel does not promote on its own against per-VM budgets;
 * memory.low on the VM's scope (and room for it on qemu.slice) to shield
 * the hot set from the kernel's reclaim and demotion. All through knobs.c.
 */
#include <errno.h>
#include <math.h>
#include <numa.h>
#include <numaif.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include "engine.h"
#include "json.h"
#include "knobs.h"
#include "memcg.h"
#include "log.h"
#include "order.h"
#include "pve.h"
#include "util.h"

#define PAGE		4096UL
#define NB_DEBUGFS	"/sys/kernel/debug/sched/numa_balancing/"
#define RSHIFT		21			/* 2 MiB regions */
#define DECAY		0.8
#define WARMTH_DECAY	0.95			/* a warmth is heat over ~20 epochs */
#define PINGPONG_EPOCHS	10
#define HOLD_EPOCHS	5
#define SLOW_ROOM_MIN	(64UL << 20)		/* free on a full slow node before it counts as having room */
#define SHIELD_EPOCHS	10			/* shielded for this many epochs from its last hot one */
#define PP_MAX		3
#define PP_SHARE	0.125
#define HYST_BASE	0.25
#define WARM_EPOCHS	3			/* sampled epochs before cold means cold */
#define HYST_MAX	4.0
#define FILL_GAIN	2.0			/* a region below the hot line displaces one this much colder */
#define QUERY_CHUNK	16384
/* Placement is read for every STRIDE-th page (64 per 2 MiB region): exact
 * for THP-backed guest RAM, an estimate otherwise; 8x cheaper than all. */
#define STRIDE		8
#define SAMPLE		(PAGE * STRIDE)		/* bytes one sampled page stands for */
#define CHUNK_PAGES_MAX	(1UL << (RSHIFT - 12))
/* Placement is read whole every epoch (every sampled page's node, and
 * numa_maps) for a VM below BIG_VM. Both reads grow with guest RAM: per
 * GiB, move_pages' query of every 8th page takes 5-6 ms and numa_maps 0.1
 * ms with THP, 9-10 ms with 4 KiB pages (tools/bench/readcost), so a 1
 * TiB VM would spend 5-16 s of each 2 s epoch finding where its pages
 * are. A larger VM's reads get READ_SHARE of the epoch
 * each: where() asks the regions it must and the rest in turn, as far as
 * that goes, every region at least once in ROTATE_MAX epochs; numa_maps
 * is read when a credit of READ_SHARE x epoch per epoch covers its cost. */
#define BIG_VM		(16ULL << 30)
#define READ_SHARE	0.05
#define ROTATE_MAX	64



static void adjust(struct engine *e, struct evm *v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void adjust(struct engine *e, struct evm *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->adjust, sizeof(v->adjust), fmt, ap);
	va_end(ap);
	v->adjust_epoch = e->epoch;
	note("VM %ld epoch %llu: %s", v->vm.vmid, (unsigned long long)e->epoch, v->adjust);
}

/* ---- start, attach, detach ---- */

static int set_knob_num(const char *path, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	return knob_set(path, buf);
}

/*
 * Whether NUMA balancing's scanner filters VMAs by the threads that
 * faulted in them (the kernel's BTF has vma_numab_state.pids_active, or
 * access_pids as it was first named). Where it does (6.4, fc137c0ddab2
 * "sched/numa: enhance vma scanning logic"; every Proxmox kernel), a scan
 * reaching the end of the address space with VMAs skipped that way goes
 * back to scan one of them and ends there (6.7, f169c62ff7cd), so a
 * process with many VMAs its scanning thread never faults in (QEMU: a
 * hundred libraries' data, thread stacks, arenas) takes several scan
 * periods per sweep of guest RAM. The scan period then sets how often
 * tierd sees each region's heat (docs/engine-notes.md has the figures).
 */
static bool numa_pid_filter(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool has = false;
	int id;

	if (!btf)
		return false;
	if ((id = btf__find_by_name_kind(btf, "vma_numab_state", BTF_KIND_STRUCT)) > 0) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_member *m = btf_members(t);

		for (int i = 0; i < btf_vlen(t); i++) {
			const char *n = btf__name_by_offset(btf, m[i].name_off);
			has |= n && (!strcmp(n, "pids_active") || !strcmp(n, "access_pids"));
		}
	}
	btf__free(btf);
	return has;
}

/* The kernel's reclaim demotes to the slow tier (off by default). */
static bool demotion_on(void)
{
	char buf[64];
	bool on = false;

	if (read_file("/sys/kernel/mm/numa/demotion_enabled", buf, sizeof(buf)) <= 0)
		return false;
	buf[strcspn(buf, "\n")] = 0;
	return !parse_bool(buf, &on) && on;
}

int engine_start(struct engine *e, const struct engine_opts *o, char *why, size_t whylen)
{
	struct sampler_opts so = { .heat = HEAT_AUTO, .region_shift = RSHIFT,
				   .max_regions = TIERD_REGIONS_DEFAULT, .perf_period = 1000 };
	int r;

	memset(e, 0, sizeof(*e));
	e->o = *o;
	e->mv = &mover_kernel;
	host_paths_default(&e->hp);
	if (o->pve_dir) {		/* the VMs' configs, checked against their RAM */
		static char conf[300];
		snprintf(conf, sizeof(conf), "%s/qemu-server", o->pve_dir);
		e->hp.conf = conf;
	}
	if (topo_read("", o->dram_nodes, o->slow_nodes, &e->topo, why, whylen))
		return -1;
	if (numa_available() < 0) {
		snprintf(why, whylen, "libnuma: NUMA is not available on this kernel");
		return -1;
	}
	if ((r = knobs_open("/run/tierd/knobs")) < 0) {
		snprintf(why, whylen, "knob journal /run/tierd/knobs: %s", strerror(-r));
		return -1;
	}
	if (samplers_start(&e->s, &so)) {
		snprintf(why, whylen, "could not load the samplers (tierd probe says why)");
		return -1;
	}
	/* DRAM full of VM memory with demotion off: nothing reclaims the
	 * anon pages, and where the slow tier is movable memory (CXL onlined
	 * by kmem usually is) the kernel's own allocations can only take
	 * DRAM: the lab's 7.3 kernel OOM-killed a VM that way */
	if (!demotion_on())
		note("kernel demotion is off (/sys/kernel/mm/numa/demotion_enabled): DRAM that fills with VM "
		     "memory is not reclaimed to the slow tier and the OOM killer may take a VM; tierd does not turn it on");
	if (!e->s.heat) {
		warn("no heat sampler attached: tierd sees no accesses and will only enforce budgets");
		for (int i = 0; i < e->s.ntries; i++)
			if (e->s.tries[i].err)
				warn("  %s via %s: %s", e->s.tries[i].sampler, e->s.tries[i].via, e->s.tries[i].why);
	}
	if (o->kernel_knobs) {
		/* Scan every tier (hint faults everywhere to sample) and keep
		 * the kernel from promoting on its own against the budgets. */
		if (set_knob_num("/proc/sys/kernel/numa_balancing", 3))
			warn("cannot set kernel.numa_balancing: %s", strerror(errno));
		if (set_knob_num("/proc/sys/kernel/numa_balancing_promote_rate_limit_MBps", 0))
			warn("cannot set numa_balancing_promote_rate_limit_MBps; the kernel may promote on its own");
		/* Fresh heat, in small windows (debugfs; optional): after a
		 * scan every protected hot region faults at once, and each
		 * fault takes time, so a 256 MiB window (the default) makes
		 * its last hot faults as late as its first cold ones. 32 MiB
		 * every 0.25-1 s keeps them apart. Where the scanner filters
		 * VMAs by thread, every 0.25 s: a sweep of a QEMU's guest RAM
		 * there takes several periods, and the kernel's adaptation
		 * holds a VM's period at the maximum (a real guest in the lab
		 * on 7.3: 11 sweeps a minute at 1 s, 33 at 0.25 s; 45 on 6.1
		 * at 1 s). */
		bool pid_filter = numa_pid_filter();

		set_knob_num(NB_DEBUGFS "scan_size_mb", 32);
		set_knob_num(NB_DEBUGFS "scan_period_min_ms", 250);
		set_knob_num(NB_DEBUGFS "scan_period_max_ms", pid_filter ? 250 : 1000);
		if (pid_filter)
			note("NUMA balancing filters VMAs by thread on this kernel: scan period held at 250 ms");
	}
	return 0;
}

static struct evm *find(struct engine *e, long vmid)
{
	for (int i = 0; i < e->nvm; i++)
		if (e->vm[i]->vm.vmid == vmid)
			return e->vm[i];
	return NULL;
}

bool engine_has(struct engine *e, long vmid)
{
	return find(e, vmid) != NULL;
}

static uint64_t dram_total(const struct engine *e)
{
	uint64_t t = 0;

	for (int n = 0; n < TOPO_MAX_NODES; n++)
		if (e->topo.fast & (1ULL << n))
			t += e->topo.total[n];
	return t;
}

static void free_evm(struct evm *v)
{
	vm_free(&v->vm);
	free(v->rg);
	free(v->r);
	free(v->pages);
	free(v->status);
	free(v->sim_fast);
	free(v);
}

/* v->r grown from n to nr regions, 64-byte aligned as struct region asks
 * (realloc keeps only malloc's alignment); the new ones zeroed. */
static struct region *regions_grow(struct region *old, size_t n, size_t nr)
{
	void *p;

	if (posix_memalign(&p, 64, (nr ? nr : 1) * sizeof(struct region)))
		return NULL;
	if (n)
		memcpy(p, old, n * sizeof(struct region));
	memset((struct region *)p + n, 0, (nr - n) * sizeof(struct region));
	free(old);
	return p;
}

static int by_first(const void *a, const void *b)
{
	const struct erange *x = a, *y = b;

	return (x->first > y->first) - (x->first < y->first);
}

/* Regions and sampled pages for the VM's ranges from `from` on (all at
 * attach, the hot-added ones later), appended to what it has. 0 or -ENOMEM. */
static int add_ranges(struct evm *v, int from)
{
	size_t nr = v->nr, np = v->npages;
	struct erange *rg = realloc(v->rg, v->vm.nr_ranges * sizeof(*rg));

	if (!rg)
		return -ENOMEM;
	v->rg = rg;
	for (int i = from; i < v->vm.nr_ranges; i++) {
		const struct ram_range *m = &v->vm.ram[i];

		nr += ((m->end - 1) >> RSHIFT) - (m->start >> RSHIFT) + 1;
		np += (m->end - m->start) / PAGE / STRIDE + 1;
	}
	struct region *r = regions_grow(v->r, v->nr, nr);
	void **pages = r ? realloc(v->pages, np * sizeof(*pages)) : NULL;
	int *status = pages ? realloc(v->status, np * sizeof(*status)) : NULL;

	if (r)
		v->r = r;
	if (pages)
		v->pages = pages;
	if (!status)
		return -ENOMEM;
	v->status = status;
	nr = v->nr;
	np = v->npages;
	for (int i = from; i < v->vm.nr_ranges; i++) {
		const struct ram_range *m = &v->vm.ram[i];
		struct erange *g = &v->rg[v->nrg++];

		g->first = m->start >> RSHIFT;
		g->last = (m->end - 1) >> RSHIFT;
		g->ridx = nr;
		g->range = i;
		for (uint64_t a = m->start; a < m->end; a += PAGE * STRIDE) {
			struct region *x = &v->r[nr + ((a >> RSHIFT) - g->first)];

			if (!x->npg) {
				x->pg0 = np;
				x->lo = a;
				x->range = i;
				x->moved_at = -1;
			}
			x->npg++;
			x->hi = a + PAGE * STRIDE < m->end ? a + PAGE * STRIDE : m->end;
			v->pages[np++] = (void *)a;
		}
		nr += g->last - g->first + 1;
	}
	v->nr = nr;
	v->npages = np;
	qsort(v->rg, v->nrg, sizeof(*v->rg), by_first);
	return 0;
}

/* The region of a region number, or NULL (binary search of the ranges). */
static struct region *region_of(struct evm *v, uint64_t region)
{
	int lo = 0, hi = v->nrg - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct erange *g = &v->rg[mid];

		if (region < g->first)
			hi = mid - 1;
		else if (region > g->last)
			lo = mid + 1;
		else
			return &v->r[g->ridx + region - g->first];
	}
	return NULL;
}

int engine_attach(struct engine *e, const struct policy *p, bool incoming, char *why, size_t whylen)
{
	struct evm *v, *old = find(e, p->vmid);
	struct vm_cfg cfg = {};
	uint32_t slot = 0;
	size_t nr = 0;

	if (p->dram_max && p->dram_max > dram_total(e)) {
		char b1[32], b2[32];
		snprintf(why, whylen, "--dram-max %s is more than this host's DRAM (%s)",
			 fmt_bytes(p->dram_max, b1, sizeof(b1)), fmt_bytes(dram_total(e), b2, sizeof(b2)));
		return -1;
	}
	if (old) {			/* same VM: only the policy changes */
		incoming |= old->incoming;	/* still waiting for its RAM */
		if (!policy_eq(p, &old->pol) || incoming != old->incoming) {
			old->pol = *p;
			old->incoming = incoming;
			adjust(e, old, "policy replaced");
			note("VM %ld: policy replaced", p->vmid);
		}
		return 0;
	}
	if (e->nvm == TIERD_MAX_VMS) {
		snprintf(why, whylen, "already steering %d VMs", TIERD_MAX_VMS);
		return -1;
	}
	if (!(v = calloc(1, sizeof(*v)))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (vm_resolve(&e->hp, p->vmid, &v->vm, why, whylen) ||
	    vm_find_ram(&e->hp, &v->vm, 64UL << 20, why, whylen)) {
		free(v);
		return -1;
	}
	if (v->vm.note[0])
		warn("VM %ld: %s", v->vm.vmid, v->vm.note);
	/* the lowest free slot (nvm < TIERD_MAX_VMS, so there is one) */
	bool used[TIERD_MAX_VMS] = { false };
	for (int i = 0; i < e->nvm; i++)
		used[e->vm[i]->slot] = true;
	while (used[slot])
		slot++;
	v->slot = slot;
	v->pol = *p;
	v->incoming = incoming;
	v->hyst = HYST_BASE;
	v->attached_epoch = e->epoch;
	struct memcg_tier mt;
	if (!memcg_tier_read(v->vm.scope_dir, &mt))
		v->memcg_demoted0 = mt.demoted_total;
	if (add_ranges(v, 0)) {
		snprintf(why, whylen, "out of memory for the regions of %d ranges", v->vm.nr_ranges);
		free_evm(v);
		return -1;
	}
	nr = v->nr;
	cfg.slot = slot;
	vm_bpf_ranges(&v->vm, &cfg);
	if (samplers_add_vm(&e->s, v->vm.cgid, &cfg)) {
		free_evm(v);
		snprintf(why, whylen, "cannot add the VM to the samplers' table");
		return -1;
	}
	e->vm[e->nvm++] = v;
	{
		char b1[32], b2[32];
		struct policy dflt;

		policy_default(&dflt);
		note("VM %ld attached: pid %d, %s, guest RAM %s in %d range(s), %zu regions; "
		       "policy:%s budget %s, rate %.0f MB/s%s",
		       v->vm.vmid, v->vm.pid, v->vm.scope, fmt_bytes(v->vm.ram_bytes, b1, sizeof(b1)),
		       v->vm.nr_ranges, nr, p->pin_hot ? " pin-hot," : "",
		       p->dram_max ? fmt_bytes(p->dram_max, b2, sizeof(b2)) : "none", p->rate_mbs,
		       p->target_slow != dflt.target_slow ?
		       " (target-slow is accepted but no longer steers: see tierd(8))" : "");
		for (int i = 0; i < v->vm.nr_ranges; i++)
			dbg("VM %ld: range %d: %#llx-%#llx %s", v->vm.vmid, i, (unsigned long long)v->vm.ram[i].start,
			    (unsigned long long)v->vm.ram[i].end, v->vm.ram[i].what);
	}
	return 0;
}

/*
 * DIMMs hot-added since the last look (QMP object-add + device_add): the
 * memory map is read each epoch, QEMU asked only when it changed. New
 * ranges get regions and reach the BPF side; the total is held against
 * the config again (a warning: the VM is already steered, and qm writes the
 * new memory: only after each DIMM is plugged).
 */
static void hotplugged(struct engine *e, struct evm *v)
{
	int from = v->vm.nr_ranges, n;
	uint64_t before = v->vm.ram_bytes;
	char why[300], b1[32], b2[32];
	struct vm_cfg cfg = { .slot = v->slot };

	if (!vm_ram_changed(&e->hp, &v->vm))
		return;
	if ((n = vm_add_hotplugged(&e->hp, &v->vm, why, sizeof(why))) < 0) {
		dbg("VM %ld: its memory map changed; %s", v->vm.vmid, why);
		return;
	}
	if (!n)
		return;
	if (add_ranges(v, from)) {
		warn("VM %ld: out of memory for its hot-added RAM; not steered there", v->vm.vmid);
		return;
	}
	vm_bpf_ranges(&v->vm, &cfg);
	if (samplers_set_vm(&e->s, v->vm.cgid, &cfg))
		warn("VM %ld: cannot give the samplers its new ranges", v->vm.vmid);
	adjust(e, v, "%d DIMM(s) hot-added (%s): guest RAM %s in %d range(s)", n,
	       fmt_bytes(v->vm.ram_bytes - before, b1, sizeof(b1)), fmt_bytes(v->vm.ram_bytes, b2, sizeof(b2)),
	       v->vm.nr_ranges);
	uint64_t conf = vm_conf_memory(&e->hp, v->vm.vmid);

	v->vm.conf_bytes = conf;
	if (conf && conf != v->vm.ram_bytes)
		warn("VM %ld: guest RAM is now %s (%llu bytes), its config says memory: %llu MiB (%llu bytes)",
		     v->vm.vmid, fmt_bytes(v->vm.ram_bytes, b1, sizeof(b1)), (unsigned long long)v->vm.ram_bytes,
		     (unsigned long long)(conf >> 20), (unsigned long long)conf);
}

static void set_parent_low(struct engine *e, const char *parent_dir);
static void orders_free(void);

static void remove_vm(struct engine *e, int i, const char *why)
{
	struct evm *v = e->vm[i];
	char dir[600], parent[600], *slash;

	samplers_del_vm(&e->s, v->vm.cgid, v->slot);
	snprintf(dir, sizeof(dir), "%s/", v->vm.scope_dir);
	knob_restore_dir(dir);
	snprintf(parent, sizeof(parent), "%s", v->vm.scope_dir);
	if ((slash = strrchr(parent, '/')))
		*slash = 0;
	note("VM %ld detached: %s", v->vm.vmid, why);
	e->vm[i] = e->vm[--e->nvm];
	free_evm(v);
	set_parent_low(e, parent);
}

int engine_detach(struct engine *e, long vmid)
{
	for (int i = 0; i < e->nvm; i++)
		if (e->vm[i]->vm.vmid == vmid) {
			remove_vm(e, i, "policy removed, knobs restored");
			return 0;
		}
	return -1;
}

void engine_stop(struct engine *e)
{
	while (e->nvm)
		remove_vm(e, e->nvm - 1, "tierd stopping");
	knobs_restore_all();
	samplers_stop(&e->s);
	orders_free();
}

/* ---- one epoch ---- */

static bool still_there(struct engine *e, struct evm *v)
{
	struct vm now;
	char why[256];

	if (kill(v->vm.pid, 0) && errno == ESRCH)
		return false;
	/* the same QEMU: pid file, scope and -id still agree */
	return !vm_resolve(&e->hp, v->vm.vmid, &now, why, sizeof(why)) && now.pid == v->vm.pid;
}

static bool blackout(const struct engine *e, const struct region *r)
{
	return r->moved_at >= 0 && (int64_t)e->epoch - r->moved_at <= 1;
}

/* A region promoted less than HOLD_EPOCHS ago is not evicted to make room
 * for another (only to hold the budget): a fresh arrival has had no time
 * to show its heat, and moving it straight back is a ping-pong. */
static bool held(const struct engine *e, const struct region *r)
{
	return r->dir > 0 && (int64_t)e->epoch - r->moved_at < HOLD_EPOCHS;
}

/* Region r was hot within the last SHIELD_EPOCHS: with --pin-hot,
 * memory.low covers it and make_room spares it. */
static bool shielded(const struct engine *e, const struct region *r)
{
	return e->epoch < r->shield_until;
}

/*
 * Region r was moved in direction dir (1 promoted, -1 demoted) within
 * PINGPONG_EPOCHS: moving it back now is a ping-pong. The fill (the DRAM
 * set's part below the hot line) makes no such move: it neither evicts a
 * region promoted that recently nor brings back one demoted that
 * recently. Below the hot line a region's warmth rests on one or two hint
 * faults per NUMA scan pass, and of two alike regions one reads warmer by
 * the fill's factor about two times in five (docs/engine-notes.md), so
 * without this the fill swapped them back and forth. Hot regions are not
 * bound by it.
 */
static bool moved_lately(const struct engine *e, const struct region *r, int dir)
{
	return r->moved_at >= 0 && r->dir == dir && (int64_t)e->epoch - r->moved_at <= PINGPONG_EPOCHS;
}

/*
 * A region's cumulative heat from its heat map entry. With scan windows the
 * score (latency-weighted faults); without, every sample as a fault at the
 * floor latency. Hardware samples (heat2, on the same map) are in both
 * already as floor-latency faults (TIERD_HW_SAMPLE_SCORE in tierd.h), so
 * this reading is the same whether or not the hardware sampler runs.
 */
uint64_t engine_heat_cum(const struct region_count *h, bool scan_windows)
{
	return scan_windows ? h->score : h->count * TIERD_WEIGHT_MAX;
}

/* region r's decay for this epoch, before its readings */
static inline void heat_decay(const struct engine *e, struct region *r)
{
	if (!blackout(e, r)) {
		r->heat *= DECAY;
		r->warmth *= WARMTH_DECAY;
	}
	r->delta = 0;
}

/* region r's reading h, after its decay */
static inline void heat_add(const struct engine *e, struct region *r, const struct region_count *h)
{
	uint64_t cum = engine_heat_cum(h, e->s.scan_via != NULL);

	if (cum >= r->cum && !blackout(e, r)) {
		r->delta = (double)(cum - r->cum);
		r->heat += r->delta;
		r->warmth += r->delta;
	}
	r->cum = cum;
}

/* The VM's ranges are disjoint in region numbers (sorted by first): a
 * region number is in one region at most, met in that order. */
static bool ranges_disjoint(const struct evm *v)
{
	for (int i = 1; i < v->nrg; i++)
		if (v->rg[i].first <= v->rg[i - 1].last)
			return false;
	return true;
}

/*
 * A region tierd moved last epoch or this one takes migration-entry
 * faults as its pages are touched again; they would look like heat (and
 * pull demoted regions back), so its samples of that time are dropped and
 * its heat is held as it was: no news is not coldness.
 *
 * Each region is decayed, then its readings added in the reading's order.
 * The readings come sorted by (slot, region) (samplers_read_heat), so a
 * VM's are one stretch in its regions' order: one walk of its regions
 * does both (decay each, add the readings that fall on it), not a walk to
 * decay and a binary search per reading. A VM whose readings are not so
 * (or whose ranges share a region number) is done in the two steps.
 */
static void read_heat(struct engine *e, const struct region_count *h, long nh)
{
	struct evm *by_slot[TIERD_MAX_VMS] = { NULL };
	long from[TIERD_MAX_VMS], to[TIERD_MAX_VMS];
	bool seen[TIERD_MAX_VMS], merge[TIERD_MAX_VMS];

	for (int i = 0; i < TIERD_MAX_VMS; i++) {
		from[i] = to[i] = 0;
		seen[i] = false;
		merge[i] = true;
	}
	for (int i = 0; i < e->nvm; i++)
		if (e->vm[i]->slot < TIERD_MAX_VMS)
			by_slot[e->vm[i]->slot] = e->vm[i];
	/* each slot's stretch of readings, and whether it is one, in order */
	for (long j = 0; j < nh; j++) {
		uint32_t s = h[j].slot;

		if (s >= TIERD_MAX_VMS)
			continue;
		if (!seen[s]) {
			seen[s] = true;
			from[s] = j;
		} else if (to[s] != j || h[j].region < h[j - 1].region) {
			merge[s] = false;	/* others' readings in between, or out of order */
		}
		to[s] = j + 1;
	}
	for (int i = 0; i < e->nvm; i++) {
		struct evm *v = e->vm[i];
		uint32_t s = v->slot;

		if (s < TIERD_MAX_VMS && by_slot[s] == v)
			merge[s] = merge[s] && ranges_disjoint(v);
#ifdef READ_HEAT_NO_MERGE
		if (s < TIERD_MAX_VMS)
			merge[s] = false;
#endif
		if (s >= TIERD_MAX_VMS || by_slot[s] != v || !merge[s]) {
			for (size_t k = 0; k < v->nr; k++)
				heat_decay(e, &v->r[k]);
			continue;
		}
		long j = from[s], end = to[s];

		for (int g = 0; g < v->nrg; g++) {
			const struct erange *rg = &v->rg[g];
			struct region *r = &v->r[rg->ridx];

			for (uint64_t n = rg->first; n <= rg->last; n++, r++) {
				heat_decay(e, r);
				while (j < end && h[j].region < n)
					j++;	/* in no range: region_of finds none */
				for (; j < end && h[j].region == n; j++)
					heat_add(e, r, &h[j]);
			}
		}
	}
	/* the rest: readings of VMs not merged, as they come */
	bool rest = false;

	for (int i = 0; i < TIERD_MAX_VMS; i++)
		rest |= seen[i] && by_slot[i] && !merge[i];
	for (long j = 0; rest && j < nh; j++) {
		struct evm *v = h[j].slot < TIERD_MAX_VMS ? by_slot[h[j].slot] : NULL;

		if (!v || merge[h[j].slot])
			continue;
		struct region *r = region_of(v, h[j].region);

		if (r)
			heat_add(e, r, &h[j]);
	}
}

static bool is_fast(const struct engine *e, int node)
{
	return node >= 0 && node < TOPO_MAX_NODES && (e->topo.fast & (1ULL << node));
}

#define INCOMING_MAX_S 3600

/* The VM's guest RAM per node into v->node_bytes (numa_maps); false if unreadable. */
static bool read_node_bytes(struct engine *e, struct evm *v)
{
	v->node_bytes_valid = !e->mv->node_bytes(e, v, v->node_bytes, VM_MAX_NODES);
	return v->node_bytes_valid;
}

/*
 * A VM attached on a live-migration target (PVE_MIGRATED_FROM) gets its RAM
 * from the source while it is paused here; moving pages now would be undone
 * by the next dirty copy. Wait, without touching QEMU or its QMP socket,
 * until Proxmox has moved the VM's config to this node and unlocked it
 * (when pmxcfs is there) and the resident guest RAM has stayed the same
 * (within 1%, at least 4 MiB) for two epochs. True while still waiting.
 */
static bool arriving(struct engine *e, struct evm *v)
{
	uint64_t tot = 0, slack;
	char buf[32];

	if (!v->incoming)
		return false;
	if (!v->incoming_since)
		v->incoming_since = now_s();
	if (now_s() - v->incoming_since > INCOMING_MAX_S) {
		v->incoming = false;
		adjust(e, v, "still no end of the incoming migration after %d s: placing anyway", INCOMING_MAX_S);
		warn("VM %ld: %s", v->vm.vmid, v->adjust);
		return false;
	}
	bool have = read_node_bytes(e, v);	/* for metrics too, while it waits */
	for (int n = 0; have && n < VM_MAX_NODES; n++)
		tot += v->node_bytes[n];
	slack = tot / 100 > (4UL << 20) ? tot / 100 : (4UL << 20);
	v->steady = tot + slack >= v->resident_prev && tot <= v->resident_prev + slack ? v->steady + 1 : 0;
	v->resident_prev = tot;
	/* the count goes on under the lock: RAM that stopped arriving while
	 * qm finished (the source's stop takes seconds) is placed in the
	 * first epoch after the unlock */
	if (v->steady < 2 || (e->o.pve_dir && pve_migrating(e->o.pve_dir, v->vm.vmid)))
		return true;
	v->incoming = false;
	adjust(e, v, "incoming migration over after %.0f s (%s resident, steady): placement starts",
	       now_s() - v->incoming_since, fmt_bytes(tot, buf, sizeof(buf)));
	note("VM %ld: %s", v->vm.vmid, v->adjust);
	return false;
}

/* The VM's DRAM, slow and absent bytes, exact from numa_maps (if readable). */
static void exact_totals(struct engine *e, struct evm *v)
{
	bool big = v->vm.ram_bytes >= BIG_VM;

	if (big && v->maps_credit <= 0)
		return;		/* dram_est stays the sampled figure with the moves booked */
	double t0 = now_s();
	bool ok = read_node_bytes(e, v);

	if (big)
		v->maps_credit -= now_s() - t0 + e->sim_maps_s;
	if (!ok)
		return;
	v->maps_reads++;
	v->dram_exact = v->slow_bytes = 0;
	for (int n = 0; n < VM_MAX_NODES; n++)
		*(is_fast(e, n) ? &v->dram_exact : &v->slow_bytes) += v->node_bytes[n];
	v->dram_est = v->dram_exact;
	v->exact_epoch = e->epoch;
	v->absent_bytes = v->vm.ram_bytes > v->dram_est + v->slow_bytes ?
			  v->vm.ram_bytes - v->dram_est - v->slow_bytes : 0;
}

/*
 * The regions where() asks this epoch: all of a VM below BIG_VM (or before
 * its first reading is timed). Of a larger one, those never read and,
 * when the kernel promoted some of the VM's pages this epoch, those it may
 * have promoted from (a hint fault this epoch on a region with pages on
 * the slow tier: it promotes at hint faults), then the next ones in turn
 * while READ_SHARE of the epoch lasts at the last reading's ns per page,
 * at least 1/ROTATE_MAX of them. A region tierd moves is known from its
 * move's status; what the rest miss is the kernel's own doing (kswapd's
 * demotions, mostly), found within the turn.
 */
static void pick_where(struct engine *e, struct evm *v)
{
	size_t asked = 0, allow, least = (v->nr + ROTATE_MAX - 1) / ROTATE_MAX;

	allow = v->where_ns > 0 ? (size_t)fmin(READ_SHARE * e->o.epoch_s * 1e9 / v->where_ns, (double)SIZE_MAX / 2) : 0;
	v->ask_all = v->vm.ram_bytes < BIG_VM || v->where_ns <= 0 || allow >= v->where_total;
	if (v->ask_all)
		return;
	for (size_t k = 0; k < v->nr; k++) {
		struct region *r = &v->r[k];

		r->ask = !r->known || (v->kernel_promoted_new && r->delta > 0 && r->slow);
		asked += r->ask ? r->npg : 0;
	}
	for (size_t n = 0; n < v->nr && (n < least || asked < allow); n++) {
		struct region *r = &v->r[v->ask_next];

		if (!r->ask) {
			r->ask = true;
			asked += r->npg;
		}
		v->ask_next = (v->ask_next + 1) % v->nr;
	}
}

static void placement(struct engine *e, struct evm *v)
{
	uint64_t booked = v->dram_est;	/* as the last epoch's moves left it */
	uint64_t pages[3];		/* sampled: in DRAM, on the slow tier, absent */

	pick_where(e, v);
	double t0 = now_s();

	v->where_asked = e->mv->where(e, v, pages);
	if (v->ask_all)
		v->where_total = v->where_asked;
	if (v->where_asked)
		v->where_ns = (now_s() - t0) * 1e9 / v->where_asked + e->sim_where_ns;
	/* numa_maps' credit: READ_SHARE of an epoch each epoch, banked up to
	 * one epoch's */
	v->maps_credit = fmin(v->maps_credit + READ_SHARE * e->o.epoch_s, READ_SHARE * e->o.epoch_s);
	v->dram_est = pages[0] * SAMPLE;
	v->slow_bytes = pages[1] * SAMPLE;
	v->absent_bytes = pages[2] * SAMPLE;
	/* the budget is held against exact figures, not the sample */
	uint64_t sampled = v->dram_est;

	exact_totals(e, v);
	dbg("VM %ld epoch %llu: DRAM %.1f MiB (sampled %.1f MiB, exact %s; booked at the end of the last epoch: %.1f MiB)",
	    v->vm.vmid, (unsigned long long)e->epoch, v->dram_est / 1048576.0, sampled / 1048576.0,
	    v->exact_epoch == e->epoch ? "read" : "not read", booked / 1048576.0);
}

/*
 * hugetlb-backed guest RAM moves only into free huge pages of its size on
 * the target node (the kernel allocates a fresh one per page it moves, from
 * that node's pool, and fails the page otherwise). A huge page larger than
 * a region (1 GiB) is never moved: one region's move would take the whole
 * page. False, with the reason in the status, where there is no room.
 */
static bool huge_room(struct engine *e, struct evm *v, const struct ram_range *rg, int node, uint64_t need)
{
	unsigned long long kb = rg->page_size >> 10;
	long long free_huge;

	if (rg->page_size > (1UL << RSHIFT)) {
		snprintf(v->huge_note, sizeof(v->huge_note), "%llu kB huge pages are larger than a region: not moved", kb);
		v->huge_blocked++;
		return false;
	}
	if ((free_huge = e->mv->huge_free(e, node, kb)) >= 0 && (uint64_t)free_huge >= need) {
		if (strstr(v->huge_note, "no free"))
			v->huge_note[0] = 0;
		return true;
	}
	if (!v->huge_note[0] || !strstr(v->huge_note, "no free"))
		note("VM %ld: no free %llu kB huge pages on node %d: its hugetlbfs RAM stays where it is", v->vm.vmid, kb, node);
	snprintf(v->huge_note, sizeof(v->huge_note), "no free %llu kB huge pages on node %d", kb, node);
	v->huge_blocked++;
	return false;
}

/* Move region r's pages to the other tier, if any is on the wrong one;
 * bytes moved. Pages already on the target are left alone by the kernel. */
/*
 * The slow tier, full since a demotion was refused, has room again: only
 * with SLOW_ROOM_MIN free on node, since a node that took one more region
 * and is full again has not changed its state (why: what says so).
 */
static void slow_room_again(struct engine *e, int node, const char *why)
{
	uint64_t free_b;

	if (!e->slow_full_since || (free_b = e->mv->node_free(e, node)) < SLOW_ROOM_MIN)
		return;
	note("the slow tier has room again (node %d: %llu MiB free; full since epoch %llu; %s): demoting", node,
	     (unsigned long long)(free_b >> 20), (unsigned long long)e->slow_full_since, why);
	e->slow_full_since = 0;
}

static uint64_t move_region(struct engine *e, struct evm *v, struct region *r, bool promote)
{
	int target = promote ? e->topo.first_fast : e->topo.first_slow;
	void *pg[CHUNK_PAGES_MAX];
	int nodes[CHUNK_PAGES_MAX] = {}, st[CHUNK_PAGES_MAX];
	size_t n = 0;
	uint64_t moved = 0, est = (uint64_t)(promote ? r->slow : r->fast) * SAMPLE;	/* asked */

	const struct ram_range *rg = &v->vm.ram[r->range];
	uint64_t step = rg->page_size > PAGE ? rg->page_size : PAGE;

	if (!(promote ? r->slow : r->fast) || (int64_t)e->epoch < r->retry_at)
		return 0;
	/* one refused demotion an epoch is enough to know the slow tier is
	 * full; the next epoch tries again */
	if (!promote && e->slow_full_since && e->slow_full_at == e->epoch)
		return 0;
	if (step > PAGE && !huge_room(e, v, rg, target, (r->hi - r->lo + step - 1) / step))
		return 0;
	for (uint64_t a = r->lo & ~(step - 1); a < r->hi && n < CHUNK_PAGES_MAX; a += step) {
		pg[n] = (void *)a;
		nodes[n++] = target;
	}
	long rc = 0;
	bool full = false;		/* the call failed for want of room on the target */

	rc = e->mv->move_pages(e, v, n, pg, nodes, st);
	/* a target node with no room fails migrate_pages() with -ENOMEM,
	 * which move_pages() returns for the whole call (4.17 and later);
	 * pages before the failure may have moved */
	if (rc < 0 && errno == ENOMEM && !promote && e->mv->move_pages(e, v, n, pg, NULL, st) >= 0) {
		full = true;
	} else if (rc < 0) {
		dbg("VM %ld: move_pages: %s", v->vm.vmid, strerror(errno));
		v->failed += n;
		return 0;
	}
	/* rc > 0: that many pages were not moved, and the kernel stored no
	 * status for their batch; ask where they are */
	if (rc > 0 && e->mv->move_pages(e, v, n, pg, NULL, st) < 0)
		for (size_t k = 0; k < n; k++)
			st[k] = -EFAULT;
	uint32_t refused = 0, no_room = 0;

	for (size_t k = 0; k < n; k++) {
		if (st[k] != target && st[k] != -ENOENT && st[k] != -EFAULT)
			v->failed++;
		/* no room on the target node: the page is movable, the node
		 * is full (on the slow tier: demotions wait, see below) */
		if (st[k] == -ENOMEM && !promote)
			no_room++;
		/* shared (KSM-merged, a memfd virtiofsd maps too), pinned or
		 * busy: not movable by move_pages */
		else if (st[k] == -EACCES || st[k] == -EBUSY || st[k] == -EPERM || st[k] == -ENOMEM || st[k] == -EIO)
			refused++;
	}
	refused *= (uint32_t)(step / PAGE);
	v->unmovable = v->unmovable - r->unmovable + refused;
	r->unmovable = refused;
	/* A region whose pages keep refusing is not tried again every epoch:
	 * 2, 4, ... 64 epochs after each try that moved under half of it. */
	if (refused && refused * 2 >= n * (step / PAGE)) {
		if (!r->fails++)
			v->backed_off++;
		r->retry_at = (int64_t)e->epoch + (1 << (r->fails < 6 ? r->fails : 6));
	} else if (r->fails) {
		r->fails = 0;
		v->backed_off--;
	}
	/* Book what moved, not what was asked: a page the kernel could not
	 * move (busy, under I/O) stays where it was. st[] reports the node
	 * of pages already on the target too, so the region's sampled pages
	 * are recounted. An estimate: the exact-budget hold (phase 8)
	 * holds the budget against the exact figure. */
	uint32_t total = r->fast + r->slow, before = promote ? r->fast : r->slow, there = 0;

	if (step > PAGE)		/* a huge page holds the whole region */
		there = n && st[0] == target ? total : 0;
	else
		for (size_t i = 0; i < r->npg && i * STRIDE < n; i++)
			there += st[i * STRIDE] == target;
	if (there > total)
		there = total;
	moved = there > before ? (uint64_t)(there - before) * SAMPLE : 0;
	/* A page that failed for want of memory on the target is not always
	 * reported as -ENOMEM: migrate_pages() counts it as not migrated and
	 * move_pages() returns that count with no status for the batch. A
	 * demotion that moved nothing, with pages not migrated and less free
	 * on the slow node than it asked for, met a full node too. */
	if (!promote && !no_room && rc > 0 && !moved && e->mv->node_free(e, target) < est)
		no_room = (uint32_t)rc;
	if (full && !no_room)
		no_room = (uint32_t)n;
	if (no_room) {
		if (!e->slow_full_since) {
			e->slow_full_since = e->epoch;
			warn("VM %ld epoch %llu: the slow tier is full (node %d has %llu MiB free; %u pages not "
			     "demoted): demotions wait until it has room", v->vm.vmid, (unsigned long long)e->epoch,
			     target, (unsigned long long)(e->mv->node_free(e, target) >> 20), no_room);
		}
		e->slow_full_at = e->epoch;
	}
	if (!promote && moved && !no_room)
		slow_room_again(e, target, "a demotion went through");
	if (promote) {
		r->fast = there;
		r->slow = total - there;
		v->dram_est += moved;
		v->slow_bytes = v->slow_bytes > moved ? v->slow_bytes - moved : 0;
	} else {
		r->slow = there;
		r->fast = total - there;
		v->dram_est = v->dram_est > moved ? v->dram_est - moved : 0;
		v->slow_bytes += moved;
	}
	if (moved < est / 2)
		dbg("VM %ld: region %zu: %llu of %llu KiB moved", v->vm.vmid, (size_t)(r - v->r),
		    (unsigned long long)(moved >> 10), (unsigned long long)(est >> 10));
	bool pp = moved_lately(e, r, promote ? -1 : 1);

	v->pingpong += pp;
	v->moves++;
	if (pp && r->pp < PP_MAX)
		r->pp++;
	dbg("VM %ld epoch %llu: %s region %zu (heat %.0f, streak %d%s%s)%s", v->vm.vmid, (unsigned long long)e->epoch,
	    promote ? "promote" : "demote", (size_t)(r - v->r), r->heat, r->streak, r->hot ? ", hot" : "",
	    r->want ? ", wanted" : "", pp ? ": a ping-pong" : "");
	r->moved_at = (int64_t)e->epoch;
	r->dir = promote ? 1 : -1;
	*(promote ? &v->promoted : &v->demoted) += moved;
	return moved;
}

/* The host has swap: memory.reclaim could swap guest RAM out, not demote it. */
static bool host_swap(void)
{
	char buf[4096], *p;

	return read_file("/proc/meminfo", buf, sizeof(buf)) > 0 && (p = strstr(buf, "SwapTotal:")) &&
	       strtoull(p + strlen("SwapTotal:"), NULL, 10) > 0;
}

/*
 * Over budget before tierd has seen any heat of the VM (the NUMA scan not
 * round it yet, NUMA balancing off, or no heat sampler): regions tie at
 * zero heat and tierd's order would be the address order. The kernel's LRU knows
 * which pages were used lately, so the excess goes by memory.reclaim on the
 * VM's scope, which with demotion on moves its least recently used pages to
 * the slow tier. Only where that cannot swap guest RAM out: demotion on,
 * room on the slow tier, and no swap on the host or the scope's
 * memory.swap.max held at 0 for the write (journalled, put back right
 * after). Bytes of guest RAM that left DRAM, or -1 where it does not apply
 * (then tierd demotes in its own order).
 */
static double reclaim_excess(struct engine *e, struct evm *v, uint64_t want)
{
	char b1[32], b2[32];
	const char *arg = "";
	uint64_t before = v->dram_est, room = e->mv->node_free(e, e->topo.first_slow);

	want = want < room / 2 ? want : room / 2;
	if (want < (2UL << 20) || e->mv->reclaim(e, v, want, &arg) < 0)
		return -1;
	exact_totals(e, v);
	uint64_t moved = before > v->dram_est ? before - v->dram_est : 0;

	v->demoted += moved;
	note("VM %ld epoch %llu: over budget before its heat is known: memory.reclaim %s%s%s on its scope, %s of guest RAM "
	     "left DRAM (the kernel's LRU chose)", v->vm.vmid, (unsigned long long)e->epoch,
	     fmt_bytes(want, b1, sizeof(b1)), *arg ? " " : "", arg, fmt_bytes(moved, b2, sizeof(b2)));
	return (double)moved;
}

/* Hysteresis in effect: doubled while the VM's storage is slow. */
static double eff_hyst(const struct evm *v)
{
	return v->hyst * (v->storage_slow ? 2 : 1);
}

/*
 * steer()'s orders, lazily sorted (order.h), reused from VM to VM and epoch
 * to epoch: the VM's regions by heat (hottest first), the fill's candidates
 * by warmth, the DRAM set's slow regions by heat. Total orders: regions
 * alike in heat go by their index, alike in warmth by heat, then index
 * (what glibc's stable qsort gave for arrays built in index order, so the
 * decisions never hang on how a sort treats ties). An epoch walks only
 * the ends it needs: the hot regions from the top, eviction victims from
 * the bottom, the fill until the budget is full, promotions until the
 * MB/s limit; a full sort of a 1 TiB VM's 524288 regions twice an epoch
 * was most of the loop's 133 ms.
 */
static struct order by_heat, by_warmth, by_want;
static size_t *late, late_cap;

static void orders_free(void)
{
	order_free(&by_heat);
	order_free(&by_warmth);
	order_free(&by_want);
	free(late);
	late = NULL;
	late_cap = 0;
}

/* region k as an item of the heat order */
static struct oitem heat_item(const struct evm *v, size_t k)
{
	return (struct oitem){ .k1 = v->r[k].heat, .idx = (uint32_t)k };
}

static void storage(struct engine *e, struct evm *v)
{
	struct vm_io io;
	uint64_t hist[TIERD_HIST_SLOTS];

	if (samplers_vm_io(&e->s, v->slot, &io))
		return;
	if (v->io_valid) {
		v->io_done = io.done - v->io_prev.done;
		hist_delta(io.hist, v->io_prev.hist, hist);
		if (v->io_done) {
			v->io_p50 = hist_percentile(hist, TIERD_HIST_SLOTS, 0.5) / 1000;
			v->io_p99 = hist_percentile(hist, TIERD_HIST_SLOTS, 0.99) / 1000;
		}
		bool slow = v->io_done >= 20 && v->io_p99 > v->pol.io_slow_us;
		if (slow != v->storage_slow)
			adjust(e, v, slow ? "NVMe p99 %.0f us > %.0f us over %llu I/Os: storage is slow, protecting "
				    "memory harder (hysteresis x2, memory.low covers the DRAM set)"
				 : "NVMe p99 %.0f us <= %.0f us: storage is fine again (%llu I/Os)",
			       v->io_p99, v->pol.io_slow_us, (unsigned long long)v->io_done);
		v->storage_slow = slow;
	}
	v->io_prev = io;
	v->io_valid = true;
}

static void set_parent_low(struct engine *e, const char *parent_dir)
{
	char path[700], buf[64];
	uint64_t sum = 0, old = 0;
	const char *o;

	for (int i = 0; i < e->nvm; i++)
		if (!strncmp(e->vm[i]->vm.scope_dir, parent_dir, strlen(parent_dir)))
			sum += e->vm[i]->low_bytes;
	snprintf(path, sizeof(path), "%s/memory.low", parent_dir);
	if (!sum && !knob_old(path))
		return;
	if (!sum) {
		knob_restore(path);
		return;
	}
	if (!(o = knob_old(path)) && read_file(path, buf, sizeof(buf)) > 0)
		o = buf;
	if (o && !strncmp(o, "max", 3))
		return;		/* already everything */
	if (o)
		old = strtoull(o, NULL, 10);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(old + sum));
	if (knob_set(path, buf))
		warn("cannot set %s: %s", path, strerror(errno));
}

static void shield(struct engine *e, struct evm *v)
{
	uint64_t want = 0;

	/* The shield covers every region hot within the last SHIELD_EPOCHS:
	 * which regions clear the hot line varies from epoch to epoch with
	 * the scanner's passes, and a memory.low sized to one epoch's hot set
	 * would uncover hot pages to the kernel's reclaim between two. */
	if (v->pol.pin_hot)
		for (size_t k = 0; k < v->nr; k++)
			if (shielded(e, &v->r[k]))
				want += (uint64_t)(v->r[k].fast + v->r[k].slow) * SAMPLE;
	if (v->pol.dram_max && want > v->pol.dram_max)
		want = v->pol.dram_max;	/* it may not hold more hot there */
	if (v->storage_slow)		/* all it holds in DRAM */
		want = v->dram_est > want ? v->dram_est : want;
	/* resize only on a 5% change, and round to 2 MiB */
	want = (want + (1UL << RSHIFT) - 1) & ~((1UL << RSHIFT) - 1);
	if (want == v->low_bytes || (v->low_bytes && want > v->low_bytes * 0.95 && want < v->low_bytes * 1.05))
		return;
	v->low_bytes = want;
	e->mv->set_low(e, v);
}

/*
 * One VM's epoch, after its snapshot (heat, placement, I/O): phases 3-8 of
 * the header, each reading the snapshot and the plan so far and writing its
 * part of the plan. The plan carries what one phase leaves the next (the
 * hot line, the orders' lengths, the cursor of eviction victims, the
 * counts for the log); the migration budget is its own struct, spent by
 * every phase that moves.
 */
struct mig {
	double left;			/* bytes the VM may still move this epoch */
	double start;			/* what it had: the VM's MB/s limit, at most the host's left */
};

struct plan {
	uint64_t budget;		/* the DRAM budget; UINT64_MAX: none */
	uint64_t margin, room;		/* promotions fill to room = budget - margin */
	bool warm;			/* sampled long enough that cold means cold */
	bool yielding;			/* the kernel promotes this VM's pages: no demotions */
	bool fill;			/* the budget's rest goes to the warmest (by_warmth) */
	size_t nord;			/* regions with sampled pages: by_heat's items */
	size_t nabove;			/* of them at or above the hot line: by_heat's first */
	size_t nf, nw;			/* by_warmth's items; by_want's (the DRAM set's slow regions) */
	double mean, hot_min;		/* the VM's mean heat; the hot line (HOT_X_MEAN x mean) */
	bool by_lru;			/* over budget, memory.reclaim took the excess */
	uint64_t free_now, free_floor;	/* free DRAM; promotions keep it above the floor */
	size_t cold_end;		/* by_heat[cold_end..] already looked at as eviction victims */
	bool victims;			/* a colder region to evict may be left */
	size_t nlate;			/* wanted regions evicted for hotter ones: `late` */
	int np, nover, ncold, nroom;	/* regions promoted; demoted over budget, cold, to make room */
	uint64_t promoted0, demoted0;	/* the VM's totals before the epoch's moves */
};

/* The plan's start: the budget, its margin and the migration budget. */
static void plan_start(struct engine *e, struct evm *v, struct plan *p, struct mig *m)
{
	double vm_left = v->pol.rate_mbs * 1e6 * e->o.epoch_s;

	memset(p, 0, sizeof(*p));
	p->budget = v->pol.dram_max ? v->pol.dram_max : UINT64_MAX;
	/* promotions fill to a margin below the budget (2%, at least 8 MiB):
	 * their sizes are estimated from sampled pages, and the exact-budget
	 * hold (phase 8) finds an overshoot only after it happened; a margin
	 * of 1% was too small for that (docs/engine-notes.md) */
	p->margin = p->budget == UINT64_MAX ? 0 : p->budget / 50 > (8UL << 20) ? p->budget / 50 : 8UL << 20;
	p->room = p->budget - p->margin;
	p->yielding = e->epoch <= v->yield_until;
	p->promoted0 = v->promoted;
	p->demoted0 = v->demoted;
	m->left = m->start = vm_left < e->host_budget_left ? vm_left : e->host_budget_left;
}

/* Room for steer()'s orders and the late list; false if out of memory. */
static bool orders_reserve(size_t nr)
{
	if (order_reserve(&by_heat, nr) || order_reserve(&by_want, nr))
		return false;
	if (late_cap < nr) {
		size_t *l = realloc(late, nr * sizeof(*l));
		if (!l)
			return false;
		late = l;
		late_cap = nr;
	}
	return true;
}

/*
 * 3. rank: the regions into by_heat; the VM's mean heat, the hot line and
 * the slow tier's share of this epoch's heat; each region's streak and
 * hot flag (in index order, each region on its own); the fill's
 * candidates gathered on the way (not hot, so not wanted yet).
 */
static void rank(struct engine *e, struct evm *v, struct plan *p)
{
	double total = 0, dslow = 0, dall = 0;

	for (size_t k = 0; k < v->nr; k++) {
		struct region *r = &v->r[k];
		if (!(r->fast + r->slow))
			continue;
		by_heat.a[p->nord++] = heat_item(v, k);
		total += r->heat;
		dall += r->delta;
		if (r->delta)	/* adding 0 changes no sum */
			dslow += r->delta * r->slow / (r->fast + r->slow);
	}
	v->slow_share = dall > 0 ? dslow / dall : 0;
	if (dall > 0)
		v->seen++;
	p->warm = v->seen >= WARM_EPOCHS;
	p->mean = p->nord ? total / p->nord : 0;
	p->hot_min = HOT_X_MEAN * p->mean;
	dbg("VM %ld epoch %llu: mean heat %.0f, hot from %.0f", v->vm.vmid, (unsigned long long)e->epoch, p->mean,
	    p->hot_min);
	order_start(&by_heat, p->nord);
	v->hot_bytes = v->want_bytes = 0;
	v->budget_bound = false;
	p->fill = p->budget != UINT64_MAX && p->warm && !order_reserve(&by_warmth, p->nord);
	for (size_t k = 0; k < p->nord; k++) {
		size_t i = by_heat.a[k].idx;	/* index order: nothing sorted yet */
		struct region *r = &v->r[i];
		uint64_t b = (uint64_t)(r->fast + r->slow) * SAMPLE;
		bool above = r->heat > 0 && r->heat >= p->hot_min;

		/* the ones above the line to the front of by_heat (each item
		 * still met once, in index order): they are the order's first */
		if (above) {
			struct oitem t = by_heat.a[p->nabove];
			by_heat.a[p->nabove++] = by_heat.a[k];
			by_heat.a[k] = t;
		}
		/* hot after two readings in a row that each left it above the
		 * line and were each strong enough to hold it there if they
		 * came every epoch ((1 - DECAY) x the line), so one lucky early
		 * fault does not pull a region in: the heat it leaves stays
		 * above the line an epoch or two by decay alone, and counted
		 * as a second epoch above it made cold regions hot. An epoch
		 * above the line with no such reading (its scan window not
		 * swept this epoch, or held in a blackout) keeps the streak. */
		if (!above)
			r->streak = 0;
		else if (r->delta >= (1 - DECAY) * p->hot_min)
			r->streak++;
		/* a region that ping-ponged must stay hot 2 epochs longer per
		 * ping-pong before it is promoted again: its heat is noise */
		if (r->pp && (int64_t)e->epoch - r->moved_at > 4 * PINGPONG_EPOCHS)
			r->pp = 0;
		r->hot = p->warm && (r->streak >= 2 + 2 * r->pp || (r->fast && r->streak >= 1));
		r->want = false;
		if (!r->hot) {
			if (p->fill && !r->pp && r->warmth > 0 && !moved_lately(e, r, -1))
				by_warmth.a[p->nf++] = (struct oitem){ .k1 = r->warmth, .k2 = r->heat, .idx = (uint32_t)i,
									.w = r->fast + r->slow };
			continue;
		}
		r->shield_until = e->epoch + SHIELD_EPOCHS;
		v->hot_bytes += b;
	}
	order_split(&by_heat, p->nabove);
}

/* Region i joins the DRAM set (its slow ones into by_want). */
static void want(struct evm *v, struct plan *p, size_t i, uint64_t b)
{
	struct region *r = &v->r[i];

	r->want = true;
	v->want_bytes += b;
	if (r->slow)
		by_want.a[p->nw++] = heat_item(v, i);
}

/*
 * 4. the DRAM set: the hot regions, hottest first, as far as the budget
 * goes (in heat order, which only the regions at or above the hot line
 * need: the others cannot be hot); with a budget, what is left of it
 * goes to the warmest of the rest, warmest first: a region in DRAM serves
 * more than a colder one would (under Zipf most of the oracle's DRAM is
 * below the hot line). They are ranked by warmth, not heat: below the hot
 * line a region shows a hint fault or two per NUMA scan pass, so its heat
 * is mostly when it last faulted (in the lab the cold rest of a hot-set VM
 * spread over 800-4200 against a hot line at 4500). They displace only
 * DRAM regions FILL_GAIN times less warm than the hysteresis asks (phase
 * 7), and not once they have ping-ponged: among regions alike, swapping
 * them is churn (at 1x the static hot set's run moved 3 GiB with 121
 * ping-pongs, against 1.2 GiB and none).
 */
static void choose_dram_set(struct engine *e, struct evm *v, struct plan *p)
{
	/* a hot set within the budget is wanted whole: no need to sort it */
	bool fits = v->hot_bytes <= p->budget;

	for (size_t k = 0; k < p->nabove; k++) {	/* the rest are colder: not hot */
		size_t i = fits ? by_heat.a[k].idx : order_at(&by_heat, k)->idx;
		struct region *r = &v->r[i];
		uint64_t b = (uint64_t)(r->fast + r->slow) * SAMPLE;

		if (!r->hot)
			continue;
		if (v->want_bytes + b > p->budget) {
			v->budget_bound = true;
			continue;
		}
		want(v, p, i, b);
	}
	if (p->fill) {
		/* the warmest as far as what DRAM holds goes: the rest are victims */
		uint64_t left = p->room > v->want_bytes ? (p->room - v->want_bytes) / SAMPLE : 0, pages;
		size_t n;

		order_start(&by_warmth, p->nf);
		n = order_prefix(&by_warmth, left, &pages);
		for (size_t k = 0; k < n; k++)
			want(v, p, by_warmth.a[k].idx, (uint64_t)by_warmth.a[k].w * SAMPLE);
	}
	if (v->budget_bound && e->epoch % 10 == 0)
		warn("VM %ld: its hot set (%llu MiB) is larger than its DRAM budget (%llu MiB)",
		     v->vm.vmid, (unsigned long long)(v->hot_bytes >> 20), (unsigned long long)(p->budget >> 20));
}

/*
 * 5. over budget: demote the coldest DRAM regions until within it (never
 * the hot set with --pin-hot, unless it alone is over the budget); with
 * no heat seen yet, the kernel's LRU picks them (memory.reclaim). Once
 * there is some, tierd's order: in the lab one epoch of heat kept a hot
 * set that the LRU partly demoted, 96% of accesses in DRAM against 80%.
 */
static void over_budget(struct engine *e, struct evm *v, struct plan *p, struct mig *m)
{
	if (v->dram_est > p->budget && !v->seen && !p->yielding && m->left > 0) {
		double got = reclaim_excess(e, v, (uint64_t)fmin(v->dram_est - p->budget + p->margin, m->left));

		if ((p->by_lru = got >= 0))
			m->left -= got;
	}
	for (size_t k = p->nord; k-- > 0 && m->left > 0 && v->dram_est > p->budget && !p->yielding && !p->by_lru;) {
		struct region *r = &v->r[order_at(&by_heat, k)->idx];
		if (r->fast && !(v->pol.pin_hot && r->hot && !v->budget_bound)) {	/* hot implies warm */
			bool was_slow = r->slow;	/* then it is in by_want already */
			m->left -= (double)move_region(e, v, r, false);
			p->nover++;
			/* a wanted region seen all in DRAM, over a budget that the
			 * exact figure broke: promoted again at its place, as any
			 * wanted region with slow pages is */
			if (r->want && !was_slow && r->slow)
				late[p->nlate++] = (size_t)(r - v->r);
		}
	}
}

/* 6. cold moves: with no budget, cold DRAM regions go to the slow tier. */
static void cold_moves(struct engine *e, struct evm *v, struct plan *p, struct mig *m)
{
	if (p->budget != UINT64_MAX || !p->warm || p->yielding)
		return;
	for (size_t k = p->nord; k-- > 0 && m->left > 0;) {
		struct region *r = &v->r[order_at(&by_heat, k)->idx];
		if (r->heat * (1 + eff_hyst(v)) >= p->hot_min)
			break;	/* the rest are as warm or warmer */
		if (r->fast && !r->hot && !held(e, r) && r->heat * (1 + eff_hyst(v)) < p->hot_min) {
			m->left -= (double)move_region(e, v, r, false);
			p->ncold++;
		}
	}
}

/* A region of b bytes does not fit: over what promotions fill to, or
 * below the free DRAM floor. */
static bool no_room(const struct evm *v, const struct plan *p, uint64_t b)
{
	return v->dram_est + b > p->room || p->free_now < p->free_floor + b;
}

/* The next region to promote: the first of by_want (from *w) and the late
 * ones in the heat order; false when both are through. */
static bool next_promotion(struct evm *v, struct plan *p, size_t *w, struct oitem *it)
{
	size_t li = p->nlate;

	for (size_t i = 0; i < p->nlate; i++)	/* the first of the late ones */
		if (li == p->nlate || oitem_before(&(struct oitem){ .k1 = v->r[late[i]].heat, .idx = late[i] },
						   &(struct oitem){ .k1 = v->r[late[li]].heat, .idx = late[li] }))
			li = i;
	if (li < p->nlate && (*w == p->nw || oitem_before(&(struct oitem){ .k1 = v->r[late[li]].heat, .idx = late[li] },
							  order_at(&by_want, *w)))) {
		*it = heat_item(v, late[li]);
		late[li] = late[--p->nlate];
	} else if (*w < p->nw) {
		*it = *order_at(&by_want, (*w)++);
	} else {
		return false;
	}
	return true;
}

/*
 * Room for region r (it, b bytes) to be promoted: evict the coldest DRAM
 * regions outside the DRAM set (by_heat from the cold end, the plan's
 * cursor), only ones after r in the heat order and colder by the
 * hysteresis factor (a fill region: FILL_GAIN times more), never one
 * promoted less than HOLD_EPOCHS ago (for a fill region: PINGPONG_EPOCHS,
 * moved_lately), with --pin-hot never one the shield covers, while the
 * migration budget lasts.
 */
static void make_room(struct engine *e, struct evm *v, struct plan *p, struct mig *m, const struct oitem *it,
		      struct region *r, uint64_t b)
{
	while (no_room(v, p, b) && p->victims && p->cold_end > 0 && oitem_before(it, order_at(&by_heat, p->cold_end - 1)) &&
	       m->left > 0 && !p->yielding) {
		struct region *c = &v->r[order_at(&by_heat, --p->cold_end)->idx];
		/* a hot region may evict one the fill wanted: a warmth
		 * outlives a moved hot set's old place by ~20 epochs. (by_want
		 * is in heat order, so the hot regions mostly come before the
		 * fill's: a victim skipped for a fill region is one they did
		 * not need.) */
		if (!c->fast || (c->want && (c->hot || !r->hot)) || held(e, c) || (!r->hot && moved_lately(e, c, 1)))
			continue;
		/* with --pin-hot, what the shield covers (hot within the last
		 * SHIELD_EPOCHS) stays: a hot region whose heat dipped for an
		 * epoch is not traded for one that just crossed the line */
		if (v->pol.pin_hot && shielded(e, c))
			continue;
		if (!r->hot && c->warmth * (1 + eff_hyst(v)) * FILL_GAIN >= r->warmth) {
			p->cold_end++;	/* c stays a victim for a hot region */
			return;
		}
		if (r->hot && c->heat * (1 + eff_hyst(v)) >= r->heat) {
			p->victims = false;	/* nothing colder left */
			return;
		}
		bool was_slow = c->slow;	/* then it is in by_want already */
		uint64_t got = move_region(e, v, c, false);
		m->left -= (double)got;
		p->free_now += got;
		p->nroom++;
		if (c->want && !was_slow && c->slow)	/* room for all: late_cap >= nr */
			late[p->nlate++] = (size_t)(c - v->r);
	}
}

/*
 * 7. promotions with room: the DRAM set's slow regions, hottest first (in
 * their own heat order, by_want), each after making room for it. A wanted
 * region evicted for a hotter one is a slow region of the DRAM set from
 * then on, to be promoted at its place in the order: `late`. Promotions
 * may take free DRAM down to the watermark; below it (other VMs, the
 * kernel) only swaps: as much of its own colder DRAM out.
 */
static void promote(struct engine *e, struct evm *v, struct plan *p, struct mig *m)
{
	struct oitem it;
	size_t w = 0;

	p->free_now = e->mv->node_free(e, e->topo.first_fast);
	p->free_floor = p->free_now < e->o.dram_free_min ? p->free_now : e->o.dram_free_min;
	p->cold_end = p->nord;
	p->victims = true;
	order_start(&by_want, p->nw);
	while (m->left > 0 && next_promotion(v, p, &w, &it)) {
		struct region *r = &v->r[it.idx];
		/* at most what it brings: its sampled pages not seen in DRAM
		 * (a page NUMA balancing holds for a hint fault is not seen,
		 * but moves) */
		uint64_t b = (uint64_t)(r->npg - r->fast) * SAMPLE;

		if (!r->want || !r->slow)
			continue;
		make_room(e, v, p, m, &it, r, b);
		if (no_room(v, p, b))
			break;
		uint64_t got = move_region(e, v, r, true);
		m->left -= (double)got;
		p->free_now = p->free_now > got ? p->free_now - got : 0;
		p->np++;
	}
}

/*
 * 8. the exact-budget hold: after promotions, the budget held against the
 * exact figure: what a move brings is known only from the sampled pages
 * (every 8th), and a page a region's sample misses moves with it or not
 * (docs/engine-notes.md has how far off the booked figure was). Undoing
 * tierd's own overshoot goes past the MB/s limit.
 */
static void hold_exact(struct engine *e, struct evm *v, struct plan *p, struct mig *m)
{
	for (int round = 0, n0 = -1; p->np && p->budget != UINT64_MAX && round < 2 && p->nover != n0; round++) {
		exact_totals(e, v);	/* read again only after demoting */
		n0 = p->nover;
		for (size_t k = p->nord; k-- > 0 && v->dram_est > p->budget - p->margin / 2;) {
			struct region *r = &v->r[order_at(&by_heat, k)->idx];
			if (r->fast && !r->want) {
				m->left -= (double)move_region(e, v, r, false);
				p->nover++;
			}
		}
	}
}

/* The epoch's moves logged, the migration budget's use booked (the VM's
 * for feedback, the host's for the VMs after it). */
static void book(struct engine *e, struct evm *v, const struct plan *p, const struct mig *m)
{
	double used = m->start - (m->left > 0 ? m->left : 0);

	if (v->promoted + v->demoted != p->promoted0 + p->demoted0)
		note("VM %ld epoch %llu: promoted %llu MiB (%d regions), demoted %llu MiB (%d over budget, %d cold, %d to make room); "
		     "DRAM %llu MiB", v->vm.vmid, (unsigned long long)e->epoch,
		     (unsigned long long)((v->promoted - p->promoted0) >> 20), p->np,
		     (unsigned long long)((v->demoted - p->demoted0) >> 20), p->nover, p->ncold, p->nroom,
		     (unsigned long long)(v->dram_est >> 20));
	v->budget_use = m->start > 0 ? used / m->start : 0;
	e->host_budget_left -= used;
}

/* Phases 3-8 on the VM's snapshot, in the header's order. */
static void steer(struct engine *e, struct evm *v)
{
	struct plan p;
	struct mig m;

	if (!orders_reserve(v->nr))
		return;
	plan_start(e, v, &p, &m);
	rank(e, v, &p);
	choose_dram_set(e, v, &p);
	over_budget(e, v, &p, &m);
	cold_moves(e, v, &p, &m);
	promote(e, v, &p, &m);
	hold_exact(e, v, &p, &m);
	book(e, v, &p, &m);
}

/* The hysteresis one step wider, at most HYST_MAX. */
static double wider(double hyst)
{
	return fmin(hyst + 0.25, HYST_MAX);
}

/* Thresholds from feedback; each change logged with its reason. */
static void tune(struct engine *e, struct evm *v, uint64_t pingpong_before, uint64_t moves_before)
{
	v->win_moves += v->moves - moves_before;
	v->win_pp += v->pingpong - pingpong_before;
	if (e->epoch - v->attached_epoch < 3)
		return;		/* heat still settling */
	/* Ping-pong widens the hysteresis when it is a pattern, not noise:
	 * more than PP_SHARE of the regions moved in this window of
	 * PINGPONG_EPOCHS epochs. A lone region that comes back is held to a
	 * longer streak instead (region.pp), and moves of others go on. */
	if (v->pingpong > pingpong_before && v->win_pp > PP_SHARE * v->win_moves) {
		double h = wider(v->hyst);

		if (h != v->hyst)
			adjust(e, v, "%llu ping-pong(s) in %llu region moves within %d epochs: hysteresis %.2f -> %.2f",
			       (unsigned long long)v->win_pp, (unsigned long long)v->win_moves, PINGPONG_EPOCHS, v->hyst, h);
		v->hyst = h;
	} else if (v->hyst > HYST_BASE && e->epoch % PINGPONG_EPOCHS == 0) {
		v->hyst = v->hyst * 0.8 < HYST_BASE ? HYST_BASE : v->hyst * 0.8;
	}
	if (e->epoch % PINGPONG_EPOCHS == 0)
		v->win_pp = v->win_moves = 0;
	if (v->budget_use > 0.99) {
		if (++v->budget_full == 3) {
			double h = wider(v->hyst);
			adjust(e, v, "migration budget used up 3 epochs running (%.0f MB/s): hysteresis %.2f -> %.2f",
			       v->pol.rate_mbs, v->hyst, h);
			v->hyst = h;
			v->budget_full = 0;
		}
	} else {
		v->budget_full = 0;
	}
}

#define YIELD_MIN 5		/* epochs */
#define YIELD_MAX 60

/*
 * Linux promotes every hinted page from the slow tier, whatever its rate
 * limit, while a DRAM node has more than max(1 GiB, 1/16 of it) free
 * (pgdat_free_space_enough(), 6.1 and later). Then a budget cannot hold:
 * what tierd demotes comes straight back, and both burn CPU and bandwidth.
 * When the kernel promotes 4 MiB or more of a VM's pages in an epoch,
 * tierd stops demoting that VM for a while, doubling the pause each time
 * it finds the kernel at it again; promotions go on. Once DRAM is fuller
 * the kernel stops and the budget holds again.
 */
static void kernel_fights(struct engine *e, struct evm *v, uint64_t promoted_pages)
{
	char b1[32], b2[32];

	if (e->epoch == v->attached_epoch + 1)
		return;			/* first reading: a count since the slot was taken */
	if (promoted_pages * PAGE < (4UL << 20)) {
		if (v->yield_len && e->epoch > v->yield_until + 4 * YIELD_MAX)
			v->yield_len = 0;	/* quiet for long: start over */
		return;
	}
	bool yielding = e->epoch + 1 <= v->yield_until;	/* already: extend quietly */

	v->yield_len = v->yield_len ? (v->yield_len * 2 < YIELD_MAX ? v->yield_len * 2 : YIELD_MAX) : YIELD_MIN;
	v->yield_until = e->epoch + v->yield_len;
	if (!yielding)
		adjust(e, v, "the kernel promoted %s of it in one epoch (DRAM free %s: Linux promotes freely above "
		       "max(1 GiB, 1/16 of a node)); no demotions for %llu epochs", fmt_bytes(promoted_pages * PAGE, b1, sizeof(b1)),
		       fmt_bytes(e->mv->node_free(e, e->topo.first_fast), b2, sizeof(b2)), (unsigned long long)v->yield_len);
}

/* 2. the snapshot's kernel side: the kernel's own promotions (which may
 * make tierd yield) and demotions of the VM, DIMMs hot-added. */
static void counters(struct engine *e, struct evm *v)
{
	struct vm_stats st;
	struct memcg_tier mt;	/* 6.12+: kswapd's demotions of it too */

	if (!samplers_vm_stats(&e->s, v->slot, &st)) {
		v->kernel_promoted_new = st.v[VS_PROMOTED] - v->kernel_promoted;
		kernel_fights(e, v, v->kernel_promoted_new);
		v->kernel_promoted = st.v[VS_PROMOTED];
		v->kernel_demoted = st.v[VS_DEMOTED];
	}
	hotplugged(e, v);
	if (!memcg_tier_read(v->vm.scope_dir, &mt) && mt.have)
		v->kernel_demoted = mt.demoted_total - v->memcg_demoted0;
}

/* One VM's epoch after the heat and its counters (th: seconds reading the
 * heat, for all VMs): 2. the rest of its snapshot (placement, I/O), 3-8.
 * steer's phases, 9. feedback, 10. the shield; all through e->mv, the
 * same for the kernel's mover and the simulated one. */
static void epoch_vm(struct engine *e, struct evm *v, double th)
{
	uint64_t pp = v->pingpong, mv = v->moves;
	double t0 = now_s();

	placement(e, v);
	double tp = now_s();

	storage(e, v);
	steer(e, v);
	double ts = now_s();

	tune(e, v, pp, mv);
	shield(e, v);
	dbg("VM %ld epoch %llu: %.0f ms reading heat (all VMs), %.0f ms reading placement, %.0f ms steering",
	    v->vm.vmid, (unsigned long long)e->epoch, th * 1e3, (tp - t0) * 1e3, (ts - tp) * 1e3);
	/* the kernel can hold tierd in move_pages or memory.reclaim
	 * (direct reclaim, compaction) when DRAM is full; say so */
	double took = now_s() - t0;

	if (took > 2 * e->o.epoch_s)
		warn("VM %ld epoch %llu: steering took %.1f s against a %.1f s epoch (the kernel held tierd in its "
		     "migrations; DRAM free %llu MiB)", v->vm.vmid, (unsigned long long)e->epoch, took,
		     e->o.epoch_s, (unsigned long long)(e->mv->node_free(e, e->topo.first_fast) >> 20));
}

void engine_epoch(struct engine *e)
{
	struct region_count *h = NULL;
	long nh;
	double cpu0 = cpu_s(NULL), cpu, sys;

	e->epoch++;
	e->host_budget_left = e->o.host_rate_mbs * 1e6 * e->o.epoch_s;
	/* full, but no demotion has asked for a while: whatever freed the
	 * node (a VM gone, another process), it may not be full now */
	if (e->epoch > e->slow_full_at + 2)
		slow_room_again(e, e->topo.first_slow, "no demotion was refused for 2 epochs");
	for (int i = 0; i < e->nvm;) {
		if (!still_there(e, e->vm[i]))
			remove_vm(e, i, "the VM is gone (its QEMU exited or its pid file changed)");
		else
			i++;
	}
	double th = now_s();

	nh = samplers_read_heat(&e->s, &h);
	read_heat(e, h, nh > 0 ? nh : 0);
	free(h);
	th = now_s() - th;
	for (int i = 0; i < e->nvm; i++) {
		counters(e, e->vm[i]);
		if (!arriving(e, e->vm[i]))
			epoch_vm(e, e->vm[i], th);
	}
	if ((cpu = cpu_s(&sys)) >= 0) {
		dbg("epoch %llu: %.2f CPU s between epochs, %.2f in this one (user %.1f s, system %.1f s in all)",
		    (unsigned long long)e->epoch, cpu0 - e->cpu_s, cpu - cpu0, cpu - sys, sys);
		e->cpu_s = cpu;
	}
}

/* ---- the movers: the kernel's and the simulated ---- */

/* where each region's sampled pages are: move_pages, query only */
static bool asked(const struct evm *v, const struct region *r)
{
	return v->ask_all || r->ask;
}

/* the asked regions' sampled pages, in runs of adjacent ones */
static size_t kernel_where(struct engine *e, struct evm *v, uint64_t sum[3])
{
	size_t n_asked = 0;

	for (size_t k = 0; k < v->nr;) {
		size_t a = v->r[k].pg0, b = a + v->r[k].npg;

		if (!asked(v, &v->r[k++]))
			continue;
		for (; k < v->nr && asked(v, &v->r[k]) && v->r[k].pg0 == b; k++)
			b += v->r[k].npg;
		for (size_t off = a; off < b; off += QUERY_CHUNK) {
			size_t n = b - off < QUERY_CHUNK ? b - off : QUERY_CHUNK;

			if (numa_move_pages(v->vm.pid, n, v->pages + off, NULL, v->status + off, 0))
				for (size_t i = 0; i < n; i++)
					v->status[off + i] = -EFAULT;
		}
		n_asked += b - a;
	}
	sum[0] = sum[1] = sum[2] = 0;
	for (size_t k = 0; k < v->nr; k++) {
		struct region *r = &v->r[k];

		if (asked(v, r)) {
			r->fast = r->slow = 0;
			for (size_t p = r->pg0; p < r->pg0 + r->npg; p++) {
				int s = v->status[p];
				if (s < 0)
					continue;
				if (is_fast(e, s))
					r->fast++;
				else
					r->slow++;
			}
			r->known = true;
		}
		sum[0] += r->fast;
		sum[1] += r->slow;
		sum[2] += r->npg - r->fast - r->slow;
	}
	return n_asked;
}

static long kernel_move_pages(struct engine *e, struct evm *v, size_t n, void **pages, const int *nodes, int *status)
{
	(void)e;
	return numa_move_pages(v->vm.pid, n, pages, nodes, status, nodes ? MPOL_MF_MOVE : 0);
}

static int kernel_node_bytes(struct engine *e, struct evm *v, uint64_t *bytes, int max_nodes)
{
	return vm_bytes_per_node(&e->hp, &v->vm, bytes, max_nodes);
}

/* memory.reclaim on the VM's scope where it demotes and cannot swap guest
 * RAM out (see reclaim_excess): demotion on, and no swap on the host or
 * the scope's memory.swap.max held at 0 for the write. */
static int kernel_reclaim(struct engine *e, struct evm *v, uint64_t bytes, const char **how)
{
	char swap[700], buf[64];
	bool hold_swap = false;
	int rc;

	(void)e;
	if (!demotion_on())
		return -ENOTSUP;
	snprintf(swap, sizeof(swap), "%s/memory.swap.max", v->vm.scope_dir);
	if (host_swap()) {
		if (read_file(swap, buf, sizeof(buf)) <= 0)
			return -ENOTSUP;
		if (strtoull(buf, NULL, 10) || buf[0] == 'm') {
			if (knob_set(swap, "0"))
				return -ENOTSUP;
			hold_swap = true;
		}
	}
	/* with swappiness= where the kernel takes it: guest RAM (anon), not
	 * QEMU's page cache; memory.swap.max stays the guard against swap */
	rc = memcg_reclaim(v->vm.scope_dir, bytes, how);	/* -EAGAIN: less than asked */
	if (hold_swap)
		knob_restore(swap);
	if (rc && rc != -EAGAIN) {
		dbg("VM %ld: %s/memory.reclaim: %s", v->vm.vmid, v->vm.scope_dir, strerror(-rc));
		return rc;
	}
	return 0;
}

static uint64_t kernel_node_free(struct engine *e, int node)
{
	(void)e;
	return node_free("", node);
}

static long long kernel_huge_free(struct engine *e, int node, unsigned long long kb)
{
	char path[160], buf[32];

	(void)e;
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/hugepages/hugepages-%llukB/free_hugepages", node, kb);
	return read_file(path, buf, sizeof(buf)) > 0 ? (long long)strtoull(buf, NULL, 10) : -1;
}

/* memory.low on the VM's scope, and its parent's sum */
static void kernel_set_low(struct engine *e, struct evm *v)
{
	char path[700], buf[32], parent[600], *slash;

	snprintf(path, sizeof(path), "%s/memory.low", v->vm.scope_dir);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v->low_bytes);
	if (knob_set(path, buf))
		warn("VM %ld: cannot set %s: %s", v->vm.vmid, path, strerror(errno));
	snprintf(parent, sizeof(parent), "%s", v->vm.scope_dir);
	if ((slash = strrchr(parent, '/')))
		*slash = 0;
	set_parent_low(e, parent);
}

const struct mover mover_kernel = {
	.name = "kernel",
	.where = kernel_where,
	.move_pages = kernel_move_pages,
	.node_bytes = kernel_node_bytes,
	.reclaim = kernel_reclaim,
	.node_free = kernel_node_free,
	.huge_free = kernel_huge_free,
	.set_low = kernel_set_low,
};

/*
 * The simulated mover: the truth is each region's sampled pages in DRAM
 * (v->sim_fast; a region's pages all present), moves always succeed and
 * move the whole region, numa_maps reads the truth (plus e->sim_extra per
 * region in DRAM: what the samples miss, as in the lab), memory.reclaim demotes whole regions in
 * address order (no LRU to ask), free memory is e->sim_free[node].
 */
static size_t sim_where(struct engine *e, struct evm *v, uint64_t sum[3])
{
	uint64_t fast = 0, slow = 0, regions = 0, tf = 0, ts = 0;
	size_t n_asked = 0;

	(void)e;
	for (size_t k = 0; k < v->nr; k++) {
		struct region *r = &v->r[k];
		uint32_t f = v->sim_fast[k];

		if (asked(v, r)) {
			r->fast = f;
			r->slow = r->npg - f;
			r->known = true;
			n_asked += r->npg;
		}
		fast += r->fast;
		slow += r->slow;
		tf += f;
		ts += r->npg - f;
		regions += f != 0;
	}
	/* numa_maps (the truth) from here on, kept by the moves (the
	 * kernel's is one read of a file, not a walk of the regions) */
	v->sim_fast_pages = tf;
	v->sim_slow_pages = ts;
	v->sim_fast_regions = regions;
	v->sim_valid = true;
	sum[0] = fast;
	sum[1] = slow;
	sum[2] = 0;
	return n_asked;
}

/* numa_maps' counts from the truth, without where() */
static void sim_count(struct evm *v)
{
	v->sim_fast_pages = v->sim_slow_pages = v->sim_fast_regions = 0;
	for (size_t k = 0; k < v->nr; k++) {
		v->sim_fast_pages += v->sim_fast[k];
		v->sim_slow_pages += v->r[k].npg - v->sim_fast[k];
		v->sim_fast_regions += v->sim_fast[k] != 0;
	}
	v->sim_valid = true;
}

/* region k's pages in DRAM in the simulated truth set to f */
static void sim_set(struct evm *v, size_t k, uint32_t f)
{
	uint32_t was = v->sim_fast[k];

	v->sim_fast[k] = f;
	v->sim_fast_pages += (uint64_t)f - was;
	v->sim_slow_pages += (uint64_t)was - f;
	v->sim_fast_regions += (uint64_t)(f != 0) - (was != 0);
}

static long sim_move_pages(struct engine *e, struct evm *v, size_t n, void **pages, const int *nodes, int *status)
{
	struct region *r = n ? region_of(v, (uint64_t)(uintptr_t)pages[0] >> RSHIFT) : NULL;

	if (!r) {
		errno = EFAULT;
		return -1;
	}
	size_t k0 = (size_t)(r - v->r);

	if (nodes)
		sim_set(v, k0, is_fast(e, nodes[0]) ? r->npg : 0);
	for (size_t k = 0; k < n; k++)	/* sampled page k / STRIDE */
		status[k] = k / STRIDE < v->sim_fast[k0] ? e->topo.first_fast : e->topo.first_slow;
	return 0;
}

static int sim_node_bytes(struct engine *e, struct evm *v, uint64_t *bytes, int max_nodes)
{
	if (e->topo.first_fast >= max_nodes || e->topo.first_slow >= max_nodes)
		return -1;
	memset(bytes, 0, max_nodes * sizeof(*bytes));
	if (!v->sim_valid)		/* no where() yet: count them */
		sim_count(v);
	bytes[e->topo.first_fast] = v->sim_fast_pages * SAMPLE + v->sim_fast_regions * e->sim_extra;
	bytes[e->topo.first_slow] = v->sim_slow_pages * SAMPLE;
	return 0;
}

static int sim_reclaim(struct engine *e, struct evm *v, uint64_t bytes, const char **how)
{
	uint64_t got = 0;

	(void)e;
	*how = "";
	for (size_t k = 0; k < v->nr && got < bytes; k++) {
		got += (uint64_t)v->sim_fast[k] * SAMPLE;
		if (v->sim_valid)
			sim_set(v, k, 0);
		else
			v->sim_fast[k] = 0;
	}
	return 0;	/* less than asked, maybe, as memory.reclaim's -EAGAIN */
}

static uint64_t sim_node_free(struct engine *e, int node)
{
	return node >= 0 && node < 2 ? e->sim_free[node] : 0;
}

static long long sim_huge_free(struct engine *e, int node, unsigned long long kb)
{
	(void)e, (void)node, (void)kb;
	return -1;
}

static void sim_set_low(struct engine *e, struct evm *v)
{
	(void)e, (void)v;
}

const struct mover mover_sim = {
	.name = "simulated",
	.where = sim_where,
	.move_pages = sim_move_pages,
	.node_bytes = sim_node_bytes,
	.reclaim = sim_reclaim,
	.node_free = sim_node_free,
	.huge_free = sim_huge_free,
	.set_low = sim_set_low,
};

/* ---- status ---- */

static void status_vm_json(struct engine *e, struct evm *v, struct json *j)
{
	json_obj(j);
	json_ki64(j, "vmid", v->vm.vmid);
	json_ki64(j, "pid", v->vm.pid);
	json_kstr(j, "state", v->incoming ? "incoming" : "steering");
	json_kstr(j, "cgroup", v->vm.scope);
	json_ku64(j, "ram_bytes", v->vm.ram_bytes);
	json_ku64(j, "config_ram_bytes", v->vm.conf_bytes);
	json_ki64(j, "ranges", v->vm.nr_ranges);
	json_kstr(j, "ram_note", v->vm.note);
	json_kobj(j, "policy");
	policy_json(j, &v->pol);
	json_end(j);
	json_ku64(j, "dram_bytes", v->dram_est);
	json_ku64(j, "slow_bytes", v->slow_bytes);
	json_ku64(j, "absent_bytes", v->absent_bytes);
	/* how much of its placement this epoch's reading asked (a VM of 16
	 * GiB or more is read in turn), and the epoch numa_maps was last read */
	json_kobj(j, "placement_read");
	json_ku64(j, "asked_pages", v->where_asked);
	json_ku64(j, "sampled_pages", v->npages);
	json_ku64(j, "numa_maps_epoch", v->exact_epoch);
	json_end(j);
	json_ku64(j, "hot_set_bytes", v->hot_bytes);
	json_ku64(j, "dram_set_bytes", v->want_bytes);
	json_kbool(j, "budget_bound", v->budget_bound);
	json_knum(j, "slow_share", 4, v->slow_share);
	json_kobj(j, "thresholds");
	json_knum(j, "hot_x_mean", 2, HOT_X_MEAN);
	json_knum(j, "hysteresis", 2, eff_hyst(v));
	json_end(j);
	json_kobj(j, "migrations");
	json_ku64(j, "promoted_bytes", v->promoted);
	json_ku64(j, "demoted_bytes", v->demoted);
	json_ku64(j, "ping_pongs", v->pingpong);
	json_ku64(j, "failed_pages", v->failed);
	json_knum(j, "budget_use", 2, v->budget_use);
	json_ku64(j, "unmovable_pages", v->unmovable);
	json_ku64(j, "backed_off_regions", v->backed_off);
	json_ku64(j, "hugetlb_blocked", v->huge_blocked);
	json_kstr(j, "hugetlb", v->huge_note);
	json_ku64(j, "kernel_promoted_pages", v->kernel_promoted);
	json_ku64(j, "kernel_demoted_pages", v->kernel_demoted);
	json_end(j);
	json_kbool(j, "yielding_to_kernel", e->epoch <= v->yield_until);
	json_ku64(j, "memory_low", v->low_bytes);
	json_kobj(j, "io");
	json_ku64(j, "completed", v->io_done);
	json_knum(j, "p50_us", 1, v->io_p50);
	json_knum(j, "p99_us", 1, v->io_p99);
	json_kbool(j, "storage_slow", v->storage_slow);
	json_end(j);
	json_kobj(j, "last_adjustment");
	json_ku64(j, "epoch", v->adjust_epoch);
	json_kstr(j, "reason", v->adjust);
	json_end(j);
	json_end(j);
}

void engine_status(struct engine *e, FILE *f, bool json)
{
	char b[6][32];

	if (json) {
		struct json j;

		json_start(&j, f);
		json_obj(&j);
		json_kstr(&j, "tierd", "status");
		json_ki64(&j, "version", 1);
		json_ki64(&j, "pid", getpid());
		json_ku64(&j, "epoch", e->epoch);
		json_knum(&j, "epoch_s", 2, e->o.epoch_s);
		json_knum(&j, "cpu_s", 2, e->cpu_s);
		json_key(&j, "dram_nodes");
		json_strf(&j, "0x%llx", (unsigned long long)e->topo.fast);
		json_key(&j, "slow_nodes");
		json_strf(&j, "0x%llx", (unsigned long long)e->topo.slow);
		json_kstr(&j, "topology", e->topo.how);
		json_kstr(&j, "heat", e->s.scan_via ? "hint-fault latency" : e->s.heat_via ? "fault counts" : "none");
		json_kbool(&j, "slow_tier_full", e->slow_full_since != 0);
		json_ku64(&j, "slow_tier_full_since", e->slow_full_since);
		json_karr(&j, "vms");
		for (int i = 0; i < e->nvm; i++)
			status_vm_json(e, e->vm[i], &j);
		json_end(&j);
		json_end(&j);
		json_finish(&j);
		return;
	}
	fprintf(f, "tierd: epoch %llu (%.1f s each), %d VM(s), %.1f CPU s; heat from %s\n",
		(unsigned long long)e->epoch, e->o.epoch_s, e->nvm, e->cpu_s,
		e->s.scan_via ? "hint-fault latency" : e->s.heat_via ? "fault counts" : "nothing");
	if (e->slow_full_since)
		fprintf(f, "slow tier full since epoch %llu (last refused a demotion at epoch %llu): demotions wait for room\n",
			(unsigned long long)e->slow_full_since, (unsigned long long)e->slow_full_at);
	for (int i = 0; i < e->nvm; i++) {
		struct evm *v = e->vm[i];
		if (v->incoming) {
			fprintf(f, "VM %ld (pid %d): waiting for its incoming live migration to finish (%.0f s so far)\n",
				v->vm.vmid, v->vm.pid, v->incoming_since ? now_s() - v->incoming_since : 0.0);
			continue;
		}
		fprintf(f, "VM %ld (pid %d)%s budget %s: DRAM %s, slow %s; hot set %s; slow tier's heat share %.1f%%\n",
			v->vm.vmid, v->vm.pid, v->pol.pin_hot ? " pin-hot," : "",
			v->pol.dram_max ? fmt_bytes(v->pol.dram_max, b[0], 32) : "none",
			fmt_bytes(v->dram_est, b[1], 32), fmt_bytes(v->slow_bytes, b[2], 32),
			fmt_bytes(v->hot_bytes, b[3], 32), v->slow_share * 100);
		fprintf(f, "   migrated: %s promoted, %s demoted, %llu ping-pongs (the kernel: %llu pages promoted); hot: heat >= %.2f x mean, hysteresis %.2f; memory.low %s\n",
			fmt_bytes(v->promoted, b[4], 32), fmt_bytes(v->demoted, b[5], 32),
			(unsigned long long)v->pingpong, (unsigned long long)v->kernel_promoted, HOT_X_MEAN, eff_hyst(v), fmt_bytes(v->low_bytes, b[0], 32));
		fprintf(f, "   guest RAM %s in %d range(s)%s%s\n", fmt_bytes(v->vm.ram_bytes, b[0], 32), v->vm.nr_ranges,
			v->vm.note[0] ? "; " : "", v->vm.note);
		if (v->unmovable || v->huge_note[0])
			fprintf(f, "   cannot move: %llu pages (shared, KSM or pinned; %llu regions backed off)%s%s\n",
				(unsigned long long)v->unmovable, (unsigned long long)v->backed_off,
				v->huge_note[0] ? "; " : "", v->huge_note);
		fprintf(f, "   NVMe: %llu I/Os last epoch, p50 %.0f us, p99 %.0f us%s\n", (unsigned long long)v->io_done,
			v->io_p50, v->io_p99, v->storage_slow ? " (slow: protecting harder)" : "");
		if (*v->adjust)
			fprintf(f, "   last adjustment (epoch %llu): %s\n", (unsigned long long)v->adjust_epoch, v->adjust);
	}
}

/* ---- the decision loop alone, for the benchmark ---- */

#define SIM_BASE (1ULL << 40)

void engine_sim_start(struct engine *e)
{
	memset(e, 0, sizeof(*e));
	e->mv = &mover_sim;
	e->sim_free[0] = e->sim_free[1] = 1ULL << 40;	/* 1 TiB free on each node: room everywhere */
	e->s.scan_via = "simulated";	/* heat is the score, as with scan windows */
	engine_opts_default(&e->o);
	e->topo.first_fast = 0;
	e->topo.first_slow = 1;
	e->topo.fast = 1ULL << 0;
	e->topo.slow = 1ULL << 1;
}

int engine_sim_vm(struct engine *e, const struct policy *p, uint64_t ram_bytes, double dram_share)
{
	struct evm *v;
	size_t nr = (ram_bytes + (1UL << RSHIFT) - 1) >> RSHIFT;
	uint64_t base = SIM_BASE + (uint64_t)e->nvm * (1ULL << 42);

	if (e->mv != &mover_sim || e->nvm == TIERD_MAX_VMS || !(v = calloc(1, sizeof(*v))))
		return -1;
	v->pol = *p;
	v->slot = (uint32_t)e->nvm;
	v->vm.vmid = p->vmid;
	v->vm.ram = calloc(1, sizeof(*v->vm.ram));
	v->rg = calloc(1, sizeof(*v->rg));
	v->sim_fast = calloc(nr ? nr : 1, sizeof(*v->sim_fast));
	if (!v->vm.ram || !v->rg || !v->sim_fast) {
		free_evm(v);
		return -1;
	}
	v->vm.nr_ranges = v->nrg = 1;
	v->vm.ram[0].start = base;
	v->vm.ram[0].end = base + ram_bytes;
	v->vm.ram[0].page_size = PAGE;
	v->vm.ram_bytes = ram_bytes;
	v->rg[0].first = base >> RSHIFT;
	v->rg[0].last = (base + ram_bytes - 1) >> RSHIFT;
	v->hyst = HYST_BASE;
	v->attached_epoch = e->epoch;
	if (!(v->r = regions_grow(NULL, 0, nr))) {
		free_evm(v);
		return -1;
	}
	v->nr = nr;
	for (size_t k = 0; k < nr; k++) {
		struct region *r = &v->r[k];
		uint32_t npg = (uint32_t)((1UL << RSHIFT) / SAMPLE);

		r->lo = base + (k << RSHIFT);
		r->hi = r->lo + (1UL << RSHIFT);
		r->moved_at = -1;
		r->npg = npg;		/* move_region books what its sampled pages say */
		*(k < nr * dram_share ? &r->fast : &r->slow) = npg;
		v->sim_fast[k] = r->fast;
		*(k < nr * dram_share ? &v->dram_est : &v->slow_bytes) += (uint64_t)npg * SAMPLE;
	}
	e->vm[e->nvm++] = v;
	return 0;
}

void engine_sim_stop(struct engine *e)
{
	for (int i = 0; i < e->nvm; i++)
		free_evm(e->vm[i]);
	e->nvm = 0;
	orders_free();
}

void engine_sim_epoch(struct engine *e, const struct region_count *h, long nh)
{
	e->epoch++;
	e->host_budget_left = e->o.host_rate_mbs * 1e6 * e->o.epoch_s;
	read_heat(e, h, nh);
	for (int i = 0; i < e->nvm; i++)
		if (!arriving(e, e->vm[i]))
			epoch_vm(e, e->vm[i], 0);
}

uint64_t engine_table_bytes(uint64_t ram_bytes)
{
	uint64_t nr = (ram_bytes + (1UL << RSHIFT) - 1) >> RSHIFT, np = ram_bytes / SAMPLE + 1;

	return sizeof(struct evm) + nr * sizeof(struct region) + np * (sizeof(void *) + sizeof(int));
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engine's decisions on a simulated VM (engine_sim_*: the production
 * epoch through the simulated mover, no kernel): a 1 GiB VM with half of it in DRAM and a
 * 256 MiB budget, its hot tenth starting on the slow tier. After some
 * epochs the VM is within budget, the hot set was promoted (the slow tier's
 * share of the heat is small) and nothing ping-ponged. This is what
 * tools/bench/loop times; it once moved nothing while the table printed on.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine.h"
#include "log.h"
#include "check.h"

#define MiB (1ULL << 20)

static struct engine e;
static struct policy p;
static bool pin_hot;		/* the next simulated VM's --pin-hot */
static const uint64_t ram = 1024 * MiB, nr = 1024 * MiB >> 21;

/* A 1 GiB simulated VM, half in DRAM, budget 256 MiB; epochs of samples
 * add(h, k) per region k, read with scan windows or without; the VM. */
static struct evm *sim_samples(int epochs, void (*add)(struct region_count *h, uint64_t k), bool scan)
{
	struct region_count *h = calloc(nr, sizeof(*h));

	engine_sim_stop(&e);	/* the last run's VM */
	engine_sim_start(&e);
	if (!scan)
		e.s.scan_via = NULL;	/* heat from counts, as without scan windows */
	policy_default(&p);
	p.vmid = 101;
	p.dram_max = 256 * MiB;
	p.pin_hot = pin_hot;
	CHECK(h && !engine_sim_vm(&e, &p, ram, 0.5), "a simulated VM");
	if (!h || !e.nvm)
		exit(1);
	for (uint64_t k = 0; k < nr; k++)
		h[k].region = ((1ULL << 40) >> 21) + k;
	for (int ep = 0; ep < epochs; ep++) {
		for (uint64_t k = 0; k < nr; k++)
			add(&h[k], k);
		engine_sim_epoch(&e, h, (long)nr);
	}
	free(h);
	return e.vm[0];
}

static double (*sim_score)(uint64_t k);
static void add_score(struct region_count *h, uint64_t k)
{
	h->count++;
	h->score += (uint64_t)sim_score(k);
}

/* epochs of heat score(k) per region k (one sample each), with scan windows */
static struct evm *sim(int epochs, double (*score)(uint64_t k))
{
	sim_score = score;
	return sim_samples(epochs, add_score, true);
}

/* the hot tenth, starting on the slow tier (the upper half) */
static double hot_tenth(uint64_t k)
{
	return k >= nr / 2 && k < nr / 2 + nr / 10 ? 9000 : 111;
}

/* Zipf 1.1 over the regions, ranks scattered over guest RAM */
static double zipf(uint64_t k)
{
	return 1e6 / pow((double)((k * 197) % nr + 1), 1.1);
}

static void test_sim_steers(void)
{
	struct evm *v = sim(20, hot_tenth);

	printf("# DRAM %llu MiB, promoted %llu MiB, demoted %llu MiB, hot set %llu MiB, slow share %.3f, ping-pongs %llu\n",
	       (unsigned long long)(v->dram_est / MiB), (unsigned long long)(v->promoted / MiB),
	       (unsigned long long)(v->demoted / MiB), (unsigned long long)(v->hot_bytes / MiB), v->slow_share,
	       (unsigned long long)v->pingpong);
	CHECK(v->dram_est <= p.dram_max, "DRAM %llu MiB over the budget", (unsigned long long)(v->dram_est / MiB));
	CHECK(v->hot_bytes >= 100 * MiB && v->hot_bytes <= 104 * MiB, "hot set %llu MiB, not the hot tenth",
	      (unsigned long long)(v->hot_bytes / MiB));
	CHECK(v->promoted >= v->hot_bytes, "promoted only %llu MiB", (unsigned long long)(v->promoted / MiB));
	CHECK(v->demoted >= 256 * MiB + v->promoted, "demoted only %llu MiB", (unsigned long long)(v->demoted / MiB));
	/* hot set in DRAM: the slow tier holds cold regions only (~8% of the heat) */
	CHECK(v->slow_share < 0.15, "slow tier's share of the heat %.3f: the hot set is not in DRAM", v->slow_share);
	CHECK(v->pingpong == 0, "%llu ping-pongs on a steady heat", (unsigned long long)v->pingpong);
}

/* Under Zipf most of the best DRAM set is below the hot line (thr x the
 * mean heat): the budget's rest goes to the warmest regions, so the slow
 * tier's share of the heat comes near the best possible. */
static void test_sim_zipf(void)
{
	struct evm *v = sim(30, zipf);
	double all = 0, top = 0;

	for (uint64_t r = 0; r < nr; r++) {
		double s = 1e6 / pow((double)(r + 1), 1.1);
		all += s;
		top += r < (p.dram_max - 4 * MiB) >> 21 ? s : 0;
	}
	printf("# Zipf: DRAM %llu MiB, hot set %llu MiB, DRAM set %llu MiB, slow share %.3f (best %.3f), ping-pongs %llu\n",
	       (unsigned long long)(v->dram_est / MiB), (unsigned long long)(v->hot_bytes / MiB),
	       (unsigned long long)(v->want_bytes / MiB), v->slow_share, 1 - top / all, (unsigned long long)v->pingpong);
	CHECK(v->dram_est <= p.dram_max, "DRAM %llu MiB over the budget", (unsigned long long)(v->dram_est / MiB));
	CHECK(v->slow_share <= 1 - top / all + 0.02, "slow share %.3f, best %.3f", v->slow_share, 1 - top / all);
}

/*
 * Hardware samples and faults in one heat map entry, built as heat.bpf.c's
 * account() builds them: a fault adds 1 to count and its weight to score
 * (1000 x (1 ms / latency)^2, latency at least 1 ms; 0 past the horizon
 * or outside a scan window), a hardware sample adds 1 and
 * TIERD_HW_SAMPLE_SCORE.
 */
static void add_fault(struct region_count *h, uint64_t lat_ns)
{
	h->count++;
	if (!lat_ns || lat_ns > TIERD_SCAN_HORIZON_NS)
		return;		/* 0: no scan window covers it */
	if (lat_ns < TIERD_LAT_FLOOR_NS)
		lat_ns = TIERD_LAT_FLOOR_NS;
	h->score += TIERD_WEIGHT_MAX * (TIERD_LAT_FLOOR_NS / 1000) * (TIERD_LAT_FLOOR_NS / 1000) /
		    ((lat_ns / 1000) * (lat_ns / 1000));
}

static void add_hw(struct region_count *h)
{
	h->count++;
	h->score += TIERD_HW_SAMPLE_SCORE;
}

static void test_hw_merge_rule(void)
{
	struct region_count floor = {0}, hw = {0}, mixed = {0}, late = {0}, unwindowed = {0};

	for (int i = 0; i < 10; i++) {
		add_fault(&floor, 200000);		/* 0.2 ms: at the floor */
		add_hw(&hw);
		if (i % 2)
			add_hw(&mixed);
		else
			add_fault(&mixed, TIERD_LAT_FLOOR_NS);
		add_fault(&late, 10 * TIERD_LAT_FLOOR_NS);	/* 10 ms: 1/100 of the floor's weight */
		if (i < 4)
			add_hw(&unwindowed);
		else
			add_fault(&unwindowed, 0);
	}
	for (int scan = 0; scan < 2; scan++) {
		uint64_t f = engine_heat_cum(&floor, scan), w = engine_heat_cum(&hw, scan);

		CHECK(f == 10 * TIERD_WEIGHT_MAX, "%s: 10 floor faults read %llu", scan ? "score" : "count",
		      (unsigned long long)f);
		CHECK(w == f, "%s: 10 hardware samples read %llu, 10 floor faults %llu", scan ? "score" : "count",
		      (unsigned long long)w, (unsigned long long)f);
		CHECK(engine_heat_cum(&mixed, scan) == f, "%s: 5 + 5 mixed read %llu, not as 10 samples",
		      scan ? "score" : "count", (unsigned long long)engine_heat_cum(&mixed, scan));
	}
	/* with scan windows a late fault weighs less than a hardware sample,
	 * and a fault outside every window nothing; counted, all are alike */
	CHECK(engine_heat_cum(&late, true) == 10 * TIERD_WEIGHT_MAX / 100, "late faults: score %llu",
	      (unsigned long long)engine_heat_cum(&late, true));
	CHECK(engine_heat_cum(&late, false) == engine_heat_cum(&hw, false), "counted, a late fault is a sample");
	CHECK(engine_heat_cum(&unwindowed, true) == 4 * TIERD_HW_SAMPLE_SCORE,
	      "4 hardware samples and 6 unwindowed faults: score %llu",
	      (unsigned long long)engine_heat_cum(&unwindowed, true));
	CHECK(engine_heat_cum(&unwindowed, false) == 10 * TIERD_WEIGHT_MAX, "counted: 10 samples");
}

/* The hot tenth (on the slow tier) seen only by the hardware sampler, 9
 * samples an epoch; every region takes one fault an epoch 3 ms after its
 * scan (111, as hot_tenth's cold regions). */
static void add_hw_hot(struct region_count *h, uint64_t k)
{
	add_fault(h, 3 * TIERD_LAT_FLOOR_NS);
	if (k >= nr / 2 && k < nr / 2 + nr / 10)
		for (int i = 0; i < 9; i++)
			add_hw(h);
}

static void test_hw_steers(void)
{
	for (int scan = 1; scan >= 0; scan--) {
		struct evm *v = sim_samples(20, add_hw_hot, scan);

		printf("# hardware-sampled hot set, %s: DRAM %llu MiB, hot set %llu MiB, slow share %.3f, ping-pongs %llu\n",
		       scan ? "scores" : "counts", (unsigned long long)(v->dram_est / MiB),
		       (unsigned long long)(v->hot_bytes / MiB), v->slow_share, (unsigned long long)v->pingpong);
		CHECK(v->dram_est <= p.dram_max, "DRAM %llu MiB over the budget",
		      (unsigned long long)(v->dram_est / MiB));
		CHECK(v->hot_bytes >= 100 * MiB && v->hot_bytes <= 104 * MiB, "%s: hot set %llu MiB, not the hot tenth",
		      scan ? "scores" : "counts", (unsigned long long)(v->hot_bytes / MiB));
		/* best: the hot tenth in DRAM and cold regions in the rest of it */
		double hot = scan ? 9 * TIERD_HW_SAMPLE_SCORE + 111 : 10 * TIERD_WEIGHT_MAX;
		double cold = scan ? 111 : TIERD_WEIGHT_MAX;
		double nhot = (double)(nr / 10), slow = (double)nr - (double)(v->dram_est >> 21);
		double best = slow * cold / (nhot * hot + (nr - nhot) * cold);

		CHECK(v->promoted >= v->hot_bytes, "%s: promoted only %llu MiB", scan ? "scores" : "counts",
		      (unsigned long long)(v->promoted / MiB));
		CHECK(v->slow_share <= best + 0.01, "%s: slow share %.3f, best %.3f: the hardware-sampled hot set "
		      "is not in DRAM", scan ? "scores" : "counts", v->slow_share, best);
	}
}

/*
 * The placement reads of a large VM: a 64 GiB one whose where() costs 1 us
 * per sampled page (2.1 s a whole reading, a 2 s epoch) and numa_maps 1 s
 * a read. After its first whole reading each gets 5% of the epoch: where()
 * asks a tenth of the pages or less, numa_maps is read every 10 epochs or
 * so; what the kernel moved behind tierd's back is found within 64 epochs
 * (every region's placement as tierd sees it is the truth again); the VM
 * is steered all the same. A 1 GiB VM at the same costs is read whole
 * every epoch.
 */
static void run_epochs(struct region_count *h, uint64_t n, int epochs)
{
	for (int ep = 0; ep < epochs; ep++) {
		for (uint64_t k = 0; k < n; k++) {
			h[k].count++;
			h[k].score += k >= n / 2 && k < n / 2 + n / 10 ? 9000 : 111;
		}
		engine_sim_epoch(&e, h, (long)n);
	}
}

static void test_big_vm_reads(void)
{
	const uint64_t big = 64ULL << 30, nb = big >> 21;
	struct region_count *h = calloc(nb, sizeof(*h));
	size_t most = 0;

	engine_sim_stop(&e);
	engine_sim_start(&e);
	e.sim_where_ns = 1000;
	e.sim_maps_s = 1.0;
	policy_default(&p);
	p.vmid = 201;
	p.dram_max = 16ULL << 30;
	CHECK(h && !engine_sim_vm(&e, &p, big, 0.5), "a simulated 64 GiB VM");
	if (!h || !e.nvm)
		exit(1);
	struct evm *v = e.vm[0];
	size_t pages = 0;

	for (size_t k = 0; k < v->nr; k++)
		pages += v->r[k].npg;
	for (uint64_t k = 0; k < nb; k++)
		h[k].region = ((1ULL << 40) >> 21) + k;
	run_epochs(h, nb, 1);
	CHECK(v->where_asked == pages, "first epoch: %zu of %zu pages asked, not all", v->where_asked, pages);
	run_epochs(h, nb, 39);
	uint64_t reads0 = v->maps_reads;

	for (int ep = 0; ep < 40; ep++) {
		run_epochs(h, nb, 1);
		most = v->where_asked > most ? v->where_asked : most;
	}
	CHECK(most <= pages / 10, "where() asked up to %zu of %zu pages in an epoch", most, pages);
	uint64_t reads = v->maps_reads - reads0;

	CHECK(reads >= 2 && reads <= 6, "numa_maps read %llu times in 40 epochs at 1 s a read", (unsigned long long)reads);
	/* the kernel demotes 100 regions tierd holds in DRAM, behind its back */
	int behind = 0;

	for (size_t k = 0; k < v->nr && behind < 100; k++)
		if (v->sim_fast[k] && !v->r[k].hot) {
			v->sim_fast[k] = 0;
			behind++;
		}
	run_epochs(h, nb, 64);
	size_t wrong = 0;

	for (size_t k = 0; k < v->nr; k++)
		wrong += v->r[k].fast != v->sim_fast[k];
	CHECK(behind == 100 && !wrong, "%zu regions' placement not the truth 64 epochs after the kernel moved %d", wrong, behind);
	uint64_t fast = 0, hot_slow = 0;

	for (size_t k = 0; k < v->nr; k++) {
		fast += v->sim_fast[k];
		hot_slow += v->r[k].hot ? v->r[k].npg - v->sim_fast[k] : 0;
	}
	CHECK(fast * 32768 <= p.dram_max && !hot_slow, "steered: %llu MiB in DRAM (budget 16384), %llu hot pages on the slow tier",
	      (unsigned long long)(fast * 32768 >> 20), (unsigned long long)hot_slow);
	printf("# 64 GiB VM: where() up to %zu of %zu sampled pages an epoch, numa_maps %llu reads in 40 epochs, "
	       "%d regions the kernel moved found, %llu MiB in DRAM\n", most, pages,
	       (unsigned long long)reads, behind, (unsigned long long)(fast * 32768 >> 20));
	free(h);

	/* a small VM at the same costs: whole readings every epoch */
	h = calloc(nr, sizeof(*h));
	engine_sim_stop(&e);
	engine_sim_start(&e);
	e.sim_where_ns = 1000;
	e.sim_maps_s = 1.0;
	p.vmid = 101;
	p.dram_max = 256 * MiB;
	CHECK(h && !engine_sim_vm(&e, &p, ram, 0.5), "a simulated 1 GiB VM");
	if (!h || !e.nvm)
		exit(1);
	v = e.vm[0];
	pages = 0;
	for (size_t k = 0; k < v->nr; k++)
		pages += v->r[k].npg;
	for (uint64_t k = 0; k < nr; k++)
		h[k].region = ((1ULL << 40) >> 21) + k;
	bool whole = true;

	for (int ep = 0; ep < 20; ep++) {
		run_epochs(h, nr, 1);
		whole = whole && v->where_asked == pages;
	}
	CHECK(whole && v->maps_reads >= 20, "1 GiB VM: where() whole %s, numa_maps read %llu times in 20 epochs",
	      whole ? "yes" : "no", (unsigned long long)v->maps_reads);
	free(h);
}

/*
 * A region is hot after two strong readings, not after one: a cold region
 * (in the slow half) that reads as hot as the hot set in one epoch and
 * cold again after stays above the hot line one more epoch by decay alone,
 * and is not hot for it; a region that reads twice as hot every other
 * epoch (its scan window swept every second epoch) is hot after its second
 * reading.
 */
#define SPIKE (nr - 1)
#define PULSE (nr - 2)
static int cur_ep;
static double spikes(uint64_t k)
{
	if (k == 0)
		cur_ep++;
	if (k == SPIKE && cur_ep == 10)
		return 9000;
	if (k == PULSE && cur_ep >= 10)
		return (cur_ep - 10) % 2 ? 0 : 18000;
	return hot_tenth(k);
}

static void test_one_reading(void)
{
	cur_ep = -1;
	struct evm *v = sim(12, spikes);	/* epochs 0..11: the spike at 10 */
	const struct region *r = &v->r[SPIKE];

	printf("# the spiked region an epoch after: heat %.0f, streak %d, %s\n", r->heat, r->streak,
	       r->fast ? "in DRAM" : "on the slow tier");
	CHECK(r->heat >= 7000, "the spike's heat %.0f fell below the line by decay alone: the test tests nothing",
	      r->heat);
	/* (a region in DRAM stays hot on one reading: the fill may have put it there) */
	CHECK(r->streak == 1 && (!r->hot || r->fast), "one reading made a region hot (streak %d)", r->streak);
	cur_ep = -1;
	v = sim(13, spikes);			/* strong readings at 10 and 12 */
	CHECK(v->r[PULSE].hot, "two strong readings an epoch apart did not make a region hot (streak %d)",
	      v->r[PULSE].streak);
}

/*
 * --pin-hot keeps a hot set whose heat dips: a hot set of 240 MiB, nearly
 * all of the 256 MiB budget, in DRAM after 20 steady epochs, reads cold
 * for DIP epochs while 24 regions of the slow tier read as hot as it did
 * (on a real guest in the lab on 6.1 tierd then evicted hot regions to
 * make room for such newcomers, and the guest's DRAM share fell from 0.93
 * to 0.70 for ten epochs). What the shield covers stays in DRAM: no
 * region of the hot set leaves it, and the newcomers, hot by then, wait.
 */
#define DIP 4
#define HOT_N 120
#define NOISE (nr / 2 + nr / 4)
static double dip(uint64_t k)
{
	bool hot = k >= nr / 2 && k < nr / 2 + HOT_N;

	if (k == 0)
		cur_ep++;
	if (cur_ep >= 20 && cur_ep < 20 + DIP) {
		if (k >= NOISE && k < NOISE + 24)
			return 9000;
		if (hot)
			return 111;
	}
	return hot ? 9000 : 111;
}

static void test_pin_hot_dip(void)
{
	int left = 0, noise_hot = 0;

	pin_hot = true;
	cur_ep = -1;
	struct evm *v = sim(20 + DIP, dip);
	pin_hot = false;
	for (uint64_t k = nr / 2; k < nr / 2 + HOT_N; k++)
		left += v->r[k].slow > 0;
	for (uint64_t k = NOISE; k < NOISE + 24; k++)
		noise_hot += v->r[k].hot;
	printf("# pin-hot, the hot set's heat dipped %d epochs: %d of its %d regions left DRAM; %d of 24 newcomers hot\n",
	       DIP, left, HOT_N, noise_hot);
	CHECK(noise_hot > 0, "no newcomer hot: the test tests nothing");
	CHECK(left == 0, "%d regions of the hot set left DRAM under --pin-hot while its heat dipped", left);
	CHECK(v->dram_est <= p.dram_max, "DRAM %llu MiB over the budget", (unsigned long long)(v->dram_est / MiB));
}

/* one more epoch of a reading of every region, through the simulated mover */
static void one_epoch(struct region_count *h)
{
	for (uint64_t k = 0; k < nr; k++)
		h[k].score += 1000, h[k].count++;
	engine_sim_epoch(&e, h, (long)nr);
}

/*
 * A VM on a live-migration target, over its budget: nothing moves while
 * its config is locked for the migration (its RAM is still arriving),
 * and it is steered in the first epoch after the unlock when its RAM
 * stayed the same under the lock for two epochs.
 */
static void test_incoming(void)
{
	static const char locked[] = "memory: 1024\nlock: migrate\n", unlocked[] = "memory: 1024\n";
	char dir[] = "/tmp/tierd-test-pve.XXXXXX", conf[300];
	struct region_count *h = calloc(nr, sizeof(*h));
	int waited = 0;

	CHECK(h && mkdtemp(dir), "a pve dir");
	if (!h)
		exit(1);
	put_file(dir, "qemu-server/101.conf", locked, strlen(locked));
	engine_sim_stop(&e);
	engine_sim_start(&e);
	e.o.pve_dir = dir;
	policy_default(&p);
	p.vmid = 101;
	p.dram_max = 256 * MiB;
	CHECK(!engine_sim_vm(&e, &p, ram, 0.5), "a simulated VM");
	struct evm *v = e.vm[0];

	v->incoming = true;
	for (uint64_t k = 0; k < nr; k++)
		h[k].region = ((1ULL << 40) >> 21) + k;
	for (int ep = 0; ep < 5; ep++)
		one_epoch(h);
	CHECK(v->incoming && v->moves == 0 && v->demoted == 0, "under the lock: incoming %d, %llu moves",
	      v->incoming, (unsigned long long)v->moves);
	put_file(dir, "qemu-server/101.conf", unlocked, strlen(unlocked));
	for (; v->incoming && waited < 5; waited++)
		one_epoch(h);
	printf("# incoming: steered %d epoch(s) after the unlock, demoted %llu MiB\n", waited,
	       (unsigned long long)(v->demoted / MiB));
	CHECK(waited == 1 && !v->incoming, "steered %d epochs after the unlock, not in the first", waited);
	CHECK(v->demoted > 0, "nothing demoted in the first epoch after the unlock, 512 MiB over a 256 MiB budget");
	e.o.pve_dir = NULL;
	snprintf(conf, sizeof(conf), "%s/qemu-server/101.conf", dir);
	unlink(conf);
	snprintf(conf, sizeof(conf), "%s/qemu-server", dir);
	rmdir(conf);
	rmdir(dir);
	free(h);
}

int main(void)
{
	log_init(LOG_ERR);
	test_sim_steers();
	test_sim_zipf();
	test_hw_merge_rule();
	test_hw_steers();
	test_big_vm_reads();
	test_one_reading();
	test_pin_hot_dip();
	test_incoming();
	engine_sim_stop(&e);
	printf("%d checks passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

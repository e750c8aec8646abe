// SPDX-License-Identifier: GPL-2.0-only
/*
 * The epoch's guards, one test each, on hand-built regions through the
 * simulated mover (engine_sim_*): the production phases, every guard in
 * place. Each test builds a small VM region by region (heat, streak,
 * tier, last move), runs one epoch with no heat reading (read_heat then
 * only decays the heat, by 0.8) and asserts a decision the guard makes,
 * against the same VM built so the guard does not apply: pin-hot, held
 * (HOLD_EPOCHS), fill settled (PINGPONG_EPOCHS), blackout, yield, margin,
 * free floor; then the two
 * paths the simulator never ran before the mover: reclaim_excess and the
 * exact-budget hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "log.h"
#include "check.h"

#define MiB (1ULL << 20)
#define EPOCH 100		/* the tested epoch */

static struct engine e;

/* A simulated VM of n regions (2 MiB, 64 sampled pages each), all on the
 * slow tier, no heat; sampled long enough that cold means cold, attached
 * long ago; the next epoch is EPOCH. */
static struct evm *vm_of(size_t n, uint64_t budget, bool pin_hot)
{
	struct policy p;

	engine_sim_stop(&e);
	engine_sim_start(&e);
	policy_default(&p);
	p.vmid = 200;
	p.dram_max = budget;
	p.pin_hot = pin_hot;
	if (engine_sim_vm(&e, &p, n << 21, 0)) {
		printf("not ok: no simulated VM\n");
		exit(1);
	}
	e.epoch = EPOCH - 1;
	e.vm[0]->attached_epoch = 1;
	e.vm[0]->seen = 3;		/* WARM_EPOCHS */
	return e.vm[0];
}

/* Region k: heat after this epoch's decay, in DRAM or not, its streak so
 * far (2 or more, or 1 in DRAM, with a heat above the hot line: hot this
 * epoch, whose missing reading adds nothing to it). */
static void set(struct evm *v, size_t k, double heat, bool dram, int streak)
{
	struct region *r = &v->r[k];

	r->heat = heat / 0.8;	/* DECAY, once */
	r->streak = streak;
	v->sim_fast[k] = dram ? (uint32_t)r->npg : 0;
}

/* region k last moved `ago` epochs before EPOCH, promoted (dir 1) or demoted (-1) */
static void moved(struct evm *v, size_t k, int ago, int dir)
{
	v->r[k].moved_at = EPOCH - ago;
	v->r[k].dir = dir;
}

static void epoch(void)
{
	engine_sim_epoch(&e, NULL, 0);
}

static bool in_dram(const struct evm *v, size_t k)
{
	return v->sim_fast[k] == v->r[k].npg;
}

static int count_dram(const struct evm *v, size_t from, size_t to)
{
	int n = 0;

	for (size_t k = from; k < to; k++)
		n += in_dram(v, k);
	return n;
}

/*
 * pin-hot: over budget, the hot set is not demoted while it fits the
 * budget. numa_maps sees 2 MiB more per DRAM region than the samples
 * (sim_extra), so the VM is over its 8 MiB budget with only its 4 hot
 * regions (8 MiB sampled) in DRAM: without pin-hot they are demoted.
 */
static void test_pin_hot(void)
{
	for (int pin = 1; pin >= 0; pin--) {
		struct evm *v = vm_of(16, 8 * MiB, pin);

		e.sim_extra = 2 * MiB;
		for (size_t k = 0; k < 16; k++)
			set(v, k, k < 4 ? 1000 : 10, k < 4, k < 4 ? 2 : 0);
		epoch();
		CHECK(v->r[0].hot && !v->budget_bound, "pin-hot %d: the hot set is hot and fits", pin);
		if (pin)
			CHECK(count_dram(v, 0, 4) == 4 && v->demoted == 0,
			      "pin-hot: %d of 4 hot regions in DRAM, %llu MiB demoted", count_dram(v, 0, 4),
			      (unsigned long long)(v->demoted / MiB));
		else
			CHECK(count_dram(v, 0, 4) < 4, "no pin-hot: the hot set stayed in DRAM over budget");
	}
}

/*
 * held: with no budget, cold DRAM regions are demoted, but not one
 * promoted less than HOLD_EPOCHS (5) ago. Region 2 promoted 2 epochs ago
 * stays; region 3, promoted 5 ago, and region 4, never moved, go.
 */
static void test_held(void)
{
	struct evm *v = vm_of(8, 0, false);

	set(v, 0, 1000, true, 2);
	set(v, 1, 1000, true, 2);
	for (size_t k = 2; k < 8; k++)
		set(v, k, 1, k < 5, 0);
	moved(v, 2, 2, 1);
	moved(v, 3, 5, 1);
	epoch();
	CHECK(in_dram(v, 0) && in_dram(v, 1), "the hot regions were demoted");
	CHECK(in_dram(v, 2), "a region promoted 2 epochs ago was demoted as cold");
	CHECK(!in_dram(v, 3), "a region promoted 5 epochs ago is no longer held");
	CHECK(!in_dram(v, 4), "a cold DRAM region was not demoted");
}

/*
 * fill settled: below the hot line, a region promoted less than
 * PINGPONG_EPOCHS (10) ago is not evicted for a warmer fill region, and
 * one demoted that recently is not brought back by the fill. Regions 0-11
 * (24 MiB) in DRAM, heat 5 and warmth 10; region 12 on the slow tier,
 * heat 10 (none is hot) and warmth 1000:
 * the fill wants it and 11 of the DRAM ones under a 32 MiB budget (24 MiB
 * to promote to, the margin kept). With the DRAM ones promoted 7 epochs
 * ago nothing moves; 12 ago, region 12 is promoted and one of them goes.
 * Region 12 demoted 7 epochs ago stays where it is; 12 ago, it comes back.
 */
static void test_fill_settled(void)
{
	for (int c = 0; c < 3; c++) {
		struct evm *v = vm_of(32, 32 * MiB, false);
		int ago_dram = c == 0 ? 7 : 12, ago_12 = c == 2 ? 7 : 12;

		for (size_t k = 0; k < 32; k++) {
			set(v, k, k < 12 ? 5 : 10, k < 12, 0);	/* the DRAM ones after 12 in the heat order */
			v->r[k].warmth = k == 12 ? 1000 : 10;
			if (k < 12)
				moved(v, k, ago_dram, 1);
		}
		moved(v, 12, ago_12, -1);
		epoch();
		bool moved_in = in_dram(v, 12);
		if (c == 1)
			CHECK(moved_in && count_dram(v, 0, 12) == 11, "fill: region 12 %s, %d of 12 left in DRAM",
			      moved_in ? "promoted" : "not promoted", count_dram(v, 0, 12));
		else
			CHECK(!moved_in && count_dram(v, 0, 12) == 12,
			      "fill settled (%s): region 12 %s, %d of 12 left in DRAM",
			      c == 0 ? "DRAM promoted 7 ago" : "12 demoted 7 ago", moved_in ? "promoted" : "not promoted",
			      count_dram(v, 0, 12));
	}
}

/*
 * blackout: a region moved last epoch takes migration-entry faults; its
 * samples of that time are dropped and its heat held. Region 2, demoted
 * last epoch, and region 3, not moved, read the same burst of faults:
 * region 3 turns hot and is promoted, region 2 stays cold on the slow
 * tier with its heat as it was.
 */
static void test_blackout(void)
{
	struct evm *v = vm_of(8, 0, false);
	struct region_count h[2] = {
		{ .slot = 0, .region = v->r[2].lo >> 21, .count = 100, .score = 100000 },
		{ .slot = 0, .region = v->r[3].lo >> 21, .count = 100, .score = 100000 },
	};

	set(v, 0, 1000, true, 2);
	set(v, 1, 1000, true, 2);
	for (size_t k = 2; k < 8; k++)
		set(v, k, 10, false, 1);
	moved(v, 2, 1, -1);
	engine_sim_epoch(&e, h, 2);
	CHECK(in_dram(v, 3) && v->r[3].hot, "the region with the burst of heat was not promoted");
	CHECK(!in_dram(v, 2) && !v->r[2].hot, "a region demoted last epoch was promoted on its migration faults");
	CHECK(v->r[2].heat == 10 / 0.8 && v->r[2].cum == 100000, "blackout: heat %.1f (held: %.1f), cum %llu",
	      v->r[2].heat, 10 / 0.8, (unsigned long long)v->r[2].cum);
}

/*
 * yield: while the kernel promotes the VM's pages on its own, tierd
 * demotes none of them; over budget the excess stays (and goes once the
 * yield is over).
 */
static void test_yield(void)
{
	for (int yield = 1; yield >= 0; yield--) {
		struct evm *v = vm_of(16, 8 * MiB, false);

		for (size_t k = 0; k < 16; k++)
			set(v, k, k < 2 ? 1000 : 10, true, k < 2 ? 2 : 0);
		if (yield)
			v->yield_until = EPOCH + 3;
		epoch();
		if (yield)
			CHECK(v->demoted == 0 && count_dram(v, 0, 16) == 16, "yielding: %llu MiB demoted",
			      (unsigned long long)(v->demoted / MiB));
		else
			CHECK(v->dram_est <= 8 * MiB && count_dram(v, 0, 2) == 2,
			      "not yielding: DRAM %llu MiB against 8, the hot pair %d in DRAM",
			      (unsigned long long)(v->dram_est / MiB), count_dram(v, 0, 2));
	}
}

/*
 * margin: promotions fill to the budget less its margin (max(2%, 8
 * MiB)), sizes being estimates: of 16 hot slow regions (32 MiB, all the
 * DRAM set under a 32 MiB budget) 12 are promoted, not 16. (A hot
 * region is at twice the mean heat: a quarter of the VM's regions.)
 */
static void test_margin(void)
{
	struct evm *v = vm_of(64, 32 * MiB, false);

	for (size_t k = 0; k < 64; k++)
		set(v, k, k < 16 ? 1000 : 10, false, k < 16 ? 2 : 0);
	epoch();
	CHECK(v->want_bytes == 32 * MiB, "DRAM set %llu MiB, not the 16 hot regions",
	      (unsigned long long)(v->want_bytes / MiB));
	CHECK(count_dram(v, 0, 16) == 12 && v->dram_est == 24 * MiB,
	      "margin: %d of 16 hot regions promoted, DRAM %llu MiB (budget 32, margin 8)", count_dram(v, 0, 16),
	      (unsigned long long)(v->dram_est / MiB));
}

/*
 * free floor: promotions keep free DRAM above the host's watermark
 * (dram_free_min). With 69 MiB free and a 64 MiB floor, 2 of 8 hot slow
 * regions are promoted; with no floor, all 8.
 */
static void test_free_floor(void)
{
	for (int floor = 1; floor >= 0; floor--) {
		struct evm *v = vm_of(32, 0, false);

		e.sim_free[0] = 69 * MiB;
		e.o.dram_free_min = floor ? 64 * MiB : 0;
		for (size_t k = 0; k < 32; k++)
			set(v, k, k < 8 ? 1000 : 10, false, k < 8 ? 2 : 0);
		epoch();
		CHECK(count_dram(v, 0, 8) == (floor ? 2 : 8), "free floor %d: %d of 8 hot regions promoted", floor,
		      count_dram(v, 0, 8));
	}
}

/*
 * reclaim_excess: over budget before any heat of the VM, the excess goes
 * by memory.reclaim (the simulated mover: whole regions in address
 * order), not in tierd's order, and within the epoch's migration budget.
 */
static void test_reclaim(void)
{
	struct evm *v = vm_of(16, 8 * MiB, false);

	v->seen = 0;
	for (size_t k = 0; k < 16; k++)
		set(v, k, 0, true, 0);
	epoch();
	/* the excess (32 - 8) and the margin (8): 32 MiB, all of it */
	CHECK(v->dram_est == 0 && v->demoted == 32 * MiB, "reclaim: DRAM %llu MiB, %llu MiB demoted",
	      (unsigned long long)(v->dram_est / MiB), (unsigned long long)(v->demoted / MiB));
	CHECK(v->moves == 0, "reclaim: %llu regions moved by tierd as well", (unsigned long long)v->moves);
}

/*
 * the exact-budget hold: after promotions numa_maps is read again and the
 * budget held against it. With 1 MiB per DRAM region the samples miss,
 * promoting 6 hot regions to the margin (24 MiB sampled) leaves 30 MiB
 * exact in DRAM against a 32 MiB budget (held at 28): one cold region
 * goes. With nothing missed, none.
 */
static void test_hold(void)
{
	for (int extra = 1; extra >= 0; extra--) {
		struct evm *v = vm_of(16, 32 * MiB, false);

		e.sim_extra = extra ? 1 * MiB : 0;
		for (size_t k = 0; k < 16; k++)
			set(v, k, k < 6 ? 1000 : 10, k >= 6 && k < (extra ? 10 : 12), k < 6 ? 2 : 0);
		epoch();
		CHECK(count_dram(v, 0, 6) == 6, "hold %d: %d of 6 hot regions promoted", extra, count_dram(v, 0, 6));
		int cold = count_dram(v, 6, 16);
		if (extra)
			CHECK(cold == 3 && v->node_bytes[0] <= 28 * MiB,
			      "hold: %d of 4 cold DRAM regions left, %llu MiB exact in DRAM", cold,
			      (unsigned long long)(v->node_bytes[0] / MiB));
		else
			CHECK(cold == 6, "no hold needed: %d of 6 cold DRAM regions left", cold);
	}
}

int main(void)
{
	log_init(LOG_ERR);
	test_pin_hot();
	test_held();
	test_fill_settled();
	test_blackout();
	test_yield();
	test_margin();
	test_free_floor();
	test_reclaim();
	test_hold();
	engine_sim_stop(&e);
	printf("%d checks passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engine's decisions on a simulated VM (engine_sim_*: moves change only
 * tierd's bookkeeping, no kernel): a 1 GiB VM with half of it in DRAM and a
 * 256 MiB budget, its hot tenth starting on the slow tier. After some
 * epochs the VM is within budget, the hot set was promoted (the slow tier's
 * share of the heat is small) and nothing ping-ponged. This is what
 * tools/bench/loop times; it once moved nothing while the table printed on.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "log.h"
#include "check.h"

#define MiB (1ULL << 20)

static struct engine e;
static struct policy p;
static const uint64_t ram = 1024 * MiB, nr = 1024 * MiB >> 21;

/* A 1 GiB simulated VM, half in DRAM, budget 256 MiB; epochs of heat
 * score(k) per region k; the VM. */
static struct evm *sim(int epochs, double (*score)(uint64_t k))
{
	struct region_count *h = calloc(nr, sizeof(*h));

	engine_sim_start(&e);
	policy_default(&p);
	p.vmid = 101;
	p.dram_max = 256 * MiB;
	CHECK(h && !engine_sim_vm(&e, &p, ram, 0.5), "a simulated VM");
	if (!h || !e.nvm)
		exit(1);
	for (uint64_t k = 0; k < nr; k++)
		h[k].region = ((1ULL << 40) >> 21) + k;
	for (int ep = 0; ep < epochs; ep++) {
		for (uint64_t k = 0; k < nr; k++) {
			h[k].count++;
			h[k].score += (uint64_t)score(k);
		}
		engine_sim_epoch(&e, h, (long)nr);
	}
	free(h);
	return e.vm[0];
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
	       (unsigned long long)(v->dram_bytes / MiB), (unsigned long long)(v->promoted / MiB),
	       (unsigned long long)(v->demoted / MiB), (unsigned long long)(v->hot_bytes / MiB), v->slow_share,
	       (unsigned long long)v->pingpong);
	CHECK(v->dram_bytes <= p.dram_max, "DRAM %llu MiB over the budget", (unsigned long long)(v->dram_bytes / MiB));
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
	       (unsigned long long)(v->dram_bytes / MiB), (unsigned long long)(v->hot_bytes / MiB),
	       (unsigned long long)(v->want_bytes / MiB), v->slow_share, 1 - top / all, (unsigned long long)v->pingpong);
	CHECK(v->dram_bytes <= p.dram_max, "DRAM %llu MiB over the budget", (unsigned long long)(v->dram_bytes / MiB));
	CHECK(v->slow_share <= 1 - top / all + 0.02, "slow share %.3f, best %.3f", v->slow_share, 1 - top / all);
}

int main(void)
{
	log_init(LOG_ERR);
	test_sim_steers();
	test_sim_zipf();
	printf("%d checks passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

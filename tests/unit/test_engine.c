// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engine's decisions on a simulated VM (engine_sim_*: moves change only
 * tierd's bookkeeping, no kernel): a 1 GiB VM with half of it in DRAM and a
 * 256 MiB budget, its hot tenth starting on the slow tier. After some
 * epochs the VM is within budget, the hot set was promoted (the slow tier's
 * share of the heat is small) and nothing ping-ponged. This is what
 * tools/bench/loop times; it once moved nothing while the table printed on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "log.h"
#include "check.h"

#define MiB (1ULL << 20)

static void test_sim_steers(void)
{
	static struct engine e;
	struct policy p;
	uint64_t ram = 1024 * MiB, nr = ram >> 21;
	struct region_count *h = calloc(nr, sizeof(*h));

	memset(&e, 0, sizeof(e));
	e.sim = true;
	e.s.scan_via = "simulated";
	e.o.epoch_s = 2;
	e.o.host_rate_mbs = 1024;
	e.topo.first_fast = 0;
	e.topo.first_slow = 1;
	policy_default(&p);
	p.vmid = 101;
	p.dram_max = 256 * MiB;
	CHECK(h && !engine_sim_vm(&e, &p, ram, 0.5), "a simulated VM");
	if (!h || !e.nvm)
		return;
	for (uint64_t k = 0; k < nr; k++)
		h[k].region = ((1ULL << 40) >> 21) + k;
	for (int ep = 0; ep < 20; ep++) {
		for (uint64_t k = 0; k < nr; k++) {
			bool hot = k >= nr / 2 && k < nr / 2 + nr / 10;
			h[k].count++;
			h[k].score += hot ? 9000 : 111;
		}
		engine_sim_epoch(&e, h, (long)nr);
	}
	struct evm *v = e.vm[0];
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
	free(h);
}

int main(void)
{
	log_init(LOG_ERR);
	test_sim_steers();
	printf("%d checks passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

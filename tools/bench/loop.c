// SPDX-License-Identifier: GPL-2.0-only
/*
 * tools/bench/loop: the cost of one epoch of tierd's decision loop (heat
 * decay and update, placement and the exact DRAM figure, hot set, DRAM
 * set, migration choices, the exact-budget hold, feedback, shield) as
 * guest RAM grows, outside the lab: the engine's own epoch code (engine.c)
 * through the simulated mover, whose moves change only its own record.
 * Not measured here: reading the BPF heat map, move_pages and numa_maps
 * themselves (kernel work that the lab's figures include).
 *
 * Each VM: 10% of its regions hot (90% of the heat), the rest cold with
 * noise, every region in the heat reading every epoch (the worst case: a
 * real reading holds only the regions sampled). Half of guest RAM starts
 * in DRAM, the budget is a quarter, so every epoch promotes and demotes up
 * to its rate limit. Prints a Markdown table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "engine.h"
#include "log.h"

#define WARM 5
#define TIMED 10

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ULL;
static double unif(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (rng >> 11) * (1.0 / 9007199254740992.0);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* nvm VMs of ram GiB each: ms per epoch (median), and the tables' bytes */
static void run(int nvm, uint64_t ram, FILE *md)
{
	static struct engine e;
	struct region_count *h;
	uint64_t nr = ram >> 21, nh = nr * (uint64_t)nvm;
	double t[TIMED];

	engine_sim_start(&e);
	for (int i = 0; i < nvm; i++) {
		struct policy p;
		policy_default(&p);
		p.vmid = 100 + i;
		p.dram_max = ram / 4;
		if (engine_sim_vm(&e, &p, ram, 0.5)) {
			fprintf(stderr, "loop: cannot make VM %d\n", i);
			exit(1);
		}
	}
	if (!(h = calloc(nh, sizeof(*h)))) {
		fprintf(stderr, "loop: out of memory for %llu heat entries\n", (unsigned long long)nh);
		exit(1);
	}
	for (int i = 0; i < nvm; i++)
		for (uint64_t k = 0; k < nr; k++) {
			struct region_count *c = &h[(uint64_t)i * nr + k];
			c->slot = (uint32_t)i;
			c->region = (((1ULL << 40) + (uint64_t)i * (1ULL << 42)) >> 21) + k;
		}
	for (int ep = 0; ep < WARM + TIMED; ep++) {
		for (uint64_t j = 0; j < nh; j++) {
			uint64_t k = j % nr;
			bool hot = k >= nr / 2 && k < nr / 2 + nr / 10;	/* the hot tenth starts on the slow tier */
			h[j].count += 1;
			h[j].score += (uint64_t)((hot ? 9000.0 : 111.0) * (0.5 + unif()));
		}
		double t0 = now();
		engine_sim_epoch(&e, h, (long)nh);
		if (ep >= WARM)
			t[ep - WARM] = now() - t0;
	}
	qsort(t, TIMED, sizeof(*t), cmp_d);
	double ms = t[TIMED / 2] * 1e3;
	uint64_t moved = 0, hot = 0;
	for (int i = 0; i < e.nvm; i++) {
		moved += e.vm[i]->promoted + e.vm[i]->demoted;
		hot += e.vm[i]->hot_bytes;
	}
	fprintf(md, "| %d x %llu GiB | %llu GiB | %llu | %.2f | %.0f | %.1f MiB | %.2f%% | %llu MiB | %llu MiB |\n",
		nvm, (unsigned long long)(ram >> 30), (unsigned long long)((ram >> 30) * nvm), (unsigned long long)nh,
		ms, ms * 1e6 / nh, engine_table_bytes(ram) * nvm / 1048576.0,
		100.0 * engine_table_bytes(ram) / (double)ram, (unsigned long long)(hot >> 20),
		(unsigned long long)(moved >> 20));
	fflush(md);
	engine_sim_stop(&e);
	free(h);
}

int main(int argc, char **argv)
{
	static const struct { int nvm; uint64_t gib; } cases[] = {
		{ 1, 1 }, { 1, 4 }, { 1, 16 }, { 1, 64 }, { 1, 256 }, { 1, 1024 },
		{ 16, 64 }, { 64, 16 }, { 256, 4 },
	};
	int ncases = (int)(sizeof(cases) / sizeof(cases[0]));
	int first = 0, n = ncases;

	/* bench-loop [N]: the first N rows; bench-loop -c I: row I alone (0-based, for perf) */
	if (argc > 2 && !strcmp(argv[1], "-c")) {
		first = atoi(argv[2]);
		n = first + 1;
	} else if (argc > 1) {
		n = atoi(argv[1]);
	}

	log_init(LOG_ERR);
	printf("| VMs x guest RAM | total | regions (2 MiB) | ms per epoch | ns per region | tables (real engine) | of guest RAM | hot set found | moved in %d epochs |\n",
	       WARM + TIMED);
	printf("|---|---|---|---|---|---|---|---|---|\n");
	for (int i = first; i < n && i < ncases; i++)
		run(cases[i].nvm, cases[i].gib << 30, stdout);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * tools/bench/decisions: a digest of every decision of the engine's epoch
 * code (engine.c, included here to see its regions) on seeded simulated
 * VMs: sizes 1-256 GiB, one to five VMs, hot sets fixed, moving and
 * oscillating, Zipf heat, ties, sparse readings, with and without budgets,
 * pin-hot, heat from counts, numa_maps seeing more than the samples (the
 * exact-budget hold), first epochs with no heat (memory.reclaim), all
 * through the simulated mover. Per VM and epoch it hashes every region's
 * heat, warmth, placement, last move, streak, ping-pongs, hot and wanted
 * flags, and the VM's thresholds and totals; one line per epoch, one total
 * per case. A guard for work on the loop's speed: the digest before and
 * after a change must be the same (diff the two outputs). Not a test: a
 * change of policy changes it on purpose.
 */
#include "engine.c"

static uint64_t rs;
static double unif(void)
{
	rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
	return (rs >> 11) * (1.0 / 9007199254740992.0);
}
static uint64_t H;
static void mix(uint64_t x) { H ^= x; H *= 0x100000001b3ULL; H ^= H >> 29; }
static void mixd(double d) { uint64_t x; memcpy(&x, &d, 8); mix(x); }

enum pat { BENCH, ZIPF, MOVING, TIES, OSC, SPARSE };
/* extra: bytes per DRAM region numa_maps sees beyond the samples (the
 * exact-budget hold's case); quiet: first epochs with no heat reading at
 * all (reclaim_excess's) */
struct sc { const char *name; int nvm; uint64_t mib; enum pat pat; double budget; bool pin; bool counts; double share;
	    uint64_t extra; int quiet; };

static void run(const struct sc *s)
{
	static struct engine e;
	uint64_t nr = s->mib >> 1, nh = nr * s->nvm;
	struct region_count *h = calloc(nh, sizeof(*h));
	uint32_t *perm = malloc(nr * sizeof(*perm));
	uint64_t all = 0;

	rs = 0x9E3779B97F4A7C15ULL ^ (s->mib * 131 + s->pat * 7 + s->nvm);
	for (uint64_t k = 0; k < nr; k++) perm[k] = k;
	for (uint64_t k = nr - 1; k > 0; k--) { uint64_t j = (uint64_t)(unif() * (k + 1)); uint32_t t = perm[k]; perm[k] = perm[j]; perm[j] = t; }
	engine_sim_stop(&e);
	engine_sim_start(&e);
	if (s->counts) e.s.scan_via = NULL;
	e.sim_extra = s->extra;
	for (int i = 0; i < s->nvm; i++) {
		struct policy p; policy_default(&p);
		p.vmid = 100 + i; p.pin_hot = s->pin;
		p.dram_max = s->budget > 0 ? (uint64_t)(s->mib * s->budget / (1 + i)) << 20 : 0;
		if (p.dram_max && p.dram_max < (8ULL << 20)) p.dram_max = 8ULL << 20;
		if (engine_sim_vm(&e, &p, s->mib << 20, s->share)) { fprintf(stderr, "vm\n"); exit(1); }
	}
	for (int i = 0; i < s->nvm; i++)
		for (uint64_t k = 0; k < nr; k++) {
			h[i * nr + k].slot = i;
			h[i * nr + k].region = ((SIM_BASE + (uint64_t)i * (1ULL << 42)) >> 21) + k;
		}
	for (int ep = 0; ep < 30; ep++) {
		long n = 0;
		for (int i = 0; i < s->nvm; i++)
			for (uint64_t k = 0; k < nr; k++) {
				struct region_count c = h[i * nr + k];
				double sc = 0;
				uint64_t q = perm[k];
				switch (s->pat) {
				case BENCH: sc = (k >= nr / 2 && k < nr / 2 + nr / 10 ? 9000.0 : 111.0) * (0.5 + unif()); break;
				case ZIPF: sc = 200000.0 / (q + 1) * (0.8 + 0.4 * unif()); break;
				case MOVING: { uint64_t b = ep < 12 ? nr / 2 : nr / 5; sc = (k >= b && k < b + nr / 8 ? 5000.0 : 50.0) * (0.5 + unif()); break; }
				case TIES: sc = q % 7 == 0 ? 1000 : q % 3 == 0 ? 10 : 0; break;
				case OSC: { uint64_t b = (ep / 3) % 2 ? nr / 3 : 2 * nr / 3; sc = (k >= b && k < b + nr / 10 ? 3000.0 : 100.0) * (0.7 + 0.6 * unif()); break; }
				case SPARSE: (void)unif(); sc = (q < nr / 20 ? 20000.0 : 200.0) * unif(); break;
				}
				if (s->counts) c.count += (uint64_t)(sc / 100); else { c.count += 1; c.score += (uint64_t)sc; }
				h[i * nr + k] = c;
			}
		/* the reading: sparse patterns drop entries (the map keeps cum) */
		struct region_count *rd = malloc(nh * sizeof(*rd));
		rs ^= ep;
		for (uint64_t j = 0; j < nh; j++) {
			uint64_t q = perm[j % nr];
			bool in = true;
			if (s->pat == TIES) in = !(q % 5 == 0 && ep % 2);
			if (s->pat == SPARSE) in = ((q * 2654435761u + ep * 97) % 10) < 3;
			if (in && ep >= s->quiet) rd[n++] = h[j];
		}
		engine_sim_epoch(&e, rd, n);
		free(rd);
		H = 1469598103934665603ULL;
		uint64_t pr = 0, de = 0, hot = 0, want = 0;
		for (int i = 0; i < e.nvm; i++) {
			struct evm *v = e.vm[i];
			mixd(v->hyst); mix(v->hot_bytes); mix(v->want_bytes); mix(v->dram_est); mix(v->slow_bytes);
			mix(v->promoted); mix(v->demoted); mix(v->pingpong); mix(v->budget_bound); mixd(v->slow_share); mixd(v->budget_use);
			pr += v->promoted; de += v->demoted; hot += v->hot_bytes; want += v->want_bytes;
			for (size_t k = 0; k < v->nr; k++) {
				struct region *r = &v->r[k];
				mixd(r->heat); mixd(r->warmth); mix(r->fast | (uint64_t)r->slow << 32); mix(r->moved_at); mix(r->dir);
				mix(r->streak); mix(r->pp); mix(r->hot | r->want << 1); mix(r->shield_until);
			}
		}
		all = all * 31 + H;
		printf("%s ep%02d %016llx prom %llu dem %llu hot %llu want %llu\n", s->name, ep, (unsigned long long)H,
		       (unsigned long long)(pr >> 20), (unsigned long long)(de >> 20), (unsigned long long)(hot >> 20), (unsigned long long)(want >> 20));
	}
	printf("%s total %016llx\n", s->name, (unsigned long long)all);
	free(h); free(perm);
}

int main(void)
{
	static const struct sc cases[] = {
		{ "bench1g", 1, 1024, BENCH, 0.25, false, false, 0.5, 0, 0 },
		{ "bench16g", 1, 16384, BENCH, 0.25, false, false, 0.5, 0, 0 },
		{ "bench64g", 1, 65536, BENCH, 0.25, false, false, 0.5, 0, 0 },
		{ "zipf4g", 1, 4096, ZIPF, 0.5, false, false, 0.3, 0, 0 },
		{ "zipf16g-pin", 1, 16384, ZIPF, 0.1, true, false, 0.6, 0, 0 },
		{ "nobudget4g", 1, 4096, BENCH, 0, false, false, 0.7, 0, 0 },
		{ "moving8g", 1, 8192, MOVING, 0.3, false, false, 0.5, 0, 0 },
		{ "ties4g", 1, 4096, TIES, 0.2, true, false, 0.5, 0, 0 },
		{ "ties-nob2g", 1, 2048, TIES, 0, false, false, 0.5, 0, 0 },
		{ "osc4g", 1, 4096, OSC, 0.2, false, false, 0.4, 0, 0 },
		{ "sparse8g", 1, 8192, SPARSE, 0.15, false, true, 0.5, 0, 0 },
		{ "bench16g-low", 1, 16384, BENCH, 0.25, false, false, 0.1, 0, 0 },
		{ "bench256g-low", 1, 262144, BENCH, 0.25, false, false, 0.1, 0, 0 },
		{ "zipf8g-low-pin", 1, 8192, ZIPF, 0.3, true, false, 0.05, 0, 0 },
		{ "multi3x4g", 3, 4096, BENCH, 0.4, false, false, 0.5, 0, 0 },
		{ "multi5x2g-zipf", 5, 2048, ZIPF, 0.3, false, false, 0.5, 0, 0 },
		{ "hold4g-extra", 1, 4096, BENCH, 0.25, false, false, 0.2, 256 << 10, 0 },
		{ "lru4g-quiet", 1, 4096, ZIPF, 0.25, false, false, 0.6, 0, 2 },
		{ "multi3x2g-quiet-extra", 3, 2048, MOVING, 0.3, true, false, 0.5, 128 << 10, 1 },
	};
	log_init(LOG_ERR);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run(&cases[i]);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_SAMPLERS_H
#define TIERD_SAMPLERS_H

#include <stdbool.h>
#include <stdint.h>
#include "tierd.h"

/* Ways to sample page-access heat, in order of preference. */
enum heat_via { HEAT_FENTRY, HEAT_KPROBE, HEAT_PERF_HW, HEAT_PERF_SW, NR_HEAT_VIA, HEAT_AUTO = -1 };

struct sampler_opts {
	int heat;			/* enum heat_via or HEAT_AUTO */
	unsigned region_shift;		/* 21: 2 MiB regions; 12: 4 KiB */
	uint32_t max_regions;		/* heat map entries */
	uint64_t perf_period;		/* perf_event sample period */
	bool no_nvme, no_migrate;
};

/* One try to load and attach a program, as `tierd probe` reports it. */
struct attempt {
	const char *sampler;		/* heat, migrate, nvme */
	const char *via;		/* fentry/handle_mm_fault, ... */
	int err;			/* 0: attached; else -errno */
	char why[200];
};

#define MAX_ATTEMPTS 16

struct perf_set {
	int *fds;
	struct bpf_link **links;
	int n;
};

struct samplers {
	struct heat_bpf *heat;
	struct migrate_bpf *mig;
	struct nvme_bpf *nvme;
	int vms_fd, vm_stats_fd;
	const char *heat_via, *heat2_via, *mig_via, *nvme_via;	/* NULL: none */
	const char *scan_via;		/* NUMA scan windows; NULL: faults are only counted */
	struct perf_set perf, perf2;	/* heat's and heat2's perf events, one a CPU */
	struct heat_bpf *heat2;		/* hardware sampler beside the fault sampler,
					 * on heat's heat map */
	unsigned region_shift;
	const char *forced;		/* TIERD_SAMPLER, when set */
	int force_raw_tp;		/* migrate and nvme start at raw_tp */
	int heat2_sw;			/* heat2 on software page faults (tests) */
	struct attempt tries[MAX_ATTEMPTS];
	int ntries;
	int ncpus;
};

int samplers_start(struct samplers *s, const struct sampler_opts *o);
void samplers_stop(struct samplers *s);
int heat_via_parse(const char *name);
extern const char *const heat_via_names[NR_HEAT_VIA];

/* VM table */
int samplers_add_vm(struct samplers *s, uint64_t cgid, const struct vm_cfg *cfg);
/* New ranges for a VM already added; its counters are kept. */
int samplers_set_vm(struct samplers *s, uint64_t cgid, const struct vm_cfg *cfg);
int samplers_del_vm(struct samplers *s, uint64_t cgid, uint32_t slot);

/* Cumulative readings */
struct region_count {
	uint32_t slot;
	uint64_t region;
	uint64_t count;			/* sampled faults */
	uint64_t score;			/* summed fault weights (see tierd.h) */
};
/* All heat entries, sorted by (slot, region); caller frees *out. */
long samplers_read_heat(struct samplers *s, struct region_count **out);
int samplers_vm_stats(struct samplers *s, uint32_t slot, struct vm_stats *out);
int samplers_mig_stats(struct samplers *s, struct mig_stats *out);
int samplers_nvme_stats(struct samplers *s, uint64_t out[NR_NVME_STATS]);

struct nvme_queue {
	struct nvme_qkey key;
	struct nvme_qstats st;
};
/* All NVMe queues seen; caller frees *out. */
long samplers_read_queues(struct samplers *s, struct nvme_queue **out);
int samplers_vm_io(struct samplers *s, uint32_t slot, struct vm_io *out);

/* out = after - before, slot by slot (before may be NULL: nothing yet). */
void hist_delta(const __u64 *after, const __u64 *before, uint64_t out[TIERD_HIST_SLOTS]);
/* Percentile (0..1) of a histogram, in ns, interpolated inside the bucket. */
double hist_percentile(const uint64_t *hist, int slots, double q);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_ENGINE_H
#define TIERD_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "samplers.h"
#include "topo.h"
#include "vm.h"

/* What an admin asks for one VM. */
struct policy {
	long vmid;
	bool pin_hot;			/* never demote the hot set; shield it (memory.low) */
	uint64_t dram_max;		/* DRAM budget, bytes; 0: none */
	double rate_mbs;		/* migration limit for this VM, MB/s */
	double target_slow;		/* wanted share of accesses on the slow tier */
	double io_slow_us;		/* NVMe p99 above which storage counts as slow */
};

void policy_default(struct policy *p);
/* Parse one policy option (name without "--", value may be NULL).
 * 1: consumed the value, 0: a flag, -1: error (message in why). */
int policy_option(struct policy *p, const char *name, const char *val, char *why, size_t whylen);

/* Host-wide settings. */
struct engine_opts {
	double epoch_s;			/* seconds per epoch */
	double host_rate_mbs;		/* migration limit, all VMs, MB/s */
	uint64_t dram_free_min;		/* never promote below this much free DRAM */
	bool kernel_knobs;		/* own NUMA balancing's knobs */
	const char *dram_nodes, *slow_nodes;
};

struct region;
struct evm;

struct engine {
	struct engine_opts o;
	struct topo topo;
	struct samplers s;
	struct host_paths hp;
	struct evm *vm[TIERD_MAX_VMS];
	int nvm;
	uint64_t epoch;
	double host_budget_left;	/* bytes this epoch */
	double cpu_s;			/* tierd's own CPU time */
};

int engine_start(struct engine *e, const struct engine_opts *o, char *why, size_t whylen);
/* Attach or replace a VM's policy; 0 or -1 with why filled (nothing changed). */
int engine_attach(struct engine *e, const struct policy *p, char *why, size_t whylen);
/* Drop a VM's policy and put its knobs back; -1 if not attached. */
int engine_detach(struct engine *e, long vmid);
/* One epoch for every VM: sample, decide, migrate, tune. */
void engine_epoch(struct engine *e);
/* Status as JSON (one document) or text. */
void engine_status(struct engine *e, FILE *f, bool json);
void engine_stop(struct engine *e);

#endif

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Prometheus text exposition (format 0.0.4) for node_exporter's textfile
 * collector: written to DIR/tierd.prom.tmp, then renamed over
 * DIR/tierd.prom, so a scrape never sees half a file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine.h"
#include "metrics.h"

/* Histogram bounds, in seconds (le labels). */
static const double le_s[] = {
	10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3,
	25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5, 5, 10,
};
#define NLE (sizeof(le_s) / sizeof(le_s[0]))

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * Cumulative buckets from the log-linear histogram: a slot counts towards
 * `le` when its whole range lies at or below it (so a bucket never claims
 * an I/O slower than its bound).
 */
static void buckets(const __u64 *hist, uint64_t out[NLE + 1])
{
	memset(out, 0, (NLE + 1) * sizeof(*out));
	for (uint32_t s = 0; s < TIERD_HIST_SLOTS; s++) {
		if (!hist[s])
			continue;
		double hi = s + 1 < TIERD_HIST_SLOTS ? (double)tierd_hist_low(s + 1) : 1e300;
		for (size_t k = 0; k < NLE; k++)
			if (hi <= le_s[k] * 1e9)
				out[k] += hist[s];
		out[NLE] += hist[s];
	}
}

static void histogram(FILE *f, const char *name, const char *labels, const __u64 *hist, uint64_t sum_ns)
{
	uint64_t b[NLE + 1];

	buckets(hist, b);
	for (size_t k = 0; k < NLE; k++)
		fprintf(f, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels, le_s[k], (unsigned long long)b[k]);
	fprintf(f, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels, (unsigned long long)b[NLE]);
	fprintf(f, "%s_sum{%s} %.9f\n", name, labels, sum_ns / 1e9);
	fprintf(f, "%s_count{%s} %llu\n", name, labels, (unsigned long long)b[NLE]);
}

/* One gauge or counter per VM. */
#define PER_VM(name, type, help, fmt, expr)							\
	do {											\
		head(f, name, type, help);							\
		for (int i = 0; i < e->nvm; i++) {						\
			const struct evm *v = e->vm[i];						\
			fprintf(f, name "{vmid=\"%ld\"} " fmt "\n", v->vm.vmid, expr);		\
		}										\
	} while (0)

static void write_all(struct engine *e, FILE *f)
{
	struct nvme_queue *q = NULL;
	long nq;

	head(f, "tierd_epochs_total", "counter", "Decision epochs run since tierd started.");
	fprintf(f, "tierd_epochs_total %llu\n", (unsigned long long)e->epoch);
	head(f, "tierd_cpu_seconds_total", "counter", "CPU time tierd itself used.");
	fprintf(f, "tierd_cpu_seconds_total %.3f\n", e->cpu_s);
	head(f, "tierd_vms", "gauge", "VMs tierd steers on this host.");
	fprintf(f, "tierd_vms %d\n", e->nvm);
	head(f, "tierd_slow_tier_full", "gauge", "1 while the slow tier refuses demotions for want of room.");
	fprintf(f, "tierd_slow_tier_full %d\n", e->slow_full_since != 0);

	head(f, "tierd_vm_memory_bytes", "gauge", "Guest RAM resident on each NUMA node (numa_maps, as the epoch began).");
	for (int i = 0; i < e->nvm; i++) {
		const struct evm *v = e->vm[i];

		if (!v->node_bytes_valid)	/* read this epoch by the engine */
			continue;
		for (int n = 0; n < VM_MAX_NODES; n++)
			if (v->node_bytes[n] || (e->topo.fast | e->topo.slow) & (1ULL << n))
				fprintf(f, "tierd_vm_memory_bytes{vmid=\"%ld\",node=\"%d\",tier=\"%s\"} %llu\n",
					v->vm.vmid, n, e->topo.slow & (1ULL << n) ? "slow" : "dram",
					(unsigned long long)v->node_bytes[n]);
	}
	PER_VM("tierd_vm_steering", "gauge", "1 while tierd steers the VM, 0 while it waits for an incoming live migration.",
	       "%d", v->incoming ? 0 : 1);
	PER_VM("tierd_vm_dram_budget_bytes", "gauge", "The VM's DRAM budget (0: none).",
	       "%llu", (unsigned long long)v->pol.dram_max);
	PER_VM("tierd_vm_hot_set_bytes", "gauge", "Bytes of the VM's hot set.", "%llu", (unsigned long long)v->hot_bytes);
	PER_VM("tierd_vm_slow_access_share", "gauge",
	       "The slow tier's share of the VM's sampled heat (hint faults weighted by how soon after its scan each came) "
	       "in the last epoch: a ranking signal, not the share of accesses (see tierd(8)).", "%.6f", v->slow_share);
	PER_VM("tierd_vm_slow_access_target", "gauge",
	       "The VM's target-slow policy (accepted for existing policies; tierd no longer steers on it).", "%.6f", v->pol.target_slow);
	PER_VM("tierd_vm_promoted_bytes_total", "counter", "Bytes tierd moved to DRAM.",
	       "%llu", (unsigned long long)v->promoted);
	PER_VM("tierd_vm_demoted_bytes_total", "counter", "Bytes tierd moved to the slow tier.",
	       "%llu", (unsigned long long)v->demoted);
	PER_VM("tierd_vm_ping_pongs_total", "counter", "Regions moved back within the ping-pong window.",
	       "%llu", (unsigned long long)v->pingpong);
	PER_VM("tierd_vm_kernel_promoted_pages_total", "counter", "Pages the kernel promoted in the VM's context (NUMA balancing).",
	       "%llu", (unsigned long long)v->kernel_promoted);
	PER_VM("tierd_vm_kernel_demoted_pages_total", "counter", "Pages the kernel demoted from the VM (reclaim).",
	       "%llu", (unsigned long long)v->kernel_demoted);
	PER_VM("tierd_vm_hot_threshold", "gauge", "Hot: heat at least this many times the VM's mean (fixed).", "%.3f", HOT_X_MEAN);
	PER_VM("tierd_vm_memory_low_bytes", "gauge", "memory.low tierd set on the VM's scope.",
	       "%llu", (unsigned long long)v->low_bytes);
	PER_VM("tierd_vm_io_latency_p99_seconds", "gauge", "p99 NVMe latency of the VM's I/O in the last epoch.",
	       "%.9f", v->io_p99 / 1e6);
	PER_VM("tierd_vm_storage_slow", "gauge", "1 when the VM's storage counts as slow and its DRAM is shielded.",
	       "%d", v->storage_slow ? 1 : 0);

	head(f, "tierd_nvme_queue_latency_seconds", "histogram", "Latency of NVMe commands per controller queue, block-layer start to completion.");
	nq = samplers_read_queues(&e->s, &q);
	for (long i = 0; i < nq; i++) {
		char labels[128], tr[TIERD_TRANSPORT_LEN + 1] = "";

		for (int k = 0; k < TIERD_TRANSPORT_LEN && q[i].st.transport[k]; k++) {
			char ch = q[i].st.transport[k];
			tr[k] = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ? ch : '_';
		}
		snprintf(labels, sizeof(labels), "controller=\"nvme%u\",queue=\"%u\",transport=\"%s\"",
			 q[i].key.ctrl, q[i].key.qid, tr);
		histogram(f, "tierd_nvme_queue_latency_seconds", labels, q[i].st.hist, q[i].st.lat_ns);
	}
	free(q);
}

int metrics_write(struct engine *e, const char *dir)
{
	char tmp[600], path[600];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/tierd.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s/.tierd.prom.%d", dir, getpid());	/* dot: the collector skips it */
	if (!(f = fopen(tmp, "we")))
		return -errno;
	write_all(e, f);
	/* fflush gives the write's own errno (ENOSPC, EROFS); ferror alone
	 * would only say that something failed */
	if (fflush(f))
		rc = -errno;
	else if (ferror(f))
		rc = -EIO;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

void metrics_remove(const char *dir)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/tierd.prom", dir);
	unlink(path);
}

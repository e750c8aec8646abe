// SPDX-License-Identifier: GPL-2.0-only
/*
 * tierd stat: attach the samplers, watch for a while, print per VM and per
 * NVMe queue what they saw. Figures are deltas of the kernel's cumulative
 * counters over the interval.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "json.h"
#include "log.h"
#include "memcg.h"
#include "samplers.h"
#include "tierd_cmd.h"
#include "util.h"
#include "vm.h"

#define MAX_STAT_VMS 64
#define MAX_NODES 64

static const char *const vmstat_keys[] = {
	"pgpromote_success", "pgpromote_candidate", "pgdemote_kswapd", "pgdemote_direct",
	"pgdemote_khugepaged", "pgdemote_proactive", "numa_hint_faults", "numa_pages_migrated",
	"pgmigrate_success", "pgpromote_candidate_nrl",
};
#define NR_VMSTAT (sizeof(vmstat_keys) / sizeof(vmstat_keys[0]))

static const char *const memcg_keys[] = {
	"pgpromote_success", "pgdemote_kswapd", "pgdemote_direct", "pgdemote_khugepaged", "pgdemote_proactive",
};
#define NR_MEMCG (sizeof(memcg_keys) / sizeof(memcg_keys[0]))

/* Read "key value" lines for `keys`; missing keys are -1. */
static void read_kv(const char *path, const char *const *keys, int n, long long *out)
{
	static char buf[65536];
	char *line, *save;

	for (int i = 0; i < n; i++)
		out[i] = -1;
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = 0;
		for (int i = 0; i < n; i++)
			if (!strcmp(line, keys[i]))
				out[i] = atoll(sp + 1);
	}
}


struct vm_snap {
	struct vm_stats st;
	struct vm_io io;
	long long memcg[NR_MEMCG];
	struct memcg_tier tier;		/* memory.numa_stat (6.12+) */
};

struct snap {
	struct region_count *heat;
	long nheat;
	struct mig_stats mig;
	uint64_t nvme[NR_NVME_STATS];
	struct nvme_queue *q;
	long nq;
	long long vmstat[NR_VMSTAT];
	struct vm_snap vm[MAX_STAT_VMS];
};

/* Read the VMs' own figures: the BPF counters and the scope's files. */
static void take_vms(struct samplers *s, struct vm *vms, int nvm, struct snap *sn)
{
	char path[600];

	for (int i = 0; i < nvm; i++) {
		samplers_vm_stats(s, i, &sn->vm[i].st);
		samplers_vm_io(s, i, &sn->vm[i].io);
		snprintf(path, sizeof(path), "%s/memory.stat", vms[i].scope_dir);
		read_kv(path, memcg_keys, NR_MEMCG, sn->vm[i].memcg);
		memcg_tier_read(vms[i].scope_dir, &sn->vm[i].tier);
	}
}

/* The host's BPF counters. */
static void take_host(struct samplers *s, struct snap *sn)
{
	samplers_mig_stats(s, &sn->mig);
	samplers_nvme_stats(s, sn->nvme);
	sn->nq = samplers_read_queues(s, &sn->q);
	if (sn->nq < 0)
		sn->nq = 0;
}

/* Node counters such as pgpromote_success sit in per-CPU deltas until they
 * pass a threshold, while event counters (numa_pages_migrated) are summed
 * exactly: fold them first, or the two disagree by a few pages. */
static void take_vmstat(struct snap *sn)
{
	write_file("/proc/sys/vm/stat_refresh", "1");
	read_kv("/proc/vmstat", vmstat_keys, NR_VMSTAT, sn->vmstat);
}

/*
 * Events keep landing while a snapshot is read. The opening one reads the
 * widest counters first (/proc/vmstat, then the host's BPF counters, then
 * each VM's) and the closing one the narrowest first, so whatever lands
 * meanwhile is counted in the wider figure only: over the window a VM
 * never counts more than the host, nor BPF more than /proc/vmstat.
 */
static void take(struct samplers *s, struct vm *vms, int nvm, struct snap *sn, bool opening)
{
	sn->nheat = samplers_read_heat(s, &sn->heat);
	if (sn->nheat < 0)
		sn->nheat = 0;
	if (opening) {
		take_vmstat(sn);
		take_host(s, sn);
		take_vms(s, vms, nvm, sn);
	} else {
		take_vms(s, vms, nvm, sn);
		take_host(s, sn);
		take_vmstat(sn);
	}
}

static void drop(struct snap *sn)
{
	free(sn->heat);
	free(sn->q);
}

/* Count in b minus count in a for the same (slot, region); a, b sorted. */
static long heat_delta(const struct snap *a, const struct snap *b, uint32_t slot, struct region_count **out)
{
	long i = 0, n = 0;

	*out = calloc(b->nheat ? b->nheat : 1, sizeof(**out));
	if (!*out)
		return 0;
	for (long j = 0; j < b->nheat; j++) {
		const struct region_count *r = &b->heat[j];
		uint64_t before = 0, sbefore = 0;

		while (i < a->nheat && (a->heat[i].slot < r->slot ||
		       (a->heat[i].slot == r->slot && a->heat[i].region < r->region)))
			i++;
		if (i < a->nheat && a->heat[i].slot == r->slot && a->heat[i].region == r->region) {
			before = a->heat[i].count;
			sbefore = a->heat[i].score;
		}
		if (r->slot == slot && r->count > before) {
			(*out)[n] = *r;
			(*out)[n].count = r->count - before;
			(*out)[n++].score = r->score - sbefore;
		}
	}
	return n;
}

/* Hottest first: by score (latency-weighted), then by count. */
static int by_heat_desc(const void *x, const void *y)
{
	const struct region_count *a = x, *b = y;

	if (a->score != b->score)
		return (a->score < b->score) - (a->score > b->score);
	return (a->count < b->count) - (a->count > b->count);
}

static const struct nvme_queue *find_q(const struct snap *sn, struct nvme_qkey k)
{
	for (long i = 0; i < sn->nq; i++)
		if (sn->q[i].key.ctrl == k.ctrl && sn->q[i].key.qid == k.qid)
			return &sn->q[i];
	return NULL;
}

/* One NVMe queue over the interval (latencies in ns). */
struct qfig {
	uint64_t done;
	double mean, p50, p99, p999;
	char tr[TIERD_TRANSPORT_LEN + 1];
};

static void queue_delta(const struct snap *a, const struct nvme_queue *qb, struct qfig *q)
{
	const struct nvme_queue *qa = find_q(a, qb->key);
	uint64_t hist[TIERD_HIST_SLOTS];

	memset(q, 0, sizeof(*q));
	q->done = qb->st.done - (qa ? qa->st.done : 0);
	q->mean = q->done ? (double)(qb->st.lat_ns - (qa ? qa->st.lat_ns : 0)) / q->done : 0;
	memcpy(q->tr, qb->st.transport, TIERD_TRANSPORT_LEN);
	hist_delta(qb->st.hist, qa ? qa->st.hist : NULL, hist);
	q->p50 = hist_percentile(hist, TIERD_HIST_SLOTS, 0.5);
	q->p99 = hist_percentile(hist, TIERD_HIST_SLOTS, 0.99);
	q->p999 = hist_percentile(hist, TIERD_HIST_SLOTS, 0.999);
}

/* A latency in ns as microseconds, one decimal. */
static void us(struct json *j, const char *name, double ns)
{
	json_knum(j, name, 1, ns / 1000.0);
}

/* One VM's figures over the run, for either printer (fig.hot: the caller frees). */
struct vmfig {
	uint64_t d[NR_VM_STATS], bytes[MAX_NODES], hist[TIERD_HIST_SLOTS], io_done;
	struct region_count *hot;	/* hottest first */
	long nhot;
	int nodes;			/* entries of bytes[] (0: unknown) */
};

static void vm_figures(const struct host_paths *hp, const struct vm *vm, const struct snap *a, const struct snap *b,
		       uint32_t i, struct vmfig *f)
{
	const struct vm_snap *va = &a->vm[i], *vb = &b->vm[i];

	f->io_done = vb->io.done - va->io.done;
	f->nhot = heat_delta(a, b, i, &f->hot);
	f->nodes = vm_bytes_per_node(hp, vm, f->bytes, MAX_NODES) ? 0 : MAX_NODES;
	for (int k = 0; k < NR_VM_STATS; k++)
		f->d[k] = vb->st.v[k] - va->st.v[k];
	hist_delta(vb->io.hist, va->io.hist, f->hist);
	qsort(f->hot, f->nhot, sizeof(*f->hot), by_heat_desc);
}

static void print_stat_json(double dt, struct samplers *s, struct vm *vms, int nvm, int top,
			    const struct host_paths *hp, const struct snap *a, const struct snap *b)
{
	static const char *mig_names[NR_MIG_REASONS] = { "promote", "demote", "syscall", "other" };
	struct json j;

	json_start(&j, stdout);
	json_obj(&j);
	json_kstr(&j, "tierd", "stat");
	json_ki64(&j, "version", 1);
	json_knum(&j, "duration_s", 2, dt);
	json_ku64(&j, "region_bytes", 1ULL << s->region_shift);
	json_kobj(&j, "samplers");
	json_kstr(&j, "heat", s->heat_via);
	json_kstr(&j, "heat_scan", s->scan_via);
	json_kstr(&j, "heat_hw", s->heat2_via);
	json_kstr(&j, "migrate", s->mig_via);
	json_kstr(&j, "nvme", s->nvme_via);
	json_end(&j);
	json_karr(&j, "vms");
	for (int i = 0; i < nvm; i++) {
		const struct vm *vm = &vms[i];
		const struct vm_snap *va = &a->vm[i], *vb = &b->vm[i];
		struct vmfig fg;

		vm_figures(hp, vm, a, b, (uint32_t)i, &fg);

		json_obj(&j);
		json_ki64(&j, "vmid", vm->vmid);
		json_ki64(&j, "pid", vm->pid);
		json_kstr(&j, "cgroup", vm->scope);
		json_ku64(&j, "ram_bytes", vm->ram_bytes);
		json_kobj(&j, "bytes_per_node");
		for (int n = 0; n < fg.nodes; n++)
			if (fg.bytes[n]) {
				char k[16];

				snprintf(k, sizeof(k), "%d", n);
				json_ku64(&j, k, fg.bytes[n]);
			}
		json_end(&j);
		json_ku64(&j, "sampled", fg.d[VS_SAMPLED]);
		json_ku64(&j, "hinted", fg.d[VS_HINTED]);
		json_ku64(&j, "scans", fg.d[VS_SCANS]);
		/* how long protecting guest RAM took, per MiB (0: no window swept) */
		json_ku64(&j, "sweep_ns_per_mib", fg.d[VS_SWEEP_PAGES] ? fg.d[VS_SWEEP_NS] * 256 / fg.d[VS_SWEEP_PAGES] : 0);
		json_ku64(&j, "off_cpu_waits", fg.d[VS_OFF_CPU_WAITS]);
		json_ku64(&j, "throttled", fg.d[VS_THROTTLED]);
		json_ku64(&j, "out_of_range", fg.d[VS_OUT_OF_RANGE]);
		json_ku64(&j, "map_full", fg.d[VS_MAP_FULL]);
		json_ki64(&j, "regions_sampled", fg.nhot);
		json_karr(&j, "hottest");
		for (long k = 0; k < fg.nhot && k < top; k++) {
			json_obj(&j);
			json_key(&j, "addr");
			json_strf(&j, "0x%llx", (unsigned long long)(fg.hot[k].region << s->region_shift));
			json_ku64(&j, "samples", fg.hot[k].count);
			json_ku64(&j, "score", fg.hot[k].score);
			json_end(&j);
		}
		json_end(&j);
		json_kobj(&j, "migrations");
		json_kstr(&j, "source", "bpf");
		json_ku64(&j, "promoted_pages", fg.d[VS_PROMOTED]);
		json_ku64(&j, "demoted_pages", fg.d[VS_DEMOTED]);
		json_ku64(&j, "other_pages", fg.d[VS_MIGRATED_OTHER]);
		json_ku64(&j, "failed_pages", fg.d[VS_MIGRATE_FAILED]);
		json_end(&j);
		json_kobj(&j, "memcg");
		for (unsigned k = 0; k < NR_MEMCG; k++)
			if (vb->memcg[k] >= 0)
				json_ki64(&j, memcg_keys[k], vb->memcg[k] - va->memcg[k]);
		if (vb->tier.have) {
			/* per node, from memory.numa_stat: kswapd's demotions of the VM too */
			json_kobj(&j, "numa_stat");
			json_ku64(&j, "demoted_pages", vb->tier.demoted_total - va->tier.demoted_total);
			json_ku64(&j, "promoted_pages", vb->tier.promoted_total - va->tier.promoted_total);
			for (int w = 0; w < 2; w++) {
				const uint64_t *x = w ? vb->tier.promoted : vb->tier.demoted;
				const uint64_t *y = w ? va->tier.promoted : va->tier.demoted;

				json_kobj(&j, w ? "promoted_per_node" : "demoted_per_node");
				for (int n = 0; n < MEMCG_NODES; n++)
					if (x[n] - y[n]) {
						char k[16];

						snprintf(k, sizeof(k), "%d", n);
						json_ku64(&j, k, x[n] - y[n]);
					}
				json_end(&j);
			}
			json_end(&j);
		}
		json_end(&j);
		json_kobj(&j, "io");
		json_ku64(&j, "completed", fg.io_done);
		us(&j, "mean_us", fg.io_done ? (double)(vb->io.lat_ns - va->io.lat_ns) / fg.io_done : 0);
		us(&j, "p50_us", hist_percentile(fg.hist, TIERD_HIST_SLOTS, 0.5));
		us(&j, "p99_us", hist_percentile(fg.hist, TIERD_HIST_SLOTS, 0.99));
		json_end(&j);
		json_end(&j);
		free(fg.hot);
	}
	json_end(&j);

	/* host-wide migrations: ours by reason, and the kernel's own counters */
	uint64_t failed = 0;

	json_kobj(&j, "host");
	json_kobj(&j, "migrations");
	json_kstr(&j, "source", "bpf");
	for (int r = 0; r < NR_MIG_REASONS; r++) {
		char k[32];

		snprintf(k, sizeof(k), "%s_pages", mig_names[r]);
		json_ku64(&j, k, b->mig.pages[r] - a->mig.pages[r]);
		failed += b->mig.failed[r] - a->mig.failed[r];
	}
	json_ku64(&j, "failed_pages", failed);
	json_end(&j);
	json_kobj(&j, "vmstat");
	for (unsigned k = 0; k < NR_VMSTAT; k++)
		if (b->vmstat[k] >= 0)
			json_ki64(&j, vmstat_keys[k], b->vmstat[k] - a->vmstat[k]);
	json_end(&j);
	json_end(&j);
	json_kobj(&j, "nvme");
	json_ku64(&j, "setup", b->nvme[NS_SETUP] - a->nvme[NS_SETUP]);
	json_ku64(&j, "complete", b->nvme[NS_COMPLETE] - a->nvme[NS_COMPLETE]);
	json_ku64(&j, "unmatched", b->nvme[NS_UNMATCHED] - a->nvme[NS_UNMATCHED]);
	json_ku64(&j, "inflight_map_full", b->nvme[NS_INFLIGHT_FULL] - a->nvme[NS_INFLIGHT_FULL]);
	json_karr(&j, "queues");
	for (long i = 0; i < b->nq; i++) {
		const struct nvme_queue *qb = &b->q[i];
		struct qfig q;

		queue_delta(a, qb, &q);
		json_obj(&j);
		json_key(&j, "ctrl");
		json_strf(&j, "nvme%u", qb->key.ctrl);
		json_kstr(&j, "transport", q.tr);
		json_ku64(&j, "qid", qb->key.qid);
		json_ku64(&j, "completed", q.done);
		us(&j, "mean_us", q.mean);
		us(&j, "p50_us", q.p50);
		us(&j, "p99_us", q.p99);
		us(&j, "p999_us", q.p999);
		json_ki64(&j, "inflight", qb->st.inflight);
		json_end(&j);
	}
	json_end(&j);
	json_end(&j);
	json_end(&j);
	json_finish(&j);
	fflush(stdout);
}

static void print_stat(bool json, double dt, struct samplers *s, struct vm *vms, int nvm,
		       int top, const struct host_paths *hp, const struct snap *a, const struct snap *b)
{
	static const char *mig_names[NR_MIG_REASONS] = { "promote", "demote", "syscall", "other" };
	FILE *f = stdout;
	char b1[32];

	if (json) {
		print_stat_json(dt, s, vms, nvm, top, hp, a, b);
		return;
	}
	fprintf(f, "tierd stat: %.1f s; heat: %s%s%s; migrations: %s; nvme: %s\n", dt,
		s->heat_via ? s->heat_via : "none", s->heat2_via ? " + " : "",
		s->heat2_via ? s->heat2_via : "", s->mig_via ? s->mig_via : "none",
		s->nvme_via ? s->nvme_via : "none");

	for (int i = 0; i < nvm; i++) {
		const struct vm *vm = &vms[i];
		const struct vm_snap *va = &a->vm[i], *vb = &b->vm[i];
		struct vmfig fg;

		vm_figures(hp, vm, a, b, (uint32_t)i, &fg);

		fprintf(f, "\nVM %ld  pid %d  %s  guest RAM %s\n", vm->vmid, vm->pid, vm->scope,
			fmt_bytes(vm->ram_bytes, b1, sizeof(b1)));
		fprintf(f, "  memory     ");
		for (int n = 0; n < fg.nodes; n++)
			if (fg.bytes[n])
				fprintf(f, "  node%d %s", n, fmt_bytes(fg.bytes[n], b1, sizeof(b1)));
		fprintf(f, "\n  sampled     %llu accesses in %ld regions (%llu throttled, %llu outside guest RAM, %llu map full)\n",
			(unsigned long long)fg.d[VS_SAMPLED], fg.nhot, (unsigned long long)fg.d[VS_THROTTLED],
			(unsigned long long)fg.d[VS_OUT_OF_RANGE], (unsigned long long)fg.d[VS_MAP_FULL]);
		fprintf(f, "  migrations  in the VM's context: %llu promoted, %llu demoted, %llu other, %llu failed (pages)\n",
			(unsigned long long)fg.d[VS_PROMOTED], (unsigned long long)fg.d[VS_DEMOTED],
			(unsigned long long)fg.d[VS_MIGRATED_OTHER], (unsigned long long)fg.d[VS_MIGRATE_FAILED]);
		fprintf(f, "  memcg       ");
		int shown = 0;
		for (unsigned k = 0; k < NR_MEMCG; k++)
			if (vb->memcg[k] >= 0)
				shown += fprintf(f, " %s %lld", memcg_keys[k], vb->memcg[k] - va->memcg[k]) > 0;
		if (!shown)
			fprintf(f, " (this kernel's memory.stat has no promotion/demotion counters)");
		if (vb->tier.have)
			fprintf(f, "\n  numa_stat   demoted %llu, promoted %llu (pages, every reclaimer)",
				(unsigned long long)(vb->tier.demoted_total - va->tier.demoted_total),
				(unsigned long long)(vb->tier.promoted_total - va->tier.promoted_total));
		fprintf(f, "\n  hottest    ");
		for (long k = 0; k < fg.nhot && k < top; k++)
			fprintf(f, " 0x%llx:%llu", (unsigned long long)(fg.hot[k].region << s->region_shift),
				(unsigned long long)fg.hot[k].count);
		fprintf(f, "\n");
		if (fg.io_done) {
			fprintf(f, "  nvme I/O    %llu completed, p50 %.1f us, p99 %.1f us\n",
				(unsigned long long)fg.io_done,
				hist_percentile(fg.hist, TIERD_HIST_SLOTS, 0.5) / 1000,
				hist_percentile(fg.hist, TIERD_HIST_SLOTS, 0.99) / 1000);
		}
		free(fg.hot);
	}

	/* host-wide migrations: ours by reason, and the kernel's own counters */
	fprintf(f, "\nhost migrations (pages, from mm_migrate_pages):");
	for (int r = 0; r < NR_MIG_REASONS; r++)
		fprintf(f, " %s %llu", mig_names[r], (unsigned long long)(b->mig.pages[r] - a->mig.pages[r]));
	fprintf(f, "\nhost /proc/vmstat:");
	for (unsigned k = 0; k < NR_VMSTAT; k++)
		if (b->vmstat[k] >= 0)
			fprintf(f, " %s %lld", vmstat_keys[k], b->vmstat[k] - a->vmstat[k]);
	fprintf(f, "\n\nNVMe queues: %llu set up, %llu completed, %llu unmatched completions\n",
		(unsigned long long)(b->nvme[NS_SETUP] - a->nvme[NS_SETUP]),
		(unsigned long long)(b->nvme[NS_COMPLETE] - a->nvme[NS_COMPLETE]),
		(unsigned long long)(b->nvme[NS_UNMATCHED] - a->nvme[NS_UNMATCHED]));
	if (b->nq)
		fprintf(f, "  %-8s %-9s %5s %10s %9s %9s %9s %9s %8s\n", "ctrl", "transport", "queue",
			"completed", "mean_us", "p50_us", "p99_us", "p99.9_us", "inflight");
	for (long i = 0; i < b->nq; i++) {
		const struct nvme_queue *qb = &b->q[i];
		struct qfig q;

		queue_delta(a, qb, &q);
		fprintf(f, "  nvme%-4u %-9s %5u %10llu %9.1f %9.1f %9.1f %9.1f %8lld\n", qb->key.ctrl, q.tr,
			qb->key.qid, (unsigned long long)q.done, q.mean / 1000, q.p50 / 1000, q.p99 / 1000,
			q.p999 / 1000, (long long)qb->st.inflight);
	}
	fflush(f);
}

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) { (void)sig; interrupted = 1; }

static void usage(FILE *f)
{
	fprintf(f,
"usage: tierd stat [--json] [--duration S] [--vm N]... [options]\n"
"  Attach the samplers for S seconds (default 5) and print, per VM, sampled\n"
"  accesses, the hottest regions, bytes per node and migrations; per NVMe\n"
"  queue, completed I/Os and latency percentiles.\n"
"  --vm N              only VM N (repeatable; default: every VM running here)\n"
"  --json              one JSON document (fields: see README)\n"
"  --top N             hottest regions to list (default 5)\n"
"  --region-size SIZE  2M (default) or 4K\n"
"  --heat VIA          force a heat sampler: fentry, kprobe, perf-hw, perf-sw\n"
"  --min-ram SIZE      smallest mapping taken as guest RAM (default 64M)\n"
"  --cap N             at most N sampled events per second per VM (default: no cap)\n");
}

int cmd_stat(int argc, char **argv)
{
	static const struct option lo[] = {
		{"json", no_argument, 0, 'j'}, {"duration", required_argument, 0, 'd'},
		{"vm", required_argument, 0, 'V'}, {"top", required_argument, 0, 't'},
		{"region-size", required_argument, 0, 'r'}, {"heat", required_argument, 0, 'H'},
		{"min-ram", required_argument, 0, 'm'}, {"verbose", no_argument, 0, 'v'},
		{"cap", required_argument, 0, 'c'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	struct sampler_opts so = { .heat = HEAT_AUTO, .region_shift = 21,
				   .max_regions = TIERD_REGIONS_DEFAULT, .perf_period = 1000 };
	long ids[MAX_STAT_VMS];
	int nids = 0, top = 5, c, rc = 0, verbose = log_verbosity;
	uint32_t cap = 0;
	uint64_t v, min_ram = 64ULL << 20;
	double duration = 5;
	bool json = false, named = false;
	struct host_paths hp;
	static struct vm vms[MAX_STAT_VMS];
	static struct snap a, b;
	int nvm = 0;
	struct samplers s;
	char why[512];

	optind = 1;
	while ((c = getopt_long(argc, argv, "jd:V:t:r:H:m:vh", lo, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'd': {
			char *end;
			duration = strtod(optarg, &end);
			if (*end || !(duration > 0 && duration <= 86400))
				return err("--duration: '%s' is not a number of seconds (0 < S <= 86400)", optarg), 2;
			break;
		}
		case 'V':
			if (nids == MAX_STAT_VMS || parse_vmid(optarg, &ids[nids]))
				return err("--vm: '%s' is not a VMID (100..999999999)", optarg), 2;
			nids++;
			named = true;
			break;
		case 't':
			if (parse_uint(optarg, 100000, &v))
				return err("--top: '%s' is not a count", optarg), 2;
			top = (int)v;
			break;
		case 'r':
			if (parse_size(optarg, &v) || (v != 4096 && v != (2 << 20)))
				return err("--region-size: '%s' must be 4K or 2M", optarg), 2;
			so.region_shift = v == 4096 ? 12 : 21;
			break;
		case 'H':
			if ((so.heat = heat_via_parse(optarg)) < 0)
				return err("--heat: '%s' is not fentry, kprobe, perf-hw or perf-sw", optarg), 2;
			break;
		case 'm':
			if (parse_size(optarg, &min_ram) || !min_ram)
				return err("--min-ram: '%s' is not a size", optarg), 2;
			break;
		case 'c':
			if (parse_uint(optarg, UINT32_MAX, &v) || !v)
				return err("--cap: '%s' is not a positive number of events per second", optarg), 2;
			cap = (uint32_t)v;
			break;
		case 'v': log_init(++verbose); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
		return err("stat: unexpected argument '%s'", argv[optind]), 2;

	host_paths_default(&hp);
	if (!named)
		nids = vm_list(&hp, ids, MAX_STAT_VMS);
	for (int i = 0; i < nids; i++) {
		if (vm_resolve(&hp, ids[i], &vms[nvm], why, sizeof(why))) {
			if (named)
				return err("%s", why), 1;
			warn("skipping: %s", why);
			continue;
		}
		if (vm_find_ram(&hp, &vms[nvm], min_ram, why, sizeof(why)))
			warn("%s; counting the whole address space", why);
		nvm++;
	}

	if (samplers_start(&s, &so))
		return 1;
	if (!s.heat && !s.mig && !s.nvme) {
		err("no sampler could attach on this kernel; run 'tierd probe' for the reasons");
		samplers_stop(&s);
		return 1;
	}
	for (int i = 0; i < nvm; i++) {
		struct vm_cfg cfg = { .slot = i, .cap = cap };

		vm_bpf_ranges(&vms[i], &cfg);
		if (samplers_add_vm(&s, vms[i].cgid, &cfg)) {
			err("cannot register VM %ld with the samplers", vms[i].vmid);
			samplers_stop(&s);
			return 1;
		}
	}

	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	take(&s, vms, nvm, &a, true);
	/* Scripts wait for this line to know the window is open. */
	fprintf(stderr, "tierd stat: counting %d VM(s) for %g s from now\n", nvm, duration);
	double t0 = now_s();
	while (!interrupted && now_s() - t0 < duration)
		usleep(50000);
	double dt = now_s() - t0;
	take(&s, vms, nvm, &b, false);

	print_stat(json, dt, &s, vms, nvm, top, &hp, &a, &b);
	drop(&a);
	drop(&b);
	samplers_stop(&s);
	return rc;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loading tierd's BPF samplers. Each sampler has several ways in; every
 * way is tried in order of preference, the first that loads and attaches
 * wins, and every try is recorded with the kernel's reason so that
 * `tierd probe` can say what this kernel offers and why.
 *
 * The VM table and per-VM counters are created here once and handed to
 * every object (bpf_map__reuse_fd), so all samplers share one view of
 * which cgroups are VMs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tierd.h"	/* before the skeletons: they name its types */
#include "heat.skel.h"
#include "migrate.skel.h"
#include "nvme.skel.h"
#include "log.h"
#include "samplers.h"
#include "util.h"

const char *const heat_via_names[NR_HEAT_VIA] = {
	"fentry", "kprobe", "perf-hw", "perf-sw",
};

static const char *const heat_via_desc[NR_HEAT_VIA] = {
	"fentry/handle_mm_fault", "kprobe/handle_mm_fault",
	"perf_event: hardware memory sampling", "perf_event: software page faults",
};

int heat_via_parse(const char *name)
{
	for (int i = 0; i < NR_HEAT_VIA; i++)
		if (!strcmp(name, heat_via_names[i]))
			return i;
	return -1;
}

static struct attempt *record(struct samplers *s, const char *sampler, const char *via,
			      int e, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static struct attempt *record(struct samplers *s, const char *sampler, const char *via,
			      int e, const char *fmt, ...)
{
	struct attempt *a;
	va_list ap;

	if (s->ntries >= MAX_ATTEMPTS)
		return NULL;
	a = &s->tries[s->ntries++];
	a->sampler = sampler;
	a->via = via;
	a->err = e;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	dbg("%s via %s: %s", sampler, via, e ? a->why : "attached");
	return a;
}

/* What an errno from load or attach means here, in a few words. */
static const char *explain(int e)
{
	switch (-e) {
	case EPERM: return "refused by the kernel (EPERM: lockdown, missing capability or no trampoline support)";
	case EACCES: return "rejected by the verifier (EACCES)";
	case ENOENT: return "target not found (ENOENT: symbol, tracepoint or module BTF missing)";
	case ESRCH: return "target not found in BTF (ESRCH)";
	case EOPNOTSUPP: return "not supported by this kernel (EOPNOTSUPP)";
	case EINVAL: return "invalid for this kernel (EINVAL)";
	case E2BIG: return "too big for this kernel (E2BIG)";
	default: return strerror(-e);
	}
}

static void disable_all(struct bpf_object *obj)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, false);
}

static int reuse_shared(struct samplers *s, struct bpf_map *vms, struct bpf_map *stats)
{
	int e = bpf_map__reuse_fd(vms, s->vms_fd);

	return e ? e : bpf_map__reuse_fd(stats, s->vm_stats_fd);
}

/* ---- heat ---- */

static long perf_open(struct perf_event_attr *a, int cpu)
{
	return syscall(SYS_perf_event_open, a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* Hardware memory-access sampling with data addresses, if the PMU has it:
 * Intel PEBS mem-loads or AMD IBS op. 0 and attr filled, or -ENOENT. */
static int hw_mem_event(struct perf_event_attr *a, char *what, size_t wl)
{
	char buf[256];
	unsigned ev = 0, umask = 0, ldlat = 0;
	uint64_t type;

	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	if (read_file("/sys/bus/event_source/devices/cpu/events/mem-loads", buf, sizeof(buf)) > 0) {
		char *p;
		if ((p = strstr(buf, "event=")))
			ev = strtoul(p + 6, NULL, 0);
		if ((p = strstr(buf, "umask=")))
			umask = strtoul(p + 6, NULL, 0);
		if ((p = strstr(buf, "ldlat=")))
			ldlat = strtoul(p + 6, NULL, 0);
		a->type = PERF_TYPE_RAW;
		a->config = ev | umask << 8;
		a->config1 = ldlat ? ldlat : 3;
		a->precise_ip = 2;
		snprintf(what, wl, "Intel PEBS mem-loads");
		return 0;
	}
	if (read_file("/sys/bus/event_source/devices/ibs_op/type", buf, sizeof(buf)) > 0 &&
	    !parse_uint(strtok(buf, "\n"), 1 << 30, &type)) {
		a->type = (uint32_t)type;
		snprintf(what, wl, "AMD IBS op");
		return 0;
	}
	return -ENOENT;
}

static int attach_perf(struct samplers *s, struct perf_set *ps, struct heat_bpf *skel,
		       struct perf_event_attr *a)
{
	int e = 0;

	ps->fds = calloc(s->ncpus, sizeof(int));
	ps->links = calloc(s->ncpus, sizeof(*ps->links));
	if (!ps->fds || !ps->links)
		return -ENOMEM;
	for (int cpu = 0; cpu < s->ncpus; cpu++) {
		long fd = perf_open(a, cpu);

		if (fd < 0) {
			if (errno == ENODEV || errno == ENXIO)
				continue;	/* offline CPU */
			return -errno;
		}
		ps->fds[ps->n] = (int)fd;
		ps->links[ps->n] = bpf_program__attach_perf_event(skel->progs.heat_perf, (int)fd);
		if (!ps->links[ps->n]) {
			e = -errno;
			close((int)fd);
			return e;
		}
		ps->n++;
	}
	return ps->n ? 0 : -ENODEV;
}

static void detach_perf(struct perf_set *ps)
{
	for (int i = 0; i < ps->n; i++) {
		bpf_link__destroy(ps->links[i]);
		close(ps->fds[i]);
	}
	free(ps->fds);
	free(ps->links);
	memset(ps, 0, sizeof(*ps));
}

/*
 * One heat sampler. With a fault-path sampler, try first with the scan
 * window program beside it (same attach type, on change_prot_numa), so
 * faults are weighted by scan-to-fault latency; if that cannot load (no
 * NUMA balancing in this kernel), count faults without it.
 */
static struct heat_bpf *try_heat1(struct samplers *s, const struct sampler_opts *o, int via, bool scan);

static struct heat_bpf *try_heat(struct samplers *s, const struct sampler_opts *o, int via)
{
	struct heat_bpf *skel = NULL;

	if (via == HEAT_FENTRY || via == HEAT_KPROBE)
		skel = try_heat1(s, o, via, true);
	return skel ? skel : try_heat1(s, o, via, false);
}

static struct heat_bpf *try_heat1(struct samplers *s, const struct sampler_opts *o, int via, bool scan)
{
	struct bpf_program *sprog = NULL, *eprog = NULL;
	const char *sdesc = via == HEAT_FENTRY ? "fentry+fexit/change_prot_numa" :
						 "kprobe+kretprobe/change_prot_numa";
	struct perf_event_attr attr;
	struct bpf_program *prog;
	struct heat_bpf *skel;
	char what[64] = "";
	int e;

	if (via == HEAT_PERF_HW && s->heat2_sw && s->heat) {	/* heat2 beside a sampler */
		memset(&attr, 0, sizeof(attr));
		attr.size = sizeof(attr);
		attr.type = PERF_TYPE_SOFTWARE;
		attr.config = PERF_COUNT_SW_PAGE_FAULTS;
		snprintf(what, sizeof(what), "software page faults standing in (TIERD_SAMPLER heat2-sw)");
	} else if (via == HEAT_PERF_HW && hw_mem_event(&attr, what, sizeof(what))) {
		record(s, "heat", heat_via_desc[via], -ENOENT,
		       "this PMU offers no memory-access sampling with data addresses (no PEBS mem-loads, no IBS op)");
		return NULL;
	}
	skel = heat_bpf__open();
	if (!skel) {
		record(s, "heat", heat_via_desc[via], -errno, "open: %s", strerror(errno));
		return NULL;
	}
	disable_all(skel->obj);
	prog = via == HEAT_FENTRY ? skel->progs.heat_fentry :
	       via == HEAT_KPROBE ? skel->progs.heat_kprobe : skel->progs.heat_perf;
	bpf_program__set_autoload(prog, true);
	if (scan) {
		sprog = via == HEAT_FENTRY ? skel->progs.scan_fentry : skel->progs.scan_kprobe;
		eprog = via == HEAT_FENTRY ? skel->progs.scan_fexit : skel->progs.scan_kretprobe;
		bpf_program__set_autoload(sprog, true);
		bpf_program__set_autoload(eprog, true);
	}
	skel->rodata->region_shift = o->region_shift;
	bpf_map__set_max_entries(skel->maps.heat, o->max_regions);
	e = reuse_shared(s, skel->maps.vms, skel->maps.vm_stats);
	/* The hardware sampler beside a heat sampler writes into that
	 * sampler's heat map, the one the engine reads; its samples score by
	 * the rule beside TIERD_HW_SAMPLE_SCORE (tierd.h). */
	skel->rodata->hw_samples = via == HEAT_PERF_HW;
	if (!e && s->heat)
		e = bpf_map__reuse_fd(skel->maps.heat, bpf_map__fd(s->heat->maps.heat));
	if (!e)
		e = heat_bpf__load(skel);
	if (e) {
		if (scan)
			record(s, "heat-scan", sdesc, e, "load (with %s): %s", heat_via_desc[via], explain(e));
		else
			record(s, "heat", heat_via_desc[via], e, "load: %s", explain(e));
		goto fail;
	}
	if (via == HEAT_FENTRY || via == HEAT_KPROBE) {
		struct bpf_link *l = bpf_program__attach(prog);
		if (!l) {
			e = -errno;
			record(s, "heat", heat_via_desc[via], e, "attach: %s", explain(e));
			goto fail;
		}
		if (via == HEAT_FENTRY)
			skel->links.heat_fentry = l;
		else
			skel->links.heat_kprobe = l;
		if (sprog) {
			if (!(l = bpf_program__attach(sprog))) {
				e = -errno;
				record(s, "heat-scan", sdesc, e, "attach: %s", explain(e));
				goto fail;
			}
			if (via == HEAT_FENTRY)
				skel->links.scan_fentry = l;
			else
				skel->links.scan_kprobe = l;
			/* without the exit program, windows stay open and faults
			 * are timed from each window's start: still worth having */
			if (!(l = bpf_program__attach(eprog))) {
				e = -errno;
				s->scan_via = via == HEAT_FENTRY ? "fentry/change_prot_numa" : "kprobe/change_prot_numa";
				record(s, "heat-scan", sdesc, e, "attach (exit): %s; faults timed from each window's start",
				       explain(e));
			} else {
				if (via == HEAT_FENTRY)
					skel->links.scan_fexit = l;
				else
					skel->links.scan_kretprobe = l;
				s->scan_via = sdesc;
				record(s, "heat-scan", sdesc, 0, "attached: faults weighted by how long each page waited");
			}
		}
	} else {
		if (via == HEAT_PERF_SW) {
			memset(&attr, 0, sizeof(attr));
			attr.size = sizeof(attr);
			attr.type = PERF_TYPE_SOFTWARE;
			attr.config = PERF_COUNT_SW_PAGE_FAULTS;
			snprintf(what, sizeof(what), "software page faults");
		}
		struct perf_set *ps = s->heat ? &s->perf2 : &s->perf;

		attr.sample_period = attr.type == PERF_TYPE_SOFTWARE ? 1 : o->perf_period;
		attr.sample_type = PERF_SAMPLE_ADDR;
		e = attach_perf(s, ps, skel, &attr);
		if (e) {
			record(s, "heat", heat_via_desc[via], e, "perf_event_open/attach (%s): %s", what, explain(e));
			detach_perf(ps);
			goto fail;
		}
	}
	record(s, "heat", heat_via_desc[via], 0, "attached%s%s", *what ? ": " : "", what);
	return skel;
fail:
	heat_bpf__destroy(skel);
	return NULL;
}

static void start_heat2(struct samplers *s, const struct sampler_opts *o)
{
	if ((s->heat2 = try_heat(s, o, HEAT_PERF_HW)))
		s->heat2_via = heat_via_desc[HEAT_PERF_HW];
}

static void start_heat(struct samplers *s, const struct sampler_opts *o)
{
	if (o->heat != HEAT_AUTO) {
		if ((s->heat = try_heat(s, o, o->heat)))
			s->heat_via = heat_via_desc[o->heat];
		if (s->heat && s->heat2_sw)
			start_heat2(s, o);
		return;
	}
	/* A fault-path sampler, which sees KVM's hint faults... */
	for (int v = HEAT_FENTRY; v <= HEAT_KPROBE && !s->heat; v++)
		if ((s->heat = try_heat(s, o, v)))
			s->heat_via = heat_via_desc[v];
	/* ...and hardware sampling beside it where the PMU has it: it sees
	 * accesses to DRAM-resident pages that hint faults may not. */
	if (s->heat) {
		start_heat2(s, o);
		return;
	}
	for (int v = HEAT_PERF_HW; v <= HEAT_PERF_SW && !s->heat; v++)
		if ((s->heat = try_heat(s, o, v)))
			s->heat_via = heat_via_desc[v];
	if (s->heat && s->heat2_sw)
		start_heat2(s, o);
}

/* ---- migration and NVMe: tp_btf, else raw_tp ---- */

/*
 * Load an object with only `progs` autoloaded and attach them in order.
 * Each link goes into the skeleton's own slot (`links`), so destroying the
 * skeleton detaches whatever did attach, including after a partial failure.
 * The try is recorded; 0 or -errno.
 */
static int load_attach(struct samplers *s, const char *sampler, const char *via,
		       struct bpf_object *obj, struct bpf_map *vms, struct bpf_map *stats,
		       struct bpf_program **progs, struct bpf_link ***links, int n)
{
	int e;

	disable_all(obj);
	for (int k = 0; k < n; k++)
		bpf_program__set_autoload(progs[k], true);
	e = reuse_shared(s, vms, stats);
	if (!e)
		e = bpf_object__load(obj);
	for (int k = 0; !e && k < n; k++)
		if (!(*links[k] = bpf_program__attach(progs[k])))
			e = -errno;
	record(s, sampler, via, e, "%s", e ? explain(e) : "attached");
	return e;
}

static void start_migrate(struct samplers *s)
{
	static const char *via[] = { "tp_btf/mm_migrate_pages", "raw_tp/mm_migrate_pages" };

	for (int i = s->force_raw_tp; i < 2 && !s->mig; i++) {
		struct migrate_bpf *skel = migrate_bpf__open();

		if (!skel) {
			record(s, "migrate", via[i], -errno, "open: %s", strerror(errno));
			return;
		}
		struct bpf_program *p[] = { i ? skel->progs.migrate_raw : skel->progs.migrate_btf };
		struct bpf_link **l[] = { i ? &skel->links.migrate_raw : &skel->links.migrate_btf };

		if (load_attach(s, "migrate", via[i], skel->obj, skel->maps.vms, skel->maps.vm_stats, p, l, 1)) {
			migrate_bpf__destroy(skel);
			continue;
		}
		s->mig = skel;
		s->mig_via = via[i];
	}
}

static int nvme_loaded(void)
{
	return access("/sys/module/nvme_core", F_OK) == 0;
}

static void start_nvme(struct samplers *s)
{
	static const char *via[] = { "tp_btf/nvme_setup_cmd+nvme_complete_rq",
				     "raw_tp/nvme_setup_cmd+nvme_complete_rq" };

	if (!nvme_loaded()) {
		record(s, "nvme", "tracepoints", -ENOENT, "nvme_core is not loaded: no NVMe devices to measure");
		return;
	}
	for (int i = s->force_raw_tp; i < 2 && !s->nvme; i++) {
		struct nvme_bpf *skel = nvme_bpf__open();

		if (!skel) {
			record(s, "nvme", via[i], -errno, "open: %s", strerror(errno));
			return;
		}
		/* completion first: a setup is never recorded without its match */
		struct bpf_program *p[] = {
			i ? skel->progs.nvme_complete_raw : skel->progs.nvme_complete_btf,
			i ? skel->progs.nvme_setup_raw : skel->progs.nvme_setup_btf,
		};
		struct bpf_link **l[] = {
			i ? &skel->links.nvme_complete_raw : &skel->links.nvme_complete_btf,
			i ? &skel->links.nvme_setup_raw : &skel->links.nvme_setup_btf,
		};

		if (load_attach(s, "nvme", via[i], skel->obj, skel->maps.vms, skel->maps.vm_stats, p, l, 2)) {
			nvme_bpf__destroy(skel);
			continue;
		}
		s->nvme = skel;
		s->nvme_via = via[i];
	}
}

/*
 * TIERD_SAMPLER forces lower rungs of the ladders, so that the tests run
 * each of them on purpose and not only on a kernel that happens to lack
 * the top: a comma-separated list of a heat way (fentry, kprobe, perf-hw,
 * perf-sw) and/or raw_tp (migrate and nvme by raw tracepoints, not
 * tp_btf), and/or heat2-sw: the hardware sampler (heat2) beside whatever
 * heat sampler attached, on software page-fault events, so that a machine
 * without PEBS or IBS can show its samples reaching the shared heat map. An explicit heat way (tierd stat --heat, probe's own loop)
 * wins over it. 0, or -EINVAL for a word it does not know.
 */
static int forced_rungs(struct samplers *s, struct sampler_opts *o)
{
	const char *env = getenv("TIERD_SAMPLER");
	char buf[128], *w, *save;

	if (!env || !*env)
		return 0;
	snprintf(buf, sizeof(buf), "%s", env);
	for (w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		int v = heat_via_parse(w);

		if (v >= 0) {
			if (o->heat == HEAT_AUTO)
				o->heat = v;
		} else if (!strcmp(w, "raw_tp")) {
			s->force_raw_tp = 1;
		} else if (!strcmp(w, "heat2-sw")) {
			s->heat2_sw = 1;
		} else if (strcmp(w, "tp_btf")) {
			err("TIERD_SAMPLER: '%s' is not fentry, kprobe, perf-hw, perf-sw, raw_tp, tp_btf or heat2-sw", w);
			return -EINVAL;
		}
	}
	s->forced = env;
	note("samplers: rungs forced by TIERD_SAMPLER=%s", env);
	return 0;
}

int samplers_start(struct samplers *s, const struct sampler_opts *opts)
{
	struct sampler_opts oo = *opts, *o = &oo;

	memset(s, 0, sizeof(*s));
	if (forced_rungs(s, o))
		return -EINVAL;
	s->region_shift = o->region_shift;
	s->ncpus = libbpf_num_possible_cpus();
	if (s->ncpus <= 0)
		return -EINVAL;
	s->vms_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "vms", sizeof(__u64),
				   sizeof(struct vm_cfg), TIERD_MAX_VMS, NULL);
	if (s->vms_fd < 0) {
		int e = -errno;
		err("cannot create BPF maps: %s (tierd needs root or CAP_BPF)", strerror(-e));
		return e;
	}
	s->vm_stats_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "vm_stats", sizeof(__u32),
					sizeof(struct vm_stats), TIERD_MAX_VMS, NULL);
	if (s->vm_stats_fd < 0) {
		int e = -errno;
		close(s->vms_fd);
		return e;
	}
	start_heat(s, o);
	if (!o->no_migrate)
		start_migrate(s);
	if (!o->no_nvme)
		start_nvme(s);
	return 0;
}

void samplers_stop(struct samplers *s)
{
	detach_perf(&s->perf2);
	detach_perf(&s->perf);
	heat_bpf__destroy(s->heat2);
	heat_bpf__destroy(s->heat);
	migrate_bpf__destroy(s->mig);
	nvme_bpf__destroy(s->nvme);
	if (s->vms_fd > 0)
		close(s->vms_fd);
	if (s->vm_stats_fd > 0)
		close(s->vm_stats_fd);
	memset(s, 0, sizeof(*s));
}

/* ---- the VM table ---- */

int samplers_add_vm(struct samplers *s, uint64_t cgid, const struct vm_cfg *cfg)
{
	struct vm_stats *zero = calloc(s->ncpus, sizeof(*zero));
	int e;

	if (!zero)
		return -ENOMEM;
	if (cfg->slot >= TIERD_MAX_VMS) {
		free(zero);
		return -EINVAL;
	}
	/* fresh counters and scan windows for the slot, then make the VM visible */
	e = bpf_map_update_elem(s->vm_stats_fd, &cfg->slot, zero, BPF_ANY);
	free(zero);
	if (!e && s->heat) {
		void *none = calloc(1, bpf_map__value_size(s->heat->maps.scans));

		e = !none ? -ENOMEM :
		    bpf_map_update_elem(bpf_map__fd(s->heat->maps.scans), &cfg->slot, none, BPF_ANY) ? -errno : 0;
		free(none);
	}
	if (!e && bpf_map_update_elem(s->vms_fd, &cgid, cfg, BPF_ANY))
		e = -errno;
	return e;
}

int samplers_set_vm(struct samplers *s, uint64_t cgid, const struct vm_cfg *cfg)
{
	return bpf_map_update_elem(s->vms_fd, &cgid, cfg, BPF_EXIST) ? -errno : 0;
}

int samplers_del_vm(struct samplers *s, uint64_t cgid, uint32_t slot)
{
	struct region_key k;
	bool first = true;
	int fd;

	bpf_map_delete_elem(s->vms_fd, &cgid);
	if (!s->heat)
		return 0;
	fd = bpf_map__fd(s->heat->maps.heat);
	/* drop the slot's regions; restart the walk after each delete */
	while (!bpf_map_get_next_key(fd, first ? NULL : &k, &k)) {
		first = false;
		if (k.slot == slot) {
			bpf_map_delete_elem(fd, &k);
			first = true;
		}
	}
	return 0;
}

/* ---- reading ---- */

static int cmp_region(const void *a, const void *b)
{
	const struct region_count *x = a, *y = b;

	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	return (x->region > y->region) - (x->region < y->region);
}

long samplers_read_heat(struct samplers *s, struct region_count **out)
{
	struct region_key *keys;
	struct heat_val *vals;
	uint32_t max;
	long n = 0;
	int fd;

	*out = NULL;
	if (!s->heat)
		return 0;
	fd = bpf_map__fd(s->heat->maps.heat);
	max = bpf_map__max_entries(s->heat->maps.heat);
	keys = calloc(max, sizeof(*keys));
	vals = calloc(max, sizeof(*vals));
	*out = calloc(max ? max : 1, sizeof(**out));
	if (!keys || !vals || !*out) {
		free(keys); free(vals); free(*out); *out = NULL;
		return -ENOMEM;
	}
	/* batched lookup: one syscall per chunk instead of two per entry */
	{
		__u64 batch = 0;
		void *in = NULL;
		int e;

		do {
			__u32 cnt = max - n;
			LIBBPF_OPTS(bpf_map_batch_opts, opts);

			if (!cnt)
				break;
			e = bpf_map_lookup_batch(fd, in, &batch, keys + n, vals + n, &cnt, &opts);
			if (e && errno != ENOENT) {
				n = -errno;
				break;
			}
			n += cnt;
			in = &batch;
		} while (!e);
	}
	if (n == -EINVAL || n == -EOPNOTSUPP) {	/* no batch ops: walk the keys */
		struct region_key k;
		bool started = false;

		n = 0;
		while (n < max && !bpf_map_get_next_key(fd, started ? &k : NULL, &k)) {
			started = true;
			if (!bpf_map_lookup_elem(fd, &k, &vals[n]))
				keys[n++] = k;
		}
	}
	for (long i = 0; i < n; i++) {
		(*out)[i].slot = keys[i].slot;
		(*out)[i].region = keys[i].region;
		(*out)[i].count = vals[i].count;
		(*out)[i].score = vals[i].score;
	}
	free(keys);
	free(vals);
	if (n > 0)
		qsort(*out, n, sizeof(**out), cmp_region);
	return n;
}

int samplers_vm_stats(struct samplers *s, uint32_t slot, struct vm_stats *out)
{
	struct vm_stats *pc = calloc(s->ncpus, sizeof(*pc));

	memset(out, 0, sizeof(*out));
	if (!pc)
		return -ENOMEM;
	if (bpf_map_lookup_elem(s->vm_stats_fd, &slot, pc)) {
		free(pc);
		return -errno;
	}
	for (int c = 0; c < s->ncpus; c++)
		for (int i = 0; i < NR_VM_STATS; i++)
			out->v[i] += pc[c].v[i];
	free(pc);
	return 0;
}

int samplers_mig_stats(struct samplers *s, struct mig_stats *out)
{
	struct mig_stats *pc;
	__u32 zero = 0;

	memset(out, 0, sizeof(*out));
	if (!s->mig)
		return -ENOENT;
	pc = calloc(s->ncpus, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	if (!bpf_map_lookup_elem(bpf_map__fd(s->mig->maps.mig_stats), &zero, pc))
		for (int c = 0; c < s->ncpus; c++)
			for (int r = 0; r < NR_MIG_REASONS; r++) {
				out->pages[r] += pc[c].pages[r];
				out->failed[r] += pc[c].failed[r];
				out->calls[r] += pc[c].calls[r];
			}
	free(pc);
	return 0;
}

int samplers_nvme_stats(struct samplers *s, uint64_t out[NR_NVME_STATS])
{
	__u64 *pc;

	memset(out, 0, sizeof(uint64_t) * NR_NVME_STATS);
	if (!s->nvme)
		return -ENOENT;
	pc = calloc(s->ncpus, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	for (__u32 k = 0; k < NR_NVME_STATS; k++)
		if (!bpf_map_lookup_elem(bpf_map__fd(s->nvme->maps.nvme_stats), &k, pc))
			for (int c = 0; c < s->ncpus; c++)
				out[k] += pc[c];
	free(pc);
	return 0;
}

long samplers_read_queues(struct samplers *s, struct nvme_queue **out)
{
	struct nvme_qkey k;
	bool started = false;
	long n = 0, cap = 16;
	int fd;

	*out = NULL;
	if (!s->nvme)
		return 0;
	fd = bpf_map__fd(s->nvme->maps.queues);
	*out = malloc(cap * sizeof(**out));
	while (*out && !bpf_map_get_next_key(fd, started ? &k : NULL, &k)) {
		started = true;
		if (n == cap) {
			struct nvme_queue *m = realloc(*out, (cap *= 2) * sizeof(**out));
			if (!m)
				break;
			*out = m;
		}
		if (!bpf_map_lookup_elem(fd, &k, &(*out)[n].st))
			(*out)[n++].key = k;
	}
	return n;
}

int samplers_vm_io(struct samplers *s, uint32_t slot, struct vm_io *out)
{
	memset(out, 0, sizeof(*out));
	if (!s->nvme)
		return -ENOENT;
	return bpf_map_lookup_elem(bpf_map__fd(s->nvme->maps.vm_io), &slot, out) ? -errno : 0;
}

void hist_delta(const __u64 *after, const __u64 *before, uint64_t out[TIERD_HIST_SLOTS])
{
	for (int k = 0; k < TIERD_HIST_SLOTS; k++)
		out[k] = after[k] - (before ? before[k] : 0);
}

double hist_percentile(const uint64_t *hist, int slots, double q)
{
	uint64_t total = 0, seen = 0;

	for (int i = 0; i < slots; i++)
		total += hist[i];
	if (!total)
		return 0;
	double want = q * total;
	for (int i = 0; i < slots; i++) {
		if (!hist[i])
			continue;
		if (seen + hist[i] >= want) {
			double lo = (double)tierd_hist_low(i);
			double hi = i + 1 < slots ? (double)tierd_hist_low(i + 1) : lo * 2;
			return lo + (hi - lo) * (want - seen) / hist[i];
		}
		seen += hist[i];
	}
	return (double)tierd_hist_low(slots - 1);
}

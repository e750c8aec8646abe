// SPDX-License-Identifier: GPL-2.0-only
/*
 * Finding a VM as Proxmox runs it, and its guest RAM.
 *
 * Identity. /var/run/qemu-server/<vmid>.pid names the QEMU process, which
 * lives in qemu.slice/<vmid>.scope and names the VM on its command line:
 * `-id <vmid>` (Proxmox's QEMU; upstream rejects -id) or `-pidfile
 * <run>/<vmid>.pid` (qm always passes it; upstream QEMU as the lab runs
 * it). Both present: both must name this VM; the pid file must be in the
 * run folder tierd reads. Anything else is refused.
 *
 * Guest RAM: the command line says what, the memory map says where.
 * QEMU 7.2's QMP tells the backends and their sizes (query-memdev) but no
 * host address ("info ramblock" prints none, x-query-ramblock neither), so
 * the address must come from /proc/PID/maps whichever way is used. The
 * command line names every backend that is guest RAM: the memdev= of each
 * `-numa node` and `-device pc-dimm`, or `-machine memory-backend=`, or
 * else the implicit pc.ram of `-m`; each `-object memory-backend-*` gives
 * its type, size, mem-path and share. QEMU maps each RAM block by itself
 * at exactly its size (2 MiB aligned, a guard page after it), so each
 * backend is matched to one mapping of exactly its size and kind:
 *  - memory-backend-file: the mapping of <mem-path>/qemu_back_mem.<id>.*
 *    (unlinked, "(deleted)"), hugetlbfs when the path is on a hugetlbfs
 *    mount of the QEMU's mount namespace (its pagesize= is the range's page
 *    size); matched by name, so never confused with anything else;
 *  - memory-backend-memfd: a /memfd:memory-backend-memfd mapping (the name
 *    QEMU gives every such memfd; the TCG split-wx buffer is "tcg-jit");
 *  - memory-backend-ram and pc.ram: a private anonymous mapping.
 * Only rw mappings that are not executable are candidates: the TCG code
 * buffer (1 GiB, rwxp) never is. vga/QXL vram blocks are anonymous too and
 * are never on the command line; where one has the size of a RAM backend
 * (QXL's 64 MiB, `vga: std,memory=512` against 512 MiB DIMMs) tierd takes
 * the highest-addressed candidates, because QEMU creates its backends
 * before its devices and mmap hands out addresses top down, and says so in
 * the VM's note. The total is then held against `memory:` in
 * /etc/pve/qemu-server/<vmid>.conf when it is readable (Proxmox's default
 * 512 MiB without the line); a VM whose figures disagree is refused with
 * both, because tiering mappings that are not guest RAM is worse than not
 * tiering (it moved the TCG buffer and booked it against the budget).
 *
 * Why not QMP for the lot: it adds nothing to the addresses, and QEMU's
 * monitor serves one client at a time, so every connection queues qm and
 * pvestatd behind tierd. QMP is used for the one thing the command line
 * cannot know: DIMMs hot-added later (object-add + device_add). Each epoch
 * the engine re-reads the memory map (a few hundred lines); only when its
 * candidate mappings changed does tierd connect (timeouts of 200 ms), ask
 * query-memory-devices, and match each new DIMM's backend to a new mapping
 * of exactly its size as above.
 *
 * Refused: VFIO passthrough (a hostpciN: line in the config, or a
 * /dev/vfio fd in the process): it pins all guest RAM, nothing can move.
 *
 * A process with no QEMU memory options (build/vm-standin) has guest RAM
 * in its largest rw, non-executable anonymous, memfd or hugetlbfs
 * mappings of at least min_bytes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "util.h"
#include "vm.h"

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -EINVAL)
#define CMDLINE_MAX (256 << 10)
#define MiB (1ULL << 20)

void host_paths_default(struct host_paths *hp)
{
	const char *cg = cgroup2_mount();

	hp->proc = "/proc";
	hp->run = "/var/run/qemu-server";
	hp->cgroup = cg ? cg : "/sys/fs/cgroup";
	hp->conf = "/etc/pve/qemu-server";
}

int parse_vmid(const char *s, long *vmid)
{
	uint64_t v;

	if (parse_uint(s, 999999999, &v) || v < 100)
		return -EINVAL;
	*vmid = (long)v;
	return 0;
}

void vm_free(struct vm *vm)
{
	free(vm->ram);
	free(vm->seen);
	vm->ram = NULL;
	vm->seen = NULL;
	vm->nseen = 0;
	vm->nr_ranges = 0;
	vm->ram_bytes = 0;
}

/* The process's command line, NUL-separated (malloc'd); length or -errno. */
static long read_cmdline(const struct host_paths *hp, pid_t pid, char **out)
{
	char path[512];
	char *buf = malloc(CMDLINE_MAX);
	long n;

	if (!buf)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%d/cmdline", hp->proc, pid);
	n = read_file(path, buf, CMDLINE_MAX);
	if (n <= 0) {
		free(buf);
		return n < 0 ? n : -ENODATA;
	}
	*out = buf;
	return n;
}

/* Next argument after p, or NULL at the end. */
static const char *next_arg(const char *p, const char *end)
{
	p += strlen(p) + 1;
	return p < end ? p : NULL;
}

/* QEMU takes both -opt and --opt. */
static bool is_opt(const char *arg, const char *name)
{
	if (arg[0] != '-')
		return false;
	arg += arg[1] == '-' ? 2 : 1;
	return !strcmp(arg, name);
}

/*
 * Check what the command line says this process is. 0, or -EINVAL with
 * why: -id names another VM, the pid file is another VM's or outside the
 * run folder, or neither is there.
 */
static int check_identity(const struct host_paths *hp, const char *buf, long n, long vmid, pid_t pid,
			  char *why, size_t whylen)
{
	const char *id = NULL, *pidfile = NULL, *end = buf + n;
	char want[24], dir[PATH_MAX], rundir[PATH_MAX];

	snprintf(want, sizeof(want), "%ld", vmid);
	for (const char *p = buf; p; p = next_arg(p, end)) {
		const char *v = next_arg(p, end);

		if (v && is_opt(p, "id"))
			id = v;
		else if (v && is_opt(p, "pidfile"))
			pidfile = v;
	}
	if (!id && !pidfile)
		return WHY("VM %ld: pid %d carries neither '-id %ld' nor '-pidfile %s/%ld.pid' on its command line: "
			   "not this VM's QEMU", vmid, pid, vmid, hp->run, vmid);
	if (id && strcmp(id, want))
		return WHY("VM %ld: pid %d carries '-id %.32s' on its command line, not '-id %ld': not this VM's QEMU",
			   vmid, pid, id, vmid);
	if (pidfile) {
		const char *slash = strrchr(pidfile, '/');
		char base[40];
		long other;

		snprintf(base, sizeof(base), "%ld.pid", vmid);
		if (!slash || pidfile[0] != '/')
			return WHY("VM %ld: pid %d has '-pidfile %.200s', not an absolute path in %s", vmid, pid, pidfile,
				   hp->run);
		if (strcmp(slash + 1, base)) {
			char name[40];
			size_t l = strlen(slash + 1);

			snprintf(name, sizeof(name), "%.*s", (int)(l > 4 ? l - 4 : l), slash + 1);
			if (l > 4 && !strcmp(slash + 1 + l - 4, ".pid") && !parse_vmid(name, &other))
				return WHY("VM %ld: pid %d has '-pidfile %.200s': VM %ld's pid file%s", vmid, pid, pidfile,
					   other, id ? " (its -id says this VM: they disagree)" : "");
			return WHY("VM %ld: pid %d has '-pidfile %.200s', not %s", vmid, pid, pidfile, base);
		}
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - pidfile), pidfile);
		if (!realpath(hp->run, rundir))
			snprintf(rundir, sizeof(rundir), "%s", hp->run);
		char *rd = realpath(dir, NULL);	/* /var/run is a link to /run */
		bool same = rd && !strcmp(rd, rundir);

		free(rd);
		if (!same)
			return WHY("VM %ld: pid %d has '-pidfile %.200s', outside the run folder %s", vmid, pid, pidfile,
				   hp->run);
	}
	return 0;
}

int vm_resolve(const struct host_paths *hp, long vmid, struct vm *vm, char *why, size_t whylen)
{
	char path[512], buf[8192], want[64], *cmd = NULL;
	uint64_t pid;
	long n;
	char *line, *save;
	int found = 0, r;

	memset(vm, 0, sizeof(*vm));
	vm->vmid = vmid;
	snprintf(path, sizeof(path), "%s/%ld.pid", hp->run, vmid);
	n = read_file(path, buf, sizeof(buf));
	if (n < 0)
		return WHY("VM %ld is not running here: cannot read %s: %s", vmid, path, strerror((int)-n));
	buf[strcspn(buf, "\n")] = 0;
	if (parse_uint(buf, 4194304, &pid) || pid < 2)
		return WHY("%s does not hold a pid: '%.32s'", path, buf);
	vm->pid = (pid_t)pid;

	snprintf(path, sizeof(path), "%s/%d/cgroup", hp->proc, vm->pid);
	n = read_file(path, buf, sizeof(buf));
	if (n < 0)
		return WHY("VM %ld: pid %d from its pid file is gone (%s)", vmid, vm->pid, strerror((int)-n));
	snprintf(want, sizeof(want), "/qemu.slice/%ld.scope", vmid);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "0::", 3))
			continue;
		found = 1;
		if (strcmp(line + 3, want))
			return WHY("VM %ld: pid %d is in cgroup %s, not %s: not this VM's QEMU",
				   vmid, vm->pid, line + 3, want);
	}
	if (!found)
		return WHY("VM %ld: pid %d has no cgroup v2 membership (is cgroup2 mounted?)", vmid, vm->pid);

	n = read_cmdline(hp, vm->pid, &cmd);
	if (n < 0)
		return WHY("VM %ld: pid %d: cannot read its command line: %s", vmid, vm->pid, strerror((int)-n));
	r = check_identity(hp, cmd, n, vmid, vm->pid, why, whylen);
	free(cmd);
	if (r)
		return r;

	snprintf(vm->scope, sizeof(vm->scope), "%s", want);
	snprintf(vm->scope_dir, sizeof(vm->scope_dir), "%s%s", hp->cgroup, want);
	vm->cgid = cgroup_id(vm->scope_dir);
	if (!vm->cgid)
		return WHY("VM %ld: cannot get the cgroup id of %s", vmid, vm->scope_dir);
	return 0;
}

/* ---- the command line's memory ---- */

enum bkind { BK_ANON, BK_MEMFD, BK_FILE };

struct backend {
	char id[64];
	enum bkind kind;
	uint64_t size;
	char path[256];		/* mem-path */
	bool share;
};

struct qmem {
	struct backend *b;	/* every -object memory-backend-* */
	int nb;
	struct ref {
		char id[64];
		bool dimm;
	} *refs;		/* backends that are guest RAM, in order */
	int nrefs;
	uint64_t m_bytes;	/* -m */
	char machine_be[64];	/* -machine memory-backend= */
	char mem_path[256];	/* legacy -mem-path */
	bool any;		/* any QEMU memory option at all */
};

/* key's value in a QEMU option string "type,k=v,k=v" (no ",," escapes). */
static bool opt_val(const char *s, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);

	for (const char *p = s; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			size_t l = strcspn(p + kl + 1, ",");
			if (l >= len)
				return false;
			memcpy(out, p + kl + 1, l);
			out[l] = 0;
			return true;
		}
	}
	return false;
}

static bool opt_on(const char *s, const char *key)
{
	char v[16];

	return opt_val(s, key, v, sizeof(v)) && (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true"));
}

/* A QEMU size: plain digits in `unit` bytes, or a K/M/G/T suffix. */
static int qemu_size(const char *s, uint64_t unit, uint64_t *out)
{
	size_t l = strlen(s);
	uint64_t v;

	if (!l)
		return -EINVAL;
	if (s[l - 1] >= '0' && s[l - 1] <= '9') {
		if (parse_uint(s, UINT64_MAX / unit, &v))
			return -EINVAL;
		*out = v * unit;
		return 0;
	}
	return parse_size(s, out);
}

static void add_ref(struct qmem *q, const char *id, bool dimm)
{
	struct ref *n = realloc(q->refs, (q->nrefs + 1) * sizeof(*q->refs));

	if (!n)
		return;
	q->refs = n;
	snprintf(n[q->nrefs].id, sizeof(n->id), "%s", id);
	n[q->nrefs++].dimm = dimm;
}

static int parse_memory(const char *buf, long n, struct qmem *q, char *why, size_t whylen)
{
	const char *end = buf + n;
	char v[256];

	memset(q, 0, sizeof(*q));
	for (const char *p = buf; p; p = next_arg(p, end)) {
		const char *a = next_arg(p, end);

		if (!a)
			break;
		if (is_opt(p, "m")) {
			q->any = true;
			const char *s = opt_val(a, "size", v, sizeof(v)) ? v : a;
			char first[64];

			snprintf(first, sizeof(first), "%.*s", (int)strcspn(s, ","), s);
			if (qemu_size(first, MiB, &q->m_bytes))
				return WHY("cannot read '-m %.100s'", a);
		} else if (is_opt(p, "object") && !strncmp(a, "memory-backend-", 15)) {
			struct backend *b, *nb = realloc(q->b, (q->nb + 1) * sizeof(*q->b));

			if (!nb)
				return WHY("out of memory");
			q->b = nb;
			b = &q->b[q->nb++];
			memset(b, 0, sizeof(*b));
			q->any = true;
			b->kind = !strncmp(a + 15, "file,", 5) ? BK_FILE : !strncmp(a + 15, "memfd,", 6) ? BK_MEMFD : BK_ANON;
			if (!opt_val(a, "id", b->id, sizeof(b->id)) || !opt_val(a, "size", v, sizeof(v)) ||
			    qemu_size(v, 1, &b->size))
				return WHY("cannot read '-object %.160s' (id and size)", a);
			if (b->kind == BK_FILE && !opt_val(a, "mem-path", b->path, sizeof(b->path)))
				return WHY("'-object %.160s' has no mem-path", a);
			b->share = opt_on(a, "share") || b->kind == BK_MEMFD;	/* memfd: share=on is its default */
			if (b->kind == BK_MEMFD && opt_val(a, "share", v, sizeof(v)) && !opt_on(a, "share"))
				b->share = false;
		} else if ((is_opt(p, "numa") && !strncmp(a, "node", 4)) ||
			   (is_opt(p, "device") && !strncmp(a, "pc-dimm,", 8))) {
			if (opt_val(a, "memdev", v, sizeof(v)))
				add_ref(q, v, p[1] == 'd' || p[2] == 'd');
		} else if (is_opt(p, "machine") || is_opt(p, "M")) {
			if (opt_val(a, "memory-backend", v, sizeof(v)))
				snprintf(q->machine_be, sizeof(q->machine_be), "%.63s", v);
		} else if (is_opt(p, "mem-path")) {
			snprintf(q->mem_path, sizeof(q->mem_path), "%s", a);
			q->any = true;
		}
	}
	return 0;
}

static struct backend *find_backend(struct qmem *q, const char *id)
{
	for (int i = 0; i < q->nb; i++)
		if (!strcmp(q->b[i].id, id))
			return &q->b[i];
	return NULL;
}

/* ---- the memory map ---- */

struct mapping {
	uint64_t start, end;
	char perms[5];
	char path[400];
	bool taken;
	bool is_new;		/* not there at the previous look (hot-add) */
};

struct mmap_set {
	struct mapping *m;
	int n;
};

/* Candidates for guest RAM: rw, not executable, anonymous or a file
 * (memfd, hugetlbfs, ...). Pieces that touch are not joined: QEMU's RAM
 * blocks carry madvise flags that keep the kernel from merging them with
 * a neighbour, so a heap arena or thread stack right below a DIMM is a
 * mapping of its own (joining them made the DIMM's size not match). */
static int read_maps(const struct host_paths *hp, pid_t pid, struct mmap_set *ms)
{
	char path[512], line[1024];
	FILE *f;
	int cap = 0;

	ms->m = NULL;
	ms->n = 0;
	snprintf(path, sizeof(path), "%s/%d/maps", hp->proc, pid);
	if (!(f = fopen(path, "re")))
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct mapping m = {};
		unsigned long s, e;
		int off = 0;

		if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &s, &e, m.perms, &off) < 3)
			continue;
		if (m.perms[0] != 'r' || m.perms[1] != 'w' || m.perms[2] == 'x' || e <= s)	/* e <= s: not the kernel's line */
			continue;
		if (off)
			sscanf(line + off, "%399[^\n]", m.path);
		if (m.path[0] == '[')
			continue;		/* [heap], [stack] */
		m.start = s;
		m.end = e;
		if (ms->n == cap) {
			struct mapping *nm = realloc(ms->m, (cap = cap ? 2 * cap : 64) * sizeof(*nm));
			if (!nm) {
				fclose(f);
				return -ENOMEM;
			}
			ms->m = nm;
		}
		ms->m[ms->n++] = m;
	}
	fclose(f);
	return 0;
}

static bool is_anon(const struct mapping *m)
{
	/* memory-backend-ram,share=on maps /dev/zero shared */
	return !m->path[0] || (m->perms[3] == 's' && !strncmp(m->path, "/dev/zero", 9));
}

static bool is_memfd_ram(const struct mapping *m)
{
	return !strncmp(m->path, "/memfd:memory-backend-memfd", 27);
}

/* The hugetlbfs page size of a path from the process's mounts; 0 if not
 * on hugetlbfs. */
static uint64_t hugetlb_page_size(const struct host_paths *hp, pid_t pid, const char *path)
{
	char mpath[512], line[1024], dev[256], mnt[512], type[64], opts[512];
	size_t best = 0;
	uint64_t ps = 0;
	FILE *f;

	snprintf(mpath, sizeof(mpath), "%s/%d/mounts", hp->proc, pid);
	if ((f = fopen(mpath, "re"))) {
		while (fgets(line, sizeof(line), f)) {
			size_t l;
			char *p, sz[32];

			if (sscanf(line, "%255s %511s %63s %511s", dev, mnt, type, opts) != 4 || strcmp(type, "hugetlbfs"))
				continue;
			l = strlen(mnt);
			if (strncmp(path, mnt, l) || (path[l] != '/' && l > 1) || l < best)
				continue;
			best = l;
			ps = 2 * MiB;		/* the default if it does not say */
			if ((p = strstr(opts, "pagesize=")) && sscanf(p + 9, "%31[^,]", sz) == 1)
				parse_size(sz, &ps);
		}
		fclose(f);
		if (best)
			return ps;
	}
	/* no mounts to read: Proxmox's own layout */
	const char *k = strstr(path, "/hugepages/kvm/");
	unsigned long kb;

	if (k && sscanf(k + 15, "%lukB/", &kb) == 1)
		return (uint64_t)kb << 10;
	if (!strncmp(path, "/dev/hugepages", 14))
		return 2 * MiB;
	return 0;
}

static int add_range(struct vm *vm, const struct mapping *m, const char *what, uint64_t page_size, uint32_t flags)
{
	struct ram_range *r, *n = realloc(vm->ram, (vm->nr_ranges + 1) * sizeof(*vm->ram));

	if (!n)
		return -ENOMEM;
	vm->ram = n;
	r = &vm->ram[vm->nr_ranges++];
	r->start = m->start;
	r->end = m->end;
	r->page_size = page_size ? page_size : 4096;
	r->flags = flags | (page_size > 4096 ? RANGE_HUGETLB : 0);
	snprintf(r->what, sizeof(r->what), "%s", what);
	vm->ram_bytes += m->end - m->start;
	return 0;
}

/*
 * Match one backend to a mapping (free ones only; only new ones if
 * only_new). Anonymous and memfd: exactly its size, the highest address
 * first. 0, or -ENOENT.
 */
static int match_backend(const struct host_paths *hp, struct vm *vm, struct mmap_set *ms, const struct backend *b,
			 bool only_new)
{
	struct mapping *best = NULL;
	char what[64], pat[128];

	snprintf(pat, sizeof(pat), "/qemu_back_mem.%s.", b->id);
	for (int i = 0; i < ms->n; i++) {
		struct mapping *m = &ms->m[i];
		bool ok;

		if (m->taken || m->end - m->start != b->size || (only_new && !m->is_new))
			continue;
		if (b->kind == BK_FILE)
			ok = !strncmp(m->path, b->path, strlen(b->path)) &&
			     (strstr(m->path, pat) || !strcmp(m->path, b->path));
		else if (b->kind == BK_MEMFD)
			ok = is_memfd_ram(m);
		else
			ok = is_anon(m);
		if (!ok)
			continue;
		if (!best || m->start > best->start)
			best = m;
	}
	if (!best)
		return -ENOENT;
	best->taken = true;
	uint64_t ps = b->kind == BK_FILE ? hugetlb_page_size(hp, vm->pid, best->path) : 0;

	if (ps)
		snprintf(what, sizeof(what), "%.30s hugetlbfs %llu kB", b->id, (unsigned long long)(ps >> 10));
	else
		snprintf(what, sizeof(what), "%.40s %s", b->id, b->kind == BK_FILE ? "file" : b->kind == BK_MEMFD ? "memfd" : "anon");
	return add_range(vm, best, what, ps, (best->perms[3] == 's' || b->share) ? RANGE_SHARED : 0);
}

/* An anonymous mapping left over with the size of one taken (vram beside
 * RAM backends of its size): the choice was by address; say so. */
static void left_alike(struct vm *vm, const struct mmap_set *ms)
{
	for (int i = 0; i < ms->n && !vm->note[0]; i++) {
		const struct mapping *m = &ms->m[i];

		for (int k = 0; !m->taken && is_anon(m) && k < vm->nr_ranges; k++)
			if (vm->ram[k].end - vm->ram[k].start == m->end - m->start && !(vm->ram[k].flags & RANGE_SHARED) &&
			    !strstr(vm->ram[k].what, " file") && !strstr(vm->ram[k].what, "hugetlbfs"))
				snprintf(vm->note, sizeof(vm->note), "an anonymous mapping of %llu MiB at %#llx is not on the "
					 "command line (vram?) but has a backend's size: took the highest-addressed for guest RAM",
					 (unsigned long long)((m->end - m->start) >> 20), (unsigned long long)m->start);
	}
}

/* The legacy rule for a process without QEMU memory options. */
static void take_large(const struct host_paths *hp, struct vm *vm, struct mmap_set *ms, uint64_t min_bytes)
{
	for (int i = 0; i < ms->n; i++) {
		struct mapping *m = &ms->m[i];
		uint64_t ps = 0;
		char what[64];

		if (m->end - m->start < min_bytes)
			continue;
		if (is_anon(m))
			snprintf(what, sizeof(what), "anon");
		else if (!strncmp(m->path, "/memfd:", 7))
			snprintf(what, sizeof(what), "memfd:%.40s", m->path + 7);
		else if ((ps = hugetlb_page_size(hp, vm->pid, m->path)))
			snprintf(what, sizeof(what), "hugetlbfs %llu kB", (unsigned long long)(ps >> 10));
		else
			continue;
		m->taken = true;
		add_range(vm, m, what, ps, m->perms[3] == 's' ? RANGE_SHARED : 0);
	}
}

/* Candidate mappings of 64 MiB or more: a signature, and their starts. */
static uint64_t maps_sig(const struct mmap_set *ms)
{
	uint64_t h = 1469598103934665603ULL;

	for (int i = 0; i < ms->n; i++)
		if (ms->m[i].end - ms->m[i].start >= (64 * MiB))
			h = (h ^ ms->m[i].start ^ (ms->m[i].end << 1)) * 1099511628211ULL;
	return h;
}

static void remember(struct vm *vm, const struct mmap_set *ms)
{
	uint64_t *seen = malloc((ms->n + 1) * sizeof(*seen));
	int n = 0;

	vm->maps_sig = maps_sig(ms);
	if (!seen)
		return;
	for (int i = 0; i < ms->n; i++)
		if (ms->m[i].end - ms->m[i].start >= (64 * MiB))
			seen[n++] = ms->m[i].start;
	free(vm->seen);
	vm->seen = seen;
	vm->nseen = n;
}

/* ---- the VM's config ---- */

struct pve_conf {
	bool read;
	uint64_t memory;	/* bytes */
	char hostpci[128];	/* the first hostpciN: line */
};

static void read_conf(const struct host_paths *hp, long vmid, struct pve_conf *c)
{
	char path[512], line[1024];
	FILE *f;

	memset(c, 0, sizeof(*c));
	if (!hp->conf)
		return;
	snprintf(path, sizeof(path), "%s/%ld.conf", hp->conf, vmid);
	if (!(f = fopen(path, "re")))
		return;
	c->read = true;
	c->memory = 512 * MiB;		/* qemu-server's default */
	while (fgets(line, sizeof(line), f)) {
		char *v;
		unsigned long long mb;

		line[strcspn(line, "\n")] = 0;
		if (line[0] == '[')
			break;		/* snapshots, pending changes */
		if (!strncmp(line, "memory:", 7)) {
			v = line + 7 + strspn(line + 7, " ");
			if (!strncmp(v, "current=", 8))
				v += 8;
			else if (strstr(v, "current="))
				v = strstr(v, "current=") + 8;
			if (sscanf(v, "%llu", &mb) == 1 && mb <= UINT64_MAX / MiB)
				c->memory = mb * MiB;
		} else if (!strncmp(line, "hostpci", 7) && strchr(line, ':') && !c->hostpci[0]) {
			snprintf(c->hostpci, sizeof(c->hostpci), "%.120s", line);
		}
	}
	fclose(f);
}

uint64_t vm_conf_memory(const struct host_paths *hp, long vmid)
{
	struct pve_conf c;

	read_conf(hp, vmid, &c);
	return c.read ? c.memory : 0;
}

/* A /dev/vfio fd in the process; its path into out. */
static bool has_vfio_fd(const struct host_paths *hp, pid_t pid, char *out, size_t len)
{
	char dir[512], link[800], target[256];
	struct dirent *e;
	DIR *d;
	bool found = false;

	snprintf(dir, sizeof(dir), "%s/%d/fd", hp->proc, pid);
	if (!(d = opendir(dir)))
		return false;
	while (!found && (e = readdir(d))) {
		ssize_t l;

		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%.255s", dir, e->d_name);
		if ((l = readlink(link, target, sizeof(target) - 1)) <= 0)
			continue;
		target[l] = 0;
		if (!strncmp(target, "/dev/vfio/", 10)) {
			snprintf(out, len, "%s", target);
			found = true;
		}
	}
	closedir(d);
	return found;
}

static int cmp_range(const void *a, const void *b)
{
	const struct ram_range *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

int vm_find_ram(const struct host_paths *hp, struct vm *vm, uint64_t min_bytes, char *why, size_t whylen)
{
	struct pve_conf conf;
	struct mmap_set ms;
	struct qmem q;
	char *cmd = NULL, b1[32], b2[32], vfio[256];
	long n;
	int r = 0;

	vm->nr_ranges = 0;
	vm->ram = NULL;
	vm->seen = NULL;
	vm->nseen = 0;
	vm->ram_bytes = 0;
	vm->note[0] = 0;
	read_conf(hp, vm->vmid, &conf);
	vm->conf_bytes = conf.read ? conf.memory : 0;
	if (conf.hostpci[0])
		return WHY("VM %ld has PCI passthrough (%s): VFIO pins all its guest RAM, none of it can move; not tiered",
			   vm->vmid, conf.hostpci);
	if (has_vfio_fd(hp, vm->pid, vfio, sizeof(vfio)))
		return WHY("VM %ld: pid %d holds %s (VFIO passthrough pins all its guest RAM, none of it can move); "
			   "not tiered", vm->vmid, vm->pid, vfio);
	if ((n = read_cmdline(hp, vm->pid, &cmd)) < 0)
		return WHY("VM %ld: cannot read the command line of pid %d: %s", vm->vmid, vm->pid, strerror((int)-n));
	if ((r = parse_memory(cmd, n, &q, why, whylen))) {
		char tmp[300];
		snprintf(tmp, sizeof(tmp), "VM %ld: %s", vm->vmid, why);
		snprintf(why, whylen, "%s", tmp);
		goto out;
	}
	if ((r = read_maps(hp, vm->pid, &ms))) {
		r = WHY("VM %ld: cannot read %s/%d/maps: %s", vm->vmid, hp->proc, vm->pid, strerror(-r));
		goto out;
	}
	if (!q.any) {
		take_large(hp, vm, &ms, min_bytes);
		if (!vm->nr_ranges)
			r = WHY("VM %ld: no guest RAM mapping of %lu MiB or more in %s/%d/maps", vm->vmid,
				(unsigned long)(min_bytes >> 20), hp->proc, vm->pid);
	} else {
		struct backend pc = { .id = "pc.ram", .kind = BK_ANON, .size = q.m_bytes };
		bool nodes = false;

		for (int i = 0; i < q.nrefs; i++)
			nodes |= !q.refs[i].dimm;
		/* the base RAM: the NUMA nodes' backends, or the machine's, or
		 * the implicit pc.ram of -m; then the DIMMs */
		if (!nodes && q.machine_be[0] && find_backend(&q, q.machine_be)) {
			add_ref(&q, q.machine_be, false);
			nodes = true;
		}
		if (!nodes) {
			if (q.mem_path[0]) {
				pc.kind = BK_FILE;
				snprintf(pc.path, sizeof(pc.path), "%s", q.mem_path);
			}
			if (!pc.size)
				r = WHY("VM %ld: no -m size and no memory backend on its command line", vm->vmid);
			else if (match_backend(hp, vm, &ms, &pc, false))
				r = WHY("VM %ld: no rw, non-executable mapping of exactly %s (-m, pc.ram) in its memory map",
					vm->vmid, fmt_bytes(pc.size, b1, sizeof(b1)));
		}
		for (int i = 0; !r && i < q.nrefs; i++) {
			struct backend *b = find_backend(&q, q.refs[i].id);

			if (!b)
				r = WHY("VM %ld: memdev=%s is not an -object memory-backend on its command line", vm->vmid,
					q.refs[i].id);
			else if (match_backend(hp, vm, &ms, b, false))
				r = WHY("VM %ld: backend %s (%s, %s) has no rw, non-executable mapping of exactly that size",
					vm->vmid, b->id, b->kind == BK_FILE ? b->path : b->kind == BK_MEMFD ? "memfd" : "anonymous",
					fmt_bytes(b->size, b1, sizeof(b1)));
		}
	}
	if (!r && conf.read && vm->ram_bytes != conf.memory)
		r = WHY("VM %ld: guest RAM found is %s (%llu bytes in %d range(s)), its config %s/%ld.conf says memory: %llu MiB "
			"(%llu bytes, %s): refused, the figures must agree before tierd moves any of it", vm->vmid,
			fmt_bytes(vm->ram_bytes, b1, sizeof(b1)), (unsigned long long)vm->ram_bytes, vm->nr_ranges, hp->conf,
			vm->vmid, (unsigned long long)(conf.memory >> 20), (unsigned long long)conf.memory,
			fmt_bytes(conf.memory, b2, sizeof(b2)));
	if (!r) {
		qsort(vm->ram, vm->nr_ranges, sizeof(*vm->ram), cmp_range);
		remember(vm, &ms);
		left_alike(vm, &ms);
	}
	free(ms.m);
out:
	free(cmd);
	free(q.b);
	free(q.refs);
	if (r)
		vm_free(vm);
	return r;
}

/* ---- hot-added DIMMs ---- */

int vm_ram_changed(const struct host_paths *hp, struct vm *vm)
{
	struct mmap_set ms;
	uint64_t sig;

	if (read_maps(hp, vm->pid, &ms))
		return 0;
	sig = maps_sig(&ms);
	free(ms.m);
	return sig != vm->maps_sig;
}

/* One QMP exchange: send cmd (NULL: none), read up to a line with "return"
 * or "error" (skipping greetings and events) into buf. 0 or -errno. */
static int qmp_call(int fd, const char *cmd, char *buf, size_t len, const char *want)
{
	size_t have = 0;
	double deadline = now_s() + 0.2;

	if (cmd && write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		return -EIO;
	for (;;) {
		char *nl;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int ms = (int)((deadline - now_s()) * 1000);
		ssize_t got;

		while ((nl = memchr(buf, '\n', have))) {
			*nl = 0;
			if (strstr(buf, want))
				return 0;
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have);
		}
		if (have >= len - 1)
			return -E2BIG;
		if (ms <= 0 || poll(&p, 1, ms) <= 0)
			return -ETIMEDOUT;
		if ((got = read(fd, buf + have, len - 1 - have)) <= 0)
			return got ? -errno : -ECONNRESET;
		have += (size_t)got;
		buf[have] = 0;
	}
}

/* QEMU's DIMMs (query-memory-devices) as "memdev size" pairs; count or -errno. */
static int qmp_dimms(const struct host_paths *hp, long vmid, struct backend **out)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t len = 1 << 20;
	char *buf = malloc(len);
	int fd, r, n = 0;
	struct backend *b = NULL;

	if (!buf)
		return -ENOMEM;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s/%ld.qmp", hp->run, vmid);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS) {
		r = -errno;
		goto out;
	}
	if ((r = qmp_call(fd, NULL, buf, len, "\"QMP\"")) ||
	    (r = qmp_call(fd, "{\"execute\":\"qmp_capabilities\"}\n", buf, len, "\"return\"")) ||
	    (r = qmp_call(fd, "{\"execute\":\"query-memory-devices\"}\n", buf, len, "\"return\"")))
		goto out;
	/* {"return": [{"type": "dimm", "data": {"memdev": "/objects/mem-dimm0", ..., "size": 536870912, ...}}]} */
	for (char *p = buf; (p = strstr(p, "\"memdev\"")); p++) {
		char id[64];
		unsigned long long size;
		char *q = strstr(p, "\"size\"");
		char *next = strstr(p + 1, "\"memdev\"");
		struct backend *nb;

		if (sscanf(p, "\"memdev\": \"/objects/%63[^\"]\"", id) != 1 || !q || (next && q > next) ||
		    sscanf(q, "\"size\": %llu", &size) != 1)
			continue;
		if (!(nb = realloc(b, (n + 1) * sizeof(*b)))) {
			r = -ENOMEM;
			goto out;
		}
		b = nb;
		memset(&b[n], 0, sizeof(b[n]));
		snprintf(b[n].id, sizeof(b[n].id), "%s", id);
		b[n].size = size;
		n++;
	}
	r = n;
out:
	close(fd);
	free(buf);
	if (r < 0)
		free(b);
	else
		*out = b;
	return r;
}

int vm_add_hotplugged(const struct host_paths *hp, struct vm *vm, char *why, size_t whylen)
{
	struct backend *d = NULL;
	struct mmap_set ms;
	int nd, added = 0, missing = 0, r;

	if ((r = read_maps(hp, vm->pid, &ms)))
		return WHY("cannot read its memory map: %s", strerror(-r));
	/* a new DIMM's mapping was not there at the last look (vram was) */
	for (int i = 0; i < ms.n; i++) {
		struct mapping *m = &ms.m[i];

		m->is_new = true;
		for (int k = 0; k < vm->nseen && m->is_new; k++)
			m->is_new = m->start != vm->seen[k];
		for (int k = 0; k < vm->nr_ranges; k++)
			if (m->start < vm->ram[k].end && m->end > vm->ram[k].start)
				m->taken = true;
	}
	if ((nd = qmp_dimms(hp, vm->vmid, &d)) < 0) {
		free(ms.m);
		return WHY("QMP %s/%ld.qmp: %s (next epoch again)", hp->run, vm->vmid, strerror(-nd));
	}
	for (int i = 0; i < nd; i++) {
		bool known = false;
		char pat[80];

		snprintf(pat, sizeof(pat), "%s ", d[i].id);
		for (int k = 0; k < vm->nr_ranges && !known; k++)
			known = !strncmp(vm->ram[k].what, pat, strlen(pat));
		if (known)
			continue;
		/* a hugetlbfs DIMM names its file after its backend */
		for (int k = 0; k < ms.n; k++) {
			char fp[96];

			snprintf(fp, sizeof(fp), "/qemu_back_mem.%s.", d[i].id);
			if (!ms.m[k].taken && strstr(ms.m[k].path, fp)) {
				d[i].kind = BK_FILE;
				snprintf(d[i].path, sizeof(d[i].path), "%.*s", (int)(strstr(ms.m[k].path, fp) - ms.m[k].path),
					 ms.m[k].path);
			}
		}
		if (match_backend(hp, vm, &ms, &d[i], true) == 0 ||
		    (d[i].kind == BK_ANON && (d[i].kind = BK_MEMFD, match_backend(hp, vm, &ms, &d[i], true) == 0)))
			added++;
		else
			missing++;
	}
	free(d);
	/* appended, not sorted: the engine indexes the ranges it has */
	if (!missing)		/* else: look again next epoch */
		remember(vm, &ms);
	free(ms.m);
	if (missing && !added)
		return WHY("%d DIMM(s) in QMP with no new mapping of their size yet", missing);
	return added;
}

/* ---- the BPF side ---- */

void vm_bpf_ranges(const struct vm *vm, struct vm_cfg *cfg)
{
	struct ram_range *r = vm->nr_ranges ? malloc(vm->nr_ranges * sizeof(*r)) : NULL;
	int n = vm->nr_ranges;

	cfg->nr_ranges = 0;
	if (!r)
		return;			/* 0: every address counts */
	memcpy(r, vm->ram, n * sizeof(*r));
	qsort(r, n, sizeof(*r), cmp_range);
	/* more than the kernel side holds: join the two closest neighbours
	 * until it fits; what lies between them (QEMU's smaller mappings)
	 * then passes the filter too, and userspace drops its heat */
	while (n > TIERD_MAX_RANGES) {
		int best = 0;

		for (int i = 1; i < n - 1; i++)
			if (r[i + 1].start - r[i].end < r[best + 1].start - r[best].end)
				best = i;
		r[best].end = r[best + 1].end > r[best].end ? r[best + 1].end : r[best].end;
		memmove(&r[best + 1], &r[best + 2], (n - best - 2) * sizeof(*r));
		n--;
	}
	for (int i = 0; i < n; i++) {
		cfg->start[i] = r[i].start;
		cfg->end[i] = r[i].end;
	}
	cfg->nr_ranges = (__u32)n;
	free(r);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

int vm_list(const struct host_paths *hp, long *ids, int max)
{
	DIR *d = opendir(hp->run);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		char name[64];
		size_t l = strlen(e->d_name);
		long id;

		if (l < 5 || l >= sizeof(name) || strcmp(e->d_name + l - 4, ".pid"))
			continue;
		memcpy(name, e->d_name, l - 4);
		name[l - 4] = 0;
		if (!parse_vmid(name, &id))
			ids[n++] = id;
	}
	closedir(d);
	qsort(ids, n, sizeof(*ids), cmp_long);
	return n;
}

/* Bytes of guest RAM on each node, from /proc/PID/numa_maps (exact). */
int vm_bytes_per_node(const struct host_paths *hp, const struct vm *vm, uint64_t *bytes, int max_nodes)
{
	uint64_t (*ranges)[2] = malloc((vm->nr_ranges + 1) * sizeof(*ranges));
	char path[512];
	long r;

	if (!ranges)
		return -ENOMEM;
	for (int i = 0; i < vm->nr_ranges; i++) {
		ranges[i][0] = vm->ram[i].start;
		ranges[i][1] = vm->ram[i].end;
	}
	snprintf(path, sizeof(path), "%s/%d/numa_maps", hp->proc, vm->pid);
	r = numa_maps_bytes(path, (const uint64_t (*)[2])ranges, vm->nr_ranges, bytes, max_nodes);
	free(ranges);
	return r < 0 ? (int)r : 0;
}

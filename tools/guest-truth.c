// SPDX-License-Identifier: GPL-2.0-only
/*
 * guest-truth: vm-standin's ground truth for a real QEMU running
 * tools/guest (the tierd guest).
 *
 * It learns where guest RAM is: the flat view of the "memory" address
 * space (HMP `info mtree -f`, over QMP) gives guest-physical ranges and the
 * RAM block and offset behind each; `info ramblock` gives each block's size;
 * the block's host mapping is the read-write mapping of that size in
 * /proc/PID/maps (QEMU maps each block on its own, with a guard page after
 * it). Blocks of equal size are told apart by contents: the guest stores
 * tag(gpa) in every word it filled, so a candidate mapping is the block's
 * when it holds the tag for a guest-physical address the guest wrote. The
 * same check runs on a sample of pages each epoch ("map_errors").
 *
 * Then it reads the guest's epoch lines (its serial port, as a file or a
 * socket) and for each prints one JSON line with the stand-in's fields,
 * computed from the pattern the guest reports: bytes per node (numa_maps of
 * QEMU's guest-RAM mappings), where each test page is (move_pages on
 * QEMU's pid), the access-weighted share in the top tier, the oracle share
 * for --dram-budget, and the guest's own integrity counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <numa.h>
#include <numaif.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "qmp.h"
#include "util.h"

#define PAGE		((uint64_t)4096)
#define CHUNK_PAGES	((uint64_t)512)
#define MAX_NODES	64
#define MAX_BLOCKS	300
#define MAX_PIECES	600
#define MAX_RANGES	16
#define TAG_MUL		0x9E3779B1u

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "guest-truth: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static struct {
	long vmid;
	pid_t pid;
	const char *rundir, *qmp, *serial;
	uint64_t budget, stride, corrupt_gpa;
	bool corrupt, corrupt_hot, follow;
	long epochs, corrupt_after;
} o = { .vmid = -1, .rundir = "/var/run/qemu-server", .stride = 1, .corrupt_after = 1 };

/* ---- where guest RAM is ---- */

struct block { char name[96]; uint64_t size, hva; bool found; };
struct piece { uint64_t gpa, len, off; int b; };
static struct block blocks[MAX_BLOCKS];
static struct piece pieces[MAX_PIECES];
static int nblocks, npieces;
static int memfd = -1;

static bool guest_ram_name(const char *n)
{
	/* pc.ram, or a memory backend (ram-nodeN, mem-dimmN, virtiofs-mem...) */
	return !strcmp(n, "pc.ram") || !strncmp(n, "ram-node", 8) || !strncmp(n, "mem-", 4) ||
	       !strncmp(n, "virtiofs-mem", 12) || !strncmp(n, "/objects/", 9);
}

static int block_of(const char *name)
{
	for (int i = 0; i < nblocks; i++)
		if (!strcmp(blocks[i].name, name))
			return i;
	return -1;
}

static void read_layout(void)
{
	int fd = qmp_open(o.qmp, 10);
	char *rb, *mt;

	if (fd < 0)
		die("QMP %s: %s", o.qmp, strerror(errno));
	rb = qmp_hmp(fd, "info ramblock");
	mt = qmp_hmp(fd, "info mtree -f");
	close(fd);
	if (!rb || !mt)
		die("QMP: info ramblock / info mtree failed");
	/*       ram-node0    4 KiB  0x0000000000000000 0x0000000028000000 0x0000000028000000 */
	for (char *l = strtok(rb, "\n"); l; l = strtok(NULL, "\n")) {
		char name[96], unit[8];
		double ps;
		uint64_t off, used, total;

		if (sscanf(l, " %95s %lf %7s %" SCNx64 " %" SCNx64 " %" SCNx64, name, &ps, unit, &off, &used, &total) == 6 &&
		    guest_ram_name(name) && nblocks < MAX_BLOCKS) {
			snprintf(blocks[nblocks].name, sizeof(blocks[nblocks].name), "%s", name);
			blocks[nblocks++].size = used;
		}
	}
	/* the flat view of AS "memory": "  START-END (prio 0, ram): NAME [@OFFSET]" */
	bool in = false;
	for (char *l = strtok(mt, "\n"); l; l = strtok(NULL, "\n")) {
		if (!strncmp(l, "FlatView", 8)) {
			if (in && npieces)
				break;
			in = false;
			continue;
		}
		if (strstr(l, " AS \"memory\""))
			in = true;
		if (!in)
			continue;
		uint64_t s, e, off = 0;
		char kind[32], name[96];
		int prio;
		int n = sscanf(l, " %" SCNx64 "-%" SCNx64 " (prio %d, %31[^)]): %95s @%" SCNx64, &s, &e, &prio, kind, name, &off);
		if (n < 5 || strcmp(kind, "ram"))
			continue;
		int b = block_of(name);
		if (b < 0 || npieces >= MAX_PIECES)
			continue;
		pieces[npieces++] = (struct piece){ .gpa = s, .len = e - s + 1, .off = off, .b = b };
	}
	free(rb);
	free(mt);
	if (!npieces)
		die("no guest RAM in QEMU's memory map (info mtree -f)");
}

static inline uint32_t tag(uint32_t a, uint32_t seed) { return (a >> 2) * TAG_MUL + seed * 0x85EBCA6Bu; }

static bool read_word(uint64_t hva, uint32_t *v)
{
	return pread(memfd, v, 4, (off_t)hva) == 4;
}

/* a guest-physical address of block b that the guest filled (test RAM) */
struct range { uint64_t gpa, len, first; };
static struct range ranges[MAX_RANGES];
static int nranges;
static uint64_t npages;

static bool filled_gpa_in_block(int b, uint64_t *gpa, uint64_t *off)
{
	for (int i = 0; i < npieces; i++) {
		if (pieces[i].b != b)
			continue;
		for (int r = 0; r < nranges; r++) {
			uint64_t s = pieces[i].gpa > ranges[r].gpa ? pieces[i].gpa : ranges[r].gpa;
			uint64_t e1 = pieces[i].gpa + pieces[i].len, e2 = ranges[r].gpa + ranges[r].len;
			if (s + PAGE <= (e1 < e2 ? e1 : e2) && s < (1ULL << 32)) {
				*gpa = s + 4;	/* word 1: always tag(gpa) */
				*off = pieces[i].off + (s - pieces[i].gpa) + 4;
				return true;
			}
		}
	}
	return false;
}

static void find_mappings(uint32_t seed)
{
	char path[64], line[512];
	struct { uint64_t s, e; bool used; } vma[4096];
	int nv = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", o.pid);
	FILE *f = fopen(path, "r");
	if (!f)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) && nv < 4096) {
		uint64_t s, e;
		char perm[8];
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s", &s, &e, perm) == 3 && perm[0] == 'r' && perm[1] == 'w')
			vma[nv].s = s, vma[nv].e = e, vma[nv++].used = false;
	}
	fclose(f);
	/* blocks the guest wrote: by size and contents; the rest by size, in order */
	for (int pass = 0; pass < 2; pass++) {
		for (int b = 0; b < nblocks; b++) {
			uint64_t gpa, off;
			bool filled = filled_gpa_in_block(b, &gpa, &off);

			if (blocks[b].found || filled != (pass == 0))
				continue;
			for (int v = 0; v < nv && !blocks[b].found; v++) {
				uint32_t w;
				if (vma[v].used || vma[v].e - vma[v].s != blocks[b].size)
					continue;
				if (filled && (!read_word(vma[v].s + off, &w) || w != tag((uint32_t)gpa, seed)))
					continue;
				vma[v].used = true;
				blocks[b].hva = vma[v].s;
				blocks[b].found = true;
			}
		}
	}
	for (int b = 0; b < nblocks; b++)
		if (!blocks[b].found && filled_gpa_in_block(b, &(uint64_t){0}, &(uint64_t){0}))
			die("no mapping of QEMU's pid %d holds RAM block %s (%" PRIu64 " bytes) with the guest's contents",
			    o.pid, blocks[b].name, blocks[b].size);
}

static uint64_t gpa_to_hva(uint64_t gpa)
{
	for (int i = 0; i < npieces; i++)
		if (gpa >= pieces[i].gpa && gpa < pieces[i].gpa + pieces[i].len && blocks[pieces[i].b].found)
			return blocks[pieces[i].b].hva + pieces[i].off + (gpa - pieces[i].gpa);
	return 0;
}

/* ---- the guest's lines ---- */

struct epoch {
	uint64_t t_ms, epoch, accesses, rate, total, verified, errors;
	uint64_t pages, hot_start, hot_bytes, hot_gpa, zstride, seed;
	double share, zipf, write;
	bool is_zipf;
};

static const char *field(const char *l, const char *k)
{
	size_t n = strlen(k);

	for (const char *p = l; (p = strstr(p, k)); p += n)
		if ((p == l || p[-1] == ' ') && p[n] == '=')
			return p + n + 1;
	return NULL;
}

static uint64_t fu(const char *l, const char *k)
{
	const char *v = field(l, k);
	return v ? strtoull(v, NULL, 0) : 0;
}

static double fd(const char *l, const char *k)
{
	const char *v = field(l, k);
	return v ? strtod(v, NULL) : 0;
}

static void parse_ranges(const char *l)
{
	const char *v = field(l, "ranges");
	char *end;

	nranges = 0;
	npages = 0;
	while (v && *v && *v != ' ' && nranges < MAX_RANGES) {
		uint64_t s = strtoull(v, &end, 0), n;
		if (*end != '+')
			break;
		n = strtoull(end + 1, &end, 0);
		ranges[nranges++] = (struct range){ s, n, npages };
		npages += n / PAGE;
		v = *end == ',' ? end + 1 : end;
	}
}

static uint64_t page_gpa(uint64_t p)
{
	int i = 0;

	while (i + 1 < nranges && p >= ranges[i + 1].first)
		i++;
	return ranges[i].gpa + (p - ranges[i].first) * PAGE;
}

/* ---- the truth ---- */

static int nnodes;
static bool fast[MAX_NODES];
static double *weight, *sorted;
static uint8_t *last;
static void **addrs;
static int *status;

/* DRAM nodes: the fastest memory tier (loader/util.c, as tierd reads it) */
static void read_tiers(void)
{
	uint64_t m = fast_nodes("");

	nnodes = numa_max_node() + 1;
	if (nnodes > MAX_NODES)
		nnodes = MAX_NODES;
	for (int n = 0; n < nnodes; n++)
		fast[n] = n < UTIL_MAX_NODES && (m >> n & 1);
}

/* the share of accesses each test page gets, as the guest's pick() does */
static void weights(const struct epoch *e)
{
	uint64_t n = npages, hs = e->hot_start / PAGE % n;

	if (e->is_zipf) {
		uint64_t nch = (n + CHUNK_PAGES - 1) / CHUNK_PAGES;
		double sum = 0;
		for (uint64_t r = 0; r < nch; r++)
			sum += 1.0 / pow((double)(r + 1), e->zipf);
		for (uint64_t r = 0; r < nch; r++) {
			uint64_t c = (r * e->zstride + hs / CHUNK_PAGES) % nch;
			uint64_t p0 = c * CHUNK_PAGES, p1 = p0 + CHUNK_PAGES > n ? n : p0 + CHUNK_PAGES;
			double w = 1.0 / pow((double)(r + 1), e->zipf) / sum;
			for (uint64_t p = p0; p < p1; p++)
				weight[p] = w / CHUNK_PAGES;
			if (p1 < p0 + CHUNK_PAGES)	/* pick() clamps past the end to the last page */
				weight[n - 1] += w * (double)(p0 + CHUNK_PAGES - p1) / CHUNK_PAGES;
		}
		return;
	}
	uint64_t h = e->hot_bytes / PAGE;
	if (h > n)
		h = n;
	for (uint64_t p = 0; p < n; p++) {
		bool hot = ((p + n - hs) % n) < h;
		if (h >= n)
			weight[p] = 1.0 / n;
		else
			weight[p] = hot ? e->share / h : (1 - e->share) / (n - h);
	}
}

static int cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

static double oracle(uint64_t budget)
{
	uint64_t k = budget / PAGE;
	double s = 0;

	memcpy(sorted, weight, npages * sizeof(*sorted));
	qsort(sorted, npages, sizeof(*sorted), cmp_desc);
	for (uint64_t p = 0; p < npages && p < k; p++)
		s += sorted[p];
	return s > 1 ? 1 : s;
}

static uint32_t seed_of_guest;
static uint64_t map_errors_total;

static void report(const struct epoch *e)
{
	enum { BATCH = 4096 };
	uint64_t pages_on[MAX_NODES] = {0}, absent = 0, unseen = 0, map_errors = 0, checked = 0;
	double acc_on[MAX_NODES] = {0}, fast_w = 0, tot_w = 0;

	weights(e);
	for (uint64_t p0 = 0; p0 < npages; p0 += BATCH * o.stride) {
		unsigned long n = 0;
		for (uint64_t p = p0; p < npages && n < BATCH; p += o.stride)
			addrs[n++] = (void *)(uintptr_t)gpa_to_hva(page_gpa(p));
		if (move_pages(o.pid, n, addrs, NULL, status, 0) < 0)
			die("move_pages on pid %d: %s", o.pid, strerror(errno));
		for (unsigned long i = 0; i < n; i++) {
			uint64_t p = p0 + i * o.stride;
			int s = status[i];
			double w = weight[p] * o.stride;

			tot_w += w;
			if (s >= 0 && s < nnodes)
				last[p] = (uint8_t)s;
			else if (last[p] != 0xff) {
				s = last[p];
				unseen++;
			}
			if (s >= 0 && s < nnodes) {
				pages_on[s]++;
				acc_on[s] += w;
				if (fast[s])
					fast_w += w;
			} else {
				absent++;
			}
		}
	}
	/* the map, proven on a sample: word 1 of a test page holds tag(gpa + 4) */
	for (uint64_t p = e->epoch % 97; p < npages; p += npages / 64 + 1) {
		uint32_t w;
		uint64_t g = page_gpa(p) + 4;
		checked++;
		if (!read_word(gpa_to_hva(g), &w) || w != tag((uint32_t)g, seed_of_guest))
			map_errors++;
	}
	uint64_t (*rg)[2] = calloc(nblocks, sizeof(*rg)), exact[MAX_NODES] = {0}, mem = 0;
	int nr = 0;
	for (int b = 0; b < nblocks; b++) {
		mem += blocks[b].size;
		if (blocks[b].found) {
			rg[nr][0] = blocks[b].hva;
			rg[nr++][1] = blocks[b].hva + blocks[b].size;
		}
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/numa_maps", o.pid);
	bool have_exact = nr && numa_maps_bytes(path, (const uint64_t (*)[2])rg, nr, exact, MAX_NODES) > 0;
	free(rg);

	printf("{\"t\":%.2f,\"vmid\":%ld,\"pid\":%d,\"epoch\":%" PRIu64 ",\"accesses\":%" PRIu64
	       ",\"rate\":%" PRIu64 ",\"base\":\"0x%" PRIx64 "\",\"mem_bytes\":%" PRIu64
	       ",\"test_bytes\":%" PRIu64 ",\"pattern\":\"%s\",\"hot_start\":%" PRIu64
	       ",\"hot_gpa\":\"0x%" PRIx64 "\",\"hot_bytes\":%" PRIu64 ",\"bytes_per_node\":{",
	       e->t_ms / 1000.0, o.vmid, o.pid, e->epoch, e->accesses, e->rate, gpa_to_hva(0), mem,
	       npages * PAGE, e->is_zipf ? "zipf" : "hotset", e->hot_start, e->hot_gpa, e->hot_bytes);
	for (int n = 0, c = 0; n < nnodes; n++)
		if (numa_bitmask_isbitset(numa_all_nodes_ptr, n))
			printf("%s\"%d\":%" PRIu64, c++ ? "," : "", n,
			       have_exact ? exact[n] : pages_on[n] * PAGE * o.stride);
	printf("},\"absent_pages\":%" PRIu64 ",\"hint_protected_pages\":%" PRIu64 ",\"share_per_node\":{",
	       absent * o.stride, unseen * o.stride);
	for (int n = 0, c = 0; n < nnodes; n++)
		if (numa_bitmask_isbitset(numa_all_nodes_ptr, n))
			printf("%s\"%d\":%.4f", c++ ? "," : "", n, tot_w > 0 ? acc_on[n] / tot_w : 0);
	printf("},\"dram_share\":%.4f,\"dram_budget\":%" PRIu64 ",\"oracle_share\":%.4f"
	       ",\"verified\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"map_checked\":%" PRIu64
	       ",\"map_errors\":%" PRIu64 "}\n",
	       tot_w > 0 ? fast_w / tot_w : 0, o.budget, oracle(o.budget), e->verified, e->errors,
	       checked, map_errors);
	fflush(stdout);
	map_errors_total += map_errors;
}

/* XOR words 1.. of the page at gpa through /proc/PID/mem: the guest must notice */
static void corrupt(uint64_t gpa)
{
	uint64_t hva = gpa_to_hva(gpa & ~(PAGE - 1));
	uint32_t buf[PAGE / 4];

	if (!hva || pread(memfd, buf, PAGE, (off_t)hva) != (ssize_t)PAGE)
		die("--corrupt: cannot read guest-physical 0x%" PRIx64, gpa);
	for (unsigned w = 1; w < PAGE / 4; w++)
		buf[w] ^= 0x5a5a5a5a;
	if (pwrite(memfd, buf + 1, PAGE - 4, (off_t)hva + 4) != (ssize_t)(PAGE - 4))
		die("--corrupt: cannot write pid %d's memory: %s", o.pid, strerror(errno));
	fprintf(stderr, "guest-truth: corrupted guest-physical page 0x%" PRIx64 " (host 0x%" PRIx64 ")\n",
		gpa & ~(PAGE - 1), hva);
}

static FILE *open_serial(const char *path)
{
	struct stat st;

	for (int i = 0; i < 300; i++) {
		if (!stat(path, &st))
			break;
		usleep(100000);
	}
	if (stat(path, &st))
		die("--serial %s: %s", path, strerror(errno));
	if (S_ISSOCK(st.st_mode)) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
			die("--serial %s: %s", path, strerror(errno));
		return fdopen(fd, "r");
	}
	FILE *f = fopen(path, "r");
	if (!f)
		die("--serial %s: %s", path, strerror(errno));
	/* from its end, as tail -f: epoch lines are whole in themselves, and
	 * the ones already there are history (an earlier reader's epochs) */
	fseek(f, 0, SEEK_END);
	return f;
}

/* running, not a zombie */
static bool pid_alive(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return false;
	bool ok = fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] && p[2] != 'Z';
	fclose(f);
	return ok;
}

/* one line; on a file at its end, wait for more while QEMU lives */
static bool next_line(FILE *f, char *buf, size_t n)
{
	size_t len = 0;

	for (;;) {
		int c = fgetc(f);
		if (c == EOF) {
			clearerr(f);
			if (!pid_alive(o.pid))
				return false;
			usleep(50000);
			continue;
		}
		if (c == '\n') {
			buf[len] = 0;
			return true;
		}
		if (len + 1 < n)
			buf[len++] = (char)c;
	}
}

/* the pid in RUN/N.pid if it is alive, else 0 */
static pid_t pid_of_vm(void)
{
	char path[600];
	int pid = 0;

	snprintf(path, sizeof(path), "%s/%ld.pid", o.rundir, o.vmid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1 || !pid_alive(pid))
		pid = 0;
	fclose(f);
	return pid;
}

/* open QEMU's memory and learn its guest-RAM layout */
static void attach(void)
{
	char path[64];

	if (memfd >= 0)
		close(memfd);
	snprintf(path, sizeof(path), "/proc/%d/mem", o.pid);
	memfd = open(path, o.corrupt ? O_RDWR : O_RDONLY);
	if (memfd < 0)
		die("%s: %s", path, strerror(errno));
	nblocks = npieces = 0;
	memset(blocks, 0, sizeof(blocks));
	read_layout();
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: guest-truth (--vmid N [--run-dir DIR] | --pid PID --qmp SOCKET) --serial PATH [options]\n"
"  --vmid N            the VM: pid from DIR/N.pid, QMP at DIR/N.qmp (DIR: /var/run/qemu-server)\n"
"  --pid PID, --qmp S  or name QEMU's pid and monitor socket directly\n"
"  --serial PATH       the guest's COM1: a file (-serial file:PATH) or a socket (serial0: socket)\n"
"  --dram-budget SIZE  DRAM budget for the oracle share (default: the hot set)\n"
"  --stride N          query every Nth test page's node (default 1)\n"
"  --epochs N          exit after N epoch lines\n"
"  --follow            when QEMU exits, wait for the VM's next pid (a live migration's\n"
"                      target, once it has the pid file) and go on with it\n"
"  --corrupt GPA|hot   after --corrupt-after epochs (default 1), flip the words of\n"
"                      that guest-physical page (hot: the first page of the hot set)\n"
"Exit status: 0, or 1 if the guest reported integrity errors or the map check failed.\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"vmid", required_argument, 0, 'v'}, {"run-dir", required_argument, 0, 'D'},
		{"pid", required_argument, 0, 'p'}, {"qmp", required_argument, 0, 'q'},
		{"serial", required_argument, 0, 's'}, {"dram-budget", required_argument, 0, 'B'},
		{"stride", required_argument, 0, 'S'}, {"epochs", required_argument, 0, 'n'},
		{"corrupt", required_argument, 0, 'C'}, {"corrupt-after", required_argument, 0, 'A'},
		{"follow", no_argument, 0, 'F'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	static char qmp_path[600];
	bool budget_set = false;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'v': o.vmid = strtol(optarg, NULL, 10); break;
		case 'D': o.rundir = optarg; break;
		case 'p': o.pid = (pid_t)strtol(optarg, NULL, 10); break;
		case 'q': o.qmp = optarg; break;
		case 's': o.serial = optarg; break;
		case 'B': if (parse_size(optarg, &o.budget)) die("--dram-budget: '%s' is not a size", optarg);
			  budget_set = true; break;
		case 'S': o.stride = strtoull(optarg, NULL, 10); if (!o.stride) o.stride = 1; break;
		case 'n': o.epochs = strtol(optarg, NULL, 10); break;
		case 'C': o.corrupt = true;
			  if (!strcmp(optarg, "hot")) o.corrupt_hot = true;
			  else o.corrupt_gpa = strtoull(optarg, NULL, 0);
			  break;
		case 'A': o.corrupt_after = strtol(optarg, NULL, 10); break;
		case 'F': o.follow = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o.serial)
		die("--serial PATH is needed (the guest's COM1)");
	if (o.follow && o.vmid <= 0)
		die("--follow needs --vmid (it follows the pid file)");
	if (o.vmid > 0 && !o.qmp) {
		snprintf(qmp_path, sizeof(qmp_path), "%s/%ld.qmp", o.rundir, o.vmid);
		o.qmp = qmp_path;
	}
	if (o.vmid > 0 && !o.pid)
		o.pid = pid_of_vm();
	if (!o.pid || !o.qmp)
		die("name the VM: --vmid N, or --pid PID and --qmp SOCKET");
	if (numa_available() < 0)
		die("the kernel has no NUMA support");
	read_tiers();
	attach();

	FILE *ser = open_serial(o.serial);
	char line[4096];
	bool mapped = false;
	long epochs = 0;
	uint64_t errors = 0;
	for (;;) {
		if (!next_line(ser, line, sizeof(line))) {
			/* QEMU is gone: with --follow, wait for the VM's next pid
			 * (a migration target adopted into the pid file) */
			if (!o.follow)
				break;
			fclose(ser);
			pid_t old = o.pid;
			for (int i = 0; i < 3000 && ((o.pid = pid_of_vm()) == old || !o.pid); i++)
				usleep(100000);
			if (o.pid == old || !o.pid)
				die("--follow: no new pid for VM %ld after 300 s", o.vmid);
			fprintf(stderr, "guest-truth: VM %ld is now pid %d\n", o.vmid, o.pid);
			attach();
			ser = open_serial(o.serial);
			mapped = false;
			continue;
		}
		char *l = strstr(line, "tierd-guest");
		if (!l)
			continue;
		if (strstr(l, "integrity_error")) {
			fprintf(stderr, "{\"integrity_error\":{\"vmid\":%ld,\"pid\":%d,\"gpa\":\"0x%" PRIx64
				"\",\"got\":\"0x%08" PRIx64 "\",\"want\":\"0x%08" PRIx64 "\"}}\n", o.vmid, o.pid,
				fu(l, "gpa"), fu(l, "got"), fu(l, "want"));
			continue;
		}
		if (!field(l, "ranges"))
			continue;
		if (!mapped) {
			free(weight); free(sorted); free(last); free(addrs); free(status);
			parse_ranges(l);
			if (!npages)
				die("the guest reported no test RAM");
			seed_of_guest = (uint32_t)fu(l, "seed");
			find_mappings(seed_of_guest);
			weight = calloc(npages, sizeof(*weight));
			sorted = calloc(npages, sizeof(*sorted));
			last = malloc(npages);
			addrs = calloc(4096, sizeof(*addrs));
			status = calloc(4096, sizeof(*status));
			if (!weight || !sorted || !last || !addrs || !status)
				die("out of memory");
			memset(last, 0xff, npages);
			mapped = true;
		}
		if (!field(l, "epoch"))
			continue;	/* the ready line */
		struct epoch e = {
			.t_ms = fu(l, "t_ms"), .epoch = fu(l, "epoch"), .accesses = fu(l, "accesses"),
			.rate = fu(l, "rate"), .total = fu(l, "total"), .verified = fu(l, "verified"),
			.errors = fu(l, "errors"), .pages = fu(l, "pages"), .hot_start = fu(l, "hot_start"),
			.hot_bytes = fu(l, "hot_bytes"), .hot_gpa = fu(l, "hot_gpa"), .zstride = fu(l, "zstride"),
			.seed = fu(l, "seed"), .share = fd(l, "share"), .zipf = fd(l, "zipf"), .write = fd(l, "write"),
		};
		const char *pat = field(l, "pattern");
		e.is_zipf = pat && !strncmp(pat, "zipf", 4);
		if (!budget_set)
			o.budget = e.is_zipf ? npages * PAGE / 8 : e.hot_bytes;
		report(&e);
		errors = e.errors;
		epochs++;
		if (o.corrupt && epochs == o.corrupt_after)
			corrupt(o.corrupt_hot ? e.hot_gpa : o.corrupt_gpa);
		if (o.epochs && epochs >= o.epochs)
			break;
	}
	return errors || map_errors_total ? 1 : 0;
}

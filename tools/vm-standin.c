// SPDX-License-Identifier: GPL-2.0-only
/*
 * vm-standin: behaves like one QEMU guest's RAM, for tiering.
 *
 * It registers as Proxmox runs a VM (in qemu.slice/<vmid>.scope, with
 * /var/run/qemu-server/<vmid>.pid and `-id <vmid>` on its command line),
 * maps "guest RAM" as QEMU does (one large anonymous mapping with
 * MADV_HUGEPAGE; memfd or hugetlbfs as options), touches it with a chosen
 * pattern and, every epoch, prints one JSON line of ground truth: bytes on
 * each node, the share of its accesses that hit each node, and the oracle
 * share (the best any placement could do with a given DRAM budget).
 *
 * Integrity: every 8-byte word holds a tag derived from its page and
 * offset in the high half; word 0 of each page also holds the page's write
 * generation in the low half. Reads check the tag (and the generation on
 * word 0), writes check word 0 before bumping it, and a sweep checks whole
 * pages. Any mismatch is reported and the exit status is 1.
 *
 * Bookkeeping is two 32-bit counters per 4 KiB page (0.2% of guest RAM).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "util.h"	/* cgroup2_mount(), shared with tierd */

#define PAGE		4096UL
#define WORDS		(PAGE / 8)
#define CHUNK_PAGES	512UL		/* 2 MiB */
#define MAX_NODES	64
#define MAX_REPORTED	10

enum backing { B_ANON, B_MEMFD, B_HUGETLBFS };

static struct opts {
	long vmid;
	uint64_t mem, hot, hot_start, budget;
	double hot_share, zipf, write_share, epoch, duration, move_every, arrive, ram_after;
	uint64_t rate;
	enum backing backing;
	bool thp, reg, quiet, mlock;
	const char *cgroot, *rundir;
	uint64_t seed;
} o = {
	.vmid = -1, .mem = 1UL << 30, .hot_share = 0.9, .write_share = 0.2,
	.epoch = 1.0, .thp = true, .reg = true, .rundir = "/var/run/qemu-server",
	.seed = 1,
};

static volatile sig_atomic_t stop;
static uint8_t *ram;
static uint64_t npages, nchunks;
static uint32_t *gen, *acc;
static double *zcdf;		/* zipf: cumulative probability by rank */
static uint64_t zstride;	/* zipf: rank -> chunk permutation */
static uint64_t errors, verified, sweep;
static int nnodes;
static bool fast[MAX_NODES];

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vm-standin: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng_state;
static inline uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static inline double rnd01(void)
{
	return (rnd() >> 11) * (1.0 / 9007199254740992.0);
}

/*
 * Memory for the stand-in's own bookkeeping, zeroed, with a memory policy
 * of its own (MPOL_LOCAL), which keeps it out of NUMA balancing's scans
 * (task_numa_work skips a VMA whose policy lacks MPOL_F_MOF). Every access
 * to guest RAM also touches it, so when a scan protected it the thread
 * that touches guest RAM spent its next milliseconds in hint faults on its
 * own counters, and the guest RAM swept in the same pass (the last MiB of
 * RAM, just before these mappings) looked colder than it was.
 */
static void *book(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("out of memory for %zu bytes of bookkeeping", size);
	if (mbind(p, size, MPOL_LOCAL, NULL, 0, 0))
		die("mbind MPOL_LOCAL: %s", strerror(errno));
	return p;
}

/* The tag of word w of page p: never zero, so a zeroed page is caught. */
static inline uint32_t tag(uint64_t p, uint64_t w)
{
	uint64_t x = (p * WORDS + w) ^ (o.seed * 0x9E3779B97F4A7C15ULL);

	x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33;
	return (uint32_t)x | 1;
}

static inline uint64_t *word(uint64_t p, uint64_t w)
{
	return (uint64_t *)(ram + p * PAGE) + w;
}

static void bad(uint64_t p, uint64_t w, uint64_t got, uint64_t want)
{
	if (errors++ < MAX_REPORTED)
		fprintf(stderr, "{\"integrity_error\":{\"vmid\":%ld,\"page\":%" PRIu64
			",\"word\":%" PRIu64 ",\"got\":\"0x%016" PRIx64 "\",\"want\":\"0x%016" PRIx64 "\"}}\n",
			o.vmid, p, w, got, want);
}

static inline void check(uint64_t p, uint64_t w)
{
	uint64_t v = *word(p, w);

	verified++;
	if (w == 0) {
		uint64_t want = (uint64_t)tag(p, 0) << 32 | gen[p];
		if (v != want)
			bad(p, 0, v, want);
	} else if ((v >> 32) != tag(p, w)) {
		bad(p, w, v, (uint64_t)tag(p, w) << 32);
	}
}

/*
 * Write every page once. With --arrive SEC, spread over SEC seconds, as
 * guest RAM arrives on a live-migration target (one stderr line when done).
 */
static void fill(void)
{
	double t_fill = now(), per_page = o.arrive / (double)npages;

	for (uint64_t p = 0; p < npages; p++) {
		if (o.arrive > 0 && p % 256 == 0) {
			double ahead = t_fill + p * per_page - now();
			if (ahead > 0) {
				struct timespec ts = { (time_t)ahead, (long)((ahead - (time_t)ahead) * 1e9) };
				nanosleep(&ts, NULL);
			}
		}
		*word(p, 0) = (uint64_t)tag(p, 0) << 32;
		for (uint64_t w = 1; w < WORDS; w++)
			*word(p, w) = (uint64_t)tag(p, w) << 32 | (uint32_t)w;
	}
	if (o.arrive > 0)
		fprintf(stderr, "vm-standin: guest RAM arrived in %.1f s\n", now() - t_fill);
}

/* ---- access pattern ---- */

static uint64_t hot_pages(void) { return o.hot / PAGE; }

static void zipf_init(void)
{
	double sum = 0;

	zcdf = book(nchunks * sizeof(*zcdf));
	if (!zcdf)
		die("out of memory");
	for (uint64_t r = 0; r < nchunks; r++)
		sum += zcdf[r] = 1.0 / pow((double)(r + 1), o.zipf);
	for (uint64_t r = 0; r < nchunks; r++)
		zcdf[r] = (r ? zcdf[r - 1] : 0) + zcdf[r] / sum;
	/* scatter ranks over chunks with a stride coprime to nchunks */
	zstride = (uint64_t)(nchunks * 0.618) | 1;
	while (nchunks > 1) {
		uint64_t a = zstride, b = nchunks;
		while (b) { uint64_t t = a % b; a = b; b = t; }
		if (a == 1)
			break;
		zstride += 2;
	}
}

/* Chunk of rank r: the permutation moves with hot_start. */
static inline uint64_t zipf_chunk(uint64_t r)
{
	return (r * zstride + o.hot_start / (CHUNK_PAGES * PAGE)) % nchunks;
}

static inline uint64_t pick(void)
{
	if (o.zipf > 0) {
		double u = rnd01();
		uint64_t lo = 0, hi = nchunks - 1;

		while (lo < hi) {
			uint64_t mid = (lo + hi) / 2;
			if (zcdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		uint64_t p = zipf_chunk(lo) * CHUNK_PAGES + rnd() % CHUNK_PAGES;
		return p < npages ? p : npages - 1;
	}
	uint64_t h = hot_pages(), s = o.hot_start / PAGE;
	if (h && (h >= npages || rnd01() < o.hot_share))
		return (s + rnd() % h) % npages;
	return (s + h + rnd() % (npages - h)) % npages;
}

/* Oracle: the share of accesses a perfect placement keeps in `budget`. */
static double oracle(uint64_t budget)
{
	double b = (double)(budget / PAGE);

	if (o.zipf > 0) {
		double k = b / CHUNK_PAGES;
		uint64_t whole = (uint64_t)k;

		if (whole >= nchunks)
			return 1.0;
		double s = whole ? zcdf[whole - 1] : 0;
		return s + (k - whole) * (zcdf[whole] - s);
	}
	double h = (double)hot_pages(), n = (double)npages;
	if (h >= n)
		return b >= n ? 1.0 : b / n;
	if (b >= h)
		return fmin(1.0, o.hot_share + (1 - o.hot_share) * (b - h) / (n - h));
	return o.hot_share * b / h;
}

static inline void access_one(void)
{
	uint64_t p = pick(), r = rnd(), w = r % WORDS;

	__atomic_store_n(&acc[p], acc[p] + 1, __ATOMIC_RELAXED);	/* read by the reporter */
	if (rnd01() < o.write_share) {
		check(p, 0);
		gen[p]++;
		*word(p, 0) = (uint64_t)tag(p, 0) << 32 | gen[p];
		if (w)
			*word(p, w) = (uint64_t)tag(p, w) << 32 | (uint32_t)(r >> 32);
	} else {
		check(p, w);
	}
}

/* ---- ground truth ---- */

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

static void report(double t, long epoch, uint64_t accesses, double secs)
{
	enum { BATCH = 4096 };
	static void *addrs[BATCH];
	static int status[BATCH];
	uint64_t pages_on[MAX_NODES] = {0}, acc_on[MAX_NODES] = {0};
	uint64_t absent = 0, unseen = 0, total = 0, fast_acc = 0;
	/* Last node seen per page: move_pages() cannot tell where a page is
	 * while NUMA balancing has it PROT_NONE (waiting for its hint fault);
	 * such a page has not moved, so its last known node stands. */
	static uint8_t *last;
	/* acc[] as the last report read it: the main thread alone writes
	 * acc[] and goes on while this reads it, so this epoch's accesses to
	 * a page are its count now less its count then */
	static uint32_t *seen;

	if (!last) {
		last = book(npages);
		seen = book(npages * sizeof(*seen));
		memset(last, 0xff, npages);
	}
	for (uint64_t p0 = 0; p0 < npages; p0 += BATCH) {
		unsigned long n = npages - p0 < BATCH ? npages - p0 : BATCH;

		for (unsigned long i = 0; i < n; i++)
			addrs[i] = ram + (p0 + i) * PAGE;
		if (move_pages(0, n, addrs, NULL, status, 0) < 0)
			die("move_pages: %s", strerror(errno));
		for (unsigned long i = 0; i < n; i++) {
			int s = status[i];
			uint32_t now_acc = __atomic_load_n(&acc[p0 + i], __ATOMIC_RELAXED);
			uint32_t a = now_acc - seen[p0 + i];

			seen[p0 + i] = now_acc;

			total += a;
			if (s >= 0 && s < nnodes)
				last[p0 + i] = (uint8_t)s;
			else if (last[p0 + i] != 0xff) {
				s = last[p0 + i];
				unseen++;
			}
			if (s >= 0 && s < nnodes) {
				pages_on[s]++;
				acc_on[s] += a;
				if (fast[s])
					fast_acc += a;
			} else {
				absent++;	/* not present (-ENOENT) or an error: counted, not dropped */
			}
		}
	}
	printf("{\"t\":%.2f,\"vmid\":%ld,\"pid\":%d,\"epoch\":%ld,\"accesses\":%" PRIu64
	       ",\"rate\":%.0f,\"base\":\"0x%lx\",\"mem_bytes\":%" PRIu64
	       ",\"pattern\":\"%s\",\"hot_start\":%" PRIu64 ",\"hot_bytes\":%" PRIu64
	       ",\"bytes_per_node\":{", t, o.vmid, getpid(), epoch, accesses,
	       secs > 0 ? accesses / secs : 0, (unsigned long)ram, o.mem,
	       o.zipf > 0 ? "zipf" : "hotset", o.hot_start, o.zipf > 0 ? 0 : o.hot);
	/* exact, counting pages NUMA balancing holds PROT_NONE, which
	 * move_pages above cannot place */
	uint64_t exact[MAX_NODES], range[1][2] = { { (uint64_t)ram, (uint64_t)ram + o.mem } };
	bool have_exact = numa_maps_bytes("/proc/self/numa_maps", (const uint64_t (*)[2])range, 1,
					  exact, MAX_NODES) > 0;
	for (int n = 0, c = 0; n < nnodes; n++)
		if (numa_bitmask_isbitset(numa_all_nodes_ptr, n))
			printf("%s\"%d\":%" PRIu64, c++ ? "," : "", n, have_exact ? exact[n] : pages_on[n] * PAGE);
	printf("},\"absent_pages\":%" PRIu64 ",\"hint_protected_pages\":%" PRIu64 ",\"share_per_node\":{",
	       absent, unseen);
	for (int n = 0, c = 0; n < nnodes; n++)
		if (numa_bitmask_isbitset(numa_all_nodes_ptr, n))
			printf("%s\"%d\":%.4f", c++ ? "," : "", n, total ? (double)acc_on[n] / total : 0);
	printf("},\"dram_share\":%.4f,\"dram_budget\":%" PRIu64 ",\"oracle_share\":%.4f"
	       ",\"verified\":%" PRIu64 ",\"errors\":%" PRIu64 "}\n",
	       total ? (double)fast_acc / total : 0, o.budget, oracle(o.budget),
	       verified, errors);
	fflush(stdout);
}

/* ---- registration, as Proxmox runs a VM ---- */

static char scope[512], pidfile[512];

static void write_or_die(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die("cannot write %s: %s", path, strerror(errno));
	close(fd);
}

/* Is this process in `scope` itself (started inside it by systemd-run)? */
static bool in_own_scope(void)
{
	char buf[600];
	const char *root = o.cgroot ? o.cgroot : cgroup2_mount();
	size_t rl = root ? strlen(root) : 0;
	FILE *f = fopen("/proc/self/cgroup", "r");
	bool in = false;

	if (!f)
		return false;
	while (fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, "0::", 3)) {
			buf[strcspn(buf, "\n")] = 0;
			in = rl && !strcmp(buf + 3, scope + rl);
		}
	fclose(f);
	return in;
}

static pid_t child;
static void forward(int sig) { if (child > 0) kill(child, sig); }

/*
 * The parent stays outside the scope, like systemd: it creates the scope,
 * waits for the VM process and removes the scope and pid file after it.
 */
static void supervise(void)
{
	const char *root = o.cgroot ? o.cgroot : cgroup2_mount();
	char path[600], buf[32];
	int st;

	if (!root)
		die("no cgroup2 mount found (use --no-register to run unregistered)");
	snprintf(path, sizeof(path), "%s/qemu.slice", root);
	if (mkdir(path, 0755) && errno != EEXIST)
		die("mkdir %s: %s", path, strerror(errno));
	snprintf(scope, sizeof(scope), "%s/qemu.slice/%ld.scope", root, o.vmid);
	if (mkdir(scope, 0755) && errno != EEXIST)
		die("mkdir %s: %s", scope, strerror(errno));
	if (mkdir(o.rundir, 0755) && errno != EEXIST)
		die("mkdir %s: %s", o.rundir, strerror(errno));
	snprintf(pidfile, sizeof(pidfile), "%s/%ld.pid", o.rundir, o.vmid);

	child = fork();
	if (child < 0)
		die("fork: %s", strerror(errno));
	if (child == 0) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", scope);
		write_or_die(path, "0");
		snprintf(buf, sizeof(buf), "%d\n", getpid());
		write_or_die(pidfile, buf);
		return;
	}
	signal(SIGTERM, forward);
	signal(SIGINT, forward);
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	unlink(pidfile);
	/* under systemd (systemd-run --scope) the scope is systemd's and holds
	 * this process too: systemd removes it once we are gone */
	for (int i = 0; i < 50 && !in_own_scope() && rmdir(scope) && errno == EBUSY; i++)
		usleep(20000);
	exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* ---- guest RAM ---- */

static void map_ram(void)
{
	int fd = -1, flags = MAP_SHARED;

	switch (o.backing) {
	case B_ANON:
		flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
		break;
	case B_MEMFD:
		fd = memfd_create("pc.ram", MFD_CLOEXEC);
		break;
	case B_HUGETLBFS: {
		char path[] = "/dev/hugepages/vm-standin.XXXXXX";
		fd = mkstemp(path);
		if (fd >= 0)
			unlink(path);
		break;
	}
	}
	if (o.backing != B_ANON && (fd < 0 || ftruncate(fd, o.mem)))
		die("guest RAM backing: %s", strerror(errno));
	if (o.backing == B_HUGETLBFS) {
		ram = mmap(NULL, o.mem, PROT_READ | PROT_WRITE, flags, fd, 0);
	} else {
		/* QEMU aligns guest RAM to 2 MiB (qemu_ram_mmap: reserve the
		 * size plus the alignment, map at the aligned address inside
		 * it), so that every 2 MiB of it can be a transparent huge
		 * page; unaligned, the first and last MiB or so are 4 KiB
		 * pages that each take their own hint fault */
		uint64_t align = CHUNK_PAGES * PAGE;
		char *res = mmap(NULL, o.mem + align, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		ram = MAP_FAILED;
		if (res != MAP_FAILED) {
			char *at = (char *)(((uintptr_t)res + align - 1) & ~(uintptr_t)(align - 1));

			ram = mmap(at, o.mem, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, 0);
			if (ram == MAP_FAILED) {
				munmap(res, o.mem + align);
			} else {
				if (at > res)
					munmap(res, at - res);
				if (res + align > at)
					munmap(at + o.mem, res + align - at);
			}
		}
	}
	if (ram == MAP_FAILED)
		die("mmap %" PRIu64 " bytes: %s%s", o.mem, strerror(errno),
		    o.backing == B_HUGETLBFS ? " (are enough huge pages reserved?)" : "");
	if (o.backing == B_ANON && o.thp)
		madvise(ram, o.mem, MADV_HUGEPAGE);	/* as QEMU does for guest RAM */
}

/* ---- options ---- */

static uint64_t size_arg(const char *s, const char *what)
{
	uint64_t v;

	if (parse_size(s, &v))
		die("%s: '%s' is not a size (bytes, or K, M, G, T)", what, s);
	return v;
}

static double parse_num(const char *s, const char *what, double lo, double hi)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || v < lo || v > hi)
		die("%s: '%s' is not a number in [%g, %g]", what, s, lo, hi);
	return v;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: vm-standin -id VMID [options]\n"
"  --mem SIZE           guest RAM (default 1G)\n"
"  --hot SIZE           hot set size (default mem/8)\n"
"  --hot-share F        share of accesses to the hot set (default 0.9)\n"
"  --hot-start SIZE     hot set offset in guest RAM (default 0)\n"
"  --zipf S             Zipf-distributed accesses over 2 MiB chunks instead\n"
"  --move-every SEC     move the hot set (or the Zipf ranking) every SEC s\n"
"  --write F            share of accesses that write (default 0.2)\n"
"  --rate N             at most N accesses per second (default: as fast as possible)\n"
"  --backing KIND       anon (default), memfd or hugetlbfs\n"
"  --no-thp             no MADV_HUGEPAGE on anon RAM\n"
"  --dram-budget SIZE   DRAM budget the oracle share is computed for (default: hot)\n"
"  --epoch SEC          seconds between JSON lines (default 1)\n"
"  --duration SEC       stop after SEC seconds (default: on SIGTERM/SIGINT)\n"
"  --no-register        no cgroup scope, no pid file\n"
"  --ram-after SEC      map guest RAM SEC s after writing the pid file, as QEMU\n"
"                       writes it before machine init\n"
"  --arrive SEC         write guest RAM over SEC s before running, as a live\n"
"                       migration fills it on the target\n"
"  --mlock              lock guest RAM where it lands (a fixed DRAM load for benchmarks)\n"
"  --cgroup-root DIR    cgroup2 mount (default: found in mountinfo)\n"
"  --run-dir DIR        pid file folder (default /var/run/qemu-server)\n"
"  --seed N             random seed (default 1)\n");
}

static void parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{"id", required_argument, 0, 'i'},
		{"mem", required_argument, 0, 'm'},
		{"hot", required_argument, 0, 'h'},
		{"hot-share", required_argument, 0, 's'},
		{"hot-start", required_argument, 0, 'S'},
		{"zipf", required_argument, 0, 'z'},
		{"move-every", required_argument, 0, 'M'},
		{"write", required_argument, 0, 'w'},
		{"rate", required_argument, 0, 'r'},
		{"backing", required_argument, 0, 'b'},
		{"no-thp", no_argument, 0, 'T'},
		{"dram-budget", required_argument, 0, 'B'},
		{"epoch", required_argument, 0, 'e'},
		{"duration", required_argument, 0, 'd'},
		{"no-register", no_argument, 0, 'R'},
		{"mlock", no_argument, 0, 'L'},
		{"arrive", required_argument, 0, 'A'},
		{"ram-after", required_argument, 0, 'Q'},
		{"cgroup-root", required_argument, 0, 'c'},
		{"run-dir", required_argument, 0, 'D'},
		{"seed", required_argument, 0, 'x'},
		{"help", no_argument, 0, 'H'},
		{0, 0, 0, 0},
	};
	bool hot_set = false;
	int c;

	/* getopt_long_only, so QEMU's single-dash `-id 101` works */
	while ((c = getopt_long_only(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o.vmid = (long)parse_num(optarg, "-id", 100, 999999999); break;
		case 'L': o.mlock = true; break;
		case 'A': o.arrive = parse_num(optarg, "--arrive", 0, 3600); break;
		case 'Q': o.ram_after = parse_num(optarg, "--ram-after", 0, 3600); break;
		case 'm': o.mem = size_arg(optarg, "--mem"); break;
		case 'h': o.hot = size_arg(optarg, "--hot"); hot_set = true; break;
		case 's': o.hot_share = parse_num(optarg, "--hot-share", 0, 1); break;
		case 'S': o.hot_start = size_arg(optarg, "--hot-start"); break;
		case 'z': o.zipf = parse_num(optarg, "--zipf", 0.01, 10); break;
		case 'M': o.move_every = parse_num(optarg, "--move-every", 0, 1e9); break;
		case 'w': o.write_share = parse_num(optarg, "--write", 0, 1); break;
		case 'r': o.rate = (uint64_t)parse_num(optarg, "--rate", 0, 1e12); break;
		case 'b':
			if (!strcmp(optarg, "anon")) o.backing = B_ANON;
			else if (!strcmp(optarg, "memfd")) o.backing = B_MEMFD;
			else if (!strcmp(optarg, "hugetlbfs")) o.backing = B_HUGETLBFS;
			else die("--backing: '%s' is not anon, memfd or hugetlbfs", optarg);
			break;
		case 'T': o.thp = false; break;
		case 'B': o.budget = size_arg(optarg, "--dram-budget"); break;
		case 'e': o.epoch = parse_num(optarg, "--epoch", 0.05, 3600); break;
		case 'd': o.duration = parse_num(optarg, "--duration", 0, 1e9); break;
		case 'R': o.reg = false; break;
		case 'c': o.cgroot = optarg; break;
		case 'D': o.rundir = optarg; break;
		case 'x': o.seed = (uint64_t)parse_num(optarg, "--seed", 1, 1e18); break;
		case 'H': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s'", argv[optind]);
	if (o.vmid < 0)
		die("-id VMID is required (100 or more, as in Proxmox)");
	uint64_t align = o.backing == B_HUGETLBFS ? CHUNK_PAGES * PAGE : PAGE;
	if (o.mem < 16 * CHUNK_PAGES * PAGE || o.mem % align)
		die("--mem: at least 32M, a multiple of %" PRIu64 " bytes", align);
	if (!hot_set)
		o.hot = o.mem / 8;
	if (o.hot > o.mem || o.hot % PAGE || o.hot_start % PAGE || o.hot_start >= o.mem)
		die("--hot/--hot-start: page-aligned and inside --mem");
	if (!o.budget)
		o.budget = o.hot;
}

static void on_signal(int sig) { (void)sig; stop = 1; }

/*
 * The ground truth is reported by a thread of its own, as QEMU's vCPUs go
 * on touching guest RAM while its other threads do their work: when the
 * thread that touches RAM stopped each epoch to report (tens of ms of
 * move_pages() under TCG), a NUMA-balancing scan it swept just before was
 * followed by no access at all for that long, and every region of that
 * window looked cold for that scan, hot ones too (the lab's heat-precision
 * found a whole window's hot set outranked so).
 *
 * It also keeps the stand-in from being one thread, which QEMU never is
 * (vCPUs, the main loop, RCU, I/O threads): NUMA balancing does not scan
 * the pages of a single-threaded process that are already on the node it
 * runs on (change_pte_range, mm_users == 1), so they would take no hint
 * faults.
 */
static double t0;			/* when the accesses began */
static int began;			/* 1 once t0 is set */
static uint64_t accessed;		/* accesses so far, by the main thread */
static int accessing = 1;		/* 0: the main thread has stopped */
static long epoch;
static uint64_t reported;		/* accesses when the last report was made */
static double reported_at;

static void report_now(void)
{
	double t = now();
	uint64_t n = __atomic_load_n(&accessed, __ATOMIC_RELAXED);

	report(t - t0, ++epoch, n - reported, t - reported_at);
	reported = n;
	reported_at = t;
}

static void nap(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

/* One report every epoch from when the accesses begin, and the last one
 * once they end (at --duration, or on a signal); an epoch that would end
 * with --duration is left to that last one. */
static void *reporter(void *arg)
{
	sigset_t pipe;

	(void)arg;
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);	/* a closed stdout ends the stand-in, as before */
	pthread_sigmask(SIG_UNBLOCK, &pipe, NULL);
	while (!__atomic_load_n(&began, __ATOMIC_ACQUIRE) && __atomic_load_n(&accessing, __ATOMIC_ACQUIRE))
		nap(0.01);
	for (long k = 1;; ) {
		double next = t0 + k * o.epoch;

		if (!__atomic_load_n(&accessing, __ATOMIC_ACQUIRE))
			break;
		if (o.duration > 0 && k * o.epoch >= o.duration - 1e-6) {
			nap(0.01);
			continue;
		}
		double wait = next - now();
		if (wait > 0) {
			nap(wait < 0.05 ? wait : 0.05);	/* short naps: the end is seen soon */
			continue;
		}
		report_now();
		k++;
	}
	if (__atomic_load_n(&began, __ATOMIC_ACQUIRE))
		report_now();
	return NULL;
}

int main(int argc, char **argv)
{
	double move_at;
	uint64_t n = 0;

	parse(argc, argv);
	if (numa_available() < 0)
		die("the kernel has no NUMA support");
	if (o.reg)
		supervise();	/* returns in the child, inside the scope */
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	npages = o.mem / PAGE;
	nchunks = (npages + CHUNK_PAGES - 1) / CHUNK_PAGES;
	gen = book(npages * sizeof(*gen));
	acc = book(npages * sizeof(*acc));
	rng_state = o.seed * 0x9E3779B97F4A7C15ULL | 1;
	if (o.zipf > 0)
		zipf_init();
	read_tiers();
	/* the reporter from the start, so that the stand-in is never one
	 * thread (see reporter's comment above) */
	pthread_t rep;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);		/* signals stay with the main thread */
	if (pthread_create(&rep, NULL, reporter, NULL))
		die("cannot start the reporting thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (o.ram_after > 0)
		usleep((useconds_t)(o.ram_after * 1e6));
	map_ram();
	fill();
	if (o.mlock && mlock(ram, o.mem))
		die("mlock: %s", strerror(errno));

	t0 = reported_at = now();
	move_at = o.move_every > 0 ? t0 + o.move_every : INFINITY;
	__atomic_store_n(&began, 1, __ATOMIC_RELEASE);
	while (!stop) {
		for (int i = 0; i < 1024; i++)
			access_one();
		n += 1024;
		__atomic_store_n(&accessed, n, __ATOMIC_RELAXED);
		/* sweep: one whole page per 1024 accesses */
		for (uint64_t w = 0; w < WORDS; w++)
			check(sweep, w);
		sweep = (sweep + 1) % npages;

		double t = now();
		if (o.rate) {
			double ahead = (double)n / o.rate - (t - t0);
			if (ahead > 0) {
				struct timespec ts = { (time_t)ahead, (long)((ahead - (time_t)ahead) * 1e9) };
				nanosleep(&ts, NULL);
			}
		}
		if (t >= move_at) {
			/* the hot set moves on by its own size (Zipf: by some chunks) */
			uint64_t step = o.zipf > 0 ? o.mem / 4 : (o.hot ? o.hot : PAGE);
			o.hot_start = (o.hot_start + step) % o.mem;
			move_at += o.move_every;
		}
		if (o.duration > 0 && t - t0 >= o.duration)
			break;
	}
	__atomic_store_n(&accessing, 0, __ATOMIC_RELEASE);
	pthread_join(rep, NULL);	/* which makes the last report */
	return errors ? 1 : 0;
}

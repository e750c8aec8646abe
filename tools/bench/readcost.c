// SPDX-License-Identifier: GPL-2.0-only
/*
 * tools/bench/readcost: what the engine's two placement reads cost as a
 * VM's RAM grows, on this host's kernel: anonymous memory of N GiB, every
 * page touched, with THP (MADV_HUGEPAGE, as QEMU asks for guest RAM) and
 * with 4 KiB pages; then the median of 3 reads of /proc/self/numa_maps,
 * and move_pages(2)'s query of every 8th page (where() of a whole VM, in
 * the engine's chunks). Prints a Markdown table; ms per GiB is what a 1 TiB
 * VM's reading costs in seconds.
 *
 *   readcost [GiB...]    (default 1 4 8)
 */
#include <fcntl.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define STRIDE 8		/* as engine.c */
#define CHUNK 16384		/* engine.c's QUERY_CHUNK */
#define HUGE (2UL << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double read_maps(void)
{
	static char buf[1 << 16];
	double t[3];

	for (int i = 0; i < 3; i++) {
		double t0 = now();
		int fd = open("/proc/self/numa_maps", O_RDONLY);

		if (fd < 0) {
			perror("readcost: /proc/self/numa_maps");
			exit(1);
		}
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		t[i] = now() - t0;
	}
	qsort(t, 3, sizeof(*t), cmp_d);
	return t[1];
}

static void row(unsigned long gib, int thp)
{
	size_t len = gib << 30, np = len / PAGE / STRIDE;
	char *raw = mmap(NULL, len + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void **pg = malloc(np * sizeof(*pg));
	int *st = malloc(np * sizeof(*st));

	if (raw == MAP_FAILED || !pg || !st) {
		fprintf(stderr, "readcost: no room for %lu GiB\n", gib);
		exit(1);
	}
	char *p = (char *)(((unsigned long)raw + HUGE - 1) & ~(HUGE - 1));

	madvise(p, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	for (size_t o = 0; o < len; o += PAGE)
		p[o] = 1;
	double maps = read_maps();

	for (size_t i = 0; i < np; i++)
		pg[i] = p + i * STRIDE * PAGE;
	double t0 = now();

	for (size_t off = 0; off < np; off += CHUNK)
		move_pages(0, np - off < CHUNK ? np - off : CHUNK, pg + off, NULL, st + off, 0);
	double query = now() - t0;

	printf("| %lu GiB | %s | %.2f | %.2f | %.1f | %.1f |\n", gib, thp ? "THP" : "4 KiB", maps * 1e3, maps * 1e3 / gib,
	       query * 1e3, query * 1e3 / gib);
	fflush(stdout);
	munmap(raw, len + HUGE);
	free(pg);
	free(st);
}

int main(int argc, char **argv)
{
	static const unsigned long dflt[] = { 1, 4, 8 };
	int n = argc > 1 ? argc - 1 : 3;

	printf("| guest RAM | pages | numa_maps (ms) | ms per GiB | query of every 8th page (ms) | ms per GiB |\n");
	printf("|---|---|---|---|---|---|\n");
	for (int i = 0; i < n; i++) {
		unsigned long gib = argc > 1 ? strtoul(argv[i + 1], NULL, 10) : dflt[i];

		if (!gib) {
			fprintf(stderr, "readcost: '%s' is not a number of GiB\n", argv[i + 1]);
			return 2;
		}
		row(gib, 1);
		row(gib, 0);
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "util.h"

long read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;

	if (fd < 0)
		return -errno;
	while (n + 1 < size) {
		ssize_t r = read(fd, buf + n, size - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			return r;
		}
		if (r == 0)
			break;
		n += r;
	}
	buf[n] = 0;
	close(fd);
	return (long)n;
}

int write_file(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, v, strlen(v));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))	/* strtoull would skip blanks and take a sign */
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	char num[32], *end;
	size_t len = s ? strlen(s) : 0;
	uint64_t v, mult = 1;
	const char *u;

	if (!len || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len + 1);
	char c = (char)(num[len - 1] & ~0x20);

	if (c && (u = strchr(units, c))) {
		mult = 1ULL << (10 * (1 + (u - units)));
		num[--len] = 0;
	}
	if (!isdigit((unsigned char)*num))	/* strtoull takes " -5" as 2^64 - 5 */
		return -EINVAL;
	errno = 0;
	v = strtoull(num, &end, 10);
	if (errno || *end || (v && mult > UINT64_MAX / v))
		return -EINVAL;
	*out = v * mult;
	return 0;
}

const char *cgroup2_mount(void)
{
	static char root[256];
	char line[1024];
	FILE *f;

	if (*root)
		return root;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		char mnt[256], fstype[64];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %255s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		if (!strcmp(fstype, "cgroup2")) {
			snprintf(root, sizeof(root), "%s", mnt);
			break;
		}
	}
	fclose(f);
	return *root ? root : NULL;
}

uint64_t cgroup_id(const char *path)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh.handle_bytes = sizeof(uint64_t) };
	int mnt;

	/* As bpftool and systemd do: the handle of a kernfs node is its id. */
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mnt, 0) < 0)
		return 0;
	return h.id;
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double cpu_s(double *sys_s)
{
	struct rusage ru;
	double sys;

	if (getrusage(RUSAGE_SELF, &ru))
		return -1;
	sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	if (sys_s)
		*sys_s = sys;
	return sys + ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
}

int parse_nodelist(const char *s, uint64_t *mask)
{
	char *end;

	*mask = 0;
	if (!s || !*s)
		return -1;
	while (*s && *s != '\n') {
		unsigned long a = strtoul(s, &end, 10), b = a;

		if (end == s || a >= UTIL_MAX_NODES)
			return -1;
		s = end;
		if (*s == '-') {
			b = strtoul(++s, &end, 10);
			if (end == s || b >= UTIL_MAX_NODES || b < a)
				return -1;
			s = end;
		}
		for (unsigned long n = a; n <= b; n++)
			*mask |= 1ULL << n;
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -1;
	}
	return 0;
}

/*
 * The nodes of the fastest memory tier: the lowest-numbered
 * memory_tierN that holds a node (dax/kmem puts CXL memory in a higher
 * one than CPU-attached DRAM). With no tiering in sysfs, the nodes that
 * have CPUs.
 */
uint64_t fast_nodes(const char *sysroot)
{
	char path[512], buf[256];
	uint64_t fast = 0;
	int best = -1;
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s/sys/devices/virtual/memory_tiering", sysroot);
	if ((d = opendir(path))) {
		while ((e = readdir(d))) {
			uint64_t m;
			int id;

			if (sscanf(e->d_name, "memory_tier%d", &id) != 1 || (best >= 0 && id > best))
				continue;
			snprintf(path, sizeof(path), "%s/sys/devices/virtual/memory_tiering/%s/nodelist",
				 sysroot, e->d_name);
			if (read_file(path, buf, sizeof(buf)) <= 0 || parse_nodelist(buf, &m) || !m)
				continue;
			best = id;
			fast = m;
		}
		closedir(d);
	}
	if (best >= 0)
		return fast;
	for (int n = 0; n < UTIL_MAX_NODES; n++) {
		snprintf(path, sizeof(path), "%s/sys/devices/system/node/node%d/cpulist", sysroot, n);
		if (read_file(path, buf, sizeof(buf)) > 1)
			fast |= 1ULL << n;
	}
	return fast;
}

const char *fmt_bytes(uint64_t b, char *buf, size_t size)
{
	static const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, size, i ? "%.1f %s" : "%.0f %s", v, u[i]);
	return buf;
}

long numa_maps_bytes(const char *path, const uint64_t (*ranges)[2], int n, uint64_t *bytes, int max_nodes)
{
	FILE *f;
	long r;

	memset(bytes, 0, sizeof(*bytes) * (max_nodes < 64 ? max_nodes : 64));
	if (!(f = fopen(path, "re")))
		return -errno;
	r = numa_maps_read(f, ranges, n, bytes, max_nodes);
	fclose(f);
	return r;
}

long numa_maps_read(FILE *f, const uint64_t (*ranges)[2], int n, uint64_t *bytes, int max_nodes)
{
	enum { MAX = 64 };
	char line[4096];
	long found = 0;

	if (max_nodes > MAX)
		max_nodes = MAX;
	memset(bytes, 0, sizeof(*bytes) * max_nodes);
	while (fgets(line, sizeof(line), f)) {
		uint64_t start = strtoull(line, NULL, 16), psz = 4096, pages[MAX] = {0};
		bool in = !n;
		char *tok, *save;

		for (int i = 0; i < n && !in; i++)
			in = start >= ranges[i][0] && start < ranges[i][1];
		if (!in)
			continue;
		found++;
		/* kernelpagesize_kB comes after the N<node>= counts */
		for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			int node;
			unsigned long long v;

			if (sscanf(tok, "N%d=%llu", &node, &v) == 2 && node >= 0 && node < max_nodes)
				pages[node] += v;
			else if (sscanf(tok, "kernelpagesize_kB=%llu", &v) == 1)
				psz = v * 1024;
		}
		for (int k = 0; k < max_nodes; k++)
			bytes[k] += pages[k] * psz;
	}
	return found;
}

int parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "on"))
		*out = true;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "off"))
		*out = false;
	else
		return -1;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Finding a VM as Proxmox runs it: /var/run/qemu-server/<vmid>.pid names
 * the QEMU process, which lives in qemu.slice/<vmid>.scope and carries
 * `-id <vmid>` on its command line. Anything else is refused.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"
#include "vm.h"

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -EINVAL)

void host_paths_default(struct host_paths *hp)
{
	const char *cg = cgroup2_mount();

	hp->proc = "/proc";
	hp->run = "/var/run/qemu-server";
	hp->cgroup = cg ? cg : "/sys/fs/cgroup";
}

int parse_vmid(const char *s, long *vmid)
{
	uint64_t v;

	if (parse_uint(s, 999999999, &v) || v < 100)
		return -EINVAL;
	*vmid = (long)v;
	return 0;
}

static int cmdline_has_id(const char *buf, long n, long vmid)
{
	char want[24];
	const char *p = buf, *end = buf + n;

	snprintf(want, sizeof(want), "%ld", vmid);
	while (p < end) {
		const char *next = p + strlen(p) + 1;

		if (!strcmp(p, "-id") && next < end)
			return !strcmp(next, want);
		p = next;
	}
	return 0;
}

int vm_resolve(const struct host_paths *hp, long vmid, struct vm *vm, char *why, size_t whylen)
{
	char path[512], buf[8192], want[64];
	uint64_t pid;
	long n;
	char *line, *save;
	int found = 0;

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

	snprintf(path, sizeof(path), "%s/%d/cmdline", hp->proc, vm->pid);
	n = read_file(path, buf, sizeof(buf));
	if (n <= 0 || !cmdline_has_id(buf, n, vmid))
		return WHY("VM %ld: pid %d does not carry '-id %ld' on its command line: not this VM's QEMU",
			   vmid, vm->pid, vmid);

	snprintf(vm->scope, sizeof(vm->scope), "%s", want);
	snprintf(vm->scope_dir, sizeof(vm->scope_dir), "%s%s", hp->cgroup, want);
	vm->cgid = cgroup_id(vm->scope_dir);
	if (!vm->cgid)
		return WHY("VM %ld: cannot get the cgroup id of %s", vmid, vm->scope_dir);
	return 0;
}

/* Is this line of /proc/PID/maps guest RAM? Fill what, return size or 0. */
static uint64_t ram_mapping(const char *line, uint64_t *start, uint64_t *end, char *what, size_t wl)
{
	char perms[8], path[512] = "";
	unsigned long s, e;
	int n = 0;

	if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &s, &e, perms, &n) < 3)
		return 0;
	if (perms[0] != 'r' || perms[1] != 'w' || e <= s)	/* e <= s: not the kernel's line */
		return 0;
	sscanf(line + n, "%511[^\n]", path);
	if (!*path)
		snprintf(what, wl, "anon");
	else if (!strncmp(path, "/memfd:", 7))
		snprintf(what, wl, "memfd:%.40s", path + 7);
	else if (!strncmp(path, "/dev/hugepages", 14) || strstr(path, "hugetlb"))
		snprintf(what, wl, "hugetlbfs:%.40s", path);
	else
		return 0;
	*start = s;
	*end = e;
	return e - s;
}

int vm_find_ram(const struct host_paths *hp, struct vm *vm, uint64_t min_bytes, char *why, size_t whylen)
{
	char path[512], line[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/maps", hp->proc, vm->pid);
	f = fopen(path, "re");
	if (!f)
		return WHY("VM %ld: cannot read %s: %s", vm->vmid, path, strerror(errno));
	vm->nr_ranges = 0;
	vm->ram_bytes = 0;
	while (fgets(line, sizeof(line), f)) {
		struct ram_range r;
		uint64_t sz = ram_mapping(line, &r.start, &r.end, r.what, sizeof(r.what));
		int i;

		if (sz < min_bytes)
			continue;
		/* keep the largest TIERD_MAX_RANGES, sorted by size */
		for (i = vm->nr_ranges; i > 0; i--) {
			struct ram_range *p = &vm->ram[i - 1];
			if (p->end - p->start >= sz)
				break;
			if (i < TIERD_MAX_RANGES)
				vm->ram[i] = *p;
		}
		if (i < TIERD_MAX_RANGES) {
			vm->ram[i] = r;
			if (vm->nr_ranges < TIERD_MAX_RANGES)
				vm->nr_ranges++;
		}
	}
	fclose(f);
	for (int i = 0; i < vm->nr_ranges; i++)
		vm->ram_bytes += vm->ram[i].end - vm->ram[i].start;
	if (!vm->nr_ranges)
		return WHY("VM %ld: no guest RAM mapping of %lu MiB or more in %s",
			   vm->vmid, (unsigned long)(min_bytes >> 20), path);
	return 0;
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
	uint64_t ranges[TIERD_MAX_RANGES][2];
	char path[512];
	long r;

	for (int i = 0; i < vm->nr_ranges; i++) {
		ranges[i][0] = vm->ram[i].start;
		ranges[i][1] = vm->ram[i].end;
	}
	snprintf(path, sizeof(path), "%s/%d/numa_maps", hp->proc, vm->pid);
	r = numa_maps_bytes(path, (const uint64_t (*)[2])ranges, vm->nr_ranges, bytes, max_nodes);
	return r < 0 ? (int)r : 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_VM_H
#define TIERD_VM_H

#include <stdint.h>
#include <sys/types.h>
#include "tierd.h"

/* Where a VM is looked up; tests point these at a fake tree. */
struct host_paths {
	const char *proc;	/* /proc */
	const char *run;	/* /var/run/qemu-server */
	const char *cgroup;	/* the cgroup2 mount */
};

struct ram_range {
	uint64_t start, end;
	char what[64];		/* "anon", "memfd:pc.ram", "hugetlbfs:/dev/hugepages/..." */
};

struct vm {
	long vmid;
	pid_t pid;
	char scope[256];	/* path below the cgroup2 mount: /qemu.slice/101.scope */
	char scope_dir[512];	/* absolute */
	uint64_t cgid;
	int nr_ranges;
	struct ram_range ram[TIERD_MAX_RANGES];
	uint64_t ram_bytes;
};

void host_paths_default(struct host_paths *hp);
/* Resolve VM `vmid` as Proxmox runs it. 0, or -errno with `why` filled. */
int vm_resolve(const struct host_paths *hp, long vmid, struct vm *vm, char *why, size_t whylen);
/* Find guest RAM in the VM's memory map: mappings of at least min_bytes. */
int vm_find_ram(const struct host_paths *hp, struct vm *vm, uint64_t min_bytes, char *why, size_t whylen);
/* Parse a VMID argument (100..999999999, as Proxmox allows). */
int parse_vmid(const char *s, long *vmid);
/* Every VMID with a pid file, sorted; returns the count (at most max). */
int vm_list(const struct host_paths *hp, long *ids, int max);

#define VM_MAX_NODES 64
/* Bytes of the VM's guest RAM on each node (numa_maps); 0 or -errno. */
int vm_bytes_per_node(const struct host_paths *hp, const struct vm *vm, uint64_t *bytes, int max_nodes);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_VM_H
#define TIERD_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "tierd.h"

/* Where a VM is looked up; tests point these at a fake tree. */
struct host_paths {
	const char *proc;	/* /proc */
	const char *run;	/* /var/run/qemu-server: pid files, QMP sockets */
	const char *cgroup;	/* the cgroup2 mount */
	const char *conf;	/* /etc/pve/qemu-server: N.conf (unreadable: not checked) */
};

#define RANGE_HUGETLB	0x1	/* hugetlbfs pages of page_size */
#define RANGE_SHARED	0x2	/* a shared mapping (memfd or file, share=on) */

struct ram_range {
	uint64_t start, end;
	uint64_t page_size;	/* 4096, or the huge page size */
	uint32_t flags;		/* RANGE_* */
	char what[64];		/* "ram-node0 anon", "mem-dimm3 hugetlbfs 2048 kB", "memfd" */
};

struct vm {
	long vmid;
	pid_t pid;
	char scope[256];	/* path below the cgroup2 mount: /qemu.slice/101.scope */
	char scope_dir[512];	/* absolute */
	uint64_t cgid;
	int nr_ranges;
	struct ram_range *ram;	/* vm_find_ram allocates; vm_free */
	uint64_t ram_bytes;
	uint64_t conf_bytes;	/* memory: from the VM's config, 0 if unread */
	uint64_t maps_sig;	/* the candidate mappings at the last look (vm_ram_changed) */
	uint64_t *seen;		/* their start addresses */
	int nseen;
	char note[256];		/* a warning about the identification, or "" */
};

void host_paths_default(struct host_paths *hp);
/* Resolve VM `vmid` as Proxmox runs it. 0, or -errno with `why` filled. */
int vm_resolve(const struct host_paths *hp, long vmid, struct vm *vm, char *why, size_t whylen);
/*
 * Find guest RAM (vm.c says how) and check it against the VM's config;
 * refuse VFIO passthrough. 0, or -errno with `why` filled (nothing kept).
 * min_bytes applies only to a process with no QEMU memory options (the
 * stand-in): its rw mappings of at least that size.
 */
int vm_find_ram(const struct host_paths *hp, struct vm *vm, uint64_t min_bytes, char *why, size_t whylen);
void vm_free(struct vm *vm);
/* memory: of the VM's config in bytes, 0 if the config is unreadable. */
uint64_t vm_conf_memory(const struct host_paths *hp, long vmid);
/*
 * Hot-added memory: a cheap look at the memory map (1 if its candidate
 * mappings changed since the last look). vm_add_hotplugged then asks
 * QEMU (QMP query-memory-devices) for its DIMMs and appends the ranges of
 * new ones, after the others and unsorted (the engine indexes what it
 * has): the number added, 0, or -errno with `why` filled.
 */
int vm_ram_changed(const struct host_paths *hp, struct vm *vm);
int vm_add_hotplugged(const struct host_paths *hp, struct vm *vm, char *why, size_t whylen);
/* The ranges as the BPF side gets them: sorted, at most TIERD_MAX_RANGES,
 * the closest neighbours merged first when there are more. */
void vm_bpf_ranges(const struct vm *vm, struct vm_cfg *cfg);
/* Parse a VMID argument (100..999999999, as Proxmox allows). */
int parse_vmid(const char *s, long *vmid);
/* Every VMID with a pid file, sorted; returns the count (at most max). */
int vm_list(const struct host_paths *hp, long *ids, int max);

#define VM_MAX_NODES 64
/* Bytes of the VM's guest RAM on each node (numa_maps); 0 or -errno. */
int vm_bytes_per_node(const struct host_paths *hp, const struct vm *vm, uint64_t *bytes, int max_nodes);

#endif

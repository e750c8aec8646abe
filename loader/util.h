/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_UTIL_H
#define TIERD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Read a whole small file into buf (NUL-terminated); bytes read or -errno. */
long read_file(const char *path, char *buf, size_t size);
/* Write a string to an existing file (sysctl, cgroup, sysfs); 0 or -errno. */
int write_file(const char *path, const char *v);
/* Parse "512M", "2G", "4096" (bytes; K/M/G/T suffixes). 0 on success. */
int parse_size(const char *s, uint64_t *out);
/* Parse yes/no, true/false, on/off, 1/0 (any case). 0 on success. */
int parse_bool(const char *s, bool *out);
/* Parse a non-negative decimal integer that fits in `max`. 0 on success. */
int parse_uint(const char *s, uint64_t max, uint64_t *out);
/* The cgroup2 mount point, from /proc/self/mountinfo (cached). */
const char *cgroup2_mount(void);
/* The cgroup id (kernfs node id) of a cgroup directory, or 0. */
uint64_t cgroup_id(const char *path);
double now_s(void);
/* CPU seconds this process has used (user and system), -1 if unknown;
 * the system part into *sys_s if given. */
double cpu_s(double *sys_s);
/*
 * Bytes on each node (bytes[0..max_nodes)) of the mappings in a numa_maps
 * file (/proc/PID/numa_maps) that start inside one of `n` [start, end)
 * ranges, or of every mapping if n == 0. Exact: it also counts pages NUMA
 * balancing holds PROT_NONE. The number of mappings counted, or -errno.
 */
long numa_maps_bytes(const char *path, const uint64_t (*ranges)[2], int n, uint64_t *bytes, int max_nodes);
/* The same, from an open numa_maps file (its parser). */
long numa_maps_read(FILE *f, const uint64_t (*ranges)[2], int n, uint64_t *bytes, int max_nodes);
#define UTIL_MAX_NODES 64
/* Parse a node list ("0,2-3") into a mask of nodes 0..63; -1 on bad input. */
int parse_nodelist(const char *s, uint64_t *mask);
/* The DRAM nodes (mask) as the kernel's memory tiers say, under sysroot
 * ("" for this machine); with no tiering in sysfs, the nodes with CPUs. */
uint64_t fast_nodes(const char *sysroot);
/* "1.5 GiB" */
const char *fmt_bytes(uint64_t b, char *buf, size_t size);

#endif

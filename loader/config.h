/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_CONFIG_H
#define TIERD_CONFIG_H

/*
 * tierd's two files (format in tierd.conf(5)):
 *   /etc/tierd/tierd.conf   this host: daemon settings and policy defaults
 *   /etc/pve/tierd.cfg      the cluster: one "vm: N" section per VM policy
 * and the light switch in a VM's Proxmox tags (tierd, tierd.pin-hot,
 * tierd.off), read from <pve-dir>/qemu-server/N.conf.
 *
 * A VM's policy is built in layers, later ones winning: built-in defaults,
 * tierd.conf, its tierd.cfg section, its tags, the options it was attached
 * with by hand. Every layer is a list of the same "name value" options the
 * command line takes, checked when the file is read.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "options.h"
#include "pve.h"

#define CONFIG_MAX_BYTES (1 << 20)	/* pmxcfs refuses larger files */
#define CONFIG_MAX_OPTS 16
/* node_exporter's textfile folder on Debian: used when it exists */
#define METRICS_DIR_DEFAULT "/var/lib/prometheus/node-exporter"

struct popt {
	char name[24];
	char val[64];			/* "" for a bare flag */
};

struct popts {
	int n;
	struct popt o[CONFIG_MAX_OPTS];
};

struct vm_policy {
	long vmid;
	int line;
	struct popts opts;
};

struct config {
	/* tierd.conf */
	char path[256];
	struct engine_opts eo;
	char dram_nodes[128], slow_nodes[128];
	char metrics_dir[256];		/* "": no metrics file */
	char pve_dir[256];		/* /etc/pve */
	char policies[256];		/* <pve-dir>/tierd.cfg */
	struct popts defaults;
	/* tierd.cfg */
	struct vm_policy *vm;
	int nvm;
};

/* Built-in settings (nothing read). */
void config_init(struct config *c);
void config_free(struct config *c);
/*
 * Read tierd.conf at `path` into c (a missing file leaves the defaults,
 * unless `must_exist`), then the policies file it names. 0, or -1 with
 * "file:line: what" in why and c unchanged.
 */
int config_load(struct config *c, const char *path, bool must_exist, char *why, size_t whylen);
/*
 * config_load's two parsers, on text already read (buf is changed): the
 * host settings as tierd.conf gives them (path names it in messages), and
 * the sections of the policies file (c->policies names it; c holds none yet).
 * 0, or -1 with "file:line: what" in why (c may then hold part of it).
 */
int config_parse_host(struct config *c, char *buf, const char *path, char *why, size_t whylen);
int config_parse_policies(struct config *c, char *buf, char *why, size_t whylen);
/* Point c->eo's node lists and pve_dir at c's own strings again (after
 * they are edited, or c is copied). */
void config_fix_ptrs(struct config *c);
/* Set one host key as tierd.conf would ("epoch", "2"): the command line's
 * overrides go through the same checks. 0, or -1 with why ("key: ..."). */
int config_host_option(struct config *c, const char *key, const char *val, char *why, size_t whylen);
/* `tierd config`'s lines of host settings ("  epoch 2.00 s, ..."). */
void config_print_host(FILE *out, const struct config *c);
/* How many host keys a running daemon keeps until restart differ between
 * a and b; their names, comma-separated, in list. */
int config_restart_diff(const struct config *a, const struct config *b, char *list, size_t len);
/* Give n from's values of the keys kept until restart. */
void config_keep_restart(struct config *n, const struct config *from);
/* The tierd.cfg section for vmid, or NULL. */
const struct vm_policy *config_vm(const struct config *c, long vmid);

/* What a VM's Proxmox tags say about tierd (pve_tags, under c's pve-dir). */
enum tag_switch config_tags(const struct config *c, long vmid);
/* A VM with a tierd.cfg section or an "on" tag, and no tierd.off tag. */
bool config_wants(const struct config *c, long vmid);
/*
 * The VM's policy: defaults, tierd.conf, tierd.cfg, tags, then `manual`
 * (may be NULL). 0, or -1 with why.
 */
int config_policy(const struct config *c, long vmid, const struct popts *manual, struct policy *p,
		  char *why, size_t whylen);
/* Add "name[=value]" to a list after checking it as a policy option. */
int popts_add(struct popts *l, const char *name, const char *val, char *why, size_t whylen);

/*
 * Identity of the files, to notice edits: (mtime, size, content hash) of
 * both. pmxcfs gives whole-second mtimes and no stable inode, so an edit
 * in the same second to the same size shows only in the content.
 */
struct config_stamp {
	struct timespec mt[2];
	off_t size[2];
	uint64_t hash[2];
	bool present[2];
};
void config_stamp(const struct config *c, struct config_stamp *s);
bool config_stamp_eq(const struct config_stamp *a, const struct config_stamp *b);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_OPTIONS_H
#define TIERD_OPTIONS_H

/*
 * Every key tierd takes, each spelled once: the VM policy keys (command
 * line --key, tierd.conf defaults, tierd.cfg sections, the socket's
 * name=value) and the host keys (tierd.conf, most of them also --key).
 * From these rows come struct policy's fields and defaults, the parsers
 * and their messages, the command line's long options and usage lines, the
 * re-attach comparison, `tierd config`'s lines and the status JSON's
 * "policy" object; tests/unit/test_options.c checks that the man pages
 * document each key, and document no other.
 *
 * Both tables are X-macros. A row's `ok` is a C condition on `v`, the
 * parsed value (kinds below); `bad` is the message when it does not hold,
 * a printf format taking the text given.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * POLICY_OPTIONS(X): X(key, kind, field, def, ok, bad, arg, help, show, dec)
 *   kind   P_FLAG (bool: bare, or yes/no), P_SIZE (bytes, K/M/G/T
 *          suffixes; 0 shows as "none"), P_NUM (a finite double)
 *   field  struct policy's member; also its name in the status JSON
 *   def    the built-in default
 *   arg    the value's name in the usage ("" for a flag), help its line
 *   show   how `tierd config` prints a P_NUM (a printf format of a double)
 *   dec    decimals of a P_NUM in the status JSON
 */
#define POLICY_OPTIONS(X)									\
	X("pin-hot", P_FLAG, pin_hot, false, 1, "'%s' is not yes or no",			\
	  "", "keep the hot set in DRAM and shield it (memory.low)", "", 0)			\
	X("dram-max", P_SIZE, dram_max, 0, v >= (2UL << 20),					\
	  "'%s' is not a size of at least 2M (K/M/G suffixes)",					\
	  "SIZE", "DRAM budget for the VM (K/M/G suffixes)", "", 0)				\
	X("rate", P_NUM, rate_mbs, 256, v > 0 && v <= 100000, "%s MB/s is outside (0, 100000]",	\
	  "MBPS", "migration limit for the VM (default 256 MB/s)", "%.0f MB/s", 1)		\
	X("target-slow", P_NUM, target_slow, 0.05, v > 0 && v < 0.5,				\
	  "%s is not a share in (0, 0.5), like 0.05",						\
	  "SHARE", "accepted for existing policies, no longer steers (default 0.05)", "%.3f", 4)	\
	X("io-slow-us", P_NUM, io_slow_us, 5000, v > 0, "%s must be positive",			\
	  "US", "NVMe p99 above which its storage counts as slow (default 5000)", "%.0f", 0)

/* a policy kind's C type */
#define OPT_CTYPE_P_FLAG bool
#define OPT_CTYPE_P_SIZE uint64_t
#define OPT_CTYPE_P_NUM double

/*
 * HOST_OPTIONS(X): X(key, kind, field, def, ok, bad, cli, arg, help, restart, line, show)
 *   kind    H_NUM (a double; `bad` names the range), H_SIZE (bytes),
 *           H_BOOL (yes/no), H_NODES (a node list like 0 or 1,3), H_PATH
 *           (an absolute path, checked), H_DIR (the same, or "none": "")
 *   field   its place in struct config (config.h)
 *   cli     H_ARG: --key ARG, H_NO: --no-key sets "no", H_FILE: tierd.conf only
 *   restart the running daemon keeps the value it started with
 *   line    which line of `tierd config`'s host settings shows it (0: none),
 *           `show` its format there (H_NUM, H_SIZE)
 */
#define HOST_OPTIONS(X)										\
	X("epoch", H_NUM, eo.epoch_s, 2, v >= 0.1 && v <= 3600, "0.1..3600 seconds",		\
	  H_ARG, "S", "seconds per epoch (default 2)", true, 1, "%.2f s")			\
	X("host-rate", H_NUM, eo.host_rate_mbs, 1024, v > 0 && v <= 1e6, "a positive MB/s",	\
	  H_ARG, "MBPS", "migration limit for all VMs (default 1024 MB/s)", true, 1, "%.0f MB/s") \
	X("dram-free-min", H_SIZE, eo.dram_free_min, 256UL << 20, 1, "",			\
	  H_ARG, "SIZE", "never promote below this much free DRAM (default 256M)", true, 1, "%llu B") \
	X("kernel-knobs", H_BOOL, eo.kernel_knobs, true, 1, "",					\
	  H_NO, "", "leave NUMA balancing's settings alone", true, 1, "")			\
	X("dram-nodes", H_NODES, dram_nodes, "", 1, "",						\
	  H_ARG, "LIST", "the DRAM nodes, instead of the kernel's memory tiers", true, 0, "")	\
	X("slow-nodes", H_NODES, slow_nodes, "", 1, "",						\
	  H_ARG, "LIST", "the slow nodes, instead of the kernel's memory tiers", true, 0, "")	\
	X("metrics-dir", H_DIR, metrics_dir, METRICS_DIR_DEFAULT, 1, "",			\
	  H_ARG, "DIR", "write DIR/tierd.prom each epoch (node_exporter textfile); 'none': off",	\
	  false, 2, "")										\
	X("pve-dir", H_PATH, pve_dir, "/etc/pve", 1, "",					\
	  H_FILE, "DIR", "where pmxcfs is mounted", true, 2, "")				\
	X("policies", H_PATH, policies, "/etc/pve/tierd.cfg", 1, "",				\
	  H_FILE, "FILE", "the VM policies file (default <pve-dir>/tierd.cfg)", false, 0, "")

enum opt_cli { H_ARG, H_NO, H_FILE };

/* One row of either table, for what walks them (usage, getopt, tests). */
struct opt_desc {
	const char *key;
	bool flag;			/* policy: takes no value on the command line */
	enum opt_cli cli;		/* host */
	const char *arg, *help;
};
extern const struct opt_desc policy_keys[], host_keys[];
extern const int npolicy_keys, nhost_keys;
/* The row for key, or NULL. */
const struct opt_desc *policy_key(const char *key);
const struct opt_desc *host_key_desc(const char *key);

/* "pin-hot, dram-max, ...": the policy keys, for messages. */
const char *policy_key_list(void);
/* The usage lines of the host keys the command line takes (--key ARG,
 * --no-key). */
void host_usage(FILE *f);

/* What an admin asks for one VM: its VMID, then the table's fields. */
struct policy {
	long vmid;
#define X(key, kind, field, ...) OPT_CTYPE_##kind field;
	POLICY_OPTIONS(X)
#undef X
};

void policy_default(struct policy *p);
/* Parse one policy option (name without "--", value may be NULL).
 * 1: consumed the value, 0: a flag, -1: error (message in why). */
int policy_option(struct policy *p, const char *name, const char *val, char *why, size_t whylen);
/* The table's keys are equal (vmid aside). */
bool policy_eq(const struct policy *a, const struct policy *b);
/* `tierd config`'s " pin-hot no, dram-max none, ..." (no newline). */
void policy_print(FILE *f, const struct policy *p);
struct json;
/* The status JSON's fields, one per key, into the open object. */
void policy_json(struct json *j, const struct policy *p);
/* The usage lines of the policy options ("  --key ARG   help"). */
void policy_usage(FILE *f);

/* Host-wide settings the engine runs with (config.c fills them in). */
struct engine_opts {
	double epoch_s;			/* seconds per epoch */
	double host_rate_mbs;		/* migration limit, all VMs, MB/s */
	uint64_t dram_free_min;		/* never promote below this much free DRAM */
	bool kernel_knobs;		/* own NUMA balancing's knobs */
	const char *dram_nodes, *slow_nodes;
	const char *pve_dir;		/* pmxcfs, for live-migration locks; NULL: none */
};
/* The host table's defaults for the engine (config.c), no nodes or
 * pmxcfs named: what a simulated engine runs with. */
void engine_opts_default(struct engine_opts *o);

#endif

// SPDX-License-Identifier: GPL-2.0-only
/*
 * tierd.conf, tierd.cfg and VM tags: see config.h and tierd.conf(5).
 *
 * Both files are lines of "key value" (or a bare "key" for a flag), '#'
 * starts a comment line; tierd.cfg groups policy keys under "vm: N"
 * headers, as Proxmox's own section files (storage.cfg) do. A file is read
 * whole and checked whole: any error names file:line and nothing of that
 * reading is used.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"
#include "util.h"
#include "vm.h"

#define MAX_LINE 512

void config_fix_ptrs(struct config *c)
{
	c->eo.dram_nodes = c->dram_nodes[0] ? c->dram_nodes : NULL;
	c->eo.slow_nodes = c->slow_nodes[0] ? c->slow_nodes : NULL;
	c->eo.pve_dir = c->pve_dir;
}

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "/etc/tierd/tierd.conf");
	c->eo.epoch_s = 2;
	c->eo.host_rate_mbs = 1024;
	c->eo.dram_free_min = 256UL << 20;
	c->eo.kernel_knobs = true;
	snprintf(c->pve_dir, sizeof(c->pve_dir), "/etc/pve");
	snprintf(c->metrics_dir, sizeof(c->metrics_dir), METRICS_DIR_DEFAULT);
	snprintf(c->policies, sizeof(c->policies), "/etc/pve/tierd.cfg");
	config_fix_ptrs(c);
}

void config_free(struct config *c)
{
	free(c->vm);
	c->vm = NULL;
	c->nvm = 0;
}

static bool is_policy_key(const char *k)
{
	static const char *const keys[] = { "pin-hot", "dram-max", "rate", "target-slow", "io-slow-us" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

int popts_add(struct popts *l, const char *name, const char *val, char *why, size_t whylen)
{
	struct policy scratch;
	int i;

	policy_default(&scratch);
	if (policy_option(&scratch, name, val, why, whylen) < 0)
		return -1;
	if (strlen(name) >= sizeof(l->o[0].name) || (val && strlen(val) >= sizeof(l->o[0].val))) {
		snprintf(why, whylen, "%s: value too long", name);
		return -1;
	}
	for (i = 0; i < l->n; i++)		/* a later setting replaces an earlier one */
		if (!strcmp(l->o[i].name, name))
			break;
	if (i == l->n) {
		if (l->n == CONFIG_MAX_OPTS) {
			snprintf(why, whylen, "too many policy options");
			return -1;
		}
		l->n++;
	}
	snprintf(l->o[i].name, sizeof(l->o[i].name), "%s", name);
	snprintf(l->o[i].val, sizeof(l->o[i].val), "%s", val ? val : "");
	return 0;
}

static int apply(struct policy *p, const struct popts *l, char *why, size_t whylen)
{
	for (int i = 0; l && i < l->n; i++)
		if (policy_option(p, l->o[i].name, l->o[i].val[0] ? l->o[i].val : NULL, why, whylen) < 0)
			return -1;
	return 0;
}

/*
 * A folder or file tierd.conf names: absolute, no "." or ".." component,
 * no control characters, and not in the kernel's own trees (/proc, /sys,
 * /dev), where tierd.prom or a policies file has no business.
 */
static int set_path(char *dst, size_t size, const char *key, const char *v, char *why, size_t whylen)
{
	static const char *const kernel[] = { "/proc", "/sys", "/dev" };
	const char *bad = NULL;

	if (v[0] != '/' || strlen(v) >= size) {
		snprintf(why, whylen, "%s: '%.300s' is not an absolute path (under %zu bytes)", key, v, size);
		return -1;
	}
	for (const char *c = v; *c && !bad; c++)
		if (iscntrl((unsigned char)*c))
			bad = "holds a control character";
	for (const char *c = v; *c && !bad; c++)
		if (c[0] == '/' && c[1] == '.' && (!c[2] || c[2] == '/' || (c[2] == '.' && (!c[3] || c[3] == '/'))))
			bad = "has a '.' or '..' component";
	const char *t = v + strspn(v, "/") - 1;		/* "//proc" is /proc */
	for (size_t i = 0; i < sizeof(kernel) / sizeof(kernel[0]) && !bad; i++) {
		size_t l = strlen(kernel[i]);
		if (!strncmp(t, kernel[i], l) && (!t[l] || t[l] == '/'))
			bad = "lies under /proc, /sys or /dev";
	}
	if (bad) {
		snprintf(why, whylen, "%s: '%.300s' %s", key, v, bad);
		return -1;
	}
	snprintf(dst, size, "%s", v);
	return 0;
}

/* One tierd.conf key; 0 or -1 with why. */
static int host_key(struct config *c, const char *k, const char *v, bool *policies_set, char *why, size_t wl)
{
	char *end;
	double d;
	uint64_t u;

	if (is_policy_key(k))
		return popts_add(&c->defaults, k, v, why, wl);
	if (!v) {
		snprintf(why, wl, "%s needs a value", k);
		return -1;
	}
	if (!strcmp(k, "epoch") || !strcmp(k, "host-rate")) {
		d = strtod(v, &end);
		if (end == v || *end || !(d > 0) || (!strcmp(k, "epoch") && (d < 0.1 || d > 3600)) || d > 1e6) {
			snprintf(why, wl, "%s: '%s' is out of range (%s)", k, v,
				 !strcmp(k, "epoch") ? "0.1..3600 seconds" : "a positive MB/s");
			return -1;
		}
		*(!strcmp(k, "epoch") ? &c->eo.epoch_s : &c->eo.host_rate_mbs) = d;
		return 0;
	}
	if (!strcmp(k, "dram-free-min")) {
		if (parse_size(v, &u)) {
			snprintf(why, wl, "dram-free-min: '%s' is not a size", v);
			return -1;
		}
		c->eo.dram_free_min = u;
		return 0;
	}
	if (!strcmp(k, "dram-nodes") || !strcmp(k, "slow-nodes")) {
		char *dst = k[0] == 'd' ? c->dram_nodes : c->slow_nodes;
		if (strspn(v, "0123456789,-") != strlen(v) || strlen(v) >= sizeof(c->dram_nodes)) {
			snprintf(why, wl, "%s: '%s' is not a node list like 0 or 1,3", k, v);
			return -1;
		}
		snprintf(dst, sizeof(c->dram_nodes), "%s", v);
		return 0;
	}
	if (!strcmp(k, "kernel-knobs")) {
		if (parse_bool(v, &c->eo.kernel_knobs)) {
			snprintf(why, wl, "kernel-knobs: '%s' is not yes or no", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(k, "metrics-dir")) {
		if (!strcmp(v, "none")) {
			c->metrics_dir[0] = 0;
			return 0;
		}
		return set_path(c->metrics_dir, sizeof(c->metrics_dir), k, v, why, wl);
	}
	if (!strcmp(k, "pve-dir")) {
		if (set_path(c->pve_dir, sizeof(c->pve_dir), k, v, why, wl))
			return -1;
		if (!*policies_set)
			snprintf(c->policies, sizeof(c->policies), "%.200s/tierd.cfg", c->pve_dir);
		return 0;
	}
	if (!strcmp(k, "policies")) {
		*policies_set = true;
		return set_path(c->policies, sizeof(c->policies), k, v, why, wl);
	}
	snprintf(why, wl, "unknown key '%s'", k);
	return -1;
}

int config_host_option(struct config *c, const char *key, const char *val, char *why, size_t whylen)
{
	bool policies_set = true;	/* pve-dir does not move the policies file */

	if (is_policy_key(key)) {
		snprintf(why, whylen, "%s is a policy option, not a host setting", key);
		return -1;
	}
	if (host_key(c, key, val, &policies_set, why, whylen))
		return -1;
	config_fix_ptrs(c);
	return 0;
}

/* Read a whole config file; NULL with *missing or why set. */
static char *slurp(const char *path, bool *missing, char *why, size_t wl)
{
	struct stat st;
	char *buf;
	long n;

	*missing = false;
	if (stat(path, &st)) {
		if (errno == ENOENT) {
			*missing = true;
			return NULL;
		}
		snprintf(why, wl, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, wl, "%s: not a regular file", path);
		return NULL;
	}
	if (st.st_size > CONFIG_MAX_BYTES) {
		snprintf(why, wl, "%s: %lld bytes, more than pmxcfs's 1 MiB file limit", path, (long long)st.st_size);
		return NULL;
	}
	if (!(buf = malloc(CONFIG_MAX_BYTES + 2))) {
		snprintf(why, wl, "%s: out of memory", path);
		return NULL;
	}
	if ((n = read_file(path, buf, CONFIG_MAX_BYTES + 2)) < 0) {
		snprintf(why, wl, "%s: %s", path, strerror((int)-n));
		free(buf);
		return NULL;
	}
	if (n > CONFIG_MAX_BYTES) {		/* grew since stat */
		snprintf(why, wl, "%s: more than pmxcfs's 1 MiB file limit", path);
		free(buf);
		return NULL;
	}
	if (strlen(buf) != (size_t)n) {
		snprintf(why, wl, "%s: holds a NUL byte; not a text file", path);
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * Split the next line into key and value: "key value", "key" or, for a
 * section header, "key: value" (*header set). Returns false at the end.
 */
struct cursor {
	char *p;
	int line;
};

static bool next_line(struct cursor *cu, char **key, char **val, bool *header, bool *toolong)
{
	char *s, *e, *nl;

	for (;;) {
		if (!*cu->p)
			return false;
		s = cu->p;
		nl = strchr(s, '\n');
		cu->p = nl ? nl + 1 : s + strlen(s);
		if (nl)
			*nl = 0;
		cu->line++;
		*toolong = strlen(s) > MAX_LINE;
		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = 0;
		if (*toolong)
			return true;
		if (!*s || *s == '#')
			continue;
		*key = s;
		s += strcspn(s, " \t:");
		*header = *s == ':';
		if (*s)
			*s++ = 0;
		while (isspace((unsigned char)*s))
			s++;
		*val = *s ? s : NULL;
		return true;
	}
}

static int err_at(char *why, size_t wl, const char *path, int line, const char *what)
{
	char msg[400];

	snprintf(msg, sizeof(msg), "%s", what);
	snprintf(why, wl, "%s:%d: %s", path, line, msg);
	return -1;
}

int config_parse_host(struct config *c, char *buf, const char *path, char *why, size_t wl)
{
	char *key, *val, msg[300];
	bool header, toolong, policies_set = false;
	struct cursor cu;
	int rc = 0;

	cu.p = buf;
	cu.line = 0;
	while (!rc && next_line(&cu, &key, &val, &header, &toolong)) {
		if (toolong)
			rc = err_at(why, wl, path, cu.line, "line longer than 512 characters");
		else if (header)
			rc = err_at(why, wl, path, cu.line, "sections ('vm: N') belong in the policies file, not here");
		else if (host_key(c, key, val, &policies_set, msg, sizeof(msg)))
			rc = err_at(why, wl, path, cu.line, msg);
	}
	return rc;
}

static int load_host(struct config *c, const char *path, bool must_exist, char *why, size_t wl)
{
	bool missing;
	char *buf = slurp(path, &missing, why, wl);
	int rc;

	snprintf(c->path, sizeof(c->path), "%s", path);
	if (!buf) {
		if (missing && !must_exist)
			return 0;
		if (missing)
			snprintf(why, wl, "%s: no such file", path);
		return -1;
	}
	rc = config_parse_host(c, buf, path, why, wl);
	free(buf);
	return rc;
}

static int by_vmid(const void *a, const void *b)
{
	const struct vm_policy *x = a, *y = b;

	if (x->vmid != y->vmid)
		return x->vmid < y->vmid ? -1 : 1;
	return x->line - y->line;
}

int config_parse_policies(struct config *c, char *buf, char *why, size_t wl)
{
	const char *path = c->policies;
	char *key, *val, msg[300];
	bool header, toolong;
	struct vm_policy *cur = NULL;
	struct cursor cu;
	int rc = 0, cap = 0;

	if (c->nvm)			/* cap counts what this call allocated */
		return err_at(why, wl, path, 0, "policies already read");
	cu.p = buf;
	cu.line = 0;
	while (!rc && next_line(&cu, &key, &val, &header, &toolong)) {
		if (toolong) {
			rc = err_at(why, wl, path, cu.line, "line longer than 512 characters");
		} else if (header) {
			long id;
			if (strcmp(key, "vm")) {
				snprintf(msg, sizeof(msg), "unknown section '%s:' (only 'vm: VMID')", key);
				rc = err_at(why, wl, path, cu.line, msg);
			} else if (!val || parse_vmid(val, &id)) {
				snprintf(msg, sizeof(msg), "'%s' is not a VMID (100..999999999)", val ? val : "");
				rc = err_at(why, wl, path, cu.line, msg);
			} else {
				if (c->nvm == cap) {
					void *n = realloc(c->vm, (size_t)(cap = cap ? cap * 2 : 16) * sizeof(*c->vm));
					if (!n) {
						rc = err_at(why, wl, path, cu.line, "out of memory");
						break;
					}
					c->vm = n;
				}
				cur = &c->vm[c->nvm++];
				memset(cur, 0, sizeof(*cur));
				cur->vmid = id;
				cur->line = cu.line;
			}
		} else if (!cur) {
			snprintf(msg, sizeof(msg), "'%s' outside a 'vm: VMID' section", key);
			rc = err_at(why, wl, path, cu.line, msg);
		} else if (!is_policy_key(key)) {
			snprintf(msg, sizeof(msg), "unknown key '%s' (pin-hot, dram-max, rate, target-slow, io-slow-us)", key);
			rc = err_at(why, wl, path, cu.line, msg);
		} else if (popts_add(&cur->opts, key, val, msg, sizeof(msg))) {
			rc = err_at(why, wl, path, cu.line, msg);
		}
	}
	if (rc || c->nvm < 2)
		return rc;
	/* sorted by VMID for lookups; a VMID twice is an error at its second section */
	qsort(c->vm, (size_t)c->nvm, sizeof(*c->vm), by_vmid);
	int dup = -1;
	for (int i = 1; i < c->nvm; i++)
		if (c->vm[i].vmid == c->vm[i - 1].vmid && (dup < 0 || c->vm[i].line < c->vm[dup].line))
			dup = i;
	if (dup >= 0) {
		snprintf(msg, sizeof(msg), "VM %ld already has a section at line %d", c->vm[dup].vmid, c->vm[dup - 1].line);
		return err_at(why, wl, path, c->vm[dup].line, msg);
	}
	return 0;
}

static int load_policies(struct config *c, char *why, size_t wl)
{
	bool missing;
	char *buf = slurp(c->policies, &missing, why, wl);
	int rc;

	if (!buf)
		return missing ? 0 : -1;
	rc = config_parse_policies(c, buf, why, wl);
	free(buf);
	return rc;
}

int config_load(struct config *c, const char *path, bool must_exist, char *why, size_t whylen)
{
	struct config n;

	config_init(&n);
	if (load_host(&n, path, must_exist, why, whylen) || load_policies(&n, why, whylen)) {
		config_free(&n);
		return -1;
	}
	config_free(c);
	*c = n;
	config_fix_ptrs(c);
	return 0;
}

const struct vm_policy *config_vm(const struct config *c, long vmid)
{
	int lo = 0, hi = c->nvm - 1;

	while (lo <= hi) {		/* sorted by load_policies */
		int mid = lo + (hi - lo) / 2;
		if (c->vm[mid].vmid == vmid)
			return &c->vm[mid];
		if (c->vm[mid].vmid < vmid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* The VM's Proxmox config on this node, or NULL (static buffer). */
static char *vm_conf(const char *pve_dir, long vmid, bool *dir_exists)
{
	static char buf[65536];
	char path[400];
	struct stat st;

	snprintf(path, sizeof(path), "%s/qemu-server", pve_dir);
	*dir_exists = !stat(path, &st) && S_ISDIR(st.st_mode);
	snprintf(path, sizeof(path), "%s/qemu-server/%ld.conf", pve_dir, vmid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return NULL;
	char *snap = strstr(buf, "\n[");		/* snapshots follow the current config */
	if (snap)
		snap[1] = 0;
	return buf;
}

/* The value of "key: value" in a VM config, or NULL (points into buf). */
static char *conf_value(char *buf, const char *key)
{
	size_t kl = strlen(key);

	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, kl) && l[kl] == ':') {
			char *v = l + kl + 1;
			while (*v == ' ')
				v++;
			return v;
		}
	return NULL;
}

enum tag_switch config_tags(const struct config *c, long vmid)
{
	bool dir;
	char *buf = vm_conf(c->pve_dir, vmid, &dir), *tags;
	enum tag_switch sw = TAGS_NONE;

	if (!buf || !(tags = conf_value(buf, "tags")))
		return TAGS_NONE;
	tags[strcspn(tags, "\n")] = 0;
	/* Proxmox splits tags on ';', ',' and spaces */
	for (char *save = NULL, *t = strtok_r(tags, ";, ", &save); t; t = strtok_r(NULL, ";, ", &save)) {
		if (!strcasecmp(t, "tierd.off"))
			return TAGS_OFF;
		if (!strcasecmp(t, "tierd.pin-hot"))
			sw = TAGS_PIN_HOT;
		else if (!strcasecmp(t, "tierd") && sw == TAGS_NONE)
			sw = TAGS_ON;
	}
	return sw;
}

bool config_wants(const struct config *c, long vmid)
{
	enum tag_switch t = config_tags(c, vmid);

	return t != TAGS_OFF && (t != TAGS_NONE || config_vm(c, vmid));
}

int config_policy(const struct config *c, long vmid, const struct popts *manual, struct policy *p,
		  char *why, size_t whylen)
{
	const struct vm_policy *vp = config_vm(c, vmid);

	policy_default(p);
	p->vmid = vmid;
	if (apply(p, &c->defaults, why, whylen) || (vp && apply(p, &vp->opts, why, whylen)))
		return -1;
	if (config_tags(c, vmid) == TAGS_PIN_HOT)
		p->pin_hot = true;
	return apply(p, manual, why, whylen);
}

bool pve_migrating(const char *pve_dir, long vmid)
{
	bool dir;
	char *buf = vm_conf(pve_dir, vmid, &dir), *lock;

	if (!dir)
		return false;		/* no pmxcfs here */
	if (!buf)
		return true;		/* the config is still on the source node */
	/* only a migration's lock: backup, snapshot, rollback... leave guest
	 * RAM where it is, and a backup may hold its lock for hours */
	lock = conf_value(buf, "lock");
	return lock && !strncmp(lock, "migrate", 7) && (!lock[7] || isspace((unsigned char)lock[7]));
}

bool pve_mounted(const char *pve_dir)
{
	char path[300];

	snprintf(path, sizeof(path), "%.280s/.version", pve_dir);
	return !access(path, F_OK);
}

/* FNV-1a of a file's bytes (at most pmxcfs's 1 MiB and a little), 0 if unreadable */
static uint64_t file_hash(const char *path)
{
	static char buf[CONFIG_MAX_BYTES + 2];
	uint64_t h = 0xcbf29ce484222325ULL;
	long n = read_file(path, buf, sizeof(buf));

	if (n < 0)
		return 0;
	for (long i = 0; i < n; i++)
		h = (h ^ (unsigned char)buf[i]) * 0x100000001b3ULL;
	return h;
}

void config_stamp(const struct config *c, struct config_stamp *s)
{
	const char *p[2] = { c->path, c->policies };
	struct stat st;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 2; i++)
		if (!stat(p[i], &st)) {
			s->present[i] = true;
			s->mt[i] = st.st_mtim;
			s->size[i] = st.st_size;
			s->hash[i] = file_hash(p[i]);
		}
}

bool config_stamp_eq(const struct config_stamp *a, const struct config_stamp *b)
{
	for (int i = 0; i < 2; i++)
		if (a->present[i] != b->present[i] || a->size[i] != b->size[i] || a->hash[i] != b->hash[i] ||
		    a->mt[i].tv_sec != b->mt[i].tv_sec || a->mt[i].tv_nsec != b->mt[i].tv_nsec)
			return false;
	return true;
}

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

/* Each host kind's default, from its HOST_OPTIONS row. */
#define HDEF_H_NUM(f, def) c->f = def
#define HDEF_H_SIZE(f, def) c->f = def
#define HDEF_H_BOOL(f, def) c->f = def
#define HDEF_H_NODES(f, def) snprintf(c->f, sizeof(c->f), "%s", def)
#define HDEF_H_PATH(f, def) snprintf(c->f, sizeof(c->f), "%s", def)
#define HDEF_H_DIR(f, def) snprintf(c->f, sizeof(c->f), "%s", def)

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "/etc/tierd/tierd.conf");
#define X(key, kind, field, def, ...) HDEF_##kind(field, def);
	HOST_OPTIONS(X)
#undef X
	config_fix_ptrs(c);
}

void engine_opts_default(struct engine_opts *o)
{
	struct config c;

	config_init(&c);
	*o = c.eo;
	o->dram_nodes = o->slow_nodes = o->pve_dir = NULL;	/* they pointed into c */
}

void config_free(struct config *c)
{
	free(c->vm);
	c->vm = NULL;
	c->nvm = 0;
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

/*
 * Each host kind's reading of `val` into c->f (inside host_key: k, val,
 * why and wl are its own), from its HOST_OPTIONS row; -1 from host_key
 * if it does not read or `ok` does not hold for it (v).
 */
#define HSET_H_NUM(f, ok, bad) do {								\
	char *end;										\
	double v = strtod(val, &end);								\
	if (end == val || *end || !(v > 0) || !(ok)) {						\
		snprintf(why, wl, "%s: '%s' is out of range (%s)", k, val, bad);		\
		return -1;									\
	}											\
	c->f = v;										\
} while (0)
#define HSET_H_SIZE(f, ok, bad) do {								\
	uint64_t v;										\
	if (parse_size(val, &v) || !(ok)) {							\
		snprintf(why, wl, "%s: '%s' is not a size", k, val);				\
		return -1;									\
	}											\
	c->f = v;										\
} while (0)
#define HSET_H_BOOL(f, ok, bad) do {								\
	if (parse_bool(val, &c->f)) {								\
		snprintf(why, wl, "%s: '%s' is not yes or no", k, val);			\
		return -1;									\
	}											\
} while (0)
#define HSET_H_NODES(f, ok, bad) do {								\
	if (strspn(val, "0123456789,-") != strlen(val) || strlen(val) >= sizeof(c->f)) {	\
		snprintf(why, wl, "%s: '%s' is not a node list like 0 or 1,3", k, val);	\
		return -1;									\
	}											\
	snprintf(c->f, sizeof(c->f), "%s", val);						\
} while (0)
#define HSET_H_PATH(f, ok, bad) do {								\
	if (set_path(c->f, sizeof(c->f), k, val, why, wl))					\
		return -1;									\
} while (0)
#define HSET_H_DIR(f, ok, bad) do {								\
	if (!strcmp(val, "none"))								\
		c->f[0] = 0;									\
	else if (set_path(c->f, sizeof(c->f), k, val, why, wl))				\
		return -1;									\
} while (0)

/* One tierd.conf key; 0 or -1 with why. */
static int host_key(struct config *c, const char *k, const char *val, bool *policies_set, char *why, size_t wl)
{
	if (policy_key(k))
		return popts_add(&c->defaults, k, val, why, wl);
	if (!host_key_desc(k)) {
		snprintf(why, wl, "unknown key '%s'", k);
		return -1;
	}
	if (!val) {
		snprintf(why, wl, "%s needs a value", k);
		return -1;
	}
#define X(key, kind, field, def, ok, bad, ...) if (!strcmp(k, key)) HSET_##kind(field, ok, bad);
	HOST_OPTIONS(X)
#undef X
	/* the policies file lives in pve-dir unless named */
	if (!strcmp(k, "pve-dir") && !*policies_set)
		snprintf(c->policies, sizeof(c->policies), "%.200s/tierd.cfg", c->pve_dir);
	if (!strcmp(k, "policies"))
		*policies_set = true;
	return 0;
}

/* How `tierd config` shows each host kind. */
#define HSHOW_H_NUM(f, show) fprintf(out, show, c->f)
#define HSHOW_H_SIZE(f, show) fprintf(out, show, (unsigned long long)c->f)
#define HSHOW_H_BOOL(f, show) fputs(c->f ? "yes" : "no", out)
#define HSHOW_H_NODES(f, show) fputs(c->f[0] ? c->f : "(memory tiers)", out)
#define HSHOW_H_PATH(f, show) fputs(c->f, out)
#define HSHOW_H_DIR(f, show) fputs(c->f[0] ? c->f : "none", out)

void config_print_host(FILE *out, const struct config *c)
{
	for (int line = 1; line <= 2; line++) {
		const char *sep = "  ";
#define X(key, kind, field, def, ok, bad, cli, arg, help, restart, l, show)	\
		if (l == line) {						\
			fprintf(out, "%s%s ", sep, key);			\
			HSHOW_##kind(field, show);				\
			sep = ", ";						\
		}
		HOST_OPTIONS(X)
#undef X
		fputc('\n', out);
	}
}

/* Each host kind's comparison and copy, for the keys kept until restart. */
#define HNE_H_NUM(f) (a->f != b->f)
#define HNE_H_SIZE(f) (a->f != b->f)
#define HNE_H_BOOL(f) (a->f != b->f)
#define HNE_H_NODES(f) (strcmp(a->f, b->f) != 0)
#define HNE_H_PATH(f) (strcmp(a->f, b->f) != 0)
#define HNE_H_DIR(f) (strcmp(a->f, b->f) != 0)
#define HCOPY_H_NUM(f) (n->f = from->f)
#define HCOPY_H_SIZE(f) (n->f = from->f)
#define HCOPY_H_BOOL(f) (n->f = from->f)
#define HCOPY_H_NODES(f) memcpy(n->f, from->f, sizeof(n->f))
#define HCOPY_H_PATH(f) memcpy(n->f, from->f, sizeof(n->f))
#define HCOPY_H_DIR(f) memcpy(n->f, from->f, sizeof(n->f))

int config_restart_diff(const struct config *a, const struct config *b, char *list, size_t len)
{
	size_t at = 0;
	int n = 0;

	if (len)
		list[0] = 0;
#define X(key, kind, field, def, ok, bad, cli, arg, help, restart, ...)		\
	if (restart && HNE_##kind(field)) {					\
		if (at < len)							\
			at += (size_t)snprintf(list + at, len - at, "%s%s", n ? ", " : "", key); \
		n++;								\
	}
	HOST_OPTIONS(X)
#undef X
	return n;
}

void config_keep_restart(struct config *n, const struct config *from)
{
#define X(key, kind, field, def, ok, bad, cli, arg, help, restart, ...) if (restart) HCOPY_##kind(field);
	HOST_OPTIONS(X)
#undef X
	config_fix_ptrs(n);
}

int config_host_option(struct config *c, const char *key, const char *val, char *why, size_t whylen)
{
	bool policies_set = true;	/* pve-dir does not move the policies file */

	if (policy_key(key)) {
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
		} else if (!policy_key(key)) {
			snprintf(msg, sizeof(msg), "unknown key '%s' (%s)", key, policy_key_list());
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

enum tag_switch config_tags(const struct config *c, long vmid)
{
	return pve_tags(c->pve_dir, vmid);
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

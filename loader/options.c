// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy keys' code, generated from POLICY_OPTIONS (options.h); the
 * host keys' is in config.c, next to struct config.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "options.h"
#include "util.h"

const struct opt_desc policy_keys[] = {
#define X(key, kind, field, def, ok, bad, arg, help, ...) { key, sizeof(arg) == 1, H_ARG, arg, help },
	POLICY_OPTIONS(X)
#undef X
};
const int npolicy_keys = sizeof(policy_keys) / sizeof(policy_keys[0]);

const struct opt_desc host_keys[] = {
#define X(key, kind, field, def, ok, bad, cli, arg, help, ...) { key, false, cli, arg, help },
	HOST_OPTIONS(X)
#undef X
};
const int nhost_keys = sizeof(host_keys) / sizeof(host_keys[0]);

static const struct opt_desc *find(const struct opt_desc *t, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(t[i].key, key))
			return &t[i];
	return NULL;
}

const struct opt_desc *policy_key(const char *key)
{
	return find(policy_keys, npolicy_keys, key);
}

const struct opt_desc *host_key_desc(const char *key)
{
	return find(host_keys, nhost_keys, key);
}

void policy_default(struct policy *p)
{
	memset(p, 0, sizeof(*p));
#define X(key, kind, field, def, ...) p->field = def;
	POLICY_OPTIONS(X)
#undef X
}

/* Each kind's reading of a value: 0, or -1 if it is not one. */
static int read_P_FLAG(const char *val, bool *v)
{
	return parse_bool(val, v);
}

static int read_P_SIZE(const char *val, uint64_t *v)
{
	return parse_size(val, v);
}

static int read_P_NUM(const char *val, double *v)
{
	char *end;

	*v = strtod(val, &end);
	return end == val || *end || !isfinite(*v) ? -1 : 0;
}

/* The prefix of a kind's message for a bad value (the row's `bad` follows),
 * and what it says when the value does not even read: a number's own
 * message, the others' the row's. */
#define BADPFX_P_FLAG "%s: "
#define BADPFX_P_SIZE "--%s: "
#define BADPFX_P_NUM "--%s: "
#define IS_FLAG_P_FLAG 1
#define IS_FLAG_P_SIZE 0
#define IS_FLAG_P_NUM 0
#define NOTREAD_P_FLAG(w, l, n, v, badfmt) snprintf(w, l, badfmt, n, v)
#define NOTREAD_P_SIZE(w, l, n, v, badfmt) snprintf(w, l, badfmt, n, v)
#define NOTREAD_P_NUM(w, l, n, v, badfmt) snprintf(w, l, "--%s: '%s' is not a number", n, v)

int policy_option(struct policy *p, const char *name, const char *val, char *why, size_t whylen)
{
#define X(key, kind, field, def, ok, bad, ...)							\
	if (!strcmp(name, key)) {								\
		OPT_CTYPE_##kind v;								\
		if (!val && IS_FLAG_##kind) {							\
			p->field = (OPT_CTYPE_##kind)1;						\
			return 0;								\
		}										\
		if (!val) {									\
			snprintf(why, whylen, "--%s needs a value", name);			\
			return -1;								\
		}										\
		if (read_##kind(val, &v)) {							\
			NOTREAD_##kind(why, whylen, name, val, BADPFX_##kind bad);		\
			return -1;								\
		}										\
		if (!(ok)) {									\
			snprintf(why, whylen, BADPFX_##kind bad, name, val);			\
			return -1;								\
		}										\
		p->field = v;									\
		return 1;									\
	}
	POLICY_OPTIONS(X)
#undef X
	snprintf(why, whylen, "unknown policy option --%s", name);
	return -1;
}

bool policy_eq(const struct policy *a, const struct policy *b)
{
#define X(key, kind, field, ...) if (a->field != b->field) return false;
	POLICY_OPTIONS(X)
#undef X
	return true;
}

#define PRINT_P_FLAG(f, v, show) fputs((v) ? "yes" : "no", f)
#define PRINT_P_SIZE(f, v, show) do {						\
	char b[32];								\
	fputs((v) ? fmt_bytes(v, b, sizeof(b)) : "none", f);			\
} while (0)
#define PRINT_P_NUM(f, v, show) fprintf(f, show, v)

void policy_print(FILE *f, const struct policy *p)
{
	const char *sep = " ";

#define X(key, kind, field, def, ok, bad, arg, help, show, dec)	\
	fprintf(f, "%s%s ", sep, key);				\
	PRINT_##kind(f, p->field, show);			\
	sep = ", ";
	POLICY_OPTIONS(X)
#undef X
}

#define JSON_P_FLAG(j, k, v, dec) json_kbool(j, k, v)
#define JSON_P_SIZE(j, k, v, dec) json_ku64(j, k, v)
#define JSON_P_NUM(j, k, v, dec) json_knum(j, k, dec, v)

void policy_json(struct json *j, const struct policy *p)
{
#define X(key, kind, field, def, ok, bad, arg, help, show, dec) JSON_##kind(j, #field, p->field, dec);
	POLICY_OPTIONS(X)
#undef X
}

void policy_usage(FILE *f)
{
	for (int i = 0; i < npolicy_keys; i++) {
		char b[64];

		snprintf(b, sizeof(b), "%s%s%s", policy_keys[i].key, policy_keys[i].arg[0] ? " " : "", policy_keys[i].arg);
		fprintf(f, "  --%-18s %s\n", b, policy_keys[i].help);
	}
}

const char *policy_key_list(void)
{
	static char b[256];

	if (!b[0])
		for (int i = 0, at = 0; i < npolicy_keys && at < (int)sizeof(b); i++)
			at += snprintf(b + at, sizeof(b) - (size_t)at, "%s%s", i ? ", " : "", policy_keys[i].key);
	return b;
}

void host_usage(FILE *f)
{
	for (int i = 0; i < nhost_keys; i++) {
		const struct opt_desc *h = &host_keys[i];
		char b[64];

		if (h->cli == H_FILE)
			continue;
		snprintf(b, sizeof(b), "%s%s%s%s", h->cli == H_NO ? "no-" : "", h->key, h->arg[0] ? " " : "", h->arg);
		fprintf(f, "  --%-18s %s\n", b, h->help);
	}
}

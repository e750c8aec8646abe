/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one JSON writer: every JSON document tierd prints (status, stat,
 * probe) goes through it. Compact (no white space), strings escaped per
 * RFC 8259: quote, backslash and every control character; valid UTF-8
 * passes through, an invalid byte becomes U+FFFD, so the output is always
 * JSON whatever a VM name, path or kernel message holds.
 *
 *	struct json j;
 *	json_start(&j, stdout);
 *	json_obj(&j);
 *	json_kstr(&j, "tierd", "status");
 *	json_key(&j, "vms"); json_arr(&j); ... json_end(&j);
 *	json_end(&j);
 *	json_finish(&j);	// newline; 0, or -1 if the nesting was wrong
 */
#ifndef TIERD_JSON_H
#define TIERD_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];	/* nothing written yet at this level */
	char close[JSON_MAX_DEPTH];	/* '}' or ']' */
	bool after_key;			/* a key was written; its value is next */
	bool bad;			/* nesting went wrong somewhere */
};

void json_start(struct json *j, FILE *f);
int json_finish(struct json *j);

void json_obj(struct json *j);
void json_arr(struct json *j);
void json_end(struct json *j);
void json_key(struct json *j, const char *key);

void json_str(struct json *j, const char *s);		/* NULL: null */
void json_strf(struct json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_num(struct json *j, int decimals, double v);	/* %.*f; NaN, inf: null */
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* A key and its value. */
#define json_kstr(j, k, v)	(json_key(j, k), json_str(j, v))
#define json_ku64(j, k, v)	(json_key(j, k), json_u64(j, v))
#define json_ki64(j, k, v)	(json_key(j, k), json_i64(j, v))
#define json_knum(j, k, d, v)	(json_key(j, k), json_num(j, d, v))
#define json_kbool(j, k, v)	(json_key(j, k), json_bool(j, v))
#define json_kobj(j, k)		(json_key(j, k), json_obj(j))
#define json_karr(j, k)		(json_key(j, k), json_arr(j))

/* s as a JSON string, quotes included, to f. */
void json_escape(FILE *f, const char *s);

#endif

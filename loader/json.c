// SPDX-License-Identifier: GPL-2.0-only
/* The JSON writer (json.h). */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms,
 * no surrogates, nothing past U+10FFFF), or 0. */
static int utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	int n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (int i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void json_escape(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	while (*s) {
		unsigned char c = *s;
		int n;

		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (c < 0x20) {
				fprintf(f, "\\u%04x", c);
			} else if (c < 0x80) {
				fputc(c, f);
			} else if ((n = utf8_len(s))) {
				fwrite(s, 1, n, f);
				s += n;
				continue;
			} else {
				fputs("\\ufffd", f);
			}
		}
		s++;
	}
	fputc('"', f);
}

void json_start(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

/* Before a value or a key: the comma, unless first at its level or the
 * value of the key just written. */
static void sep(struct json *j, bool is_key)
{
	if (j->after_key) {
		if (is_key)
			j->bad = true;		/* a key where its value should be */
		j->after_key = false;
		return;
	}
	if (j->depth && j->close[j->depth - 1] == '}' && !is_key)
		j->bad = true;			/* a value in an object with no key */
	if (j->depth && !j->first[j->depth - 1])
		fputc(',', j->f);
	if (j->depth)
		j->first[j->depth - 1] = false;
}

static void begin(struct json *j, char o, char c)
{
	sep(j, false);
	fputc(o, j->f);
	if (j->depth == JSON_MAX_DEPTH) {
		j->bad = true;
		return;
	}
	j->first[j->depth] = true;
	j->close[j->depth++] = c;
}

void json_obj(struct json *j) { begin(j, '{', '}'); }
void json_arr(struct json *j) { begin(j, '[', ']'); }

void json_end(struct json *j)
{
	if (!j->depth || j->after_key) {
		j->bad = true;
		return;
	}
	fputc(j->close[--j->depth], j->f);
}

void json_key(struct json *j, const char *key)
{
	if (!j->depth || j->close[j->depth - 1] != '}')
		j->bad = true;
	sep(j, true);
	json_escape(j->f, key);
	fputc(':', j->f);
	j->after_key = true;
}

void json_str(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	sep(j, false);
	json_escape(j->f, s);
}

void json_strf(struct json *j, const char *fmt, ...)
{
	char buf[256], *s = buf;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf)) {
		s = malloc((size_t)n + 1);
		if (s) {
			va_start(ap, fmt);
			vsnprintf(s, (size_t)n + 1, fmt, ap);
			va_end(ap);
		}
	}
	json_str(j, s ? s : buf);	/* out of memory: the first 255 bytes */
	if (s != buf)
		free(s);
}

void json_u64(struct json *j, uint64_t v)
{
	sep(j, false);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void json_i64(struct json *j, int64_t v)
{
	sep(j, false);
	fprintf(j->f, "%lld", (long long)v);
}

void json_num(struct json *j, int decimals, double v)
{
	if (!isfinite(v)) {
		json_null(j);
		return;
	}
	sep(j, false);
	fprintf(j->f, "%.*f", decimals, v);
}

void json_bool(struct json *j, bool v)
{
	sep(j, false);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j)
{
	sep(j, false);
	fputs("null", j->f);
}

int json_finish(struct json *j)
{
	fputc('\n', j->f);
	return j->bad || j->depth || j->after_key ? -1 : 0;
}

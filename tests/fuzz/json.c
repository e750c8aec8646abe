// SPDX-License-Identifier: GPL-2.0-only
/*
 * The JSON writer's strings (json_escape): whatever the bytes, the output
 * is one JSON string (RFC 8259): quoted, no raw control character, only
 * the escapes JSON has, valid UTF-8; and read back it is the input, but
 * for each byte that was not UTF-8, which reads as U+FFFD.
 */
#include "json.h"
#include "fuzz.h"

/* Length of the valid UTF-8 sequence at s (of n bytes), or 0: written
 * apart from json.c's, by code point ranges. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	if (!len || len > n || s[0] >= 0xf8)
		return 0;
	cp = s[0] & (0xff >> (len + 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_text(data, size), *out = NULL;
	size_t outlen = 0, i = 0, o = 1;
	FILE *f;

	if (!in)
		return 0;
	if (!(f = open_memstream(&out, &outlen)))
		abort();
	json_escape(f, in);
	fclose(f);
	const unsigned char *s = (const unsigned char *)out;

	if (outlen < 2 || s[0] != '"' || s[outlen - 1] != '"')
		abort();
	/* walk input and output together */
	while (o < outlen - 1) {
		if (s[o] < 0x20 || s[o] == '"')
			abort();			/* raw control character or quote */
		if (s[o] == '\\') {
			static const char simple[] = "\"\\/bfnrt", value[] = "\"\\/\b\f\n\r\t";
			const char *e = strchr(simple, s[o + 1]);

			if (e && s[o + 1]) {
				if (in[i++] != value[e - simple])
					abort();
				o += 2;
			} else if (s[o + 1] == 'u' && o + 6 <= outlen - 1) {
				unsigned v;

				if (sscanf(out + o + 2, "%4x", &v) != 1)
					abort();
				if (v == 0xfffd && utf8_seq((const unsigned char *)in + i, strlen(in + i)) == 0)
					i++;		/* a byte that was not UTF-8 */
				else if (v < 0x20 && (unsigned char)in[i] == v)
					i++;
				else
					abort();
				o += 6;
			} else {
				abort();
			}
			continue;
		}
		size_t n = utf8_seq(s + o, outlen - 1 - o);

		if (!n || memcmp(s + o, in + i, n))
			abort();			/* not UTF-8, or not the input */
		o += n;
		i += n;
	}
	if (in[i])
		abort();				/* input left over */
	free(out);
	free(in);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The unit tests' one assertion (count it, and on failure say where and
 * why), and the fake trees of /proc, /sys and cgroupfs they read. */
#ifndef TIERD_TEST_CHECK_H
#define TIERD_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int failed, passed;

#define CHECK(cond, ...) do {						\
	if (cond) { passed++; } else {					\
		failed++;						\
		printf("not ok %s:%d: %s: ", __FILE__, __LINE__, #cond);	\
		printf(__VA_ARGS__); printf("\n");			\
	}								\
} while (0)

/* root/rel with `len` bytes of content, its folders made as needed;
 * aborts if it cannot be written. */
static inline void put_file(const char *root, const char *rel, const void *content, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	if (!f || fwrite(content, 1, len, f) != len)
		abort();
	fclose(f);
}

#endif

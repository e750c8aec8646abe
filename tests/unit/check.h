/* SPDX-License-Identifier: GPL-2.0-only */
/* The unit tests' one assertion: count it, and on failure say where and why. */
#ifndef TIERD_TEST_CHECK_H
#define TIERD_TEST_CHECK_H

#include <stdio.h>

static int failed, passed;

#define CHECK(cond, ...) do {						\
	if (cond) { passed++; } else {					\
		failed++;						\
		printf("not ok %s:%d: %s: ", __FILE__, __LINE__, #cond);	\
		printf(__VA_ARGS__); printf("\n");			\
	}								\
} while (0)

#endif

// SPDX-License-Identifier: GPL-2.0-only
/* One logging function for tierd and for libbpf. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "log.h"

int log_verbosity = LOG_WARN;

static const char *names[] = { "error", "warning", "note", "info", "debug" };

static void vlog(enum log_level lvl, const char *fmt, va_list ap)
{
	if ((int)lvl > log_verbosity)
		return;
	fprintf(stderr, "tierd: %s: ", names[lvl]);
	vfprintf(stderr, fmt, ap);
	if (!*fmt || fmt[strlen(fmt) - 1] != '\n')
		fputc('\n', stderr);
}

void logmsg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's warnings are mostly about programs that a probe expected to
	 * fail; they are debug detail unless -v was given twice. */
	enum log_level lvl = level == LIBBPF_WARN ? LOG_DEBUG : LOG_DEBUG + 1;

	if ((int)lvl > log_verbosity)
		return 0;
	fprintf(stderr, "tierd: libbpf: ");
	return vfprintf(stderr, fmt, ap);
}

void log_init(int verbosity)
{
	log_verbosity = verbosity;
	libbpf_set_print(libbpf_print);
}

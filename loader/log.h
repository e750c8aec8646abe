/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_LOG_H
#define TIERD_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_NOTE, LOG_INFO, LOG_DEBUG };

extern int log_verbosity;	/* messages above it are dropped */

void log_init(int verbosity);	/* also routes libbpf's messages here */
void logmsg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define err(...)	logmsg(LOG_ERR, __VA_ARGS__)
#define warn(...)	logmsg(LOG_WARN, __VA_ARGS__)
#define note(...)	logmsg(LOG_NOTE, __VA_ARGS__)	/* what the engine does */
#define info(...)	logmsg(LOG_INFO, __VA_ARGS__)
#define dbg(...)	logmsg(LOG_DEBUG, __VA_ARGS__)

#endif

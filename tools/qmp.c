// SPDX-License-Identifier: GPL-2.0-only
/*
 * qmp.c: a minimal QMP client. QEMU answers each command with one line
 * ({"return": ...} or {"error": ...}) and may send {"event": ...} lines
 * at any time; that is all the parsing this needs.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "qmp.h"

static char *read_line(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		return NULL;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char c;

		if (poll(&p, 1, 30000) <= 0 || read(fd, &c, 1) != 1) {
			free(buf);
			return NULL;
		}
		if (c == '\n') {
			buf[len] = 0;
			return buf;
		}
		if (len + 2 > cap) {
			char *n = realloc(buf, cap *= 2);
			if (!n) {
				free(buf);
				return NULL;
			}
			buf = n;
		}
		buf[len++] = c;
	}
}

static int write_all(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

char *qmp_call(int fd, const char *json)
{
	if (write_all(fd, json) || write_all(fd, "\n"))
		return NULL;
	for (;;) {
		char *l = read_line(fd);
		if (!l || strstr(l, "\"return\"") || strstr(l, "\"error\""))
			return l;
		free(l);	/* an event */
	}
}

int qmp_open(const char *path, double timeout_s)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timespec t0, t;
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(a.sun_path, path);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (!connect(fd, (struct sockaddr *)&a, sizeof(a)))
			break;
		close(fd);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 > timeout_s)
			return -1;
		usleep(100000);
	}
	char *greet = read_line(fd), *r = NULL;
	if (greet && strstr(greet, "\"QMP\""))
		r = qmp_call(fd, "{\"execute\":\"qmp_capabilities\"}");
	int ok = r && strstr(r, "\"return\"");
	free(greet);
	free(r);
	if (!ok) {
		close(fd);
		errno = EPROTO;
		return -1;
	}
	return fd;
}

/* {"return": "text with \r\n and \" escapes"} -> the text */
char *qmp_hmp(int fd, const char *cmd)
{
	size_t n = strlen(cmd) * 2 + 128;
	char *req = malloc(n), *o;

	if (!req)
		return NULL;
	o = req + sprintf(req, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"");
	for (const char *c = cmd; *c; c++) {
		if (*c == '"' || *c == '\\')
			*o++ = '\\';
		*o++ = *c;
	}
	strcpy(o, "\"}}");
	char *r = qmp_call(fd, req);
	free(req);
	if (!r)
		return NULL;
	char *s = strstr(r, "\"return\"");
	if (!s || !(s = strchr(s + 8, '"'))) {
		free(r);
		return NULL;
	}
	char *out = malloc(strlen(s) + 1), *d = out;
	if (!out) {
		free(r);
		return NULL;
	}
	for (s++; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			switch (*s) {
			case 'n': *d++ = '\n'; break;
			case 'r': break;
			case 't': *d++ = '\t'; break;
			case 'u': s += 4; *d++ = '?'; break;
			default: *d++ = *s;
			}
		} else {
			*d++ = *s;
		}
	}
	*d = 0;
	free(r);
	return out;
}

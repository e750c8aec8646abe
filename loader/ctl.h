/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_CTL_H
#define TIERD_CTL_H

/*
 * The control socket's server side, which never blocks the daemon's loop:
 * the listening socket and every client are non-blocking and sit in the
 * loop's poll set; each client has a buffer and one deadline for its whole
 * exchange (request in, reply out), and is dropped when it passes. A
 * request is one line (at most CTL_MAX_REQ bytes, ended by '\n' or by the
 * client's shutdown); at most CTL_MAX_CLIENTS are served at once, and a
 * connection beyond that is answered "error: too many clients" and closed.
 */
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include "config.h"

#define CTL_MAX_REQ 1024
#define CTL_MAX_CLIENTS 16
#define CTL_TIMEOUT_S 2.0

enum ctl_kind { CTL_ATTACH, CTL_DETACH, CTL_STATUS, CTL_STATUS_JSON };

struct ctl_req {
	enum ctl_kind kind;
	long vmid;
	bool incoming;			/* attach: this start is a live-migration target */
	bool hook;			/* attach: from the hookscript (policy from the files) */
	struct popts opts;		/* attach: the policy options */
};

/*
 * Parse one request: "attach VMID [name[=value]...] [incoming] [hook]",
 * "detach VMID", "status" or "status-json" (len bytes, no NUL needed;
 * parsing stops at the first newline). 0, or -1 with the reply's text
 * ("error: ...") in why.
 */
int ctl_parse(const char *req, size_t len, struct ctl_req *r, char *why, size_t whylen);

struct ctl_client {
	int fd;
	double deadline;
	size_t got;			/* request bytes in buf */
	char *out;			/* the reply, being sent */
	size_t outlen, outoff;
	char buf[CTL_MAX_REQ];
};

struct ctl {
	int lfd;			/* -1: not listening */
	uid_t uid;			/* the only peer served (0) */
	double timeout_s;
	int nc;
	struct ctl_client c[CTL_MAX_CLIENTS];
	unsigned long served, refused, dropped;
};

/* Answer one request (len bytes, as ctl_parse takes them) into out. */
typedef void ctl_handler(void *arg, const char *req, size_t len, FILE *out);

/* Listen on path (mode 0700 by umask; a stale socket is replaced). 0 or -errno. */
int ctl_listen(struct ctl *s, const char *path);
/* The fds to poll (the listener, then each client): the count filled. */
int ctl_pollfds(const struct ctl *s, struct pollfd *p, int max);
/* The earliest client deadline, or 0 with no client. */
double ctl_deadline(const struct ctl *s);
/* poll()'s timeout at `now` for a loop due at `until`: the earlier of it and
 * the clients' deadlines, in ms, rounded up; 0 if one has passed already
 * (an epoch took longer than a client's time left). */
int ctl_wait_ms(const struct ctl *s, double now, double until);
/*
 * After poll (p, n from ctl_pollfds; n may be 0 to only expire): accept,
 * read, answer and write what is ready without waiting, and drop clients
 * past their deadline.
 */
void ctl_service(struct ctl *s, const struct pollfd *p, int n, double now, ctl_handler *h, void *arg);
/* Close every client and the listener; unlink path if given. */
void ctl_close(struct ctl *s, const char *path);

#endif

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket (see ctl.h): requests parsed into a struct, and a
 * server whose every step is non-blocking, so a client that connects and
 * says nothing, or a flood of connections, costs the daemon's loop only
 * the time to look at them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "ctl.h"
#include "log.h"
#include "vm.h"

/* The next space-separated token of [*p, end), NUL-terminated into tok; false at the end. */
static bool token(const char **p, const char *end, char *tok, size_t size, bool *toolong)
{
	const char *s = *p;
	size_t n;

	while (s < end && *s == ' ')
		s++;
	if (s == end)
		return false;
	for (n = 0; s + n < end && s[n] != ' '; n++)
		;
	*toolong = n >= size;
	if (*toolong)
		n = size - 1;
	memcpy(tok, s, n);
	tok[n] = 0;
	*p = s + n;
	while (*p < end && **p != ' ')
		(*p)++;
	return true;
}

int ctl_parse(const char *req, size_t len, struct ctl_req *r, char *why, size_t wl)
{
	const char *nl = memchr(req, '\n', len), *p = req, *end = nl ? nl : req + len;
	char verb[16], tok[128], msg[400];
	bool toolong;

	memset(r, 0, sizeof(*r));
	if (memchr(req, 0, (size_t)(end - req)) || !token(&p, end, verb, sizeof(verb), &toolong) || toolong)
		goto unknown;
	if (!strcmp(verb, "status") || !strcmp(verb, "status-json")) {
		r->kind = verb[6] ? CTL_STATUS_JSON : CTL_STATUS;
		if (token(&p, end, tok, sizeof(tok), &toolong))
			goto unknown;
		return 0;
	}
	if (strcmp(verb, "attach") && strcmp(verb, "detach"))
		goto unknown;
	r->kind = verb[0] == 'a' ? CTL_ATTACH : CTL_DETACH;
	if (!token(&p, end, tok, sizeof(tok), &toolong) || toolong || parse_vmid(tok, &r->vmid)) {
		r->vmid = 0;
		if (r->kind == CTL_ATTACH)
			snprintf(why, wl, "error: VM 0: '%s' is not a VMID", toolong ? "(too long)" : tok);
		else
			snprintf(why, wl, "error: '%s' is not a VMID", toolong ? "(too long)" : tok);
		return -1;
	}
	while (token(&p, end, tok, sizeof(tok), &toolong)) {
		char *eq = strchr(tok, '=');

		if (r->kind == CTL_DETACH) {
			snprintf(why, wl, "error: detach takes only a VMID");
			return -1;
		}
		if (toolong) {
			snprintf(why, wl, "error: VM %ld: option too long", r->vmid);
			return -1;
		}
		if (eq)
			*eq++ = 0;
		if (!strcmp(tok, "incoming") && !eq) {
			r->incoming = true;	/* this start only, not kept with the policy */
		} else if (!strcmp(tok, "hook") && !eq) {
			r->hook = true;
		} else if (popts_add(&r->opts, tok, eq, msg, sizeof(msg)) < 0) {
			snprintf(why, wl, "error: VM %ld: %s", r->vmid, msg);
			return -1;
		}
	}
	return 0;
unknown:
	snprintf(why, wl, "error: unknown request");
	return -1;
}

int ctl_listen(struct ctl *s, const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	mode_t um;
	int e;

	memset(s, 0, sizeof(*s));
	s->lfd = -1;
	s->timeout_s = CTL_TIMEOUT_S;
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	memcpy(a.sun_path, path, strlen(path));
	unlink(a.sun_path);		/* stale: nobody answered on it */
	um = umask(0077);		/* root only */
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64)) {
		e = -errno;
		umask(um);
		close(fd);
		return e;
	}
	umask(um);
	s->lfd = fd;
	return 0;
}

int ctl_pollfds(const struct ctl *s, struct pollfd *p, int max)
{
	int n = 0;

	if (s->lfd >= 0 && n < max)
		p[n++] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
	for (int i = 0; i < s->nc && n < max; i++)
		p[n++] = (struct pollfd){ .fd = s->c[i].fd, .events = s->c[i].out ? POLLOUT : POLLIN };
	return n;
}

double ctl_deadline(const struct ctl *s)
{
	double d = 0;

	for (int i = 0; i < s->nc; i++)
		if (!d || s->c[i].deadline < d)
			d = s->c[i].deadline;
	return d;
}

int ctl_wait_ms(const struct ctl *s, double now, double until)
{
	double dl = ctl_deadline(s);

	if (dl && dl < until)
		until = dl;
	if (until <= now)
		return 0;
	return until - now > 86400 ? 86400000 : (int)((until - now) * 1000) + 1;
}

static void drop(struct ctl *s, int i)
{
	close(s->c[i].fd);
	free(s->c[i].out);
	s->c[i] = s->c[--s->nc];
}

/* Send what is left of the reply without waiting; true once it is all out (or the peer is gone). */
static bool flush(struct ctl_client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0)
			return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
		c->outoff += (size_t)w;
	}
	return true;
}

/* The request is in: answer it into memory, start sending. False: drop the client. */
static bool answer(struct ctl *s, struct ctl_client *c, ctl_handler *h, void *arg)
{
	FILE *f;

	if (!(f = open_memstream(&c->out, &c->outlen)))
		return false;
	if (c->got >= CTL_MAX_REQ && !memchr(c->buf, '\n', c->got))
		fprintf(f, "error: request longer than %d bytes\n", CTL_MAX_REQ - 1);
	else
		h(arg, c->buf, c->got, f);
	if (fclose(f))
		return false;
	s->served++;
	c->outoff = 0;
	return !flush(c);
}

/* Read what the client has sent; false: drop it. */
static bool take(struct ctl *s, struct ctl_client *c, ctl_handler *h, void *arg)
{
	for (;;) {
		ssize_t r = recv(c->fd, c->buf + c->got, CTL_MAX_REQ - c->got, MSG_DONTWAIT);

		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		if (r == 0)			/* the client shut down its side: the request is whole */
			return c->got ? answer(s, c, h, arg) : false;
		bool eol = memchr(c->buf + c->got, '\n', (size_t)r) != NULL;
		c->got += (size_t)r;
		if (eol || c->got >= CTL_MAX_REQ)
			return answer(s, c, h, arg);
	}
}

static void accept_all(struct ctl *s, double now)
{
	/* bounded: a flood of connections cannot keep the loop here */
	for (int k = 0; k < 4 * CTL_MAX_CLIENTS; k++) {
		struct ucred cr;
		socklen_t cl = sizeof(cr);
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) || cr.uid != s->uid) {
			close(fd);		/* root only, whatever the file mode */
			s->refused++;
			continue;
		}
		if (s->nc == CTL_MAX_CLIENTS) {
			static const char full[] = "error: too many clients\n";
			if (send(fd, full, sizeof(full) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
				dbg("control socket: refusing a client: %s", strerror(errno));
			close(fd);
			if (!s->refused++ || s->refused % 1000 == 0)
				warn("control socket: %d clients at once; refused one (%lu so far)",
				     CTL_MAX_CLIENTS, s->refused);
			continue;
		}
		struct ctl_client *c = &s->c[s->nc++];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->deadline = now + s->timeout_s;
	}
}

void ctl_service(struct ctl *s, const struct pollfd *p, int n, double now, ctl_handler *h, void *arg)
{
	bool listen_ready = false;

	/* the clients first, by fd: p's order is the clients' before any change */
	for (int k = 0; k < n; k++) {
		if (!p[k].revents)
			continue;
		if (p[k].fd == s->lfd) {
			listen_ready = true;
			continue;
		}
		for (int i = 0; i < s->nc; i++) {
			struct ctl_client *c = &s->c[i];
			bool keep;

			if (c->fd != p[k].fd)
				continue;
			if (c->out)
				keep = !flush(c);
			else if (p[k].revents & (POLLIN | POLLHUP | POLLERR))
				keep = take(s, c, h, arg);
			else
				keep = true;
			if (!keep)
				drop(s, i);
			break;
		}
	}
	for (int i = 0; i < s->nc; i++)
		if (now >= s->c[i].deadline) {
			dbg("control socket: dropped a client after %.1f s (%s)", s->timeout_s,
			      s->c[i].out ? "its reply unread" : "no request");
			s->dropped++;
			drop(s, i--);
		}
	if (listen_ready)
		accept_all(s, now);
}

void ctl_close(struct ctl *s, const char *path)
{
	while (s->nc)
		drop(s, 0);
	if (s->lfd >= 0) {
		close(s->lfd);
		s->lfd = -1;
		if (path)
			unlink(path);
	}
}

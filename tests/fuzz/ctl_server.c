// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket's server side (ctl_service): one client on a socket
 * pair sends the input in pieces (each byte below 8 at a piece boundary
 * ends a piece; a 0 byte first means shut down after), the server reads,
 * answers and writes. The handler must only ever see a request of at most
 * CTL_MAX_REQ bytes, once; the client must get one reply.
 */
#include <fcntl.h>
#include <sys/socket.h>
#include "ctl.h"
#include "fuzz.h"

static int calls;

static void reply(void *arg, const char *req, size_t len, FILE *out)
{
	(void)arg;
	if (len == 0 || len > CTL_MAX_REQ || calls++)
		abort();
	fprintf(out, "ok %zu %.*s\n", len, (int)strcspn(req, "\n") > 64 ? 64 : (int)strcspn(req, "\n"), req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl s;
	struct pollfd p;
	char buf[256];
	int sv[2];
	bool shut = size && data[0] == 0;

	if (size > 4 * CTL_MAX_REQ || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return 0;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	memset(&s, 0, sizeof(s));
	s.lfd = -1;
	s.timeout_s = 1;
	s.nc = 1;
	s.c[0].fd = sv[0];
	s.c[0].deadline = 10;
	calls = 0;
	size_t i = shut;
	while (i < size && s.nc) {
		size_t n = 0;
		while (i + n < size && (n == 0 || data[i + n] >= 8))
			n++;
		if (send(sv[1], data + i, n, MSG_NOSIGNAL) != (ssize_t)n)
			break;
		i += n;
		p = (struct pollfd){ .fd = sv[0], .events = POLLIN, .revents = POLLIN };
		ctl_service(&s, &p, 1, 1, reply, NULL);
	}
	if (shut && s.nc && !calls) {
		shutdown(sv[1], SHUT_WR);
		p = (struct pollfd){ .fd = sv[0], .events = POLLIN, .revents = POLLIN };
		ctl_service(&s, &p, 1, 1, reply, NULL);
	}
	if (s.nc && !s.c[0].out)	/* no whole request yet: the deadline drops it */
		ctl_service(&s, NULL, 0, 11, reply, NULL);
	if (s.nc && s.c[0].out) {	/* a reply is being sent */
		p = (struct pollfd){ .fd = sv[0], .events = POLLOUT, .revents = POLLOUT };
		ctl_service(&s, &p, 1, 1, reply, NULL);
	}
	if (s.nc) {
		abort();		/* every path ends the exchange: answered, refused or dropped */
	}
	ssize_t r = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
	if (calls && r <= 0)
		abort();		/* answered: the client has its reply */
	close(sv[1]);
	ctl_close(&s, NULL);
	return 0;
}

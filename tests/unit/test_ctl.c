// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket: requests parsed (good and bad), and the server in a
 * loop with a 0.1 s "epoch" like the daemon's, while a child process is a
 * silent client that stays, 1000 rapid connections, more clients than the
 * cap, an oversized request, a request in pieces and a client that never
 * reads its reply. Every epoch must come on time. No root needed.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ctl.h"
#include "util.h"
#include "check.h"

static char dir[32], path[96];

static void test_parse(void)
{
	struct ctl_req r;
	char why[512];
	const char *s;

	CHECK(!ctl_parse("status", 6, &r, why, sizeof(why)) && r.kind == CTL_STATUS, "status");
	CHECK(!ctl_parse("status\n", 7, &r, why, sizeof(why)) && r.kind == CTL_STATUS, "status\\n");
	CHECK(!ctl_parse("status-json\n", 12, &r, why, sizeof(why)) && r.kind == CTL_STATUS_JSON, "json");
	CHECK(ctl_parse("status x\n", 9, &r, why, sizeof(why)) && !strcmp(why, "error: unknown request"), "%s", why);
	CHECK(ctl_parse("statusx", 7, &r, why, sizeof(why)), "statusx");
	CHECK(ctl_parse("", 0, &r, why, sizeof(why)) && !strcmp(why, "error: unknown request"), "empty");
	CHECK(ctl_parse("stat\0us", 7, &r, why, sizeof(why)), "a NUL");
	s = "attach 101 pin-hot dram-max=512M incoming\n";
	CHECK(!ctl_parse(s, strlen(s), &r, why, sizeof(why)) && r.kind == CTL_ATTACH && r.vmid == 101 &&
	      r.incoming && r.opts.n == 2 && !strcmp(r.opts.o[1].val, "512M"), "%s", why);
	s = "attach 101\nrate=5\n";		/* the request ends at its first newline */
	CHECK(!ctl_parse(s, strlen(s), &r, why, sizeof(why)) && r.opts.n == 0, "%s", why);
	s = "attach 99 pin-hot";
	CHECK(ctl_parse(s, strlen(s), &r, why, sizeof(why)) && !strcmp(why, "error: VM 0: '99' is not a VMID"), "%s", why);
	s = "attach 101 dram-max=lots";
	CHECK(ctl_parse(s, strlen(s), &r, why, sizeof(why)) && !strncmp(why, "error: VM 101: --dram-max", 25), "%s", why);
	s = "attach 101 frobnicate";
	CHECK(ctl_parse(s, strlen(s), &r, why, sizeof(why)) && !strncmp(why, "error: VM 101: ", 15), "%s", why);
	s = "detach 101";
	CHECK(!ctl_parse(s, strlen(s), &r, why, sizeof(why)) && r.kind == CTL_DETACH && r.vmid == 101, "%s", why);
	s = "detach 101 pin-hot";
	CHECK(ctl_parse(s, strlen(s), &r, why, sizeof(why)), "detach with options");
	s = "detach x";
	CHECK(ctl_parse(s, strlen(s), &r, why, sizeof(why)) && !strcmp(why, "error: 'x' is not a VMID"), "%s", why);
	char big[600];
	memset(big, 'a', sizeof(big));
	memcpy(big, "attach 101 ", 11);
	CHECK(ctl_parse(big, sizeof(big), &r, why, sizeof(why)), "a 589-byte option");
}

static int client(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Send req (in two pieces if `split`) and shut down, as tierd's client does; read the whole reply. */
static int ask(const char *req, bool split, char *buf, size_t size)
{
	int fd = client();
	size_t got = 0, n = strlen(req);
	ssize_t r;

	if (fd < 0)
		return -1;
	if (split) {
		if (write(fd, req, n / 2) < 0)
			return close(fd), -1;
		usleep(50000);
	}
	if (write(fd, req + (split ? n / 2 : 0), n - (split ? n / 2 : 0)) < 0 || shutdown(fd, SHUT_WR))
		return close(fd), -1;
	while (got < size - 1 && (r = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = 0;
	close(fd);
	return 0;
}

#define KID(cond, what) do { if (!(cond)) { printf("client: %s\n", what); _exit(1); } } while (0)

/* The clients, in a child process: exit 0 if every answer was right. */
static void clients(void)
{
	char buf[8192];
	int silent = client(), many[24], full = 0;

	KID(silent >= 0, "connect");
	for (int i = 0; i < 1000; i++) {
		KID(!ask("status\n", false, buf, sizeof(buf)), "rapid connect");
		KID(!strcmp(buf, "ok status\n"), buf);
	}
	for (int i = 0; i < 24; i++)		/* more than the cap, all silent */
		KID((many[i] = client()) >= 0, "connect beyond the cap");
	for (int i = 0; i < 24; i++) {
		struct pollfd p = { .fd = many[i], .events = POLLIN };
		if (poll(&p, 1, 100) == 1 && read(many[i], buf, sizeof(buf)) > 0)
			full += !strncmp(buf, "error: too many clients", 23);
		close(many[i]);
	}
	KID(full >= 24 - CTL_MAX_CLIENTS, "clients beyond the cap were not refused");
	usleep(400000);				/* the silent ones time out */
	memset(buf, 'x', 2000);
	buf[2000] = 0;
	char reply[256];
	KID(!ask(buf, false, reply, sizeof(reply)), "oversized");
	KID(!strncmp(reply, "error: request longer than", 26), reply);
	KID(!ask("status\n", true, buf, sizeof(buf)), "split");
	KID(!strcmp(buf, "ok status\n"), buf);
	KID(!ask("status", false, buf, sizeof(buf)), "no newline");	/* ended by the shutdown */
	KID(!strcmp(buf, "ok status\n"), buf);
	int big = client();			/* asks for a reply it never reads */
	KID(big >= 0 && write(big, "big\n", 4) == 4, "big");
	usleep(500000);
	close(big);
	close(silent);
	_exit(0);
}

static void reply(void *arg, const char *req, size_t len, FILE *out)
{
	(void)arg;
	if (len == 4 && !memcmp(req, "big\n", 4)) {	/* more than a socket buffer holds */
		for (int i = 0; i < 1 << 16; i++)
			fputs("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", out);
		return;
	}
	fprintf(out, "ok %.*s\n", (int)strcspn(req, "\n"), req);
}

static void test_server(void)
{
	static struct ctl s;
	double epoch = 0.1, late = 0, next;
	int epochs = 0, status = -1;
	pid_t kid;

	CHECK(!ctl_listen(&s, path), "listen on %s", path);
	s.uid = getuid();
	s.timeout_s = 0.3;
	fflush(stdout);
	if ((kid = fork()) == 0)
		clients();
	next = now_s() + epoch;
	for (double start = now_s(); now_s() - start < 60;) {
		double now = now_s();
		if (now >= next) {		/* an epoch: how late? */
			if (now - next > late)
				late = now - next;
			epochs++;
			next += epoch;
			if (waitpid(kid, &status, WNOHANG) == kid)
				break;
			continue;
		}
		struct pollfd p[1 + CTL_MAX_CLIENTS];
		int n = ctl_pollfds(&s, p, 1 + CTL_MAX_CLIENTS);
		poll(p, (nfds_t)n, ctl_wait_ms(&s, now, next));
		ctl_service(&s, p, n, now_s(), reply, NULL);
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the clients got wrong answers (status %d)", status);
	CHECK(late < 0.15, "an epoch came %.3f s late", late);
	CHECK(s.served >= 1003, "served %lu", s.served);
	CHECK(s.refused >= 24 - CTL_MAX_CLIENTS, "refused %lu", s.refused);
	CHECK(s.dropped >= 2, "dropped %lu", s.dropped);
	printf("server: %d epochs of %.1f s, the latest %.1f ms late; %lu served, %lu refused, %lu dropped\n",
	       epochs, epoch, late * 1000, s.served, s.refused, s.dropped);
	/* the wait: the epoch or the first deadline, never negative (forever) */
	CHECK(ctl_wait_ms(&s, 10, 10.5) / 10 == 50, "no client: %d", ctl_wait_ms(&s, 10, 10.5));
	s.nc = 1;
	s.c[0].deadline = 10.2;
	CHECK(ctl_wait_ms(&s, 10, 10.5) / 10 == 20, "a client due first: %d", ctl_wait_ms(&s, 10, 10.5));
	CHECK(ctl_wait_ms(&s, 11, 11.5) == 0, "a deadline passed during an epoch: %d", ctl_wait_ms(&s, 11, 11.5));
	s.nc = 0;
	ctl_close(&s, path);
	CHECK(access(path, F_OK), "the socket is left behind");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/tierd-ctl-test.XXXXXX");
	if (!mkdtemp(dir))
		return perror("mkdtemp"), 1;
	snprintf(path, sizeof(path), "%s/tierd.sock", dir);
	test_parse();
	test_server();
	rmdir(dir);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

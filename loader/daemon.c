// SPDX-License-Identifier: GPL-2.0-only
/*
 * `tierd [options]`: the host daemon. `tierd --vm N [policy]`: hand VM N's
 * policy to a running daemon over its root-only Unix socket, or, with none
 * running, steer VM N in the foreground until SIGINT/SIGTERM (serving the
 * socket meanwhile, so more VMs can be handed to it). `tierd --vm N
 * --detach` removes a policy. `tierd status [--json]` asks the daemon.
 *
 * Requests are one line: "attach VMID [name[=value]...]", "detach VMID",
 * "status" or "status-json"; replies are "ok ..." / "error ..." or the
 * status document.
 */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "engine.h"
#include "log.h"
#include "tierd_cmd.h"
#include "util.h"

#define SOCK_PATH "/run/tierd/tierd.sock"
#define MAX_REQ 1024

static volatile sig_atomic_t stop;

/* Tell systemd (Type=notify) we are ready: one datagram to $NOTIFY_SOCKET.
 * Done by hand, to keep libsystemd out of the dependencies. */
static void sd_notify_ready(const char *status)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char msg[256];
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(a.sun_path))
		return;
	memcpy(a.sun_path, path, strlen(path));
	if (a.sun_path[0] == '@')
		a.sun_path[0] = 0;		/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&a, len) < 0)
		warn("sd_notify: %s", strerror(errno));
	close(fd);
}
static void on_signal(int sig) { (void)sig; stop = 1; }

static const char *sock_path(void)
{
	const char *p = getenv("TIERD_SOCKET");
	return p && *p ? p : SOCK_PATH;
}

static int sock_connect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path());
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send one request, copy the reply to stdout; 0 if it began with "ok" or is a status. */
static int ask(int fd, const char *req)
{
	char buf[4096];
	ssize_t n;
	bool first = true, ok = false;

	if (write(fd, req, strlen(req)) < 0 || shutdown(fd, SHUT_WR)) {
		err("talking to the daemon: %s", strerror(errno));
		close(fd);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (first)
			ok = strncmp(buf, "error", 5) != 0;
		first = false;
		fwrite(buf, 1, (size_t)n, ok ? stdout : stderr);
	}
	close(fd);
	return ok && !first ? 0 : 1;
}

static int sock_listen(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t um;

	if (fd < 0)
		return -1;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path());
	unlink(a.sun_path);		/* stale: nobody answered on it */
	um = umask(0077);		/* root only */
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8)) {
		umask(um);
		close(fd);
		return -1;
	}
	umask(um);
	return fd;
}

/* Parse "attach 101 pin-hot dram-max=512M" into a policy. */
static int parse_attach(char *args, struct policy *p, char *why, size_t wl)
{
	char *save = NULL, *tok = strtok_r(args, " \n", &save);

	policy_default(p);
	if (!tok || parse_vmid(tok, &p->vmid)) {
		snprintf(why, wl, "'%s' is not a VMID", tok ? tok : "");
		return -1;
	}
	while ((tok = strtok_r(NULL, " \n", &save))) {
		char *eq = strchr(tok, '=');
		if (eq)
			*eq++ = 0;
		if (policy_option(p, tok, eq, why, wl) < 0)
			return -1;
	}
	return 0;
}

static void serve(struct engine *e, int lfd)
{
	char req[MAX_REQ], why[512];
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	ssize_t n;
	size_t got = 0;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	FILE *out;

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) || cr.uid != 0) {
		close(fd);		/* root only, whatever the file mode */
		return;
	}
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (got < sizeof(req) - 1 && (n = read(fd, req + got, sizeof(req) - 1 - got)) > 0)
		got += (size_t)n;
	req[got] = 0;
	if (!(out = fdopen(fd, "w"))) {
		close(fd);
		return;
	}
	if (!strncmp(req, "attach ", 7)) {
		struct policy p;
		if (parse_attach(req + 7, &p, why, sizeof(why)) || engine_attach(e, &p, why, sizeof(why)))
			fprintf(out, "error: VM %ld: %s\n", p.vmid, why);
		else
			fprintf(out, "ok: VM %ld attached to the tierd daemon (pid %d)\n", p.vmid, getpid());
	} else if (!strncmp(req, "detach ", 7)) {
		long id;
		req[strcspn(req, "\n")] = 0;
		if (parse_vmid(req + 7, &id))
			fprintf(out, "error: '%s' is not a VMID\n", req + 7);
		else if (engine_detach(e, id))
			fprintf(out, "error: VM %ld has no tierd policy\n", id);
		else
			fprintf(out, "ok: VM %ld detached, its knobs restored\n", id);
	} else if (!strncmp(req, "status-json", 11)) {
		engine_status(e, out, true);
	} else if (!strncmp(req, "status", 6)) {
		engine_status(e, out, false);
	} else {
		fprintf(out, "error: unknown request\n");
	}
	fclose(out);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: tierd [options]                    run the host daemon\n"
"       tierd --vm N [policy] [options]    steer VM N (handed to the daemon if one runs)\n"
"       tierd --vm N --detach              remove VM N's policy, restore its knobs\n"
"policy:\n"
"  --pin-hot            keep the hot set in DRAM and shield it (memory.low)\n"
"  --dram-max SIZE      DRAM budget for the VM (K/M/G suffixes)\n"
"  --rate MBPS          migration limit for the VM (default 256 MB/s)\n"
"  --target-slow SHARE  wanted share of accesses on the slow tier (default 0.05)\n"
"  --io-slow-us US      NVMe p99 above which its storage counts as slow (default 5000)\n"
"options:\n"
"  --epoch S            seconds per epoch (default 2)\n"
"  --host-rate MBPS     migration limit for all VMs (default 1024 MB/s)\n"
"  --dram-free-min SIZE never promote below this much free DRAM (default 256M)\n"
"  --dram-nodes LIST, --slow-nodes LIST   override the memory tiers\n"
"  --no-kernel-knobs    leave NUMA balancing's settings alone\n"
"  --duration S         stop after S seconds\n"
"  --status-every N     print the status every N epochs (foreground)\n");
}

int cmd_run(int argc, char **argv)
{
	static const struct option lo[] = {
		{"vm", required_argument, 0, 'V'}, {"detach", no_argument, 0, 'D'},
		{"pin-hot", no_argument, 0, 'p'}, {"dram-max", required_argument, 0, 'm'},
		{"rate", required_argument, 0, 'r'}, {"target-slow", required_argument, 0, 't'},
		{"io-slow-us", required_argument, 0, 'i'},
		{"epoch", required_argument, 0, 'e'}, {"host-rate", required_argument, 0, 'R'},
		{"dram-free-min", required_argument, 0, 'f'}, {"dram-nodes", required_argument, 0, 'F'},
		{"slow-nodes", required_argument, 0, 'S'}, {"no-kernel-knobs", no_argument, 0, 'K'},
		{"duration", required_argument, 0, 'd'}, {"status-every", required_argument, 0, 's'},
		{"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0},
	};
	struct engine_opts eo = { .epoch_s = 2, .host_rate_mbs = 1024, .dram_free_min = 256UL << 20,
				  .kernel_knobs = true };
	struct policy pol;
	char opts[MAX_REQ] = "", why[512];	/* the policy options, as the daemon takes them */
	bool have_vm = false, detach = false, json = false, policy_given = false;
	double duration = 0;
	uint64_t every = 0, v;
	size_t len = 0;
	int c;
	static struct engine e;

	policy_default(&pol);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		const char *name = NULL;
		int k;

		for (k = 0; lo[k].name; k++)
			if (lo[k].val == c)
				name = lo[k].name;
		switch (c) {
		case 'V':
			if (parse_vmid(optarg, &pol.vmid))
				return err("--vm: '%s' is not a VMID (100..999999999)", optarg), 2;
			have_vm = true;
			break;
		case 'D': detach = true; break;
		case 'p': case 'm': case 'r': case 't': case 'i':
			if (policy_option(&pol, name, optarg, why, sizeof(why)) < 0)
				return err("%s", why), 2;
			policy_given = true;
			if (len < sizeof(opts))
				len += (size_t)snprintf(opts + len, sizeof(opts) - len, " %s%s%s", name,
							optarg ? "=" : "", optarg ? optarg : "");
			if (len >= sizeof(opts))
				return err("policy options too long"), 2;
			break;
		case 'e': case 'd': {
			char *end;
			double d = strtod(optarg, &end);
			if (end == optarg || *end || !(d > 0) || d > 86400 * 365)
				return err("--%s: '%s' is not a number of seconds", name, optarg), 2;
			if (c == 'e' && (d < 0.1 || d > 3600))
				return err("--epoch: %s s is outside 0.1..3600", optarg), 2;
			*(c == 'e' ? &eo.epoch_s : &duration) = d;
			break;
		}
		case 'R': {
			char *end;
			eo.host_rate_mbs = strtod(optarg, &end);
			if (end == optarg || *end || !(eo.host_rate_mbs > 0))
				return err("--host-rate: '%s' is not a positive MB/s", optarg), 2;
			break;
		}
		case 'f':
			if (parse_size(optarg, &eo.dram_free_min))
				return err("--dram-free-min: '%s' is not a size", optarg), 2;
			break;
		case 'F': eo.dram_nodes = optarg; break;
		case 'S': eo.slow_nodes = optarg; break;
		case 'K': eo.kernel_knobs = false; break;
		case 's':
			if (parse_uint(optarg, 1000000, &v) || !v)
				return err("--status-every: '%s' is not a count of epochs", optarg), 2;
			every = v;
			break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
		return err("unexpected argument '%s'", argv[optind]), usage(stderr), 2;
	if (detach && policy_given)
		return err("--detach removes a policy; it takes no policy options"), 2;
	if ((detach || policy_given) && !have_vm)
		return err("%s needs --vm N", detach ? "--detach" : "a policy option"), 2;
	if (geteuid() != 0)
		return err("tierd needs root (BPF, move_pages on QEMU, cgroup and sysctl writes)"), 1;

	/* a daemon is running: hand it over */
	if (have_vm) {
		int fd = sock_connect();
		char line[64];

		if (fd >= 0) {
			if (detach) {
				snprintf(line, sizeof(line), "detach %ld\n", pol.vmid);
				return ask(fd, line);
			}
			char req[MAX_REQ + 32];
			snprintf(req, sizeof(req), "attach %ld%s\n", pol.vmid, opts);
			return ask(fd, req);
		}
		if (detach)
			return err("no tierd daemon is running (%s): VM %ld has no policy to detach", sock_path(), pol.vmid), 1;
	}
	log_init(log_verbosity > LOG_NOTE ? log_verbosity : LOG_NOTE);

	/* check the VM and the host before changing anything */
	if (have_vm) {
		struct host_paths hp;
		struct vm vm;
		struct topo t;

		host_paths_default(&hp);
		if (vm_resolve(&hp, pol.vmid, &vm, why, sizeof(why)) ||
		    vm_find_ram(&hp, &vm, 64UL << 20, why, sizeof(why)))
			return err("VM %ld: %s", pol.vmid, why), 1;
		if (topo_read("", eo.dram_nodes, eo.slow_nodes, &t, why, sizeof(why)))
			return err("%s", why), 1;
	}
	if (engine_start(&e, &eo, why, sizeof(why)))
		return err("%s", why), 1;
	if (have_vm && engine_attach(&e, &pol, why, sizeof(why))) {
		engine_stop(&e);
		return err("VM %ld: %s", pol.vmid, why), 1;
	}
	int lfd = sock_listen();
	if (lfd < 0)
		warn("cannot listen on %s: %s; other tierd calls cannot reach this one", sock_path(), strerror(errno));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	sd_notify_ready(e.s.heat ? "samplers attached" : "running without a heat sampler");
	signal(SIGPIPE, SIG_IGN);
	note("running: %s; DRAM nodes 0x%llx, slow nodes 0x%llx; epoch %.1f s%s", e.topo.how,
	     (unsigned long long)e.topo.fast, (unsigned long long)e.topo.slow, eo.epoch_s,
	     have_vm ? "" : " (host daemon: waiting for policies)");

	double start = now_s(), next = start + eo.epoch_s;
	while (!stop) {
		double now = now_s();
		if (duration && now - start >= duration)
			break;
		if (now >= next) {
			engine_epoch(&e);
			next += eo.epoch_s;
			if (next < now)
				next = now + eo.epoch_s;
			if (every && e.epoch % every == 0) {
				engine_status(&e, stdout, json);
				fflush(stdout);
			}
			if (have_vm && e.nvm == 0) {
				note("no VM left to steer; exiting");
				break;
			}
			continue;
		}
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		int ms = (int)((next - now) * 1000) + 1;
		if (poll(&p, lfd >= 0 ? 1 : 0, ms) > 0)
			serve(&e, lfd);
	}
	if (lfd >= 0) {
		close(lfd);
		unlink(sock_path());
	}
	engine_stop(&e);
	note("stopped; every knob restored");
	return 0;
}

int cmd_status(int argc, char **argv)
{
	bool json = argc > 1 && !strcmp(argv[1], "--json");
	int fd;

	if (argc > 2 || (argc == 2 && !json))
		return err("usage: tierd status [--json]"), 2;
	if ((fd = sock_connect()) < 0)
		return err("no tierd is running (%s: %s)", sock_path(), strerror(errno)), 1;
	return ask(fd, json ? "status-json\n" : "status\n");
}

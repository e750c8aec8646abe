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
 *
 * The host daemon also reads /etc/tierd/tierd.conf and the cluster-wide
 * /etc/pve/tierd.cfg (config.c), attaches every running VM that has a
 * policy there or a tierd tag, and picks up edits to either file (polled
 * each epoch, or at once on SIGHUP) without a restart: a file that does not
 * parse is reported with file:line and changes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>
#include "caps.h"
#include "config.h"
#include "ctl.h"
#include "engine.h"
#include "log.h"
#include "metrics.h"
#include "tierd_cmd.h"
#include "util.h"

#define SOCK_PATH "/run/tierd/tierd.sock"
#define MAX_REQ CTL_MAX_REQ

static volatile sig_atomic_t stop, hup;

/* A VM tierd steers, and why. */
struct managed {
	long vmid;
	bool manual;			/* attached by hand or by the hookscript */
	struct popts opts;		/* the options it was attached with */
};

/* Everything the running daemon holds. */
static struct daemon {
	struct engine e;
	struct config cfg;
	struct config_stamp stamp;	/* of the files last read (or last refused) */
	struct config_stamp moving;	/* of the files seen changed, not read yet */
	struct config file;		/* host settings as tierd.conf gave them at start */
	bool metrics_cli;		/* --metrics-dir given: the file's does not count */
	bool auto_attach;		/* the host daemon: attach what the files ask for */
	struct managed m[TIERD_MAX_VMS];
	int nm;
	long skip[TIERD_MAX_VMS];	/* running VMs not to auto-attach: detached by hand */
	int nskip;
	/* running VMs the files ask for that could not be attached yet (QEMU
	 * writes its pid file before guest RAM exists): tried again at epoch
	 * `at`, backing off to every 32 epochs */
	struct retry { long vmid; unsigned tries; uint64_t at; } retry[TIERD_MAX_VMS];
	int nretry;
	bool pve_seen, pve_down;	/* pmxcfs was mounted once / is not now */
} d;

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
/* only without a signalfd (signals_open) */
static void on_signal(int sig) { (void)sig; stop = 1; }
static void on_hup(int sig) { (void)sig; hup = 1; }

/*
 * SIGINT, SIGTERM and SIGHUP as a file descriptor the loop polls with the
 * rest: blocked, so one that comes between the loop's checks and its poll
 * waits in the descriptor and wakes the poll at once. -1 where there is
 * no signalfd: handlers then, and a signal may wait for the next epoch.
 */
static int signals_open(void)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (!sigprocmask(SIG_BLOCK, &set, NULL) && (fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) >= 0)
		return fd;
	warn("no signalfd (%s): a signal may wait for the next epoch", strerror(errno));
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_hup);
	return -1;
}

static void signals_read(int fd)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		*(si.ssi_signo == SIGHUP ? &hup : &stop) = 1;
}

/* The epoch's timer (a timerfd, CLOCK_MONOTONIC as now_s) set to fire at
 * `at`; false (said once) if it cannot be, and then poll's own timeout
 * must keep the epoch. */
static bool timer_at(int fd, double at)
{
	struct itimerspec it = { .it_value = { .tv_sec = (time_t)at, .tv_nsec = (long)((at - (double)(time_t)at) * 1e9) } };
	static bool said;

	if (!it.it_value.tv_sec && !it.it_value.tv_nsec)
		it.it_value.tv_nsec = 1;	/* zero would disarm it */
	if (!timerfd_settime(fd, TFD_TIMER_ABSTIME, &it, NULL))
		return true;
	if (!said)
		warn("timerfd_settime: %s; the epoch is kept by poll's timeout", strerror(errno));
	said = true;
	return false;
}

static struct managed *managed(long vmid)
{
	for (int i = 0; i < d.nm; i++)
		if (d.m[i].vmid == vmid)
			return &d.m[i];
	return NULL;
}

static void forget(long vmid)
{
	for (int i = 0; i < d.nm; i++)
		if (d.m[i].vmid == vmid)
			d.m[i--] = d.m[--d.nm];
}

static bool skipped(long vmid)
{
	for (int i = 0; i < d.nskip; i++)
		if (d.skip[i] == vmid)
			return true;
	return false;
}

static void skip(long vmid)
{
	if (!skipped(vmid) && d.nskip < TIERD_MAX_VMS)
		d.skip[d.nskip++] = vmid;
}

static struct retry *retry_of(long vmid)
{
	for (int i = 0; i < d.nretry; i++)
		if (d.retry[i].vmid == vmid)
			return &d.retry[i];
	return NULL;
}

/*
 * pmxcfs restarting (a pve-cluster upgrade) unmounts /etc/pve for a
 * moment: its files and the VMs' configs read as absent. While a pmxcfs
 * seen before is not mounted, the daemon keeps the configuration it has
 * and the VMs it steers, and attaches nothing new.
 */
static bool pmxcfs_down(void)
{
	if (pve_mounted(d.cfg.pve_dir)) {
		if (d.pve_down)
			note("pmxcfs is mounted again at %s", d.cfg.pve_dir);
		d.pve_seen = true;
		d.pve_down = false;
		return false;
	}
	if (d.pve_seen && !d.pve_down)
		warn("pmxcfs is not mounted at %s (no .version; restarting?): keeping the configuration and the VMs steered as they are, attaching nothing new",
		     d.cfg.pve_dir);
	d.pve_down = d.pve_seen;
	return d.pve_down;
}

/*
 * Attach (or re-attach with a new policy) VM vmid: the files' layers, then
 * `opts` if it came by hand. 0, or -1 with why.
 */
static int attach(long vmid, bool manual, const struct popts *opts, bool incoming, char *why, size_t wl)
{
	struct policy p;
	struct managed *m;

	if (config_policy(&d.cfg, vmid, manual ? opts : NULL, &p, why, wl))
		return -1;
	if (engine_attach(&d.e, &p, incoming, why, wl))
		return -1;
	if (!(m = managed(vmid))) {
		m = &d.m[d.nm++];	/* engine_attach refuses beyond TIERD_MAX_VMS */
		memset(m, 0, sizeof(*m));
		m->vmid = vmid;
	}
	if (manual) {
		m->manual = true;
		m->opts = *opts;
	}
	return 0;
}

/*
 * Bring the set of steered VMs in line with the files: attach running VMs
 * they ask for, re-apply policies, detach what they no longer ask for
 * (VMs attached by hand stay, with the files' layers under their options).
 */
static void reconcile(void)
{
	long ids[1024];
	char why[512];
	int n = vm_list(&d.e.hp, ids, 1024);

	for (int i = 0; i < d.nm; i++)		/* the engine drops VMs that exited */
		if (!engine_has(&d.e, d.m[i].vmid))
			forget(d.m[i--].vmid);
	for (int i = 0; i < d.nskip; i++) {	/* a stopped VM starts afresh */
		bool running = false;
		for (int k = 0; k < n; k++)
			running |= ids[k] == d.skip[i];
		if (!running)
			d.skip[i--] = d.skip[--d.nskip];
	}
	for (int i = 0; i < d.nretry; i++) {
		bool running = false;
		for (int k = 0; k < n; k++)
			running |= ids[k] == d.retry[i].vmid;
		if (!running)
			d.retry[i--] = d.retry[--d.nretry];
	}
	if (!d.auto_attach || pmxcfs_down())
		return;
	for (int i = 0; i < d.nm; i++) {
		struct managed *m = &d.m[i];
		if (!m->manual && !config_wants(&d.cfg, m->vmid)) {
			engine_detach(&d.e, m->vmid);
			note("VM %ld: no longer in %s nor tagged: detached", m->vmid, d.cfg.policies);
			forget(d.m[i--].vmid);
		} else if (attach(m->vmid, m->manual, &m->opts, false, why, sizeof(why))) {
			warn("VM %ld: policy not updated: %s", m->vmid, why);
		}
	}
	for (int k = 0; k < n; k++) {
		struct retry *r = retry_of(ids[k]);
		if (managed(ids[k]) || skipped(ids[k]) || (r && r->at > d.e.epoch) || !config_wants(&d.cfg, ids[k]))
			continue;
		/* still arriving from another node: wait for its RAM */
		bool incoming = pve_migrating(d.cfg.pve_dir, ids[k]);
		if (attach(ids[k], false, NULL, incoming, why, sizeof(why))) {
			if (!r && d.nretry < TIERD_MAX_VMS) {
				r = &d.retry[d.nretry++];
				*r = (struct retry){ .vmid = ids[k] };
				warn("VM %ld: not attached yet: %s; trying again each epoch, then less often", ids[k], why);
			} else {
				dbg("VM %ld: not attached (try %u): %s", ids[k], r ? r->tries + 1 : 0, why);
			}
			if (r) {
				r->tries++;
				r->at = d.e.epoch + (r->tries < 5 ? 1 : r->tries < 10 ? 4 : 32);
			}
		} else {
			note("VM %ld: attached from %s%s%s", ids[k],
			     config_vm(&d.cfg, ids[k]) ? d.cfg.policies : "its tags",
			     incoming ? " (incoming migration: placement waits for its RAM)" : "",
			     r ? " after its RAM appeared" : "");
			if (r)
				*r = d.retry[--d.nretry];
		}
	}
}

/* Re-read the files if they changed and held still an epoch (or on SIGHUP); a bad file changes nothing. */
static void reload(bool force)
{
	struct config_stamp now;
	struct config n;
	char why[600];

	if (pmxcfs_down())
		return;		/* its files would read as gone: wait for it */
	config_stamp(&d.cfg, &now);
	if (!force && config_stamp_eq(&now, &d.stamp))
		return;
	/* A changed file is read once it has held still for an epoch: an
	 * editor or pmxcfs may be writing it now, and a half-written policy
	 * file parses fine, missing the VMs in its unwritten part. */
	if (!force && !config_stamp_eq(&now, &d.moving)) {
		d.moving = now;
		return;
	}
	d.stamp = d.moving = now;
	config_init(&n);
	if (config_load(&n, d.cfg.path, false, why, sizeof(why))) {
		err("%s; keeping the previous configuration", why);
		config_free(&n);
		return;
	}
	char keys[256];
	int nk = config_restart_diff(&n, &d.file, keys, sizeof(keys));
	if (nk)
		warn("%s: %s take%s effect at restart", n.path, keys, nk == 1 ? "s" : "");
	/* what a restart would change stays as it runs */
	config_keep_restart(&n, &d.cfg);
	if (d.metrics_cli)
		snprintf(n.metrics_dir, sizeof(n.metrics_dir), "%s", d.cfg.metrics_dir);
	if (d.cfg.metrics_dir[0] && strcmp(n.metrics_dir, d.cfg.metrics_dir))
		metrics_remove(d.cfg.metrics_dir);
	config_free(&d.cfg);
	d.cfg = n;
	config_fix_ptrs(&d.cfg);
	d.nskip = 0;
	d.nretry = 0;
	note("configuration read: %s, %s (%d VM policies)", d.cfg.path, d.cfg.policies, d.cfg.nvm);
	reconcile();
}

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

/*
 * An attach from the hookscript is not manual: the VM gets what the files
 * and its tags say, and is left alone when they say nothing or tierd.off,
 * as if the daemon had found it. A config with "lock: migrate" makes it
 * incoming (`qm remote-migrate` sets no PVE_MIGRATED_FROM). 0 attached,
 * 1 left alone (why says why), -1 refused.
 */
static int hook_attach(long vmid, bool *incoming, char *why, size_t wl)
{
	struct retry *r;

	if (pmxcfs_down()) {
		snprintf(why, wl, "pmxcfs is not mounted at %s: its policy and tags cannot be read", d.cfg.pve_dir);
		return -1;
	}
	if (config_tags(&d.cfg, vmid) == TAGS_OFF) {
		snprintf(why, wl, "tagged tierd.off");
		return 1;
	}
	if (!config_wants(&d.cfg, vmid)) {
		snprintf(why, wl, "no section in %s and no tierd or tierd.pin-hot tag", d.cfg.policies);
		return 1;
	}
	*incoming |= pve_migrating(d.cfg.pve_dir, vmid);
	if (attach(vmid, false, NULL, *incoming, why, wl))
		return -1;
	if ((r = retry_of(vmid)))
		*r = d.retry[--d.nretry];
	return 0;
}

/* One request from the control socket (ctl.c), answered into out. */
static void handle(void *arg, const char *req, size_t len, FILE *out)
{
	struct engine *e = arg;
	struct ctl_req r;
	char why[600];

	if (ctl_parse(req, len, &r, why, sizeof(why))) {
		fprintf(out, "%s\n", why);
		return;
	}
	switch (r.kind) {
	case CTL_ATTACH: {
		int rc = r.hook ? hook_attach(r.vmid, &r.incoming, why, sizeof(why))
				: attach(r.vmid, true, &r.opts, r.incoming, why, sizeof(why));
		if (rc < 0) {
			fprintf(out, "error: VM %ld: %s\n", r.vmid, why);
			break;
		}
		if (rc > 0) {
			fprintf(out, "ok: VM %ld not attached: %s\n", r.vmid, why);
			note("VM %ld: hookscript attach ignored: %s", r.vmid, why);
			break;
		}
		fprintf(out, "ok: VM %ld attached to the tierd daemon (pid %d)%s\n", r.vmid, getpid(),
			r.incoming ? "; placement waits for the incoming migration" : "");
		note("VM %ld: attached by %s%s", r.vmid, r.hook ? "the hookscript" : "request",
		     r.incoming ? " (incoming migration)" : "");
		break;
	}
	case CTL_DETACH:
		if (engine_detach(e, r.vmid)) {
			fprintf(out, "error: VM %ld has no tierd policy\n", r.vmid);
			break;
		}
		forget(r.vmid);
		skip(r.vmid);	/* not re-attached from the files until it restarts */
		fprintf(out, "ok: VM %ld detached, its knobs restored\n", r.vmid);
		break;
	case CTL_STATUS:
	case CTL_STATUS_JSON:
		engine_status(e, out, r.kind == CTL_STATUS_JSON);
		break;
	}
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: tierd [options]                    run the host daemon\n"
"       tierd --vm N [policy] [options]    steer VM N (handed to the daemon if one runs)\n"
"       tierd --vm N --detach              remove VM N's policy, restore its knobs\n"
"       tierd attach N [--incoming] [policy]   hand VM N to the running daemon only\n"
"       tierd attach N --hook [--incoming]     the hookscript's: policy from the files and\n"
"                                          tags only; left alone if they do not ask for it\n"
"       tierd detach N                     the same as --vm N --detach\n"
"policy (defaults from tierd.conf and /etc/pve/tierd.cfg; see tierd.conf(5)):\n");
	policy_usage(f);
	fprintf(f,
"options (override tierd.conf):\n"
"  --config FILE        host settings (default /etc/tierd/tierd.conf; may be absent)\n");
	host_usage(f);
	fprintf(f,
"  --duration S         stop after S seconds\n"
"  --status-every N     print the status every N epochs (foreground)\n");
}

/* Seconds in (0, max]; -1 if not. */
static double seconds(const char *s, double max)
{
	char *end;
	double v = strtod(s, &end);

	return end == s || *end || !(v > 0) || v > max ? -1 : v;
}

/* The command line's long options: the fixed ones, then the tables'
 * (options.h), their val OPT_POLICY or OPT_HOST plus the row. */
enum { OPT_POLICY = 0x100, OPT_HOST = 0x200 };

static const struct option *long_options(void)
{
	static const struct option fixed[] = {
		{"vm", required_argument, 0, 'V'}, {"detach", no_argument, 0, 'D'},
		{"incoming", no_argument, 0, 'I'}, {"config", required_argument, 0, 'c'},
		{"duration", required_argument, 0, 'd'}, {"status-every", required_argument, 0, 's'},
		{"json", no_argument, 0, 'j'}, {"hook", no_argument, 0, 'H'},
		{"help", no_argument, 0, 'h'},
	};
	static struct option lo[64];
	static char no_names[16][32];
	int nlo = 0, nno = 0;

	for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++)
		lo[nlo++] = fixed[k];
	for (int k = 0; k < npolicy_keys; k++)
		lo[nlo++] = (struct option){ policy_keys[k].key, policy_keys[k].flag ? no_argument : required_argument,
					     0, OPT_POLICY + k };
	for (int k = 0; k < nhost_keys; k++) {
		const struct opt_desc *h = &host_keys[k];
		if (h->cli == H_ARG) {
			lo[nlo++] = (struct option){ h->key, required_argument, 0, OPT_HOST + k };
		} else if (h->cli == H_NO) {
			snprintf(no_names[nno], sizeof(no_names[nno]), "no-%s", h->key);
			lo[nlo++] = (struct option){ no_names[nno++], no_argument, 0, OPT_HOST + k };
		}
	}
	lo[nlo] = (struct option){ 0 };
	return lo;
}

/*
 * 1. wait: for a signal, the epoch's timer (at `next`) or the socket, in
 * one poll, and never on one client; then serve the socket's clients.
 * With next <= now (the last epoch ran past the next one's start) it does
 * not wait: it only reads what signals and clients have sent, so that back
 * to back epochs still stop on SIGTERM and answer the socket.
 */
static void wait_for(struct ctl *ctl, int sfd, int tfd, double now, double next)
{
	struct pollfd p[3 + CTL_MAX_CLIENTS];
	int np = 0, is = -1, it = -1;
	double until = next;

	if (sfd >= 0) {
		is = np;
		p[np++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	}
	if (tfd >= 0 && next > now && timer_at(tfd, next)) {
		it = np;
		p[np++] = (struct pollfd){ .fd = tfd, .events = POLLIN };
		until = now + 86400;
	}
	int nc = ctl_pollfds(ctl, p + np, CTL_MAX_CLIENTS + 1);

	/* poll's timeout: the clients' deadlines, and the epoch without a timer */
	if (poll(p, (nfds_t)(np + nc), ctl_wait_ms(ctl, now, until)) > 0) {
		uint64_t n;

		if (is >= 0 && p[is].revents)
			signals_read(sfd);
		if (it >= 0 && p[it].revents && read(tfd, &n, sizeof(n)) < 0) {
			/* EAGAIN: nothing more to read */
		}
	}
	ctl_service(ctl, p + np, nc, now_s(), handle, &d.e);
}

/* 5. publish: the metrics file; the status every `every` epochs (--status-every). */
static void publish(uint64_t every, bool json)
{
	static int last;

	if (d.cfg.metrics_dir[0]) {
		int rc = metrics_write(&d.e, d.cfg.metrics_dir);
		/* once per new error; the default folder may just not be there */
		if (rc && rc != last && !(rc == -ENOENT && !strcmp(d.cfg.metrics_dir, METRICS_DIR_DEFAULT)))
			warn("metrics: cannot write %s/tierd.prom: %s", d.cfg.metrics_dir, strerror(-rc));
		else if (!rc && last && last != -ENOENT)
			note("metrics: %s/tierd.prom written again", d.cfg.metrics_dir);
		last = rc;
	}
	if (every && d.e.epoch % every == 0) {
		engine_status(&d.e, stdout, json);
		fflush(stdout);
	}
}

static int run(int argc, char **argv, bool daemon_only)
{
	const struct option *lo = long_options();
	struct popts manual = { 0 };
	char opts[MAX_REQ] = "", why[600];	/* the policy options, as the daemon takes them */
	const char *config = NULL;
	bool have_vm = false, detach = false, json = false, policy_given = false, incoming = false, hook = false;
	double duration = 0;
	uint64_t every = 0, v;
	/* host settings given here: checked as tierd.conf's keys, applied over it */
	struct { const char *key, *val; } host[16];
	int nhost = 0;
	static struct config scratch;
	size_t len = 0;
	long vmid = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hv", lo, NULL)) != -1) {
		if (c >= OPT_POLICY && c < OPT_POLICY + npolicy_keys) {
			const char *name = policy_keys[c - OPT_POLICY].key;
			if (popts_add(&manual, name, optarg, why, sizeof(why)) < 0)
				return err("%s", why), 2;
			policy_given = true;
			if (len < sizeof(opts))
				len += (size_t)snprintf(opts + len, sizeof(opts) - len, " %s%s%s", name,
							optarg ? "=" : "", optarg ? optarg : "");
			if (len >= sizeof(opts))
				return err("policy options too long"), 2;
			continue;
		}
		if (c >= OPT_HOST && c < OPT_HOST + nhost_keys) {
			const struct opt_desc *h = &host_keys[c - OPT_HOST];
			const char *key = h->key, *val = h->cli == H_NO ? "no" : optarg;
			config_init(&scratch);
			if (config_host_option(&scratch, key, val, why, sizeof(why)))
				return err("--%s", why), 2;
			if (nhost == (int)(sizeof(host) / sizeof(host[0])))
				return err("too many options"), 2;
			host[nhost].key = key;
			host[nhost++].val = val;
			continue;
		}
		switch (c) {
		case 'V':
			if (parse_vmid(optarg, &vmid))
				return err("--vm: '%s' is not a VMID (100..999999999)", optarg), 2;
			have_vm = true;
			break;
		case 'D': detach = true; break;
		case 'I': incoming = true; break;
		case 'H': hook = true; break;
		case 'c': config = optarg; break;
		case 'd':
			if ((duration = seconds(optarg, 86400 * 365)) < 0)
				return err("--duration: '%s' is not a number of seconds", optarg), 2;
			break;
		case 's':
			if (parse_uint(optarg, 1000000, &v) || !v)
				return err("--status-every: '%s' is not a count of epochs", optarg), 2;
			every = v;
			break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		case 'v': log_init(log_verbosity + 1); break;	/* also after other options */
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
		return err("unexpected argument '%s'", argv[optind]), usage(stderr), 2;
	if (detach && (policy_given || incoming))
		return err("--detach removes a policy; it takes no policy options"), 2;
	if (hook && (detach || policy_given))
		return err("--hook takes the VM's policy from the files and its tags: no policy options"), 2;
	daemon_only |= hook;
	if ((detach || policy_given || incoming || hook) && !have_vm)
		return err("%s needs --vm N", detach ? "--detach" : incoming ? "--incoming" : "a policy option"), 2;
	if (geteuid() != 0)
		return err("tierd needs root (BPF, move_pages on QEMU, cgroup and sysctl writes)"), 1;

	/* the files: read and checked before anything is handed over or changed */
	config_init(&d.cfg);
	if (config_load(&d.cfg, config ? config : d.cfg.path, config != NULL, why, sizeof(why)))
		return err("%s", why), 1;
	d.file = d.cfg;
	d.file.vm = NULL;		/* only its host settings are kept */
	d.file.nvm = 0;
	for (int i = 0; i < nhost; i++) {	/* checked above: cannot fail */
		config_host_option(&d.cfg, host[i].key, host[i].val, why, sizeof(why));
		d.metrics_cli |= !strcmp(host[i].key, "metrics-dir");
	}
	config_fix_ptrs(&d.cfg);
	config_stamp(&d.cfg, &d.stamp);
	d.moving = d.stamp;
	if (have_vm && !detach) {
		struct policy p;
		if (config_policy(&d.cfg, vmid, &manual, &p, why, sizeof(why)))
			return err("VM %ld: %s", vmid, why), 1;
	}

	/* a daemon is running: hand it over */
	if (have_vm) {
		int fd = sock_connect();
		char req[MAX_REQ + 48];

		if (fd >= 0) {
			if (detach)
				snprintf(req, sizeof(req), "detach %ld\n", vmid);
			else
				snprintf(req, sizeof(req), "attach %ld%s%s%s\n", vmid, opts, incoming ? " incoming" : "",
					 hook ? " hook" : "");
			return ask(fd, req);
		}
		if (detach || daemon_only)
			return err("no tierd daemon is running (%s)%s", sock_path(),
				   detach ? ": there is no policy to detach" : ""), 1;
	}
	log_init(log_verbosity > LOG_NOTE ? log_verbosity : LOG_NOTE);

	/* check the VM and the host before changing anything */
	if (have_vm) {
		struct host_paths hp;
		struct vm vm;

		char conf[300];

		host_paths_default(&hp);
		snprintf(conf, sizeof(conf), "%s/qemu-server", d.cfg.pve_dir);
		hp.conf = conf;
		if (vm_resolve(&hp, vmid, &vm, why, sizeof(why)) ||
		    vm_find_ram(&hp, &vm, 64UL << 20, why, sizeof(why)))
			return err("VM %ld: %s", vmid, why), 1;
		vm_free(&vm);
	}
	{
		struct topo t;
		int trc = topo_read("", d.cfg.eo.dram_nodes, d.cfg.eo.slow_nodes, &t, why, sizeof(why));

		/* nothing to tier on this host: a distinct status, which the unit
		 * does not restart on (RestartPreventExitStatus) */
		if (trc)
			return err("%s", why), trc == -ENOENT ? TIERD_EXIT_NO_TIER : 1;
	}
	if (engine_start(&d.e, &d.cfg.eo, why, sizeof(why)))
		return err("%s", why), 1;
	if (have_vm && attach(vmid, true, &manual, incoming, why, sizeof(why))) {
		engine_stop(&d.e);
		return err("VM %ld: %s", vmid, why), 1;
	}
	int rc = getenv("TIERD_KEEP_CAPS") ? 0 : caps_drop_after_attach();
	if (rc)
		warn("cannot drop capabilities: %s", strerror(-rc));
	d.auto_attach = !have_vm;
	static struct ctl ctl;
	if ((rc = ctl_listen(&ctl, sock_path())))
		warn("cannot listen on %s: %s; other tierd calls cannot reach this one", sock_path(), strerror(-rc));
	int sfd = signals_open(), tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (tfd < 0)
		warn("no timerfd (%s): the epoch is poll's timeout", strerror(errno));
	note("running: %s; DRAM nodes 0x%llx, slow nodes 0x%llx; epoch %.1f s%s", d.e.topo.how,
	     (unsigned long long)d.e.topo.fast, (unsigned long long)d.e.topo.slow, d.cfg.eo.epoch_s,
	     have_vm ? "" : " (host daemon)");
	if (d.auto_attach) {
		note("policies: %s (%d VMs), defaults: %s%s", d.cfg.policies, d.cfg.nvm, d.cfg.path,
		     access(d.cfg.path, F_OK) ? " (absent: built-in)" : "");
		reconcile();
	}
	sd_notify_ready(d.e.s.heat ? "samplers attached" : "running without a heat sampler");

	/* the loop: 1. wait, 2. reload, 3. epoch, 4. reconcile, 5. publish */
	double start = now_s(), next = start + d.cfg.eo.epoch_s;
	while (!stop) {
		double now = now_s();
		if (duration && now - start >= duration)
			break;
		if (hup) {
			hup = 0;
			note("SIGHUP: reading the configuration again");
			reload(true);
		}
		if (now < next) {
			wait_for(&ctl, sfd, tfd, now, next);
			continue;
		}
		/* an epoch that ran long: signals and clients before the next */
		wait_for(&ctl, sfd, tfd, now, now);
		if (stop)
			break;
		reload(false);
		engine_epoch(&d.e);
		reconcile();
		publish(every, json);
		next += d.cfg.eo.epoch_s;
		if (next < now)
			next = now + d.cfg.eo.epoch_s;
		if (have_vm && d.e.nvm == 0) {
			note("no VM left to steer; exiting");
			break;
		}
	}
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	ctl_close(&ctl, sock_path());
	if (d.cfg.metrics_dir[0])
		metrics_remove(d.cfg.metrics_dir);
	engine_stop(&d.e);
	config_free(&d.cfg);
	note("stopped; every knob restored");
	return 0;
}

int cmd_run(int argc, char **argv)
{
	return run(argc, argv, false);
}

/* tierd attach N [...] / tierd detach N: `--vm N [...]` for the daemon only. */
int cmd_attach(int argc, char **argv)
{
	bool det = !strcmp(argv[0], "detach");
	char *av[64];
	int ac = 0;

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
			return usage(stdout), 0;
		return err("usage: tierd %s VMID%s", argv[0], det ? "" : " [--incoming] [policy options]"), 2;
	}
	if (argc + 3 > 64)
		return err("too many arguments"), 2;
	av[ac++] = argv[0];
	av[ac++] = "--vm";
	av[ac++] = argv[1];
	if (det)
		av[ac++] = "--detach";
	for (int i = 2; i < argc; i++)
		av[ac++] = argv[i];
	av[ac] = NULL;
	return run(ac, av, true);
}

/* tierd config [--config FILE]: check the files, print what they say. */
int cmd_config(int argc, char **argv)
{
	const char *path = NULL;
	char why[600];
	struct config c;

	if (argc == 3 && !strcmp(argv[1], "--config"))
		path = argv[2];
	else if (argc != 1)
		return err("usage: tierd config [--config FILE]"), 2;
	config_init(&c);
	if (config_load(&c, path ? path : c.path, path != NULL, why, sizeof(why)))
		return err("%s", why), 1;
	printf("host settings: %s%s\n", c.path, access(c.path, F_OK) ? " (absent: built-in defaults)" : "");
	config_print_host(stdout, &c);
	printf("VM policies: %s%s, %d section(s)\n", c.policies, access(c.policies, F_OK) ? " (absent)" : "", c.nvm);
	for (int i = 0; i <= c.nvm; i++) {
		long id = i < c.nvm ? c.vm[i].vmid : 0;
		struct policy p;

		if (i == c.nvm) {		/* what a VM with no section gets */
			if (config_policy(&c, 100, NULL, &p, why, sizeof(why)))
				break;
			printf("  (default):");
		} else {
			if (config_policy(&c, id, NULL, &p, why, sizeof(why))) {
				printf("  vm %ld: %s\n", id, why);
				continue;
			}
			printf("  vm %ld (line %d):", id, c.vm[i].line);
		}
		policy_print(stdout, &p);
		putchar('\n');
	}
	config_free(&c);
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

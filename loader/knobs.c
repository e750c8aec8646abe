// SPDX-License-Identifier: GPL-2.0-only
/* The knob journal: see knobs.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "knobs.h"
#include "log.h"
#include "sdunit.h"
#include "util.h"

#define MAX_KNOBS 1024

static struct knob {
	char *path, *old;
} knobs[MAX_KNOBS];
static int nknobs;
static char journal[256];

/* A knob of a unit systemd manages goes through systemd, which would
 * otherwise put its own value back; anything else is written directly. */
static int knob_write(const char *path, const char *value)
{
	int e = sdunit_set_cgroup(path, value);

	return e == -EOPNOTSUPP ? write_file(path, value) : e;
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = 0;
}

/* Rewrite the journal: "pid N" then one "path<TAB>old" per knob. */
static int save(void)
{
	char tmp[300];
	FILE *f;

	if (!*journal)
		return 0;
	if (!nknobs) {
		unlink(journal);
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", journal);
	if (!(f = fopen(tmp, "w")))
		return -errno;
	fprintf(f, "pid %d\n", getpid());
	for (int i = 0; i < nknobs; i++)
		fprintf(f, "%s\t%s\n", knobs[i].path, knobs[i].old);
	if (fflush(f) || fsync(fileno(f))) {
		fclose(f);
		return -errno;
	}
	fclose(f);
	return rename(tmp, journal) ? -errno : 0;
}

/*
 * A journal line is put back only if tierd could have written it: a knob
 * tierd sets (the NUMA-balancing sysctls and debugfs knobs, and a cgroup
 * file in qemu.slice), a value of the form those knobs take (a number or
 * "max"), and a complete line. The journal sits in root's /run/tierd, but
 * a truncated or corrupt one must not make tierd write elsewhere.
 */
static const char *const knob_prefixes[] = {
	"/proc/sys/kernel/numa_balancing",		/* and _promote_rate_limit_MBps */
	"/sys/kernel/debug/sched/numa_balancing/",
};
static const char *const cgroup_knobs[] = { "memory.low", "memory.min", "memory.swap.max" };

static bool value_ok(const char *v)
{
	size_t n = strlen(v);

	if (!n || n > 24)
		return false;
	if (!strcmp(v, "max"))
		return true;
	return strspn(v, "0123456789") == n;
}

bool knob_restorable(const char *path, const char *value)
{
	const char *cg = cgroup2_mount(), *leaf;
	size_t cl;

	if (!value_ok(value) || path[0] != '/' || strstr(path, "/.") || strpbrk(path, " \t\n"))
		return false;
	for (size_t i = 0; i < sizeof(knob_prefixes) / sizeof(*knob_prefixes); i++)
		if (!strncmp(path, knob_prefixes[i], strlen(knob_prefixes[i])))
			return true;
	if (!cg || strncmp(path, cg, (cl = strlen(cg))) || strncmp(path + cl, "/qemu.slice", 11) ||
	    (path[cl + 11] != '/' && path[cl + 11]))
		return false;
	leaf = strrchr(path, '/') + 1;
	for (size_t i = 0; i < sizeof(cgroup_knobs) / sizeof(*cgroup_knobs); i++)
		if (!strcmp(leaf, cgroup_knobs[i]))
			return true;
	return false;
}

int knobs_open(const char *path)
{
	char line[1024], dir[256], *slash;
	FILE *f;
	int pid = 0, n = 0;

	snprintf(journal, sizeof(journal), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = 0;
		mkdir(dir, 0700);
	}
	if (!(f = fopen(journal, "r")))
		return errno == ENOENT ? 0 : -errno;
	if (!fgets(line, sizeof(line), f) || sscanf(line, "pid %d", &pid) != 1)
		warn("%s: no 'pid N' first line (truncated or not tierd's): restoring only the lines tierd could have written",
		     journal);
	else if (pid != getpid() && pid > 0 && !kill(pid, 0)) {
		char comm[64], p[64];

		snprintf(p, sizeof(p), "/proc/%d/comm", pid);
		if (read_file(p, comm, sizeof(comm)) > 0 && !strncmp(comm, "tierd", 5)) {
			fclose(f);
			err("another tierd (pid %d) holds %s", pid, journal);
			return -EBUSY;
		}
	}
	for (int ln = 2; fgets(line, sizeof(line), f); ln++) {
		size_t len = strlen(line);
		char *tab = strchr(line, '\t');

		if (!len || line[len - 1] != '\n') {
			int c;

			if (feof(f)) {
				warn("%s:%d: a line cut short (the journal was truncated): not restored", journal, ln);
				break;
			}
			warn("%s:%d: longer than any line tierd writes: ignored", journal, ln);
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (!tab) {
			warn("%s:%d: not a 'path<TAB>value' line: ignored", journal, ln);
			continue;
		}
		*tab = 0;
		chomp(tab + 1);
		if (!knob_restorable(line, tab + 1)) {
			warn("%s:%d: '%.200s' = '%.40s' is not a knob tierd sets: not restored", journal, ln, line, tab + 1);
			continue;
		}
		if (!knob_write(line, tab + 1)) {
			warn("restored %s to '%s' (left by a tierd that did not exit cleanly)", line, tab + 1);
			n++;
		} else {
			warn("%s:%d: could not restore %s to '%s'", journal, ln, line, tab + 1);
		}
	}
	fclose(f);
	unlink(journal);
	return n;
}

const char *knob_old(const char *path)
{
	for (int i = 0; i < nknobs; i++)
		if (!strcmp(knobs[i].path, path))
			return knobs[i].old;
	return NULL;
}

int knob_set(const char *path, const char *value)
{
	char cur[256];
	long r;
	int e;

	if (!knob_old(path)) {
		if (nknobs == MAX_KNOBS)
			return -ENOSPC;
		if ((r = read_file(path, cur, sizeof(cur))) < 0)
			return (int)r;
		chomp(cur);
		knobs[nknobs].path = strdup(path);
		knobs[nknobs].old = strdup(cur);
		if (!knobs[nknobs].path || !knobs[nknobs].old)
			return -ENOMEM;
		nknobs++;
		if ((e = save())) {	/* never change what we could not record */
			nknobs--;
			free(knobs[nknobs].path);
			free(knobs[nknobs].old);
			return e;
		}
		info("knob %s: was '%s', now '%s'", path, cur, value);
	}
	return knob_write(path, value);
}

/* Put back the knobs whose path is `path` (exact) or lies under it (dir). */
static void restore_matching(const char *path, bool dir)
{
	size_t pl = strlen(path);

	for (int i = 0; i < nknobs;) {
		if (dir ? strncmp(knobs[i].path, path, pl) : strcmp(knobs[i].path, path)) {
			i++;
			continue;
		}
		int e = knob_write(knobs[i].path, knobs[i].old);
		if (e && e != -ENOENT)
			warn("could not restore %s to '%s': %s", knobs[i].path, knobs[i].old, strerror(-e));
		else if (!e)
			info("knob %s: restored '%s'", knobs[i].path, knobs[i].old);
		free(knobs[i].path);
		free(knobs[i].old);
		knobs[i] = knobs[--nknobs];
	}
	save();
}

void knob_restore(const char *path)
{
	restore_matching(path, false);
}

void knob_restore_dir(const char *dir)
{
	restore_matching(dir, true);
}

void knobs_restore_all(void)
{
	/* last set, first restored */
	while (nknobs)
		knob_restore(knobs[nknobs - 1].path);
}

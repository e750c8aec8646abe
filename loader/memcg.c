// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel's per-cgroup levers and counters that only some kernels have,
 * each found by probing the interface itself (a line in a file, an argument
 * a file takes), never by a kernel version number.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "memcg.h"
#include "util.h"

int memcg_tier_read(const char *scope_dir, struct memcg_tier *t)
{
	static char buf[1 << 16];
	char path[600], *line, *save;
	long n;

	memset(t, 0, sizeof(*t));
	snprintf(path, sizeof(path), "%s/memory.numa_stat", scope_dir);
	if ((n = read_file(path, buf, sizeof(buf))) < 0)
		return (int)n;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t *into;
		char *tok, *s2;

		if (!strncmp(line, "pgdemote_", 9))
			into = t->demoted;
		else if (!strncmp(line, "pgpromote_success ", 18))
			into = t->promoted;
		else
			continue;
		t->have = true;
		strtok_r(line, " ", &s2);
		/* "N0=12 N1=0" */
		while ((tok = strtok_r(NULL, " ", &s2))) {
			unsigned long node;
			char *eq;

			if (tok[0] != 'N' || !(eq = strchr(tok, '=')))
				continue;
			node = strtoul(tok + 1, NULL, 10);
			if (node < MEMCG_NODES)
				into[node] += strtoull(eq + 1, NULL, 10);
		}
	}
	for (int i = 0; i < MEMCG_NODES; i++) {
		t->demoted_total += t->demoted[i];
		t->promoted_total += t->promoted[i];
	}
	return 0;
}

int memcg_reclaim(const char *scope_dir, uint64_t bytes, const char **used)
{
	/* what this kernel's memory.reclaim takes: probed on first use */
	static const char *const args[] = { " swappiness=200", "" };
	static int first = 0;
	char path[600], buf[64];
	int rc = -EINVAL;

	snprintf(path, sizeof(path), "%s/memory.reclaim", scope_dir);
	for (int i = first; i < 2; i++) {
		snprintf(buf, sizeof(buf), "%llu%s", (unsigned long long)bytes, args[i]);
		rc = write_file(path, buf);
		if (rc == -EINVAL && i < 1)
			continue;	/* this argument is not known here: the next */
		first = i;
		*used = args[i][0] ? args[i] + 1 : "";
		return rc;
	}
	*used = "";
	return rc;
}

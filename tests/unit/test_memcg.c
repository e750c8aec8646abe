// SPDX-License-Identifier: GPL-2.0-only
/*
 * memory.numa_stat parsing against fake scopes: one as 6.12+ writes it
 * (pgdemote_* and pgpromote_success per node), one as 6.1 does (none).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "memcg.h"
#include "check.h"

static void put(const char *dir, const char *name, const char *text)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w"))) {
		fputs(text, f);
		fclose(f);
	}
}

int main(void)
{
	char dir[] = "/tmp/tierd-memcg.XXXXXX", cmd[300];
	struct memcg_tier t;

	if (!mkdtemp(dir))
		return 1;
	/* 6.12 */
	put(dir, "memory.numa_stat",
	    "anon N0=1048576 N1=0\nfile N0=4096 N1=0\n"
	    "pgpromote_success N0=7 N1=0\n"
	    "pgdemote_kswapd N0=100 N1=0\npgdemote_direct N0=20 N1=1\n"
	    "pgdemote_khugepaged N0=0 N1=0\npgdemote_proactive N0=3 N1=0\n"
	    "numa_pages_migrated N0=9 N1=2\n");
	CHECK(!memcg_tier_read(dir, &t), "read 6.12");
	CHECK(t.have, "6.12 has the counters");
	CHECK(t.demoted[0] == 123 && t.demoted[1] == 1 && t.demoted_total == 124,
	      "demoted %llu %llu total %llu", (unsigned long long)t.demoted[0],
	      (unsigned long long)t.demoted[1], (unsigned long long)t.demoted_total);
	CHECK(t.promoted[0] == 7 && t.promoted_total == 7, "promoted %llu", (unsigned long long)t.promoted_total);
	/* 6.1 */
	put(dir, "memory.numa_stat", "anon N0=1048576 N1=0\nfile N0=4096 N1=0\nworkingset_refault_anon N0=0 N1=0\n");
	CHECK(!memcg_tier_read(dir, &t) && !t.have && !t.demoted_total, "6.1 has none");
	/* no file: cgroup gone */
	snprintf(cmd, sizeof(cmd), "%s/memory.numa_stat", dir);
	unlink(cmd);
	CHECK(memcg_tier_read(dir, &t) < 0 && !t.have, "missing file");
	rmdir(dir);
	printf("%d checks passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

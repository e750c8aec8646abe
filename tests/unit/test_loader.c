// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the loader's pure parts: option parsers, the latency
 * histogram, and VM resolution against a fake /proc, run folder and cgroup
 * tree (no root, no kernel features needed).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "samplers.h"
#include "util.h"
#include "vm.h"
#include "check.h"

static void test_parse(void)
{
	uint64_t v;
	long id;

	CHECK(!parse_size("512M", &v) && v == 512ULL << 20, "512M");
	CHECK(!parse_size("2g", &v) && v == 2ULL << 30, "2g");
	CHECK(!parse_size("4096", &v) && v == 4096, "4096");
	CHECK(!parse_size("1T", &v) && v == 1ULL << 40, "1T");
	CHECK(parse_size("", &v), "empty");
	CHECK(parse_size("M", &v), "unit only");
	CHECK(parse_size("-1G", &v), "negative");
	CHECK(parse_size("1.5G", &v), "fraction");
	CHECK(parse_size("12Q", &v), "bad unit");
	CHECK(parse_size("99999999999999999999", &v), "overflow");
	CHECK(parse_size("20000000000T", &v), "overflow with unit");
	CHECK(parse_size("1 G", &v), "space");
	CHECK(!parse_vmid("101", &id) && id == 101, "101");
	CHECK(parse_vmid("99", &id), "below 100");
	CHECK(parse_vmid("1000000000", &id), "above Proxmox's range");
	CHECK(parse_vmid("10a", &id), "trailing garbage");
	CHECK(parse_vmid("-101", &id), "negative");
	CHECK(parse_vmid("", &id), "empty");
	CHECK(parse_uint("+5", 10, &v), "sign");
	/* strtoull skips blanks, then takes a sign: " -5" would be 2^64 - 5 */
	CHECK(parse_size(" 1", &v), "a leading blank");
	CHECK(parse_size(" -5", &v), "a blank, then a sign");
	CHECK(parse_size("\t-1G", &v), "a tab, then a sign");
	CHECK(parse_uint(" 5", 10, &v), "a leading blank");
	CHECK(parse_uint("\t-5", UINT64_MAX, &v), "a tab, then a sign");
	CHECK(parse_uint("\n5", 10, &v), "a leading newline");
}

static void test_hist(void)
{
	uint64_t h[TIERD_HIST_SLOTS] = {0};

	/* every value lands in the slot whose range holds it */
	for (uint64_t v = 0; v < (1ULL << 40); v = v * 3 / 2 + 1) {
		uint32_t s = tierd_hist_slot(v);
		CHECK(s < TIERD_HIST_SLOTS, "slot of %llu", (unsigned long long)v);
		if (v < (1ULL << 36) && s + 1 < TIERD_HIST_SLOTS)
			CHECK(tierd_hist_low(s) <= v && v < tierd_hist_low(s + 1),
			      "%llu in [%llu, %llu)", (unsigned long long)v,
			      (unsigned long long)tierd_hist_low(s), (unsigned long long)tierd_hist_low(s + 1));
	}
	/* slots are at most 1/8 of their value wide */
	for (uint32_t s = 24; s + 1 < TIERD_HIST_SLOTS; s++)
		CHECK(tierd_hist_low(s + 1) - tierd_hist_low(s) <= tierd_hist_low(s) / 8,
		      "slot %u width", s);
	/* 1000 values spread evenly over 100..199 us: p50 ~ 150 us */
	for (int i = 0; i < 1000; i++)
		h[tierd_hist_slot(100000 + i * 100)]++;
	double p50 = hist_percentile(h, TIERD_HIST_SLOTS, 0.5);
	CHECK(fabs(p50 - 150000) < 150000 * 0.05, "p50 %.0f", p50);
	double p99 = hist_percentile(h, TIERD_HIST_SLOTS, 0.99);
	CHECK(fabs(p99 - 199000) < 199000 * 0.05, "p99 %.0f", p99);
	memset(h, 0, sizeof(h));
	CHECK(hist_percentile(h, TIERD_HIST_SLOTS, 0.5) == 0, "empty histogram");
}

static char root[256];

static int resolve(long vmid, char *why)
{
	struct host_paths hp = {0};
	char proc[300], run[300], cg[300];
	struct vm vm;

	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(run, sizeof(run), "%s/run", root);
	snprintf(cg, sizeof(cg), "%s/cgroup", root);
	hp.proc = proc; hp.run = run; hp.cgroup = cg;
	return vm_resolve(&hp, vmid, &vm, why, 512);
}

static void test_vm_resolve(void)
{
	static const char kvm[] = "/usr/bin/kvm\0-id\0" "101\0-name\0vm101\0";
	static const char other[] = "/usr/bin/kvm\0-id\0" "102\0";
	char why[512], path[300];
	struct host_paths hp = {0};
	long ids[8];

	snprintf(root, sizeof(root), "/tmp/tierd-unit.XXXXXX");
	if (!mkdtemp(root))
		abort();
	snprintf(path, sizeof(path), "%s/cgroup/qemu.slice/101.scope", root);
	put_file(root, "cgroup/qemu.slice/101.scope/cgroup.procs", "", 0);

	CHECK(resolve(101, why) == -EINVAL && strstr(why, "not running"), "no pid file: %s", why);
	put_file(root, "run/101.pid", "abc\n", 4);
	CHECK(resolve(101, why) && strstr(why, "does not hold a pid"), "garbage pid: %s", why);
	put_file(root, "run/101.pid", "4242\n", 5);
	CHECK(resolve(101, why) && strstr(why, "is gone"), "vanished pid: %s", why);
	put_file(root, "proc/4242/cgroup", "0::/system.slice/ssh.service\n", 29);
	put_file(root, "proc/4242/cmdline", kvm, sizeof(kvm));
	CHECK(resolve(101, why) && strstr(why, "not this VM's QEMU"), "wrong cgroup: %s", why);
	put_file(root, "proc/4242/cgroup", "0::/qemu.slice/101.scope\n", 25);
	put_file(root, "proc/4242/cmdline", other, sizeof(other));
	CHECK(resolve(101, why) && strstr(why, "-id 101"), "wrong -id: %s", why);
	put_file(root, "proc/4242/cmdline", kvm, sizeof(kvm));
	CHECK(resolve(101, why) == 0, "a good VM: %s", why);

	/* guest RAM from the memory map: the big rw anon mapping, not libc's */
	{
		static const char maps[] =
		    "55d0c0000000-55d0c0100000 r-xp 00000000 08:01 1234 /usr/bin/kvm\n"
		    "7f0000000000-7f0040000000 rw-p 00000000 00:00 0 \n"
		    "7f0040000000-7f0040400000 rw-p 00000000 00:00 0 \n"
		    "7f1000000000-7f1010000000 rw-s 00000000 00:01 77 /memfd:pc.ram (deleted)\n"
		    "7f2000000000-7f2000100000 r--p 00000000 08:01 99 /usr/lib/libc.so.6\n";
		put_file(root, "proc/4242/maps", maps, sizeof(maps) - 1);
	}
	{
		struct vm vm = {0};
		snprintf(path, sizeof(path), "%s/proc", root);
		hp.proc = path; hp.run = "/nonexistent"; hp.cgroup = "/nonexistent";
		vm.pid = 4242; vm.vmid = 101;
		CHECK(!vm_find_ram(&hp, &vm, 64 << 20, why, sizeof(why)), "find ram: %s", why);
		CHECK(vm.nr_ranges == 2, "%d ranges", vm.nr_ranges);
		CHECK(vm.ram[0].start == 0x7f0000000000ULL && !strcmp(vm.ram[0].what, "anon"), "largest first");
		CHECK(!strncmp(vm.ram[1].what, "memfd:", 6), "memfd: %s", vm.ram[1].what);
		CHECK(vm.ram_bytes == (1ULL << 30) + (256ULL << 20), "bytes %llu", (unsigned long long)vm.ram_bytes);
		vm_free(&vm);
		CHECK(vm_find_ram(&hp, &vm, 2ULL << 30, why, sizeof(why)) && strstr(why, "no guest RAM"), "%s", why);
		/* a line whose end is below its start (found by tests/fuzz/maps) is not RAM */
		static const char bad[] = "8f0000000000-7f4000000000 rw-p 00000000 00:00 0 \n";
		put_file(root, "proc/4242/maps", bad, sizeof(bad) - 1);
		CHECK(vm_find_ram(&hp, &vm, 64 << 20, why, sizeof(why)) && vm.nr_ranges == 0,
		      "an inverted range taken as %llu bytes of RAM", (unsigned long long)vm.ram_bytes);
	}
	snprintf(path, sizeof(path), "%s/run", root);
	put_file(root, "run/notavm.pid", "1\n", 2);
	put_file(root, "run/99.pid", "1\n", 2);
	put_file(root, "run/100.pid", "1\n", 2);
	hp.run = path;
	CHECK(vm_list(&hp, ids, 8) == 2 && ids[0] == 100 && ids[1] == 101, "vm_list");

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		printf("# could not remove %s\n", root);
}

/* fast_nodes (tools/vm-standin and guest-truth's DRAM nodes): the lowest
 * memory tier holding a node, whatever order readdir gives; else the nodes
 * with CPUs; and parse_nodelist under it. */
static void test_fast_nodes(void)
{
	uint64_t m;
	char cmd[300];

	CHECK(!parse_nodelist("0,2-3\n", &m) && m == 0xd, "parse_nodelist 0,2-3: %llx", (unsigned long long)m);
	CHECK(parse_nodelist("3-1", &m) && parse_nodelist("64", &m) && parse_nodelist("", &m) &&
	      parse_nodelist("1,x", &m), "bad node lists refused");
	snprintf(root, sizeof(root), "/tmp/tierd-unit.XXXXXX");
	if (!mkdtemp(root))
		abort();
	put_file(root, "sys/devices/system/node/node0/cpulist", "0-1\n", 4);
	put_file(root, "sys/devices/system/node/node1/cpulist", "\n", 1);
	put_file(root, "sys/devices/system/node/node2/cpulist", "2\n", 2);
	CHECK(fast_nodes(root) == 0x5, "no tiers: the nodes with CPUs, got %llx", (unsigned long long)fast_nodes(root));
	put_file(root, "sys/devices/virtual/memory_tiering/memory_tier22/nodelist", "1\n", 2);
	put_file(root, "sys/devices/virtual/memory_tiering/memory_tier4/nodelist", "0\n", 2);
	put_file(root, "sys/devices/virtual/memory_tiering/memory_tier3/nodelist", "\n", 1);	/* empty */
	put_file(root, "sys/devices/virtual/memory_tiering/memory_tier40/nodelist", "3\n", 2);
	CHECK(fast_nodes(root) == 0x1, "tiers 4 (0), 22 (1), 40 (3): got %llx", (unsigned long long)fast_nodes(root));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		printf("# could not remove %s\n", root);
}

int main(void)
{
	test_parse();
	test_hist();
	test_vm_resolve();
	test_fast_nodes();
	printf("%d checks passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

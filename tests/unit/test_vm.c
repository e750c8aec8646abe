// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest RAM as QEMU lays it out, against a fake /proc, run folder, cgroup
 * tree and /etc/pve/qemu-server (no root): each layout's maps as QEMU 7.2
 * writes them (read from a real one here), with the mappings that are not
 * guest RAM beside them (QXL vram, the 1 GiB rwxp TCG code buffer, the
 * TCG split-wx memfd, heap, libraries). ram_bytes must be the configured
 * memory exactly. Also: identity by -id and -pidfile, VFIO refused, totals
 * that disagree with the config refused, DIMMs hot-added through a fake
 * QMP socket, the BPF side's folded ranges.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util.h"
#include "vm.h"
#include "check.h"

#define MiB (1ULL << 20)

static char root[256], run[300], proc[300], cg[300], conf[300];
static struct host_paths hp;

static void puts0(const char *rel, const char *s)
{
	put_file(root, rel, s, strlen(s));
}

/* A command line from space-separated words (no word has a space). */
static void cmdline(const char *words)
{
	char buf[4096];
	size_t n = strlen(words);

	snprintf(buf, sizeof(buf), "%s", words);
	for (size_t i = 0; i < n; i++)
		if (buf[i] == ' ')
			buf[i] = 0;
	put_file(root, "proc/4242/cmdline", buf, n + 1);
}

/* What QEMU maps beside guest RAM: binary, heap, QXL's two 64 MiB vram
 * blocks, the 1 GiB rwxp TCG code buffer, glibc arenas, libc. */
static const char other_maps[] =
	"55eddebf3000-55eddeffa000 r--p 00000000 fe:00 10977315 /usr/bin/qemu-system-x86_64\n"
	"55eddeffa000-55eddf591000 r-xp 00407000 fe:00 10977315 /usr/bin/qemu-system-x86_64\n"
	"55eddf9d7000-55eddfd80000 rw-p 00de3000 fe:00 10977315 /usr/bin/qemu-system-x86_64\n"
	"55ee07009000-55ee0856d000 rw-p 00000000 00:00 0 [heap]\n"
	"7f74d7c00000-7f74dbc00000 rw-p 00000000 00:00 0 \n"
	"7f74dbc00000-7f74dbc01000 ---p 00000000 00:00 0 \n"
	"7f74dbe00000-7f74dfe00000 rw-p 00000000 00:00 0 \n"
	"7f74dfe00000-7f74dfe01000 ---p 00000000 00:00 0 \n"
	"7f74e0021000-7f74e4000000 ---p 00000000 00:00 0 \n"
	"7f7550000000-7f758ffff000 rwxp 00000000 00:00 0 \n"
	"7f7590000000-7f7590021000 rw-p 00000000 00:00 0 \n"
	"7f75977fa000-7f7597950000 r-xp 00026000 fe:00 332835 /usr/lib/x86_64-linux-gnu/libc.so.6\n";

/* maps: `ram` lines (guest RAM) and the rest */
static void maps(const char *ram)
{
	char buf[16384];

	snprintf(buf, sizeof(buf), "%s%s", ram, other_maps);
	puts0("proc/4242/maps", buf);
}

static void config(const char *text)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/101.conf", conf);
	if (!text) {
		unlink(path);
		return;
	}
	puts0("pve/qemu-server/101.conf", text);
}

/* resolve and find RAM; 0 or -errno, why filled */
static int find(struct vm *vm, char *why)
{
	int r = vm_resolve(&hp, 101, vm, why, 512);

	return r ? r : vm_find_ram(&hp, vm, 64 * MiB, why, 512);
}

static void test_identity(void)
{
	char why[512], words[1024];
	struct vm vm;

	maps("7f74efa00000-7f7517a00000 rw-p 00000000 00:00 0 \n");
	config(NULL);
	snprintf(words, sizeof(words), "/usr/bin/qemu-system-x86_64 -pidfile %s/101.pid -m 640", run);
	cmdline(words);
	CHECK(vm_resolve(&hp, 101, &vm, why, sizeof(why)) == 0, "-pidfile only: %s", why);
	snprintf(words, sizeof(words), "/usr/bin/kvm -id 101 -name x --pidfile %s/101.pid -m 640", run);
	cmdline(words);
	CHECK(vm_resolve(&hp, 101, &vm, why, sizeof(why)) == 0, "-id and --pidfile agree: %s", why);
	snprintf(words, sizeof(words), "/usr/bin/kvm -id 101 -pidfile %s/102.pid -m 640", run);
	cmdline(words);
	CHECK(vm_resolve(&hp, 101, &vm, why, sizeof(why)) && strstr(why, "VM 102's pid file") && strstr(why, "disagree"),
	      "-id 101, -pidfile 102: %s", why);
	snprintf(words, sizeof(words), "/usr/bin/qemu-system-x86_64 -pidfile %s/102.pid -m 640", run);
	cmdline(words);
	CHECK(vm_resolve(&hp, 101, &vm, why, sizeof(why)) && strstr(why, "VM 102's pid file"), "-pidfile 102: %s", why);
	cmdline("/usr/bin/qemu-system-x86_64 -pidfile /tmp/101.pid -m 640");
	CHECK(vm_resolve(&hp, 101, &vm, why, sizeof(why)) && strstr(why, "outside the run folder"), "elsewhere: %s", why);
	cmdline("/usr/bin/qemu-system-x86_64 -pidfile 101.pid -m 640");
	CHECK(vm_resolve(&hp, 101, &vm, why, sizeof(why)) && strstr(why, "not an absolute path"), "relative: %s", why);
	cmdline("/usr/bin/qemu-system-x86_64 -m 640");
	CHECK(vm_resolve(&hp, 101, &vm, why, sizeof(why)) && strstr(why, "neither '-id 101' nor '-pidfile"),
	      "neither: %s", why);
	cmdline("/usr/bin/kvm -id 102 -m 640");
	CHECK(vm_resolve(&hp, 101, &vm, why, sizeof(why)) && strstr(why, "'-id 102'"), "-id 102: %s", why);
	/* the run folder through a link (/var/run -> /run) */
	char link[400];
	snprintf(link, sizeof(link), "%s/varrun", root);
	CHECK(!symlink(run, link), "symlink");
	snprintf(words, sizeof(words), "/usr/bin/qemu-system-x86_64 -pidfile %s/101.pid -m 640", link);
	cmdline(words);
	CHECK(vm_resolve(&hp, 101, &vm, why, sizeof(why)) == 0, "through a link: %s", why);
}

struct layout {
	const char *name, *args, *ram_maps, *conf;
	uint64_t bytes;
	int ranges;
	uint64_t page_size;	/* of the first range */
	uint32_t flags;		/* of the first range */
};

static void test_layouts(void)
{
	static const struct layout L[] = {
		{ "plain -m 640, QXL, TCG", "-m 640 -accel tcg -vga qxl",
		  "7f74efa00000-7f7517a00000 rw-p 00000000 00:00 0 \n", "memory: 640\n", 640 * MiB, 1, 4096, 0 },
		{ "plain, PVE 8 property string", "-m 2048 -vga qxl",
		  "7f74efa00000-7f756fa00000 rw-p 00000000 00:00 0 \n", "memory: current=2048\nballoon: 1024\n", 2048 * MiB, 1, 4096, 0 },
		{ "numa, 2 nodes", "-m 2048 -object memory-backend-ram,id=ram-node0,size=1024M "
		  "-numa node,nodeid=0,cpus=0,memdev=ram-node0 -object memory-backend-ram,id=ram-node1,size=1024M "
		  "-numa node,nodeid=1,cpus=1,memdev=ram-node1 -vga qxl",
		  "7f74efa00000-7f752fa00000 rw-p 00000000 00:00 0 \n"
		  "7f752fc00000-7f756fc00000 rw-p 00000000 00:00 0 \n", "numa: 1\nmemory: 2048\n", 2048 * MiB, 2, 4096, 0 },
		{ "hugepages 2 MiB", "-m 1024 -object memory-backend-file,id=ram-node0,size=1024M,"
		  "mem-path=/run/hugepages/kvm/2048kB,share=on,prealloc=yes -numa node,nodeid=0,cpus=0,memdev=ram-node0 -vga qxl",
		  "7f74efa00000-7f752fa00000 rw-s 00000000 00:2f 123 /run/hugepages/kvm/2048kB/qemu_back_mem.ram-node0.AbC123 (deleted)\n",
		  "numa: 1\nhugepages: 2\nmemory: 1024\n", 1024 * MiB, 1, 2 * MiB, RANGE_HUGETLB | RANGE_SHARED },
		{ "memfd (virtiofs), TCG split-wx memfd beside it", "-m 1024 -object memory-backend-memfd,id=ram-node0,size=1024M,share=on "
		  "-numa node,nodeid=0,memdev=ram-node0",
		  "7f74efa00000-7f752fa00000 rw-s 00000000 00:01 77 /memfd:memory-backend-memfd (deleted)\n"
		  "7f7630000000-7f7670000000 rw-s 00000000 00:01 78 /memfd:tcg-jit (deleted)\n",
		  "memory: 1024\nvirtiofs0: share\n", 1024 * MiB, 1, 4096, RANGE_SHARED },
		{ "-machine memory-backend", "-machine type=pc,memory-backend=pc.ram -m 1G "
		  "-object memory-backend-ram,id=pc.ram,size=1G",
		  "7f74efa00000-7f752fa00000 rw-p 00000000 00:00 0 \n", "memory: 1024\n", 1024 * MiB, 1, 4096, 0 },
		{ "64 MiB VM beside QXL's 64 MiB vram (highest address)", "-m 64 -vga qxl",
		  "7f76efa00000-7f76f3a00000 rw-p 00000000 00:00 0 \n", "memory: 64\n", 64 * MiB, 1, 4096, 0 },
	};
	char why[512], words[2048];

	for (size_t i = 0; i < sizeof(L) / sizeof(L[0]); i++) {
		struct vm vm;
		int r;

		snprintf(words, sizeof(words), "/usr/bin/qemu-system-x86_64 -pidfile %s/101.pid %s", run, L[i].args);
		cmdline(words);
		maps(L[i].ram_maps);
		config(L[i].conf);
		r = find(&vm, why);
		CHECK(r == 0, "%s: %s", L[i].name, why);
		if (r)
			continue;
		CHECK(vm.ram_bytes == L[i].bytes, "%s: ram_bytes %llu, configured %llu", L[i].name,
		      (unsigned long long)vm.ram_bytes, (unsigned long long)L[i].bytes);
		CHECK(vm.conf_bytes == L[i].bytes, "%s: config %llu", L[i].name, (unsigned long long)vm.conf_bytes);
		CHECK(vm.nr_ranges == L[i].ranges, "%s: %d ranges", L[i].name, vm.nr_ranges);
		CHECK(vm.ram[0].page_size == L[i].page_size && vm.ram[0].flags == L[i].flags, "%s: page size %llu flags %u (%s)",
		      L[i].name, (unsigned long long)vm.ram[0].page_size, vm.ram[0].flags, vm.ram[0].what);
		for (int k = 0; k < vm.nr_ranges; k++)
			CHECK(vm.ram[k].start != 0x7f7550000000ULL && vm.ram[k].start != 0x7f74d7c00000ULL &&
			      vm.ram[k].start != 0x7f74dbe00000ULL && vm.ram[k].start != 0x7f7630000000ULL,
			      "%s: took %#llx (TCG buffer or vram)", L[i].name, (unsigned long long)vm.ram[k].start);
		if (strstr(L[i].name, "highest"))
			CHECK(strstr(vm.note, "highest-addressed"), "%s: note '%s'", L[i].name, vm.note);
		vm_free(&vm);
	}
}

/* the hugetlbfs page size from the process's mounts, not the path */
static void test_hugetlb_mounts(void)
{
	char why[512], words[1024];
	struct vm vm;

	snprintf(words, sizeof(words), "/usr/bin/qemu-system-x86_64 -pidfile %s/101.pid -m 2048 "
		 "-object memory-backend-file,id=ram-node0,size=2G,mem-path=/mnt/huge1g,share=on "
		 "-numa node,nodeid=0,memdev=ram-node0", run);
	cmdline(words);
	maps("7f4000000000-7f4080000000 rw-s 00000000 00:30 9 /mnt/huge1g/qemu_back_mem.ram-node0.Zz9 (deleted)\n");
	puts0("proc/4242/mounts", "tmpfs /run tmpfs rw 0 0\nhugetlbfs /mnt/huge1g hugetlbfs rw,relatime,pagesize=1024M 0 0\n");
	config("memory: 2048\n");
	CHECK(find(&vm, why) == 0, "1 GiB pages: %s", why);
	CHECK(vm.ram_bytes == 2048 * MiB && vm.ram[0].page_size == 1024 * MiB && (vm.ram[0].flags & RANGE_HUGETLB),
	      "1 GiB pages: %llu bytes, page size %llu", (unsigned long long)vm.ram_bytes,
	      (unsigned long long)vm.ram[0].page_size);
	vm_free(&vm);
	/* on a tmpfs it is a plain shared file */
	puts0("proc/4242/mounts", "tmpfs /mnt/huge1g tmpfs rw 0 0\n");
	CHECK(find(&vm, why) == 0 && !(vm.ram[0].flags & RANGE_HUGETLB) && vm.ram[0].page_size == 4096,
	      "tmpfs file: %s %s", why, vm.nr_ranges ? vm.ram[0].what : "");
	vm_free(&vm);
	char p[400];
	snprintf(p, sizeof(p), "%s/proc/4242/mounts", root);
	unlink(p);
}

static void test_refused(void)
{
	char why[512], words[1024];
	struct vm vm;

	snprintf(words, sizeof(words), "/usr/bin/qemu-system-x86_64 -pidfile %s/101.pid -m 640 -accel tcg -vga qxl", run);
	cmdline(words);
	maps("7f74efa00000-7f7517a00000 rw-p 00000000 00:00 0 \n");
	config("memory: 1024\n");
	CHECK(find(&vm, why) == -EINVAL && strstr(why, "640.0 MiB") && strstr(why, "memory: 1024 MiB") &&
	      strstr(why, "671088640 bytes") && strstr(why, "1073741824 bytes"), "totals disagree: %s", why);
	config("cores: 2\n");	/* no memory: line: Proxmox's default 512 MiB */
	CHECK(find(&vm, why) == -EINVAL && strstr(why, "memory: 512 MiB"), "default 512: %s", why);
	config("memory: 640\n[snap1]\nmemory: 1024\n");
	CHECK(find(&vm, why) == 0, "a snapshot's memory is not the VM's: %s", why);
	vm_free(&vm);
	config("memory: 640\nhostpci0: 0000:01:00.0,pcie=1\n");
	CHECK(find(&vm, why) == -EINVAL && strstr(why, "PCI passthrough") && strstr(why, "hostpci0: 0000:01:00.0"),
	      "VFIO in the config: %s", why);
	config("memory: 640\n");
	char fd[400];
	snprintf(fd, sizeof(fd), "%s/proc/4242/fd", root);
	mkdir(fd, 0755);
	snprintf(fd, sizeof(fd), "%s/proc/4242/fd/27", root);
	CHECK(!symlink("/dev/vfio/12", fd), "fd link");
	CHECK(find(&vm, why) == -EINVAL && strstr(why, "/dev/vfio/12"), "VFIO fd: %s", why);
	unlink(fd);
	/* a backend with no mapping of its size: refused, not guessed */
	maps("7f74efa00000-7f7517800000 rw-p 00000000 00:00 0 \n");
	CHECK(find(&vm, why) == -EINVAL && strstr(why, "exactly 640.0 MiB"), "no mapping of its size: %s", why);
	/* the TCG buffer is never RAM, even when it has the size */
	maps("");
	config(NULL);
	snprintf(words, sizeof(words), "/usr/bin/qemu-system-x86_64 -pidfile %s/101.pid -m size=1048572K", run);
	cmdline(words);
	CHECK(find(&vm, why) == -EINVAL, "the rwxp buffer's size: %s", why);
}

/* A QMP server for one client: greeting, capabilities, query-memory-devices. */
static pid_t fake_qmp(const char *devices)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	snprintf(a.sun_path, sizeof(a.sun_path), "%.90s/101.qmp", run);
	unlink(a.sun_path);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1))
		abort();
	if ((pid = fork()))
		return close(s), pid;
	int c = accept(s, NULL, NULL);
	char buf[4096];
	ssize_t n;
	static const char hello[] = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}}, \"capabilities\": [\"oob\"]}}\r\n";

	if (c < 0 || write(c, hello, sizeof(hello) - 1) < 0)
		_exit(1);
	while ((n = read(c, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = 0;
		if (strstr(buf, "qmp_capabilities") && write(c, "{\"return\": {}}\r\n", 16) < 0)
			_exit(1);
		if (strstr(buf, "query-memory-devices")) {
			/* an event first, as QEMU may send one at any time */
			dprintf(c, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"ACPI_DEVICE_OST\"}\r\n");
			dprintf(c, "{\"return\": [%s]}\r\n", devices);
		}
	}
	_exit(0);
}

static void test_hotplug(void)
{
	char why[512], words[4096], ram[8192], devs[8192];
	size_t w, m = 0, d = 0;
	struct vm vm;
	uint64_t base = 0x7f0000000000ULL;
	int st;

	/* 1 GiB static + 8 DIMMs of 512 MiB, as qm starts `hotplug: memory`, `memory: 5120` */
	w = (size_t)snprintf(words, sizeof(words), "/usr/bin/kvm -id 101 -pidfile %s/101.pid -m size=1024,slots=255,maxmem=524288M "
			     "-object memory-backend-ram,id=ram-node0,size=1024M -numa node,nodeid=0,cpus=0-1,memdev=ram-node0", run);
	m += (size_t)snprintf(ram + m, sizeof(ram) - m, "%llx-%llx rw-p 00000000 00:00 0 \n",
			      (unsigned long long)base, (unsigned long long)(base + 1024 * MiB));
	for (int i = 0; i < 8; i++) {
		uint64_t s = base + (uint64_t)(i + 1) * 2048 * MiB;

		w += (size_t)snprintf(words + w, sizeof(words) - w, " -object memory-backend-ram,id=mem-dimm%d,size=512M "
				      "-device pc-dimm,id=dimm%d,memdev=mem-dimm%d,node=0", i, i, i);
		m += (size_t)snprintf(ram + m, sizeof(ram) - m, "%llx-%llx rw-p 00000000 00:00 0 \n%llx-%llx ---p 00000000 00:00 0 \n",
				      (unsigned long long)s, (unsigned long long)(s + 512 * MiB),
				      (unsigned long long)(s + 512 * MiB), (unsigned long long)(s + 512 * MiB + 4096));
		d += (size_t)snprintf(devs + d, sizeof(devs) - d, "%s{\"type\": \"dimm\", \"data\": {\"memdev\": \"/objects/mem-dimm%d\", "
				      "\"hotplugged\": false, \"addr\": %llu, \"hotpluggable\": true, \"size\": 536870912, \"slot\": %d, "
				      "\"node\": 0, \"id\": \"dimm%d\"}}", i ? ", " : "", i, (1ULL << 32) + i * 512 * MiB, i, i);
	}
	cmdline(words);
	maps(ram);
	config("hotplug: disk,network,usb,memory\nnuma: 1\nmemory: 5120\n");
	CHECK(find(&vm, why) == 0, "8 DIMMs: %s", why);
	CHECK(vm.ram_bytes == 5120 * MiB && vm.nr_ranges == 9, "8 DIMMs: %llu bytes in %d ranges",
	      (unsigned long long)vm.ram_bytes, vm.nr_ranges);
	CHECK(!vm_ram_changed(&hp, &vm), "nothing changed yet");

	/* mem-dimm8 hot-added (QMP object-add + device_add): a new mapping
	 * of 512 MiB; then a 512 MiB vram-like block that was there before
	 * must not be taken for it */
	uint64_t s = base + 9 * 2048 * MiB;
	m += (size_t)snprintf(ram + m, sizeof(ram) - m, "%llx-%llx rw-p 00000000 00:00 0 \n",
			      (unsigned long long)s, (unsigned long long)(s + 512 * MiB));
	maps(ram);
	config("hotplug: disk,network,usb,memory\nnuma: 1\nmemory: 5632\n");
	CHECK(vm_ram_changed(&hp, &vm), "a new mapping is a change");
	/* QMP not there: an error, try again next epoch */
	CHECK(vm_add_hotplugged(&hp, &vm, why, sizeof(why)) < 0 && strstr(why, "QMP"), "no QMP: %s", why);
	CHECK(vm_ram_changed(&hp, &vm), "still a change after a failed look");
	d += (size_t)snprintf(devs + d, sizeof(devs) - d, ", {\"type\": \"dimm\", \"data\": {\"memdev\": \"/objects/mem-dimm8\", "
			      "\"hotplugged\": true, \"addr\": 9663676416, \"hotpluggable\": true, \"size\": 536870912, \"slot\": 8, "
			      "\"node\": 0, \"id\": \"dimm8\"}}");
	pid_t q = fake_qmp(devs);
	int n = vm_add_hotplugged(&hp, &vm, why, sizeof(why));

	CHECK(n == 1, "hot-added: %d %s", n, n < 0 ? why : "");
	CHECK(vm.ram_bytes == 5632 * MiB && vm.nr_ranges == 10, "after the hot-add: %llu bytes in %d ranges",
	      (unsigned long long)vm.ram_bytes, vm.nr_ranges);
	CHECK(!strncmp(vm.ram[9].what, "mem-dimm8 ", 10), "appended last (the engine indexes ranges): %s", vm.ram[9].what);
	CHECK(vm_conf_memory(&hp, 101) == vm.ram_bytes, "the config agrees");
	CHECK(!vm_ram_changed(&hp, &vm), "settled");
	waitpid(q, &st, 0);

	/* the BPF side: 10 ranges folded into TIERD_MAX_RANGES, covering all */
	struct vm_cfg cfg = {};
	vm_bpf_ranges(&vm, &cfg);
	CHECK(cfg.nr_ranges == TIERD_MAX_RANGES, "%u BPF ranges", cfg.nr_ranges);
	for (int i = 0; i < vm.nr_ranges; i++) {
		bool in = false;
		for (unsigned k = 0; k < cfg.nr_ranges; k++)
			in |= vm.ram[i].start >= cfg.start[k] && vm.ram[i].end <= cfg.end[k];
		CHECK(in, "range %d not covered", i);
	}
	for (unsigned k = 1; k < cfg.nr_ranges; k++)
		CHECK(cfg.start[k] >= cfg.end[k - 1], "BPF ranges sorted, apart");
	vm_free(&vm);
}

int main(void)
{
	char cmd[400];

	snprintf(root, sizeof(root), "/tmp/tierd-unit-vm.XXXXXX");
	if (!mkdtemp(root))
		abort();
	snprintf(run, sizeof(run), "%s/run", root);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(cg, sizeof(cg), "%s/cgroup", root);
	snprintf(conf, sizeof(conf), "%s/pve/qemu-server", root);
	hp.proc = proc;
	hp.run = run;
	hp.cgroup = cg;
	hp.conf = conf;
	put_file(root, "cgroup/qemu.slice/101.scope/cgroup.procs", "", 0);
	put_file(root, "run/101.pid", "4242\n", 5);
	put_file(root, "proc/4242/cgroup", "0::/qemu.slice/101.scope\n", 25);
	mkdir(conf, 0755);

	test_identity();
	test_layouts();
	test_hugetlb_mounts();
	test_refused();
	test_hotplug();

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		printf("# could not remove %s\n", root);
	printf("%d checks passed, %d failed\n", passed, failed);
	return failed != 0;
}

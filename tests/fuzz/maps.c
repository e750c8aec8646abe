// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/PID/maps, for guest RAM (vm_find_ram). The first byte picks the
 * smallest mapping that counts (2^(b % 32) bytes), the rest is the file.
 */
#include "vm.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct host_paths hp;
	static char proc[128];
	char path[256], why[600];
	struct vm vm = { .vmid = 101, .pid = 4242 };

	if (!size)
		return 0;
	if (!proc[0]) {
		snprintf(proc, sizeof(proc), "%s/proc", fuzz_dir());
		fuzz_mkdir("proc");
		fuzz_mkdir("proc/4242");
		hp.proc = proc;
	}
	fuzz_file("proc/4242/maps", data + 1, size - 1, path, sizeof(path));
	uint64_t min = 1ULL << (data[0] % 32), sum = 0;
	if (vm_find_ram(&hp, &vm, min, why, sizeof(why)))
		return 0;
	/* at most TIERD_MAX_RANGES, each at least min, largest first, summed */
	if (vm.nr_ranges < 1 || vm.nr_ranges > TIERD_MAX_RANGES)
		abort();
	for (int i = 0; i < vm.nr_ranges; i++) {
		uint64_t sz = vm.ram[i].end - vm.ram[i].start;
		if (vm.ram[i].end <= vm.ram[i].start || sz < min ||
		    (i && sz > vm.ram[i - 1].end - vm.ram[i - 1].start))
			abort();
		sum += sz;
	}
	if (sum != vm.ram_bytes)
		abort();
	return 0;
}

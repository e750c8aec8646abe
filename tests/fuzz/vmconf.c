// SPDX-License-Identifier: GPL-2.0-only
/*
 * A qemu-server VM config, <pve-dir>/qemu-server/101.conf, as pmxcfs holds
 * it: its tags (config_tags, through config_policy), its lock
 * (pve_migrating) and its memory (vm_conf_memory, which also reads the
 * hostpciN: lines). A new reader of that file is one more call here.
 */
#include "config.h"
#include "vm.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c;
	static char conf_dir[300];
	struct host_paths hp = { .conf = conf_dir };
	char path[256], why[600];
	struct policy p;

	if (!c.path[0]) {
		config_init(&c);
		snprintf(c.pve_dir, sizeof(c.pve_dir), "%s/pve", fuzz_dir());
		config_fix_ptrs(&c);
		fuzz_mkdir("pve");
		fuzz_mkdir("pve/qemu-server");
		snprintf(conf_dir, sizeof(conf_dir), "%s/qemu-server", c.pve_dir);
	}
	fuzz_file("pve/qemu-server/101.conf", data, size, path, sizeof(path));
	config_policy(&c, 101, NULL, &p, why, sizeof(why));
	pve_migrating(c.pve_dir, 101);
	vm_conf_memory(&hp, 101);
	return 0;
}

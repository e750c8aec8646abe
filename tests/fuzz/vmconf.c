// SPDX-License-Identifier: GPL-2.0-only
/*
 * A qemu-server VM config, <pve-dir>/qemu-server/101.conf, as pmxcfs holds
 * it: its tags (config_tags, through config_policy) and its lock
 * (pve_migrating). A new reader of that file is one more call here.
 */
#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c;
	char path[256], why[600];
	struct policy p;

	if (!c.path[0]) {
		config_init(&c);
		snprintf(c.pve_dir, sizeof(c.pve_dir), "%s/pve", fuzz_dir());
		config_fix_ptrs(&c);
		fuzz_mkdir("pve");
		fuzz_mkdir("pve/qemu-server");
	}
	fuzz_file("pve/qemu-server/101.conf", data, size, path, sizeof(path));
	config_policy(&c, 101, NULL, &p, why, sizeof(why));
	pve_migrating(c.pve_dir, 101);
	return 0;
}

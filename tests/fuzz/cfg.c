// SPDX-License-Identifier: GPL-2.0-only
/*
 * /etc/pve/tierd.cfg, the cluster's policies (config_parse_policies,
 * config_load's parser), and each VM's policy from it.
 */
#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), why[600];
	static struct config c;
	struct policy p;

	if (!text)
		return 0;
	config_init(&c);
	snprintf(c.pve_dir, sizeof(c.pve_dir), "%s/none", fuzz_dir());
	config_fix_ptrs(&c);
	if (!config_parse_policies(&c, text, why, sizeof(why)))
		for (int i = 0; i < c.nvm; i++) {
			config_vm(&c, c.vm[i].vmid);
			config_policy(&c, c.vm[i].vmid, NULL, &p, why, sizeof(why));
		}
	config_free(&c);
	free(text);
	return 0;
}

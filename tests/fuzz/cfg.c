// SPDX-License-Identifier: GPL-2.0-only
/*
 * /etc/pve/tierd.cfg, the cluster's policies (config_parse_policies,
 * config_load's parser), and each VM's policy from it.
 */
#include "fuzz.h"

static void run(struct config *c, char *text)
{
	struct policy p;
	char why[600];

	if (!config_parse_policies(c, text, why, sizeof(why)))
		for (int i = 0; i < c->nvm; i++) {
			/* sections: valid VMIDs, sorted, each once (config_vm searches them) */
			if (c->vm[i].vmid < 100 || c->vm[i].vmid > 999999999 || (i && c->vm[i].vmid <= c->vm[i - 1].vmid) ||
			    c->vm[i].opts.n > CONFIG_MAX_OPTS || config_vm(c, c->vm[i].vmid) != &c->vm[i])
				abort();
			config_policy(c, c->vm[i].vmid, NULL, &p, why, sizeof(why));
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_config_run(data, size, run);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * /etc/tierd/tierd.conf (config_parse_host, config_load's parser), then the
 * policy it gives a VM. The pve-dir it names is pointed at an empty place,
 * so the fuzzer cannot make it read the machine's files.
 */
#include "fuzz.h"

static void run(struct config *c, char *text)
{
	struct policy p;
	char why[600];

	if (config_parse_host(c, text, "tierd.conf", why, sizeof(why)))
		return;
	/* what a file can set stays within what tierd.conf(5) allows */
	if (c->eo.epoch_s < 0.1 || c->eo.epoch_s > 3600 || !(c->eo.host_rate_mbs > 0) ||
	    (c->metrics_dir[0] && c->metrics_dir[0] != '/') || c->pve_dir[0] != '/' || c->policies[0] != '/' ||
	    strstr(c->metrics_dir, "/../") || strstr(c->pve_dir, "/../") || strstr(c->policies, "/../"))
		abort();
	fuzz_config_pve(c);	/* again: the file may have named one */
	config_policy(c, 101, NULL, &p, why, sizeof(why));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_config_run(data, size, run);
}

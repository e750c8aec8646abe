// SPDX-License-Identifier: GPL-2.0-only
/*
 * /etc/tierd/tierd.conf (config_parse_host, config_load's parser), then the
 * policy it gives a VM. The pve-dir it names is pointed at an empty place,
 * so the fuzzer cannot make it read the machine's files.
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
	if (!config_parse_host(&c, text, "tierd.conf", why, sizeof(why))) {
		/* what a file can set stays within what tierd.conf(5) allows */
		if (c.eo.epoch_s < 0.1 || c.eo.epoch_s > 3600 || !(c.eo.host_rate_mbs > 0) ||
		    (c.metrics_dir[0] && c.metrics_dir[0] != '/') || c.pve_dir[0] != '/' || c.policies[0] != '/' ||
		    strstr(c.metrics_dir, "/../") || strstr(c.pve_dir, "/../") || strstr(c.policies, "/../"))
			abort();
		snprintf(c.pve_dir, sizeof(c.pve_dir), "%s/none", fuzz_dir());
		config_fix_ptrs(&c);
		config_policy(&c, 101, NULL, &p, why, sizeof(why));
	}
	config_free(&c);
	free(text);
	return 0;
}

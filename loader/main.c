// SPDX-License-Identifier: GPL-2.0-only
/*
 * tierd: per-VM memory tiering for Proxmox VE hosts with CXL memory.
 */
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "tierd_cmd.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: tierd [-v] COMMAND [options]\n"
"  probe    what this kernel offers tierd's samplers, and what is chosen\n"
"  stat     attach the samplers and print per-VM heat, migrations, NVMe latency\n"
"Each command takes --help. -v raises the log level (twice: libbpf's too).\n");
}

int main(int argc, char **argv)
{
	int verbose = LOG_WARN;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			log_init(verbose);
			err("unknown option '%s'", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	log_init(verbose);
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "probe"))
		return cmd_probe(argc - i, argv + i);
	if (!strcmp(argv[i], "stat"))
		return cmd_stat(argc - i, argv + i);
	err("unknown command '%s'", argv[i]);
	usage(stderr);
	return 2;
}

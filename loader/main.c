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
"usage: tierd [-v] [--vm N [policy options]] [options]   the engine (--help: all options)\n"
"       tierd [-v] COMMAND [options]\n"
"  status   what a running tierd is doing, per VM [--json]\n"
"  attach N / detach N   hand a VM to the running daemon, or take it back\n"
"  config   check tierd.conf and /etc/pve/tierd.cfg, print the policies they give\n"
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
		} else if (!strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			break;		/* the engine's options */
		}
	}
	log_init(verbose);
	if (i >= argc || argv[i][0] == '-') {
		argv[i - 1] = argv[0];
		return cmd_run(argc - i + 1, argv + i - 1);
	}
	if (!strcmp(argv[i], "status"))
		return cmd_status(argc - i, argv + i);
	if (!strcmp(argv[i], "attach") || !strcmp(argv[i], "detach"))
		return cmd_attach(argc - i, argv + i);
	if (!strcmp(argv[i], "config"))
		return cmd_config(argc - i, argv + i);
	if (!strcmp(argv[i], "probe"))
		return cmd_probe(argc - i, argv + i);
	if (!strcmp(argv[i], "stat"))
		return cmd_stat(argc - i, argv + i);
	err("unknown command '%s'", argv[i]);
	usage(stderr);
	return 2;
}

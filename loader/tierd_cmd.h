/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_CMD_H
#define TIERD_CMD_H

/* tierd's subcommands; each parses its own options and returns an exit code. */
int cmd_stat(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_config(int argc, char **argv);

#endif

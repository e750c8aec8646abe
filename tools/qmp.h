/* SPDX-License-Identifier: GPL-2.0-only */
/* A minimal QMP client over QEMU's unix monitor socket (tools only). */
#ifndef TIERD_QMP_H
#define TIERD_QMP_H

/* connect, read the greeting, negotiate capabilities; -1 and errno set */
int qmp_open(const char *path, double timeout_s);
/* send one command (a JSON object); the reply line ({"return"...} or
 * {"error"...}), events skipped; malloc'd, NULL on a lost connection */
char *qmp_call(int fd, const char *json);
/* an HMP command through human-monitor-command: its output, unescaped;
 * malloc'd, NULL on error */
char *qmp_hmp(int fd, const char *cmd);

#endif

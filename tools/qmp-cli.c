// SPDX-License-Identifier: GPL-2.0-only
/*
 * qmp: send QMP commands to a QEMU monitor socket, print each reply line.
 *
 *   qmp SOCKET '{"execute":"query-status"}' ...
 *   qmp SOCKET --hmp 'info mtree -f'          (the HMP command's text)
 *
 * Exit status 1 if a reply is an error or the connection fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "qmp.h"

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: qmp SOCKET JSON... | qmp SOCKET --hmp 'CMD'\n");
		return 2;
	}
	int fd = qmp_open(argv[1], 5);
	if (fd < 0) {
		fprintf(stderr, "qmp: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		char *r;

		if (!strcmp(argv[i], "--hmp") && i + 1 < argc) {
			r = qmp_hmp(fd, argv[++i]);
			if (!r) {
				fprintf(stderr, "qmp: HMP '%s' failed\n", argv[i]);
				return 1;
			}
			fputs(r, stdout);
		} else {
			r = qmp_call(fd, argv[i]);
			if (!r) {
				fprintf(stderr, "qmp: connection lost\n");
				return 1;
			}
			puts(r);
			if (strstr(r, "\"error\""))
				rc = 1;
		}
		free(r);
	}
	return rc;
}

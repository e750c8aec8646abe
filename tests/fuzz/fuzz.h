/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What tierd's libFuzzer harnesses share. Each tests/fuzz/<name>.c defines
 * LLVMFuzzerTestOneInput for one reader; `make fuzz` builds every one with
 * ASan and UBSan (build/fuzz/<name>) and runs it on tests/fuzz/corpus/<name>/.
 * Readers that take a path get the input as a file in a private folder
 * under /dev/shm (fuzz_dir), written fresh for each input.
 */
#ifndef TIERD_FUZZ_H
#define TIERD_FUZZ_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"

static char fuzz_dir_path[64];

static inline int fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static inline void fuzz_cleanup(void)
{
	nftw(fuzz_dir_path, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* A folder of this process's own, made once, removed at exit. */
static inline const char *fuzz_dir(void)
{
	char *dir = fuzz_dir_path;

	if (!dir[0]) {
		snprintf(dir, sizeof(fuzz_dir_path), "/dev/shm/tierd-fuzz.XXXXXX");
		if (!mkdtemp(dir)) {
			snprintf(dir, sizeof(fuzz_dir_path), "/tmp/tierd-fuzz.XXXXXX");
			if (!mkdtemp(dir))
				abort();
		}
		atexit(fuzz_cleanup);
	}
	return dir;
}

static inline void fuzz_mkdir(const char *sub)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", fuzz_dir(), sub);
	mkdir(p, 0700);
}

/* Write data to fuzz_dir()/name; the path into path. */
static inline void fuzz_file(const char *name, const uint8_t *data, size_t size, char *path, size_t pl)
{
	FILE *f;

	snprintf(path, pl, "%s/%s", fuzz_dir(), name);
	if (!(f = fopen(path, "w")) || (size && fwrite(data, 1, size, f) != size) || fclose(f))
		abort();
}

/* The input as a NUL-terminated text, as config.c's slurp() gives its
 * parsers (it refuses files with a NUL byte); NULL for such an input. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *t;

	if (memchr(data, 0, size) || !(t = malloc(size + 1)))
		return NULL;
	memcpy(t, data, size);
	t[size] = 0;
	return t;
}

/* Point c's pve-dir at an empty place, so that no input can make the
 * config code read the machine's files. */
static inline void fuzz_config_pve(struct config *c)
{
	snprintf(c->pve_dir, sizeof(c->pve_dir), "%s/none", fuzz_dir());
	config_fix_ptrs(c);
}

/* The config harnesses' set-up and tear-down: the input as text (inputs
 * with a NUL byte are skipped, as config.c refuses such files), a fresh
 * config with its pve-dir pointed away, then run(c, text), then both freed. */
static inline int fuzz_config_run(const uint8_t *data, size_t size, void (*run)(struct config *c, char *text))
{
	static struct config c;
	char *text = fuzz_text(data, size);

	if (!text)
		return 0;
	config_init(&c);
	fuzz_config_pve(&c);
	run(&c, text);
	config_free(&c);
	free(text);
	return 0;
}

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_KNOBS_H
#define TIERD_KNOBS_H

#include <stdbool.h>

/*
 * Every kernel or cgroup setting tierd changes goes through here: the old
 * value is written to a journal (/run/tierd/knobs) before the new one is
 * set, and put back on exit. A run that finds a journal left by a tierd
 * that died (kill -9) restores it first.
 */
int knobs_open(const char *journal);	/* restores a stale journal; 0 or -errno */
/* Set `path` to `value`, remembering the value it had first. 0 or -errno. */
int knob_set(const char *path, const char *value);
/* Put back one knob, or every knob under a folder (a VM's scope). */
void knob_restore(const char *path);
void knob_restore_dir(const char *dir);
void knobs_restore_all(void);
/* Could the journal line `path` = `value` have been written by tierd? */
bool knob_restorable(const char *path, const char *value);
/* Old and current value of a knob tierd holds; NULL if it holds none. */
const char *knob_old(const char *path);

#endif

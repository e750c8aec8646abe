/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_METRICS_H
#define TIERD_METRICS_H

struct engine;

/* Write DIR/tierd.prom (Prometheus text) atomically; 0 or -errno. */
int metrics_write(struct engine *e, const char *dir);
/* Remove DIR/tierd.prom (tierd stopped: no stale figures). */
void metrics_remove(const char *dir);

#endif

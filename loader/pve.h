/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_PVE_H
#define TIERD_PVE_H

/*
 * What tierd reads of Proxmox's own files under pve_dir (pmxcfs, normally
 * /etc/pve): a VM's qemu-server/N.conf (its tags and its lock) and whether
 * pmxcfs is mounted at all.
 */
#include <stdbool.h>

enum tag_switch { TAGS_NONE, TAGS_ON, TAGS_PIN_HOT, TAGS_OFF };
/* What a VM's Proxmox tags (tierd, tierd.pin-hot, tierd.off) say about
 * tierd (TAGS_NONE also when its config is not on this node or not
 * readable). */
enum tag_switch pve_tags(const char *pve_dir, long vmid);

/*
 * On a live-migration target: true while the VM's config is still on the
 * source node or carries "lock: migrate" (Proxmox moves it here and unlocks
 * it once RAM has arrived; `qm remote-migrate` has it local and locked from
 * the start). Other locks (backup, snapshot) are not migrations. False when
 * pve_dir holds no pmxcfs.
 */
bool pve_migrating(const char *pve_dir, long vmid);
/* pmxcfs is mounted at pve_dir: its <pve_dir>/.version exists. */
bool pve_mounted(const char *pve_dir);

#endif

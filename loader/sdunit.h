/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_SDUNIT_H
#define TIERD_SDUNIT_H

/*
 * cgroup attributes of units systemd manages. On a systemd host qemu.slice
 * and each VM's N.scope are systemd's: it rewrites their memory.low from
 * its own MemoryLow= on daemon-reload or set-property, so tierd sets it the
 * way Proxmox sets CPUWeight, through the manager (SetUnitProperties,
 * runtime only: a drop-in under /run that a reboot forgets).
 *
 * Set `path` (a cgroup file) to `value` through systemd when systemd owns
 * its folder and knows the file as a property. 0 done, -EOPNOTSUPP: not
 * systemd's (write the file yourself), other -errno: systemd refused.
 */
int sdunit_set_cgroup(const char *path, const char *value);
void sdunit_close(void);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_CAPS_H
#define TIERD_CAPS_H

/*
 * Once the BPF programs are attached, keep only the capabilities the
 * steady state needs and drop the rest (effective, permitted, inheritable,
 * and the bounding set where CAP_SETPCAP allows):
 *   CAP_SYS_ADMIN   bpf() on the maps we hold (unprivileged BPF is off) and
 *                   kernel.numa_balancing, which tierd puts back on exit
 *   CAP_SYS_NICE    move_pages() on QEMU
 *   CAP_SYS_PTRACE  QEMU's numa_maps and move_pages' access check
 * CAP_BPF and CAP_PERFMON go: nothing is loaded or opened after start.
 * 0, or -errno (nothing is dropped then).
 */
int caps_drop_after_attach(void);

#endif

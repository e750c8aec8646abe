/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel shims, in one place. tierd's objects are built once, against the
 * checked-in include/vmlinux.h (Debian 6.1), and loaded on 6.1 .. 7.3; every
 * difference between those kernels that the BPF side has to know about is
 * handled here, by CO-RE (a field, type or enum value looked up in the
 * running kernel's BTF at load time), never by a kernel version number.
 *
 * Each shim names the kernel that made it needed and the change (upstream
 * subject line; the hash where it was checked), so it can go the day that
 * kernel is no longer supported. Checked against the BTF of Debian's
 * 6.1.0-57, 6.12.117, 6.16.12, 7.2.13 and 7.3.4 kernels (bpftool btf dump).
 *
 * What did NOT change over that range, and so needs no shim: the argument
 * lists of handle_mm_fault() and change_prot_numa() (fentry/kprobe), the
 * nvme_setup_cmd/nvme_complete_rq tracepoints (one struct request *), and
 * the request/bio/blkcg_gq/kernfs_node fields nvme.bpf.c reads.
 */
#ifndef TIERD_COMPAT_BPF_H
#define TIERD_COMPAT_BPF_H

#include <bpf/bpf_core_read.h>

/*
 * Load ctx[idx] of a tp_btf/raw_tp program with idx an immediate.
 * Needed by: the verifier of every kernel tierd supports (6.1 .. 7.3) only
 * accepts context reads at constant offsets, and clang (14, Debian 12), left
 * alone, merges two alternative reads (see migrate_reason_arg) into one
 * read at a computed offset, which the verifier rejects ("invalid bpf_context
 * access"). Not a kernel change: delete when clang stops doing it.
 */
#define COMPAT_CTX_ARG(ctx, idx) ({					\
	__u64 __v;							\
	asm volatile("%[v] = *(u64 *)(%[c] + %[o])"			\
		     : [v] "=r"(__v) : [c] "r"(ctx), [o] "i"((idx) * 8));	\
	__v; })

/*
 * mm_migrate_pages gained large_folio_split between thp_split and mode, so
 * the reason moved from argument 6 to 7.
 * Needed since: 6.7, 49cac03a8f0a "mm/migrate: add nr_split to
 * trace_mm_migrate_pages stats" (Zi Yan, 2023-10). Seen: 6.1.0-57 has 7 arguments, 6.12.117 and
 * later 8. (7.x also made the last argument enum migrate_reason instead
 * of int; same size, read the same way.)
 */
struct trace_event_raw_mm_migrate_pages___lfs {
	unsigned long large_folio_split;
} __attribute__((preserve_access_index));

/* The reason argument of mm_migrate_pages; the dead read is pruned once
 * CO-RE has relocated the field test. */
static __always_inline __u64 migrate_reason_arg(void *args)
{
	if (bpf_core_field_exists(struct trace_event_raw_mm_migrate_pages___lfs, large_folio_split))
		return (__u32)COMPAT_CTX_ARG(args, 7);
	return (__u32)COMPAT_CTX_ARG(args, 6);
}

/*
 * Keep a bounds check and the array access it guards on one register:
 * declare the index __u64 and pass it through COMPAT_SAME_REG() before the
 * check.
 * Needed by: 6.1's verifier (6.1.0-57), which loses the bound of a 32-bit
 * value across the zero-extension clang emits between the check and the
 * use ("unbounded memory access" on the indexed store), found when
 * nvme.bpf.c's histogram was written. Not re-checked without it on 6.12+;
 * the barrier costs nothing, so it stays until 6.1 is dropped.
 */
#define COMPAT_SAME_REG(v) asm volatile("" : "+r"(v))

/*
 * A tp_btf pointer argument the verifier may type as maybe-NULL must be
 * tested before pointer arithmetic on it (the verifier refuses arithmetic
 * on a maybe-null pointer).
 * Needed since: 6.13, cb4158ce8ec8 "bpf: Mark raw_tp arguments with
 * PTR_MAYBE_NULL" (backported to 6.12.y), reverted and replaced by "bpf:
 * Augment raw_tp arguments with PTR_MAYBE_NULL". Seen: tp_btf/nvme_setup_cmd
 * + nvme_complete_rq (module tracepoints) rejected with EACCES on Debian
 * 6.12.117 and 7.3.4 while raw_tp, whose arguments are plain numbers,
 * loaded; 6.1 loads them. With this test tp_btf loads on 6.12.117 and
 * 7.3.4 (lab/probe asserts tp_btf for nvme on every kernel it runs on).
 */
#define COMPAT_TP_ARG_NULL(p) (!(p))

/*
 * The blkcg of a bio, for the cgroup of an I/O a kernel thread submits.
 * Not a version: bio->bi_blkg exists only with CONFIG_BLK_CGROUP (on in
 * every Debian and Proxmox kernel); without it the I/O is not attributed.
 */
#define COMPAT_HAS_BIO_BLKG(req) bpf_core_field_exists((req)->bio->bi_blkg)

#endif

// SPDX-License-Identifier: GPL-2.0-only
/*
 * NVMe queue latency, per (controller, queue) and per issuing VM.
 *
 * nvme_setup_cmd records, in a slot of an array picked by the request's
 * address: the request, the time, the queue and the cgroup that issued the
 * I/O (known at setup, not at completion, where `current` is usually an
 * interrupt or a kworker). nvme_complete_rq finds it there and turns it
 * into a log2 latency histogram. An array, not a hash keyed by the
 * request: its lookups are inlined and take no lock, where a hash's update
 * and delete are two locked helper calls per I/O. A setup whose slot holds
 * another request in flight is not recorded (counted, as a full map was):
 * blk-mq allocates a queue's requests side by side, so the slots of one
 * queue's requests differ, and other queues' meet them only by chance. The transport ("tcp", "pci", "loop",
 * ...) is read from the controller, so NVMe/TCP queues are told apart from
 * local ones. Completions with no recorded setup are counted, never
 * dropped silently.
 *
 * tp_btf where the kernel has BTF for nvme_core, raw_tp otherwise; every
 * read goes through BPF_CORE_READ so both bodies are the same.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.bpf.h"
#include "compat.bpf.h"

#define PF_KTHREAD 0x00200000

struct inflight {
	__u64 req;			/* struct request *; 0: the slot is free */
	__u64 ts;
	__u64 cgid;
	struct nvme_qkey q;
};

#define INFLIGHT_SLOTS 16384		/* a power of 2 */
/* a slot set up this long ago is free again: its completion was missed
 * (NVMe's own I/O timeout is 30 s, the admin queue's 60 s) */
#define INFLIGHT_STALE_NS (120ULL * 1000000000ULL)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, INFLIGHT_SLOTS);
	__type(key, __u32);
	__type(value, struct inflight);
} inflight SEC(".maps");

/* the request's slot: its address without the bits that requests side
 * by side share (they are hundreds of bytes long) */
static __always_inline struct inflight *slot_of(__u64 req)
{
	__u32 k = (__u32)((req >> 6) ^ (req >> 20)) & (INFLIGHT_SLOTS - 1);

	return bpf_map_lookup_elem(&inflight, &k);
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TIERD_MAX_QUEUES);
	__type(key, struct nvme_qkey);
	__type(value, struct nvme_qstats);
} queues SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TIERD_MAX_VMS);
	__type(key, __u32);		/* vm_cfg.slot */
	__type(value, struct vm_io);
} vm_io SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NR_NVME_STATS);
	__type(key, __u32);
	__type(value, __u64);
} nvme_stats SEC(".maps");

static __always_inline void nstat(enum nvme_stat s)
{
	__u32 k = s;
	__u64 *v = bpf_map_lookup_elem(&nvme_stats, &k);

	if (v)
		*v += 1;
}

/* The cgroup the I/O belongs to: the submitting task's, or the bio's when a
 * kernel thread dispatches it on someone's behalf. */
/* Zeroed template for new queue entries: too large for the BPF stack. */
struct nvme_qstats zero_qs = {};

static __always_inline __u64 issuer_cgroup(struct request *req)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	if (!(BPF_CORE_READ(t, flags) & PF_KTHREAD))
		return bpf_get_current_cgroup_id();
	if (COMPAT_HAS_BIO_BLKG(req))
		return BPF_CORE_READ(req, bio, bi_blkg, blkcg, css.cgroup, kn, id);
	return 0;
}

/* req as a number: for the slot and the check. tp_btf hands a typed
 * pointer, which the verifier lets no shift touch; read the argument's
 * raw value instead (raw_tp's already is one). */
static __always_inline __u64 req_addr(__u64 *ctx, bool btf)
{
	__u64 a = 0;

	if (btf)
		bpf_probe_read_kernel(&a, sizeof(a), &ctx[0]);
	else
		a = ctx[0];
	return a;
}

static __always_inline int on_setup(struct request *req, __u64 key)
{
	struct nvme_request *nr;
	struct nvme_ctrl *ctrl;
	struct inflight *in;
	struct nvme_qkey q;
	struct nvme_qstats *qs;
	__u64 now, old;

	if (COMPAT_TP_ARG_NULL(req))
		return 0;
	/* nvme_req(req): the driver's pdu starts with struct nvme_request */
	nr = (void *)req + bpf_core_type_size(struct request);
	ctrl = BPF_CORE_READ(nr, ctrl);

	nstat(NS_SETUP);
	q.ctrl = BPF_CORE_READ(ctrl, instance);
	/* nvme_req_qid(): admin requests have no namespace in queuedata */
	q.qid = BPF_CORE_READ(req, q, queuedata) ? BPF_CORE_READ(req, mq_hctx, queue_num) + 1 : 0;
	now = bpf_ktime_get_ns();

	qs = bpf_map_lookup_elem(&queues, &q);
	if (!qs) {
		bpf_map_update_elem(&queues, &q, &zero_qs, BPF_NOEXIST);
		qs = bpf_map_lookup_elem(&queues, &q);
		if (qs)
			bpf_probe_read_kernel_str(qs->transport, sizeof(qs->transport),
						  BPF_CORE_READ(ctrl, ops, name));
		else
			nstat(NS_QUEUE_FULL);
	}
	in = slot_of(key);
	if (!in)
		return 0;
	/* the slot is this request's (a retry sets it up again), free, or
	 * stale; claimed with a compare-and-swap, so that two CPUs setting
	 * up requests of one slot at once cannot both take it */
	old = in->req;
	if ((old && old != key && now - in->ts < INFLIGHT_STALE_NS) ||
	    __sync_val_compare_and_swap(&in->req, old, key) != old) {
		nstat(NS_INFLIGHT_FULL);
		return 0;
	}
	in->ts = now;
	in->cgid = issuer_cgroup(req);
	in->q = q;
	if (qs && old != key)
		__sync_fetch_and_add(&qs->inflight, 1);
	return 0;
}

static __always_inline int on_complete(struct request *req, __u64 key)
{
	__u64 d;
	struct nvme_qstats *qs;
	struct inflight *in;
	struct vm_cfg *vm;
	__u64 b;	/* 64-bit, see COMPAT_SAME_REG */

	if (COMPAT_TP_ARG_NULL(req))
		return 0;
	nstat(NS_COMPLETE);
	in = slot_of(key);
	if (!in || in->req != key) {
		nstat(NS_UNMATCHED);
		return 0;
	}
	d = bpf_ktime_get_ns() - in->ts;
	b = tierd_hist_slot(d);
	COMPAT_SAME_REG(b);
	if (b >= TIERD_HIST_SLOTS)
		return 0;	/* cannot happen; keeps the verifier sure */

	qs = bpf_map_lookup_elem(&queues, &in->q);
	if (qs) {
		__sync_fetch_and_add(&qs->done, 1);
		__sync_fetch_and_add(&qs->lat_ns, d);
		__sync_fetch_and_add(&qs->hist[b], 1);
		__sync_fetch_and_add(&qs->inflight, -1);
	}
	vm = bpf_map_lookup_elem(&vms, &in->cgid);
	if (vm) {
		__u32 slot = vm->slot;
		struct vm_io *io = bpf_map_lookup_elem(&vm_io, &slot);

		if (io) {
			__sync_fetch_and_add(&io->done, 1);
			__sync_fetch_and_add(&io->lat_ns, d);
			__sync_fetch_and_add(&io->hist[b], 1);
		}
	}
	/* free: unless another CPU took the slot as stale meanwhile */
	__sync_val_compare_and_swap(&in->req, key, 0);
	return 0;
}

SEC("tp_btf/nvme_setup_cmd")
int BPF_PROG(nvme_setup_btf, struct request *req)
{
	return on_setup(req, req_addr(ctx, true));
}

SEC("tp_btf/nvme_complete_rq")
int BPF_PROG(nvme_complete_btf, struct request *req)
{
	return on_complete(req, req_addr(ctx, true));
}

SEC("raw_tp/nvme_setup_cmd")
int BPF_PROG(nvme_setup_raw, struct request *req)
{
	return on_setup(req, req_addr(ctx, false));
}

SEC("raw_tp/nvme_complete_rq")
int BPF_PROG(nvme_complete_raw, struct request *req)
{
	return on_complete(req, req_addr(ctx, false));
}

char LICENSE[] SEC("license") = "GPL";

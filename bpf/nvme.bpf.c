// SPDX-License-Identifier: GPL-2.0-only
/*
 * NVMe queue latency, per (controller, queue) and per issuing VM.
 *
 * nvme_setup_cmd records, in a slot of an array picked by the request's
 * identity (request queue, hardware queue, tag: unique among the requests
 * in flight): the identity, the request's start time, its queue and the
 * cgroup that issued the I/O (known at setup, not at completion, where
 * `current` is usually an interrupt or a kworker). nvme_complete_rq finds
 * it there and turns it into a log2 latency histogram. An array, not a
 * hash keyed by the request: its lookups are inlined and take no lock,
 * where a hash's update and delete are two locked helper calls per I/O. A
 * setup whose slot holds another request in flight is not recorded
 * (counted, as a full map was). The transport ("tcp", "pci", "loop", ...)
 * is read from the controller, so NVMe/TCP queues are told apart from
 * local ones. Completions with no recorded setup are counted, never
 * dropped silently.
 *
 * The start time is the one blk-mq stamps on the request and the block
 * layer's own I/O statistics use (start_time_ns, set when the queue keeps
 * I/O statistics, as NVMe queues do by default); the clock is read here
 * only when it is 0. So the latency runs from the block layer's start to
 * the driver's completion, and each I/O costs one clock read, not two.
 *
 * This runs twice per I/O, so it reads as little as it can: the tp_btf
 * programs read the request's fields straight (the verifier turns them
 * into checked loads), the raw_tp programs through bpf_probe_read_kernel;
 * at setup the controller's instance takes two such reads, its transport
 * is read only the first time a queue is seen.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.bpf.h"
#include "compat.bpf.h"

#define PF_KTHREAD 0x00200000

struct inflight {
	__u64 req;			/* the request's identity; 0: the slot is free */
	__u64 ts;
	__u64 cgid;
	struct nvme_qkey q;
};

#define INFLIGHT_SLOTS_LOG 14
#define INFLIGHT_SLOTS (1 << INFLIGHT_SLOTS_LOG)
/* a slot set up this long ago is free again: its completion was missed
 * (NVMe's own I/O timeout is 30 s, the admin queue's 60 s) */
#define INFLIGHT_STALE_NS (120ULL * 1000000000ULL)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, INFLIGHT_SLOTS);
	__type(key, __u32);
	__type(value, struct inflight);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TIERD_MAX_QUEUES);
	__type(key, struct nvme_qkey);
	__type(value, struct nvme_qstats);
} queues SEC(".maps");

/* A new queue's entry is built here (too large for the BPF stack); its
 * counters stay 0, only the transport is written. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nvme_qstats);
} new_queue SEC(".maps");

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

/* What a program needs of the request. */
struct rq_facts {
	__u32 rq, hctx;		/* its request queue's id, its hardware queue */
	__u32 tag;
	bool io;		/* an I/O queue's (its request queue has a namespace) */
	__u64 start;		/* blk-mq's start stamp; 0: none */
};

static __always_inline void facts(struct request *req, bool btf, struct rq_facts *f)
{
	if (btf) {
		struct request_queue *q = req->q;

		f->rq = q->id;
		f->io = q->queuedata != NULL;
		f->hctx = req->mq_hctx->queue_num;
		f->tag = req->tag;
		f->start = req->start_time_ns;
	} else {
		f->rq = BPF_CORE_READ(req, q, id);
		f->io = BPF_CORE_READ(req, q, queuedata) != NULL;
		f->hctx = BPF_CORE_READ(req, mq_hctx, queue_num);
		f->tag = BPF_CORE_READ(req, tag);
		f->start = BPF_CORE_READ(req, start_time_ns);
	}
}

/* The request's identity: tags are unique per hardware queue among the
 * requests in flight (NVMe's at most 65536 per queue, so 16 bits each);
 * bit 63 keeps it from ever being 0 */
static __always_inline __u64 identity(const struct rq_facts *f)
{
	return 1ULL << 63 | (__u64)f->rq << 32 | (__u64)(f->hctx & 0xffff) << 16 | (f->tag & 0xffff);
}

/* its slot: a Fibonacci hash, which spreads a queue's consecutive tags */
static __always_inline struct inflight *slot_of(__u64 id)
{
	__u32 k = (__u32)((id * 0x9E3779B97F4A7C15ULL) >> (64 - INFLIGHT_SLOTS_LOG));

	return bpf_map_lookup_elem(&inflight, &k);
}

/* The cgroup the I/O belongs to: the submitting task's, or the bio's when a
 * kernel thread dispatches it on someone's behalf. */
static __always_inline __u64 issuer_cgroup(struct request *req, bool btf)
{
	__u32 flags;

	if (btf)
		flags = bpf_get_current_task_btf()->flags;
	else
		flags = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), flags);
	if (!(flags & PF_KTHREAD))
		return bpf_get_current_cgroup_id();
	if (COMPAT_HAS_BIO_BLKG(req))
		return BPF_CORE_READ(req, bio, bi_blkg, blkcg, css.cgroup, kn, id);
	return 0;
}

/* The request's NVMe queue: (controller instance, queue id), as the
 * kernel's own nvme_req_qid() numbers it. Two reads of the controller
 * through bpf_probe_read_kernel: nvme_req(req) is past the end of struct
 * request, where no typed read reaches. */
static __always_inline struct nvme_ctrl *queue_key(struct request *req, const struct rq_facts *f, struct nvme_qkey *k)
{
	/* nvme_req(req): the driver's pdu starts with struct nvme_request */
	struct nvme_ctrl *ctrl = BPF_CORE_READ((struct nvme_request *)((void *)req + bpf_core_type_size(struct request)), ctrl);

	k->ctrl = BPF_CORE_READ(ctrl, instance);
	/* admin requests have no namespace in queuedata */
	k->qid = f->io ? f->hctx + 1 : 0;
	return ctrl;
}

/* The queue's entry, made the first time it is seen, with the transport
 * read from the controller then. */
static __always_inline struct nvme_qstats *queue_of(struct nvme_ctrl *ctrl, const struct nvme_qkey *k)
{
	struct nvme_qstats *qs = bpf_map_lookup_elem(&queues, k), *n;
	__u32 zero = 0;

	if (qs)
		return qs;
	n = bpf_map_lookup_elem(&new_queue, &zero);
	if (!n)
		return NULL;
	bpf_probe_read_kernel_str(n->transport, sizeof(n->transport), BPF_CORE_READ(ctrl, ops, name));
	bpf_map_update_elem(&queues, k, n, BPF_NOEXIST);
	qs = bpf_map_lookup_elem(&queues, k);
	if (!qs)
		nstat(NS_QUEUE_FULL);
	return qs;
}

static __always_inline int on_setup(struct request *req, bool btf)
{
	struct rq_facts f;
	struct inflight *in;
	struct nvme_qstats *qs;
	struct nvme_qkey k;
	__u64 id, now, old;

	if (COMPAT_TP_ARG_NULL(req))
		return 0;
	nstat(NS_SETUP);
	facts(req, btf, &f);
	qs = queue_of(queue_key(req, &f, &k), &k);
	id = identity(&f);
	in = slot_of(id);
	if (!in)
		return 0;
	/* the slot is this request's (a retry sets it up again), free, or
	 * stale; claimed with a compare-and-swap, so that two CPUs setting
	 * up requests of one slot at once cannot both take it. Start stamps
	 * do not come in setup order (a scheduler, a requeue): one earlier
	 * than the slot's is no sign that the slot is stale. */
	now = f.start ?: bpf_ktime_get_ns();
	old = in->req;
	if ((old && old != id && (__s64)(now - in->ts) < (__s64)INFLIGHT_STALE_NS) ||
	    __sync_val_compare_and_swap(&in->req, old, id) != old) {
		nstat(NS_INFLIGHT_FULL);
		return 0;
	}
	in->ts = now;
	in->cgid = issuer_cgroup(req, btf);
	in->q = k;
	if (qs && old != id)
		__sync_fetch_and_add(&qs->inflight, 1);
	return 0;
}

static __always_inline int on_complete(struct request *req, bool btf)
{
	struct rq_facts f;
	struct nvme_qstats *qs;
	struct inflight *in;
	struct vm_cfg *vm;
	__u64 id, now, d;
	__u64 b;	/* 64-bit, see COMPAT_SAME_REG */

	if (COMPAT_TP_ARG_NULL(req))
		return 0;
	nstat(NS_COMPLETE);
	facts(req, btf, &f);
	id = identity(&f);
	in = slot_of(id);
	if (!in || in->req != id) {
		nstat(NS_UNMATCHED);
		return 0;
	}
	now = bpf_ktime_get_ns();
	d = now > in->ts ? now - in->ts : 0;
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
	__sync_val_compare_and_swap(&in->req, id, 0);
	return 0;
}

SEC("tp_btf/nvme_setup_cmd")
int BPF_PROG(nvme_setup_btf, struct request *req)
{
	return on_setup(req, true);
}

SEC("tp_btf/nvme_complete_rq")
int BPF_PROG(nvme_complete_btf, struct request *req)
{
	return on_complete(req, true);
}

SEC("raw_tp/nvme_setup_cmd")
int BPF_PROG(nvme_setup_raw, struct request *req)
{
	return on_setup(req, false);
}

SEC("raw_tp/nvme_complete_rq")
int BPF_PROG(nvme_complete_raw, struct request *req)
{
	return on_complete(req, false);
}

char LICENSE[] SEC("license") = "GPL";

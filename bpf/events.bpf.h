/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Sending events: the loss counters, when to wake the consumer, the common
 * event header.
 */
#ifndef CAPAUDIT_EVENTS_BPF_H
#define CAPAUDIT_EVENTS_BPF_H

static __always_inline void count_n(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += n;
}

static __always_inline void count(__u32 idx)
{
	count_n(idx, 1);
}

/* Batch the consumer: no wake-up per event, only when a backlog builds up. */
static __always_inline __u64 wakeup_flag(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void fill_hdr(struct capaudit_event_hdr *h, __u32 type, __u32 size,
				     struct task_struct *task)
{
	h->type = type;
	h->pid = BPF_CORE_READ(task, tgid);
	h->tid = BPF_CORE_READ(task, pid);
	h->size = size;
	h->time_ns = bpf_ktime_get_boot_ns();
}

#endif /* CAPAUDIT_EVENTS_BPF_H */

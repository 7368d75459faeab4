/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Batching: checks without a stack wait in their task's storage
 * (task_state.batch, appended to by handle_check_nr() in check.bpf.h) and
 * leave in groups. flush_batch() sends them; they also leave when the task
 * leaves its CPU (on_switch) and at the end of a recording (drain_batches in
 * iterators.bpf.h).
 */
#ifndef CAPAUDIT_BATCH_BPF_H
#define CAPAUDIT_BATCH_BPF_H

_Static_assert(__builtin_offsetof(struct capaudit_cap_event, stack) == CAPAUDIT_CAP_SMALL_SIZE,
	       "a check without a stack is the cap event up to its stack");

/*
 * Sends the checks waiting in ST's batch. Called before any other event of
 * the task is sent, so a task's own events keep their order; the batch also
 * leaves when full, when the task leaves its CPU, and at the end of a
 * recording (drain_batches), so no check waits long.
 */
static __always_inline void flush_batch(struct capaudit_task_state *st)
{
	struct capaudit_cap_event *last;
	__u32 n = st->batch_n;

	if (!n)
		return;
	st->batch_n = 0;
	if (n > CAPAUDIT_BATCH_CHECKS)
		n = CAPAUDIT_BATCH_CHECKS;
	/* Untimed repeats that end the batch: the last of them carries now,
	 * the latest time any of them can have. */
	last = (struct capaudit_cap_event *)st->batch[(n - 1) & (CAPAUDIT_BATCH_CHECKS - 1)];
	if (last->flags & CAPAUDIT_CAP_UNTIMED)
		last->hdr.time_ns = bpf_ktime_get_boot_ns();
	if (bpf_ringbuf_output(&events, st->batch, n * CAPAUDIT_CAP_SMALL_SIZE, wakeup_flag()))
		count_n(CAPAUDIT_CNT_RINGBUF_DROPS, n);
}

/*
 * A traced task leaving its CPU sends its waiting checks, so a task that
 * blocks (a server in accept()) never holds them back. Every task on the
 * host passes here: untraced ones stop at their tid bit, with no helper call.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev)
{
	struct capaudit_task_state *st;

	if (!tid_marked(prev->pid))
		return 0;
	st = bpf_task_storage_get(&tasks, prev, 0, 0);
	if (st && !st->batch_busy)
		flush_batch(st);
	return 0;
}

#endif /* CAPAUDIT_BATCH_BPF_H */

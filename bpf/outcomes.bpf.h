/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The syscall-exit program: denied-syscall outcomes, and bind/socket facts
 * where the cgroup programs could not be attached.
 */
#ifndef CAPAUDIT_OUTCOMES_BPF_H
#define CAPAUDIT_OUTCOMES_BPF_H

/*
 * Attached for the whole recording only with --outcomes all or when the
 * cgroup programs could not be attached (facts_in_sys_exit); otherwise from
 * the first denied check on, so most recordings never slow the host down.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct capaudit_task_state *st;
	bool facts;
	__s32 nr;

	if (!tid_marked(task->pid))
		return 0;
	st = bpf_task_storage_get(&tasks, task, 0, 0);
	if (!st)
		return 0;
	nr = regs->orig_ax;
	if (facts_in_sys_exit)
		syscall_fact(task, st, regs, nr, ret);
	facts = facts_in_sys_exit && (nr == __NR_bind || nr == __NR_socket);
	if (!(st->flags & CAPAUDIT_TASK_PENDING_OUTCOME) && !facts)
		return 0;
	flush_batch(st);

	if (st->flags & CAPAUDIT_TASK_PENDING_OUTCOME) {
		struct capaudit_outcome_event *e;

		st->flags &= ~CAPAUDIT_TASK_PENDING_OUTCOME;
		/* a denial from before this program was attached (an earlier outcome
		 * window) belongs to an earlier syscall */
		if (st->pending_nr != nr || (st->flags >> 16) != (outcomes_live & 0xffff)) {
			count(CAPAUDIT_CNT_OUTCOMES_MISSED);
		} else if ((e = bpf_ringbuf_reserve(&events, sizeof(*e), 0))) {
			fill_hdr(&e->hdr, CAPAUDIT_EV_OUTCOME, sizeof(*e), task);
			e->syscall_nr = st->pending_nr;
			e->pad = 0;
			e->ret = ret;
			bpf_ringbuf_submit(e, wakeup_flag());
		} else {
			count(CAPAUDIT_CNT_RINGBUF_DROPS);
		}
	}
	if (facts) {
		struct capaudit_op_event *e;

		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			count(CAPAUDIT_CNT_RINGBUF_DROPS);
			return 0;
		}
		if (!read_operation(task, regs, nr, e)) {
			bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
			return 0;
		}
		submit_op(task, e, nr, ret, true);
	}
	return 0;
}

#endif /* CAPAUDIT_OUTCOMES_BPF_H */

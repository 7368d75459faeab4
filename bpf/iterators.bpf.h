/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Task iterators the recorder runs on demand: marking an existing process
 * tree (-p) or cgroup (--cgroup), and draining the batches at the end.
 */
#ifndef CAPAUDIT_ITERATORS_BPF_H
#define CAPAUDIT_ITERATORS_BPF_H

/* End of a recording, after the other programs are detached: what still waits. */
SEC("iter/task")
int drain_batches(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct capaudit_task_state *st;

	if (!task)
		return 0;
	st = bpf_task_storage_get(&tasks, task, 0, 0);
	if (st)
		flush_batch(st);
	return 0;
}

/* ---- -p PID: mark an existing process tree ---- */

SEC("iter/task")
int mark_tree(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	__u32 tgid, ptgid;
	__u8 one = 1;

	if (!task)
		return 0;
	tgid = task->tgid;
	if (tgid == recorder_tgid)
		return 0;
	ptgid = BPF_CORE_READ(task, real_parent, tgid);
	if (!bpf_map_lookup_elem(&seed_tgids, &tgid)) {
		/* children usually have higher pids, so one pass sees parents first */
		if (!bpf_map_lookup_elem(&seed_tgids, &ptgid))
			return 0;
		bpf_map_update_elem(&seed_tgids, &tgid, &one, BPF_ANY);
	}
	mark_task(task);
	return 0;
}

/* --cgroup: mark every task already in the cgroup */
SEC("iter/task")
int mark_cgroup(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (!task || !task_in_filter_cgroup(task))
		return 0;
	mark_task(task);
	return 0;
}

#endif /* CAPAUDIT_ITERATORS_BPF_H */

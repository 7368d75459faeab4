/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which tasks are traced (the per-task filter) and marking them: the tid
 * bitmap every hot program tests first, the task storage behind it, the
 * --cgroup filter and the tid set of kernels without task storage in cgroup
 * programs.
 */
#ifndef CAPAUDIT_FILTER_BPF_H
#define CAPAUDIT_FILTER_BPF_H

#define MAX_CGROUP_DEPTH 16

/*
 * Every thread id that was ever marked, one bit each (PID_MAX_LIMIT on 64-bit:
 * 512 KiB). Checked before the task-storage lookup, so an untraced task's
 * check costs one helper call (current task) instead of two. A set bit only
 * means "look at the task storage": a bit left by an exited thread is
 * cleared by the first untraced task that reuses its id, so exits need not
 * clear theirs (a thread exec'ing takes its leader's id, whose bit is still set).
 */
#define TID_WORDS (4194304 / 64)
__u64 traced_tids[TID_WORDS];

/* Only with facts_use_storage == 0: tids marked and not exited. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} traced_tid_set SEC(".maps");

static __always_inline bool tid_marked(__u32 tid)
{
	return traced_tids[(tid >> 6) & (TID_WORDS - 1)] & (1ull << (tid & 63));
}

static __always_inline void tid_mark(__u32 tid)
{
	__sync_fetch_and_or(&traced_tids[(tid >> 6) & (TID_WORDS - 1)], 1ull << (tid & 63));
}

static __always_inline void tid_unmark(__u32 tid)
{
	__sync_fetch_and_and(&traced_tids[(tid >> 6) & (TID_WORDS - 1)], ~(1ull << (tid & 63)));
}

static __always_inline bool task_in_filter_cgroup(struct task_struct *task)
{
	struct cgroup *cg;

	if (!filter_cgroup_id)
		return false;
	cg = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	for (int i = 0; i < MAX_CGROUP_DEPTH && cg; i++) {
		if (BPF_CORE_READ(cg, kn, id) == filter_cgroup_id)
			return true;
		/* `self` is the first member of struct cgroup */
		cg = (struct cgroup *)BPF_CORE_READ(cg, self.parent);
	}
	return false;
}

static __always_inline void light_fact_mark(__u32 tid)
{
	__u8 one = 1;

	if (bpf_map_update_elem(&traced_tid_set, &tid, &one, BPF_ANY))
		count(CAPAUDIT_CNT_TASK_MAP_FULL);
}

static __always_inline struct capaudit_task_state *mark_task(struct task_struct *task)
{
	struct capaudit_task_state *st;

	if (BPF_CORE_READ(task, tgid) == recorder_tgid)
		return NULL;
	st = bpf_task_storage_get(&tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st) {
		count(CAPAUDIT_CNT_TASK_MAP_FULL);
		return NULL;
	}
	st->flags |= CAPAUDIT_TASK_TRACED;
	/* after the storage exists: a set bit must never hide a traced task */
	tid_mark(task->pid);
	if (!facts_use_storage)
		light_fact_mark(task->pid);
	return st;
}

/*
 * The traced state of TASK; in --cgroup mode, tasks found in the cgroup get
 * marked lazily. IS_CURRENT (a constant at each caller): TASK is the current
 * task, and the program type has bpf_current_task_under_cgroup().
 */
static __always_inline struct capaudit_task_state *traced_state_of(struct task_struct *task, bool is_current)
{
	struct capaudit_task_state *st;
	bool in;

	if (tid_marked(task->pid)) {
		st = bpf_task_storage_get(&tasks, task, 0, 0);
		if (st)
			return st;
		/* An exited traced thread's id, reused: forget the bit, unless
		 * this task got marked (-p iterator) between the lookup and the clear. */
		tid_unmark(task->pid);
		st = bpf_task_storage_get(&tasks, task, 0, 0);
		if (st) {
			tid_mark(task->pid);
			return st;
		}
	}
	if (!filter_cgroup_id)
		return NULL;
	/* a late joiner of the cgroup: no bit yet */
	if (is_current)
		in = bpf_current_task_under_cgroup(&filter_cgroup, 0) == 1;
	else
		in = task_in_filter_cgroup(task);
	return in ? mark_task(task) : NULL;
}

static __always_inline struct capaudit_task_state *traced_state(struct task_struct *task)
{
	return traced_state_of(task, false);
}

/* For tracing programs, whose TASK is the current task. */
static __always_inline struct capaudit_task_state *traced_current(struct task_struct *task)
{
	return traced_state_of(task, true);
}

#endif /* CAPAUDIT_FILTER_BPF_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The per-check path every capability hook ends in: the syscall number, the
 * event, the stack budget, a sampled check's stack and context, or else the
 * task's batch.
 */
#ifndef CAPAUDIT_CHECK_BPF_H
#define CAPAUDIT_CHECK_BPF_H

#define PF_KTHREAD 0x00200000

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct capaudit_cap_event);
} cap_scratch SEC(".maps");

/* Direct loads through BTF pointers (no probe_read helper calls): this runs per check. */
static __always_inline __s32 syscall_nr_of(struct task_struct *task)
{
	struct pt_regs *regs;
	long nr;

	if (task->flags & PF_KTHREAD)
		return -1;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	nr = regs->orig_ax;
	return nr < 0 ? -1 : (__s32)nr;
}

/* 6.2+; tp_btf needs 6.14, so only the tracepoint's program uses it. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/*
 * The same without the helper call: a task's registers sit at a fixed place
 * on its kernel stack for its whole life, so their address is taken once and
 * then read through a cast (inlined by the verifier).
 */
static __always_inline __s32 syscall_nr_cached(struct task_struct *task, struct capaudit_task_state *st)
{
	struct pt_regs *regs;
	long nr;

	if (task->flags & PF_KTHREAD)
		return -1;
	if (!st->regs_addr)
		st->regs_addr = (__u64)bpf_task_pt_regs(task);
	regs = bpf_rdonly_cast((void *)st->regs_addr, bpf_core_type_id_kernel(struct pt_regs));
	nr = regs->orig_ax;
	return nr < 0 ? -1 : (__s32)nr;
}

static __always_inline void fill_cap_untimed(struct capaudit_cap_event *e, __u32 size, struct task_struct *task,
					     int cap, __s32 nr, __u32 opts, bool has_opts, bool granted, __u64 inum,
					     __u32 cred_flags, __u32 euid)
{
	e->hdr.type = CAPAUDIT_EV_CAP;
	e->hdr.pid = task->tgid;
	e->hdr.tid = task->pid;
	e->hdr.size = size;
	e->cap = cap;
	e->syscall_nr = nr;
	e->opts = opts & ~CAPAUDIT_OPTS_SYNTHESIZED;
	e->flags = (granted ? CAPAUDIT_CAP_GRANTED : 0) | (has_opts ? CAPAUDIT_CAP_HAS_OPTS : 0) |
		   (opts & CAPAUDIT_OPTS_SYNTHESIZED ? CAPAUDIT_CAP_SYNTHESIZED : 0) | cred_flags;
	e->target_userns_inum = inum;
	e->checked_euid = euid;
}

static __always_inline void fill_cap(struct capaudit_cap_event *e, __u32 size, struct task_struct *task, int cap,
				     __s32 nr, __u32 opts, bool has_opts, bool granted, __u64 inum, __u32 cred_flags,
				     __u32 euid)
{
	fill_cap_untimed(e, size, task, cap, nr, opts, has_opts, granted, inum, cred_flags, euid);
	e->hdr.time_ns = bpf_ktime_get_boot_ns();
}

/* E repeats PREV: the same check by the same task (the caller checks the task). */
static __always_inline bool same_check(const struct capaudit_cap_event *e, const struct capaudit_cap_event *prev)
{
	return e->cap == prev->cap && e->syscall_nr == prev->syscall_nr && e->opts == prev->opts &&
	       e->target_userns_inum == prev->target_userns_inum && e->checked_euid == prev->checked_euid &&
	       (e->flags & ~CAPAUDIT_CAP_UNTIMED) == (prev->flags & ~CAPAUDIT_CAP_UNTIMED);
}

/* The per-check path. TASK is current, ST its traced state, NR the syscall. */
static __always_inline int handle_check_nr(void *ctx, struct task_struct *task, struct capaudit_task_state *st,
					   __u64 inum, int cap, __u32 opts, bool has_opts, int ret, __s32 nr,
					   __u32 cred_flags, __u32 euid)
{
	struct capaudit_budget_slot *slot;
	struct capaudit_cap_event *e;
	bool granted = ret == 0, take;
	__u32 zero = 0, i;
	__u64 jiffies;
	long n;

	/* Every helper call counts here (each is a call and a mitigated return):
	 * ids come from direct loads, and checks leave in batches. */
	check_cred(task, st);
	if (!granted && nr >= 0 && outcomes_live) {
		st->flags = (st->flags & 0xffff) | CAPAUDIT_TASK_PENDING_OUTCOME | (outcomes_live << 16);
		st->pending_nr = nr;
	}

	take = take_stack_budget(st, cap, nr, granted, &slot);
	if (!take && slot && paths_per_key) {
		/* past the budget: is this path new to the key? (capaudit.h, "Stack budget") */
		__u32 m = ++slot->past;

		if (m <= CAPAUDIT_FREE_WALKS || !(m & (m - 1))) {
			e = bpf_map_lookup_elem(&cap_scratch, &zero);
			if (!e)
				return 0;
			/* the checks skipped since the last compared one, counted here
			 * rather than each (a helper call per check): a lower bound */
			if (m > CAPAUDIT_FREE_WALKS)
				count_n(CAPAUDIT_CNT_PATHS_UNCHECKED,
					m - 1 - (m / 2 > CAPAUDIT_FREE_WALKS ? m / 2 : CAPAUDIT_FREE_WALKS));
			count(CAPAUDIT_CNT_PATH_WALKS);
			n = bpf_get_stack(ctx, e->stack, (CAPAUDIT_PATH_FRAMES + 1) * 8, 0);
			if (n > 8) {
				int r = note_path(slot, path_signature(e->stack, n));

				if (r > 0) {
					take = true;
					count(CAPAUDIT_CNT_NEW_PATHS);
				} else if (r < 0) {
					count(CAPAUDIT_CNT_PATHS_FULL);
				}
			}
		}
	}
	if (take) {
		flush_batch(st);
		e = bpf_map_lookup_elem(&cap_scratch, &zero);
		if (!e)
			return 0;
		n = bpf_get_stack(ctx, e->stack, sizeof(e->stack), 0);
		if (n < 0) {
			count(CAPAUDIT_CNT_STACK_FAIL);
			n = 0;
		}
		/* a sampled path is known to its key: later checks on it stay unsampled */
		if (slot && paths_per_key && n > 8)
			note_path(slot, path_signature(e->stack, n));
		fill_cap(e, sizeof(*e), task, cap, nr, opts, has_opts, granted, inum, cred_flags, euid);
		e->stack_bytes = n;
		if (nr >= 0) {
			fill_check_ctx(&e->ctx, task, st, nr);
			e->flags |= CAPAUDIT_CAP_HAS_CTX;
		}
		if (user_stacks && !(task->flags & PF_KTHREAD)) {
			fill_ustack(ctx, task, nr, &e->ustack);
			e->flags |= CAPAUDIT_CAP_HAS_USTACK;
			e->hdr.size = sizeof(*e);
			if (bpf_ringbuf_output(&events, e, sizeof(*e), wakeup_flag()))
				count(CAPAUDIT_CNT_RINGBUF_DROPS);
			return 0;
		}
		e->hdr.size = __builtin_offsetof(struct capaudit_cap_event, ustack);
		if (bpf_ringbuf_output(&events, e, __builtin_offsetof(struct capaudit_cap_event, ustack), wakeup_flag()))
			count(CAPAUDIT_CNT_RINGBUF_DROPS);
		return 0;
	}

	st->batch_busy = 1;
	i = st->batch_n;
	if (i >= CAPAUDIT_BATCH_CHECKS) /* never: a full batch leaves at once */
		i = 0;
	e = (struct capaudit_cap_event *)st->batch[i];
	fill_cap_untimed(e, CAPAUDIT_CAP_SMALL_SIZE, task, cap, nr, opts, has_opts, granted, inum, cred_flags, euid);
	e->stack_bytes = 0;
	if (stacks_per_key)
		e->flags |= CAPAUDIT_CAP_UNSAMPLED;
	jiffies = bpf_jiffies64();
	/* The clock is the dearest part of a check: a repeat of the previous one
	 * in the same tick goes without. The last of a batch is always timed. */
	if (i > 0 && i + 1 < CAPAUDIT_BATCH_CHECKS && granted && jiffies == st->batch_jiffies &&
	    same_check(e, (struct capaudit_cap_event *)st->batch[(i - 1) & (CAPAUDIT_BATCH_CHECKS - 1)])) {
		e->flags |= CAPAUDIT_CAP_UNTIMED;
		e->hdr.time_ns = 0;
	} else {
		e->hdr.time_ns = bpf_ktime_get_boot_ns();
	}
	if (i == 0)
		st->batch_jiffies = jiffies;
	st->batch_n = i + 1;
	/* A denial leaves at once: the recorder starts tracking outcomes on it.
	 * A slow trickle of checks leaves within a second of the batch's first. */
	if (i + 1 == CAPAUDIT_BATCH_CHECKS || !granted ||
	    (e->hdr.time_ns &&
	     e->hdr.time_ns - ((struct capaudit_cap_event *)st->batch[0])->hdr.time_ns > 1000000000ull))
		flush_batch(st);
	st->batch_busy = 0;
	return 0;
}

static __always_inline int handle_check(void *ctx, struct task_struct *task, struct capaudit_task_state *st,
					__u64 inum, int cap, __u32 opts, bool has_opts, int ret, __u32 cred_flags,
					__u32 euid)
{
	return handle_check_nr(ctx, task, st, inum, cap, opts, has_opts, ret, syscall_nr_of(task), cred_flags, euid);
}

#endif /* CAPAUDIT_CHECK_BPF_H */

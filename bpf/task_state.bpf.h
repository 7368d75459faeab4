/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * BPF-private state: what a traced task carries between programs (its filter
 * flags, kprobe stash, batched checks, stack budget, credentials) and the
 * task-storage map that holds it. Never crosses to user space, so it can
 * change without touching the ABI (capaudit.h) or its version.
 */
#ifndef CAPAUDIT_TASK_STATE_BPF_H
#define CAPAUDIT_TASK_STATE_BPF_H

/* BPF-internal: rides on handle_check()'s opts argument (no kernel uses bit
 * 31) so a synthesized check takes the same path as a real one; fill_cap()
 * turns it into CAPAUDIT_CAP_SYNTHESIZED. */
#define CAPAUDIT_OPTS_SYNTHESIZED 0x80000000u

/* Values of task_state.flags */
#define CAPAUDIT_TASK_TRACED 0x1
#define CAPAUDIT_TASK_PENDING_OUTCOME 0x2
#define CAPAUDIT_TASK_KPROBE_STASH 0x8
#define CAPAUDIT_TASK_CRED_KNOWN 0x10 /* task_state.cred holds the last credentials seen */

/* The stack budget (capaudit.h, "Stack budget"): a 2-way hashed table of
 * CAPAUDIT_BUDGET_SLOTS keys in the task's own storage, one slot each. */
#define CAPAUDIT_BUDGET_SLOTS 32
struct capaudit_budget_slot {
	__u32 key; /* 0 = empty */
	__u32 count;
	__u32 sig[CAPAUDIT_PATH_SIGS]; /* signatures of the paths captured; 0 = free */
	__u32 past;                    /* checks past the budget */
	__u32 pad;
};

/* Per-task filter and scratch state (BPF_MAP_TYPE_TASK_STORAGE). */
struct capaudit_task_state {
	__u32 flags;
	__s32 pending_nr;
	/* kprobe entry stash, consumed by the kretprobe */
	__s32 kp_cap;
	__u32 kp_opts;
	__u64 kp_targ_ns; /* struct user_namespace *, read at the kretprobe */
	__u32 kp_cred_flags; /* CAPAUDIT_CAP_CRED_* of the stashed check */
	__u32 kp_euid;
	__u64 cred_ptr;   /* task->real_cred when `cred` was taken */
	__u32 batch_n;    /* checks waiting in batch[], oldest first */
	__u32 batch_busy; /* an append is under way: sched_switch must not flush (fexit is preemptible) */
	__u64 batch_jiffies;  /* jiffies at batch[0] (always timed): repeats in the same tick skip the clock */
	__u64 regs_addr;      /* the task's struct pt_regs, once looked up (tp_btf only) */
	struct capaudit_cred_state cred;
	struct capaudit_budget_slot budget[CAPAUDIT_BUDGET_SLOTS];
	/* fallback: the commoncap.c caller (CAPAUDIT_INL_*, 0: none) this task
	 * is inside, whether the cap_capable hook saw its check, and its argument */
	__u32 inl_caller;
	__u32 inl_seen;
	__u64 inl_arg;
	__u64 batch[CAPAUDIT_BATCH_CHECKS][CAPAUDIT_CAP_SMALL_SIZE / 8];
};

/* Callers of cap_capable() that GCC inlines it into (task_state.inl_caller) */
#define CAPAUDIT_INL_CAPSET 1
#define CAPAUDIT_INL_MMAP_ADDR 2
#define CAPAUDIT_INL_VM_ENOUGH_MEMORY 3

/* A traced task's state, created when it is marked (mark_task()). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct capaudit_task_state);
} tasks SEC(".maps");

#endif /* CAPAUDIT_TASK_STATE_BPF_H */

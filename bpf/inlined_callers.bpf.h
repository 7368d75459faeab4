/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The fallback for callers that inline cap_capable() (fexit/kprobe hooks
 * only), in one place: the entry and exit programs on each caller, and
 * note_inner_check(), which the cap_capable hooks in cap_hooks.bpf.h call.
 */
#ifndef CAPAUDIT_INLINED_CALLERS_BPF_H
#define CAPAUDIT_INLINED_CALLERS_BPF_H

/*
 * GCC inlines cap_capable() into its callers in security/commoncap.c on
 * Debian's 6.1 and 6.12 kernels, so a hook on the out-of-line function never
 * sees the checks cap_capset() (SETPCAP), cap_mmap_addr() (SYS_RAWIO) and
 * cap_vm_enough_memory() (SYS_ADMIN) make. Those callers are LSM hooks, called
 * through the hook list, so they stay real functions: the entry probe notes
 * "inside caller X", the cap_capable hook notes when it saw X's check itself
 * (a kernel that did not inline it), and the exit probe rebuilds the check the
 * inlined copy made only if it was not seen. Loaded only with fexit/kprobe:
 * the tracepoint fires inside every inlined copy.
 */

#define PROC_USER_INIT_INO 0xEFFFFFFDU /* init_user_ns.ns.inum, fixed since 3.8 */
#define CAP_OPT_NONE 0
#define CAP_OPT_NOAUDIT 2
#define EPERM 1

#define CAP_SYS_RAWIO 17
#define CAP_SYS_ADMIN 21
#define CAP_SETPCAP 8

static __always_inline int inlined_caller_cap(__u32 caller)
{
	switch (caller) {
	case CAPAUDIT_INL_CAPSET: return CAP_SETPCAP;
	case CAPAUDIT_INL_MMAP_ADDR: return CAP_SYS_RAWIO;
	case CAPAUDIT_INL_VM_ENOUGH_MEMORY: return CAP_SYS_ADMIN;
	}
	return -1;
}

/* The cap_capable hook saw the caller's own check: the kernel did not inline it. */
static __always_inline void note_inner_check(struct capaudit_task_state *st, int cap)
{
	if (st->inl_caller && cap == inlined_caller_cap(st->inl_caller))
		st->inl_seen = 1;
}

/* vm.mmap_min_addr now: the kernel's own variable (kallsyms) when libbpf found
 * it, else the recorder's reading at start (mmap_min_addr_at_start). */
static __always_inline __u64 current_mmap_min_addr(void)
{
	__u64 v = mmap_min_addr_at_start;

	if (&dac_mmap_min_addr)
		bpf_probe_read_kernel(&v, sizeof(v), &dac_mmap_min_addr);
	return v;
}

static __always_inline int inlined_caller_enter(__u32 caller, __u64 arg)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct capaudit_task_state *st = traced_current(task);

	if (!st)
		return 0;
	st->inl_caller = caller;
	st->inl_seen = 0;
	st->inl_arg = arg;
	return 0;
}

/* RET is the caller's return value. Computes the verdict the way cap_capable() did. */
static __always_inline int inlined_caller_exit(void *ctx, __u32 caller, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct capaudit_task_state *st = bpf_task_storage_get(&tasks, task, 0, 0);
	const struct cred *cred;
	__u64 inum = PROC_USER_INIT_INO;
	__u32 opts = CAP_OPT_NONE;
	int cap = inlined_caller_cap(caller);
	bool granted;

	if (!st || st->inl_caller != caller)
		return 0;
	st->inl_caller = 0;
	if (st->inl_seen)
		return 0;
	cred = task->cred;
	switch (caller) {
	case CAPAUDIT_INL_CAPSET:
		/* cap_inh_is_capped(): against the task's own user ns, where
		 * cap_capable() answers from the effective set alone */
		inum = BPF_CORE_READ(cred, user_ns, ns.inum);
		granted = (cap_of(&cred->cap_effective) >> CAP_SETPCAP) & 1;
		break;
	case CAPAUDIT_INL_MMAP_ADDR:
		/* only cap_capable() makes it fail; it runs only below the limit */
		if (ret == 0 && st->inl_arg >= current_mmap_min_addr())
			return 0;
		granted = ret == 0;
		break;
	case CAPAUDIT_INL_VM_ENOUGH_MEMORY:
		/* Its return value changed meaning between 6.1 (1: granted) and
		 * 6.12 (0: granted), the rule did not: against init_user_ns,
		 * cap_capable() grants only a task of that namespace with the
		 * capability effective. */
		opts = CAP_OPT_NOAUDIT;
		granted = BPF_CORE_READ(cred, user_ns, ns.inum) == PROC_USER_INIT_INO &&
			  ((cap_of(&cred->cap_effective) >> CAP_SYS_ADMIN) & 1);
		break;
	default:
		return 0;
	}
	count(CAPAUDIT_CNT_SYNTHESIZED);
	/* rebuilt from the task's own credentials (task->cred) */
	return handle_check(ctx, task, st, inum, cap, opts | CAPAUDIT_OPTS_SYNTHESIZED, true, granted ? 0 : -EPERM, 0, 0);
}

SEC("fentry/cap_capset")
int BPF_PROG(fentry_cap_capset)
{
	return inlined_caller_enter(CAPAUDIT_INL_CAPSET, 0);
}

SEC("fexit/cap_capset")
int BPF_PROG(fexit_cap_capset, struct cred *new, const struct cred *old, const kernel_cap_t *effective,
	     const kernel_cap_t *inheritable, const kernel_cap_t *permitted, int ret)
{
	return inlined_caller_exit(ctx, CAPAUDIT_INL_CAPSET, ret);
}

SEC("fentry/cap_mmap_addr")
int BPF_PROG(fentry_cap_mmap_addr, unsigned long addr)
{
	return inlined_caller_enter(CAPAUDIT_INL_MMAP_ADDR, addr);
}

SEC("fexit/cap_mmap_addr")
int BPF_PROG(fexit_cap_mmap_addr, unsigned long addr, int ret)
{
	return inlined_caller_exit(ctx, CAPAUDIT_INL_MMAP_ADDR, ret);
}

SEC("fentry/cap_vm_enough_memory")
int BPF_PROG(fentry_cap_vm_enough_memory)
{
	return inlined_caller_enter(CAPAUDIT_INL_VM_ENOUGH_MEMORY, 0);
}

SEC("fexit/cap_vm_enough_memory")
int BPF_PROG(fexit_cap_vm_enough_memory, struct mm_struct *mm, long pages, int ret)
{
	return inlined_caller_exit(ctx, CAPAUDIT_INL_VM_ENOUGH_MEMORY, ret);
}

SEC("kprobe/cap_capset")
int BPF_KPROBE(kprobe_cap_capset)
{
	return inlined_caller_enter(CAPAUDIT_INL_CAPSET, 0);
}

SEC("kretprobe/cap_capset")
int BPF_KRETPROBE(kretprobe_cap_capset, int ret)
{
	return inlined_caller_exit(ctx, CAPAUDIT_INL_CAPSET, ret);
}

SEC("kprobe/cap_mmap_addr")
int BPF_KPROBE(kprobe_cap_mmap_addr, unsigned long addr)
{
	return inlined_caller_enter(CAPAUDIT_INL_MMAP_ADDR, addr);
}

SEC("kretprobe/cap_mmap_addr")
int BPF_KRETPROBE(kretprobe_cap_mmap_addr, int ret)
{
	return inlined_caller_exit(ctx, CAPAUDIT_INL_MMAP_ADDR, ret);
}

SEC("kprobe/cap_vm_enough_memory")
int BPF_KPROBE(kprobe_cap_vm_enough_memory)
{
	return inlined_caller_enter(CAPAUDIT_INL_VM_ENOUGH_MEMORY, 0);
}

SEC("kretprobe/cap_vm_enough_memory")
int BPF_KRETPROBE(kretprobe_cap_vm_enough_memory, int ret)
{
	return inlined_caller_exit(ctx, CAPAUDIT_INL_VM_ENOUGH_MEMORY, ret);
}

#endif /* CAPAUDIT_INLINED_CALLERS_BPF_H */

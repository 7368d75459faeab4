/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The user-space call path of a sampled check (capaudit_ustack).
 */
#ifndef CAPAUDIT_USER_STACK_BPF_H
#define CAPAUDIT_USER_STACK_BPF_H

#define VM_EXEC 0x00000004
#define EOPNOTSUPP 95

/*
 * The user stack of a sampled check, walked twice: raw addresses, then the
 * kernel's build ID + file offset for each (BPF_F_USER_BUILD_ID; a frame
 * whose file it cannot read comes back as status IP). The walk follows frame
 * pointers: in code built without them it ends early, and what it got is
 * what the trace says. Both helpers take the task's user registers when the
 * hook's own are kernel ones (kprobe, fexit, tp_btf alike).
 */
struct leaf_vma {
	__u64 start, end, pgoff;
	__u32 flags;
	__u32 pad;
};

static long leaf_vma_cb(struct task_struct *task, struct vm_area_struct *vma, struct leaf_vma *out)
{
	out->start = vma->vm_start;
	out->end = vma->vm_end;
	out->pgoff = vma->vm_pgoff << 12; /* PAGE_SHIFT on x86_64 */
	out->flags = CAPAUDIT_LEAF_VMA;
	if (vma->vm_flags & VM_EXEC)
		out->flags |= CAPAUDIT_LEAF_VMA_EXEC;
	if (vma->vm_file)
		out->flags |= CAPAUDIT_LEAF_VMA_FILE;
	return 0;
}

/*
 * The word at the user stack pointer the syscall was entered with. libc's
 * syscall wrappers are leaves that keep no frame pointer: the frame-pointer
 * walk goes from the wrapper to its caller's caller, and [sp] is the return
 * address into the caller it skipped. Recorded raw with the 8 bytes before
 * it and its mapping; whether it is a frame is the analyzer's decision.
 */
static __always_inline void fill_leaf(struct task_struct *task, struct capaudit_ustack *u)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct leaf_vma v = {};
	__u64 word = 0;

	u->leaf_word = u->leaf_code = u->leaf_vm_start = u->leaf_vm_end = u->leaf_vm_pgoff = 0;
	u->leaf_flags = 0;
	u->leaf_vma_err = -EOPNOTSUPP;
	if (bpf_probe_read_user(&word, sizeof(word), (void *)regs->sp))
		return;
	u->leaf_word = word;
	u->leaf_flags = CAPAUDIT_LEAF_READ;
	if (word >= 8 && !bpf_probe_read_user(&u->leaf_code, sizeof(u->leaf_code), (void *)(word - 8)))
		u->leaf_flags |= CAPAUDIT_LEAF_CODE;
	/* 5.17+; the verifier never sees the call on a kernel without it */
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_find_vma)) {
		u->leaf_vma_err = bpf_find_vma(task, word, leaf_vma_cb, &v, 0);
		if (!u->leaf_vma_err) {
			u->leaf_vm_start = v.start;
			u->leaf_vm_end = v.end;
			u->leaf_vm_pgoff = v.pgoff;
			u->leaf_flags |= v.flags;
		}
	}
}

static __always_inline void fill_ustack(void *ctx, struct task_struct *task, __s32 nr, struct capaudit_ustack *u)
{
	u->ip_bytes = bpf_get_stack(ctx, u->ip, sizeof(u->ip), BPF_F_USER_STACK);
	u->id_bytes = bpf_get_stack(ctx, u->id, sizeof(u->id), BPF_F_USER_STACK | BPF_F_USER_BUILD_ID);
	if (u->ip_bytes < 0 && u->id_bytes < 0)
		count(CAPAUDIT_CNT_USTACK_FAIL);
	if (nr >= 0) {
		fill_leaf(task, u);
	} else {
		u->leaf_flags = 0;
		u->leaf_vma_err = -EOPNOTSUPP;
	}
}

#endif /* CAPAUDIT_USER_STACK_BPF_H */

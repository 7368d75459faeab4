/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The capability hooks: one program per hook method on cap_capable(), all
 * ending in handle_check*() (check.bpf.h). The recorder loads exactly one.
 */
#ifndef CAPAUDIT_CAP_HOOKS_BPF_H
#define CAPAUDIT_CAP_HOOKS_BPF_H

/* ---- capability hooks: exactly one of these is loaded ---- */

SEC("tp_btf/cap_capable")
int BPF_PROG(tp_cap_capable, const struct cred *cred, struct user_namespace *targ_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct capaudit_task_state *st = traced_current(task);

	__u32 euid, cred_flags;

	if (!st)
		return 0;
	cred_flags = checked_cred_flags(cred, task, &euid);
	return handle_check_nr(ctx, task, st, targ_ns->ns.inum, cap, 0, false, ret, syscall_nr_cached(task, st),
			       cred_flags, euid);
}

SEC("fexit/cap_capable")
int BPF_PROG(fexit_cap_capable, const struct cred *cred, struct user_namespace *targ_ns, int cap,
	     unsigned int opts, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct capaudit_task_state *st = traced_current(task);

	__u32 euid, cred_flags;

	if (!st)
		return 0;
	note_inner_check(st, cap);
	cred_flags = checked_cred_flags(cred, task, &euid);
	return handle_check(ctx, task, st, targ_ns->ns.inum, cap, opts, true, ret, cred_flags, euid);
}

/* kprobe entry stashes the arguments; the kretprobe adds the verdict. */
SEC("kprobe/cap_capable")
int BPF_KPROBE(kprobe_cap_capable, const struct cred *cred, struct user_namespace *targ_ns, int cap,
	       unsigned int opts)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct capaudit_task_state *st = traced_current(task);

	if (!st)
		return 0;
	note_inner_check(st, cap);
	st->kp_cap = cap;
	st->kp_opts = opts;
	st->kp_targ_ns = (__u64)targ_ns;
	st->kp_cred_flags = checked_cred_flags(cred, task, &st->kp_euid);
	st->flags |= CAPAUDIT_TASK_KPROBE_STASH;
	return 0;
}

SEC("kretprobe/cap_capable")
int BPF_KRETPROBE(kretprobe_cap_capable, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct capaudit_task_state *st = bpf_task_storage_get(&tasks, task, 0, 0);
	struct user_namespace *ns;

	if (!st || !(st->flags & CAPAUDIT_TASK_KPROBE_STASH))
		return 0;
	st->flags &= ~CAPAUDIT_TASK_KPROBE_STASH;
	/* kprobe arguments are plain numbers to the verifier: read through the helper */
	ns = (struct user_namespace *)st->kp_targ_ns;
	return handle_check(ctx, task, st, BPF_CORE_READ(ns, ns.inum), st->kp_cap, st->kp_opts, true, ret,
			    st->kp_cred_flags, st->kp_euid);
}

#endif /* CAPAUDIT_CAP_HOOKS_BPF_H */

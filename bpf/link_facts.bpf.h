/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The link fact (--facts sys_exit, where the kernel allows fentry or
 * kprobes): what fs/namei.c may_linkat() decides fs.protected_hardlinks by,
 * read at its entry for traced tasks, whether or not a check follows.
 *
 * With fs.protected_hardlinks=0 may_linkat() returns before any check, and
 * at link()'s syscall exit the source inode is out of reach (no path walk in
 * BPF): only a probe on may_linkat() sees `link`, the source's path. Its
 * first parameter changed type (6.1: struct user_namespace *, 6.12: struct
 * mnt_idmap *) and is not read; the second, `const struct path *link`, is
 * the same in both.
 *
 * Raw, like every fact: the source inode's i_uid, i_gid and i_mode, the
 * caller's fsuid/fsgid (current_cred(), which inode_permission() and
 * inode_owner_or_capable() compare with) and whether the source's gid is
 * among the caller's supplementary groups (in_group_p()). The rules decide
 * (analyze/data/sysctl_rules.conf). Not read: POSIX ACLs, a filesystem's own
 * ->permission(), read-only or immutable sources, idmapped mounts (the ids
 * are the inode's, unmapped): docs/trace-format.md.
 *
 * Runs at every may_linkat() of the host once attached (a trampoline or a
 * kprobe on link() only, nothing on other syscalls); untraced tasks return
 * at the thread-id bit test. Included by capaudit.bpf.c after
 * fill_check_ctx(), check_cred() and flush_batch().
 */
#ifndef CAPAUDIT_LINK_FACTS_BPF_H
#define CAPAUDIT_LINK_FACTS_BPF_H

/* Supplementary groups compared with the source's gid; more: unknown. */
#define CAPAUDIT_LINK_GROUPS 32

static __always_inline __s64 gid_in_groups(const struct cred *cred, __u32 gid)
{
	struct group_info *gi = BPF_CORE_READ(cred, group_info);
	int n;

	if (!gi)
		return 0;
	n = BPF_CORE_READ(gi, ngroups);
	for (int i = 0; i < CAPAUDIT_LINK_GROUPS; i++) {
		kgid_t g;

		if (i >= n)
			return 0;
		if (bpf_core_read(&g, sizeof(g), &gi->gid[i]))
			return CAPAUDIT_STATE_UNSET;
		if (g.val == gid)
			return 1;
	}
	return CAPAUDIT_STATE_UNSET;
}

static __always_inline int link_fact(const struct path *link)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct capaudit_task_state *st = traced_current(task);
	struct capaudit_syscall_op_event *e;
	const struct cred *cred;
	struct inode *inode;
	__u32 gid;

	if (!st)
		return 0;
	check_cred(task, st); /* the fact carries the ids: keep any change before it */
	flush_batch(st);      /* and the checks made before it in this syscall */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(CAPAUDIT_CNT_RINGBUF_DROPS);
		return 0;
	}
	e->kind = CAPAUDIT_OP_LINK;
	e->syscall_nr = syscall_nr_of(task);
	e->ret = 0;
	e->a0 = 0;
	e->a1 = 0;
	fill_check_ctx(&e->ctx, task, st, e->syscall_nr);
	inode = BPF_CORE_READ(link, dentry, d_inode);
	cred = BPF_CORE_READ(task, cred);
	gid = BPF_CORE_READ(inode, i_gid.val);
	e->ctx.state[7] = BPF_CORE_READ(inode, i_uid.val);
	e->ctx.state[8] = gid;
	e->ctx.state[9] = BPF_CORE_READ(inode, i_mode);
	e->ctx.state[10] = BPF_CORE_READ(cred, fsuid.val);
	e->ctx.state[11] = BPF_CORE_READ(cred, fsgid.val);
	e->ctx.state[12] = gid_in_groups(cred, gid);
	fill_hdr(&e->hdr, CAPAUDIT_EV_SYSCALL_OP, sizeof(*e), task);
	bpf_ringbuf_submit(e, wakeup_flag());
	return 0;
}

SEC("fentry/may_linkat")
int BPF_PROG(fentry_may_linkat, void *idmap, const struct path *link)
{
	return link_fact(link);
}

SEC("kprobe/may_linkat")
int BPF_KPROBE(kprobe_may_linkat, void *idmap, const struct path *link)
{
	return link_fact(link);
}

#endif /* CAPAUDIT_LINK_FACTS_BPF_H */

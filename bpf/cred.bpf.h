/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Credentials: capability sets of either kernel_cap_t layout, the change of a
 * task's credentials between its events (CAPAUDIT_EV_CAPSET), and whose
 * credentials a check looked at.
 */
#ifndef CAPAUDIT_CRED_BPF_H
#define CAPAUDIT_CRED_BPF_H

/* kernel_cap_t before 6.3; CO-RE picks the layout the running kernel has. */
struct kernel_cap_struct___old {
	__u32 cap[2];
} __attribute__((preserve_access_index));

/*
 * Direct loads through the BTF pointer (no helper calls): this runs at every
 * check of a thread whose struct cred changed, which a setuid() loop does on
 * every call.
 */
static __always_inline __u64 cap_of(const kernel_cap_t *p)
{
	if (bpf_core_field_exists(p->val))
		return p->val;
	{
		const struct kernel_cap_struct___old *o = (const void *)p;

		return o->cap[0] | ((__u64)o->cap[1] << 32);
	}
}

static __always_inline void read_cred_state(const struct cred *c, struct capaudit_cred_state *out)
{
	out->effective = cap_of(&c->cap_effective);
	out->permitted = cap_of(&c->cap_permitted);
	out->inheritable = cap_of(&c->cap_inheritable);
	out->ambient = cap_of(&c->cap_ambient);
	out->uid = c->uid.val;
	out->euid = c->euid.val;
	out->gid = c->gid.val;
	out->egid = c->egid.val;
}

static __always_inline bool same_cred(const struct capaudit_cred_state *a, const struct capaudit_cred_state *b)
{
	return a->effective == b->effective && a->permitted == b->permitted && a->inheritable == b->inheritable &&
	       a->ambient == b->ambient && a->uid == b->uid && a->euid == b->euid && a->gid == b->gid &&
	       a->egid == b->egid;
}

/* Remembers TASK's current credentials without reporting them (exec, fork, first sight). */
static __always_inline void note_cred(struct task_struct *task, struct capaudit_task_state *st)
{
	const struct cred *c = task->real_cred;

	st->cred_ptr = (__u64)c;
	read_cred_state(c, &st->cred);
	st->flags |= CAPAUDIT_TASK_CRED_KNOWN;
}

/*
 * Reports a credential change (capset, setuid away from root, prctl, ...) of
 * TASK since it was last seen. Called before each of its checks, forks and its
 * exit, so the change lands after it happened and before any later check: the
 * order against checks is exact, the time is that of the next event.
 * commit_creds() always installs a new struct cred, so an unchanged pointer
 * means unchanged credentials; two changes between checks could in principle
 * reuse the old address, which can only hide a change, never invent one.
 */
static __always_inline void check_cred(struct task_struct *task, struct capaudit_task_state *st)
{
	const struct cred *c = task->real_cred;
	struct capaudit_capset_event *e;
	struct capaudit_cred_state now;

	if ((__u64)c == st->cred_ptr && (st->flags & CAPAUDIT_TASK_CRED_KNOWN))
		return;
	st->cred_ptr = (__u64)c;
	read_cred_state(c, &now);
	if (!(st->flags & CAPAUDIT_TASK_CRED_KNOWN)) {
		/* tasks marked by -p/--cgroup: the snapshot has their starting state */
		st->cred = now;
		st->flags |= CAPAUDIT_TASK_CRED_KNOWN;
		return;
	}
	if (same_cred(&now, &st->cred))
		return;
	st->cred = now;
	flush_batch(st);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(CAPAUDIT_CNT_RINGBUF_DROPS);
		return;
	}
	fill_hdr(&e->hdr, CAPAUDIT_EV_CAPSET, sizeof(*e), task);
	e->cred = now;
	bpf_ringbuf_submit(e, wakeup_flag());
}

/*
 * Whose credentials CRED (the hook's argument) are: 0 for the task's own,
 * else CAPAUDIT_CAP_CRED_* with *EUID set. One pointer compare on the hot
 * path; the reads happen only for an overridden cred. Reads go through the
 * helpers so the kprobe entry (plain-number arguments) can share it.
 */
static __always_inline __u32 checked_cred_flags(const struct cred *cred, struct task_struct *task, __u32 *euid)
{
	const struct cred *own = task->real_cred;
	kernel_cap_t a, b;

	*euid = 0;
	if (cred == own)
		return 0;
	*euid = BPF_CORE_READ(cred, euid.val);
	if (bpf_probe_read_kernel(&a, sizeof(a), &cred->cap_permitted) ||
	    bpf_probe_read_kernel(&b, sizeof(b), &own->cap_permitted))
		return CAPAUDIT_CAP_CRED_OVERRIDE | CAPAUDIT_CAP_CRED_FOREIGN;
	if (BPF_CORE_READ(cred, uid.val) != BPF_CORE_READ(own, uid.val) ||
	    BPF_CORE_READ(cred, user_ns) != BPF_CORE_READ(own, user_ns) || cap_of(&a) != cap_of(&b))
		return CAPAUDIT_CAP_CRED_OVERRIDE | CAPAUDIT_CAP_CRED_FOREIGN;
	return CAPAUDIT_CAP_CRED_OVERRIDE;
}

#endif /* CAPAUDIT_CRED_BPF_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Process lifecycle: fork, exec (with the executable's real path), exit.
 */
#ifndef CAPAUDIT_LIFECYCLE_BPF_H
#define CAPAUDIT_LIFECYCLE_BPF_H

/* ---- process lifecycle ---- */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	struct capaudit_task_state *st = traced_current(parent); /* the parent is current */
	struct capaudit_fork_event *e;
	struct capaudit_task_state *cst;

	if (!st)
		return 0;
	/* parent's pending change first: the child starts from the new credentials */
	check_cred(parent, st);
	cst = mark_task(child);
	if (!cst)
		return 0;
	cst->cred_ptr = 0; /* the child gets its own copy: only the content carries over */
	cst->cred = st->cred;
	cst->flags |= st->flags & CAPAUDIT_TASK_CRED_KNOWN;
	flush_batch(st);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(CAPAUDIT_CNT_RINGBUF_DROPS);
		return 0;
	}
	fill_hdr(&e->hdr, CAPAUDIT_EV_FORK, sizeof(*e), parent);
	e->child_pid = BPF_CORE_READ(child, tgid);
	e->child_tid = BPF_CORE_READ(child, pid);
	e->child_start_time_ns = BPF_CORE_READ(child, start_boottime);
	e->is_thread = e->child_pid == e->hdr.pid;
	e->pad = 0;
	bpf_ringbuf_submit(e, wakeup_flag());
	return 0;
}

/* Scratch for building a path backwards, one per CPU. */
struct path_scratch {
	char data[2 * CAPAUDIT_FILENAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_scratch);
} path_scratch SEC(".maps");

#define PATH_COMPONENTS 32

/*
 * A file's dentry that is its own parent without being its mount's root is
 * in no directory: a pseudo file (alloc_file_pseudo(), as memfd_create()
 * makes). d_path() names it as simple_dname() does, "/NAME (deleted)", and
 * so does this: runc 1.1 re-executes itself from a memfd named
 * "runc_cloned:/proc/self/exe", which the walk in real_path() called "/".
 */
static __always_inline long pseudo_name(struct dentry *d, char *out)
{
	static const char deleted[] = " (deleted)";
	const unsigned char *name = BPF_CORE_READ(d, d_name.name);
	long n;
	__u32 at;

	out[0] = '/';
	n = bpf_probe_read_kernel_str(out + 1, CAPAUDIT_FILENAME_LEN - sizeof(deleted), name);
	if (n <= 0)
		return -1;
	/*
	 * out[n] is the NUL. Bounded on the register that indexes: clang folds
	 * the two tests on n into one on a copy (n - 246), whose bounds the
	 * 6.1 verifier does not carry back to n ("R1 min value is negative").
	 */
	at = n & (CAPAUDIT_FILENAME_LEN - 1);
	barrier_var(at);
	if (at > CAPAUDIT_FILENAME_LEN - sizeof(deleted))
		return -1;
	if (bpf_probe_read_kernel(out + at, sizeof(deleted), deleted))
		return -1;
	return at + sizeof(deleted);
}

/*
 * The absolute path of FILE (d_path() as seen from the initial mount
 * namespace), into OUT. An exec through /proc/self/exe, /dev/fd/N or a
 * relative name names no file a config can use, and the recorder, having
 * dropped its capabilities, cannot read /proc/PID/exe of a privileged target.
 * Returns the length, or -1 when the path is deeper or longer than the buffer.
 */
static __always_inline long real_path(struct file *file, char *out)
{
	const __u32 len_mask = CAPAUDIT_FILENAME_LEN - 1;
	struct dentry *d = BPF_CORE_READ(file, f_path.dentry);
	struct vfsmount *vm = BPF_CORE_READ(file, f_path.mnt);
	struct mount *mnt = (void *)vm - bpf_core_field_offset(struct mount, mnt);
	struct path_scratch *buf;
	__u32 zero = 0, off = CAPAUDIT_FILENAME_LEN - 1;
	bool complete = false, detached = false;

	buf = bpf_map_lookup_elem(&path_scratch, &zero);
	if (!buf)
		return -1;
	buf->data[CAPAUDIT_FILENAME_LEN - 1] = 0;
	for (int i = 0; i < PATH_COMPONENTS; i++) {
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		struct qstr name;
		__u32 len;

		if (d == parent || (!detached && d == BPF_CORE_READ(vm, mnt_root))) {
			struct mount *up;

			if (i == 0 && d == parent && d != BPF_CORE_READ(vm, mnt_root))
				return pseudo_name(d, out);
			up = BPF_CORE_READ(mnt, mnt_parent);
			if (up != mnt && !detached) {
				d = BPF_CORE_READ(mnt, mnt_mountpoint);
				mnt = up;
				vm = (void *)up + bpf_core_field_offset(struct mount, mnt);
				continue;
			}
			if (d == parent || BPF_CORE_READ(mnt, mnt_ns)) {
				complete = true;
				break;
			}
			/*
			 * The root of a detached mount (lazily unmounted: no
			 * namespace) that is not its filesystem's root: d_path()
			 * says "/", which names nothing. runc 1.1 re-executes
			 * itself through such a read-only bind mount of its own
			 * binary (bindfd in cloned_binary.c). Name the file by
			 * its path within its filesystem instead.
			 */
			detached = true;
		}
		name = BPF_CORE_READ(d, d_name);
		len = name.len;
		if (len == 0 || len + 1 > off)
			return -1;
		off -= len + 1;
		off &= len_mask;
		len &= len_mask;
		if (bpf_probe_read_kernel(&buf->data[off + 1], len, name.name))
			return -1;
		buf->data[off] = '/';
		d = parent;
	}
	if (!complete)
		return -1;
	if (off == CAPAUDIT_FILENAME_LEN - 1) /* the root itself */
		buf->data[--off] = '/';
	return bpf_probe_read_kernel_str(out, CAPAUDIT_FILENAME_LEN, &buf->data[off & len_mask]);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct capaudit_task_state *st = bpf_task_storage_get(&tasks, p, 0, 0);
	struct capaudit_exec_event *e;
	const struct cred *cred;
	unsigned long arg_start, arg_end, len;
	__u32 tgid = BPF_CORE_READ(p, tgid);
	long n;

	if (!st) {
		if (bpf_map_lookup_elem(&pending_exec, &tgid)) {
			bpf_map_delete_elem(&pending_exec, &tgid);
			st = mark_task(p);
		} else if (filter_cgroup_id && task_in_filter_cgroup(p)) {
			st = mark_task(p);
		}
		if (!st)
			return 0;
	}
	/* a thread that is not the leader takes the leader's id in exec */
	tid_mark(p->pid);
	if (!facts_use_storage && old_pid != p->pid) {
		__u32 old = old_pid;

		bpf_map_delete_elem(&traced_tid_set, &old);
		light_fact_mark(p->pid);
	}
	/* the checks before the exec belong to the old image */
	flush_batch(st);
	/* the exec event carries the new sets; later changes are measured from them */
	note_cred(p, st);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(CAPAUDIT_CNT_RINGBUF_DROPS);
		return 0;
	}
	fill_hdr(&e->hdr, CAPAUDIT_EV_EXEC, sizeof(*e), p);
	e->old_tid = old_pid;
	/* exec installed one struct cred as both cred and real_cred: note_cred() read it */
	cred = p->cred;
	e->uid = st->cred.uid;
	e->gid = st->cred.gid;
	e->euid = st->cred.euid;
	e->egid = st->cred.egid;
	e->cap_effective = st->cred.effective;
	e->cap_permitted = st->cred.permitted;
	e->cap_inheritable = st->cred.inheritable;
	e->cap_bounding = cap_of(&cred->cap_bset);
	e->cap_ambient = st->cred.ambient;
	e->userns_inum = BPF_CORE_READ(cred, user_ns, ns.inum);
	e->netns_inum = BPF_CORE_READ(p, nsproxy, net_ns, ns.inum);
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->start_time_ns = BPF_CORE_READ(p, start_boottime);

	n = real_path(BPF_CORE_READ(bprm, file), e->filename);
	if (n < 0) /* too deep or long: the name as passed to execve() */
		n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	e->filename_truncated = n == sizeof(e->filename);
	if (n < 0)
		e->filename[0] = 0;

	arg_start = BPF_CORE_READ(p, mm, arg_start);
	arg_end = BPF_CORE_READ(p, mm, arg_end);
	len = arg_end > arg_start ? arg_end - arg_start : 0;
	e->args_truncated = len > CAPAUDIT_ARGS_LEN - 1;
	if (len > CAPAUDIT_ARGS_LEN - 1)
		len = CAPAUDIT_ARGS_LEN - 1;
	len &= CAPAUDIT_ARGS_LEN - 1;
	if (bpf_probe_read_user(e->args, len, (void *)arg_start))
		len = 0;
	e->args_len = len;
	if (e->args_truncated || e->filename_truncated)
		count(CAPAUDIT_CNT_STR_TRUNCATED);
	bpf_ringbuf_submit(e, wakeup_flag());
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	struct capaudit_task_state *st = bpf_task_storage_get(&tasks, p, 0, 0);
	struct capaudit_exit_event *e;

	if (!st)
		return 0;
	if (!facts_use_storage) {
		__u32 tid = p->pid;

		bpf_map_delete_elem(&traced_tid_set, &tid);
	}
	if (st->flags & CAPAUDIT_TASK_PENDING_OUTCOME)
		count(CAPAUDIT_CNT_OUTCOMES_MISSED);
	check_cred(p, st);
	flush_batch(st);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(CAPAUDIT_CNT_RINGBUF_DROPS);
		return 0;
	}
	fill_hdr(&e->hdr, CAPAUDIT_EV_EXIT, sizeof(*e), p);
	e->exit_code = BPF_CORE_READ(p, exit_code);
	/* do_exit() decrements signal->live before this tracepoint on every kernel we support */
	e->group_dead = BPF_CORE_READ(p, signal, live.counter) == 0;
	bpf_ringbuf_submit(e, wakeup_flag());
	return 0;
}

#endif /* CAPAUDIT_LIFECYCLE_BPF_H */

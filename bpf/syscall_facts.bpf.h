/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Operation facts at syscall exit (--facts sys_exit): the operations the
 * sysctl/rlimit rules name, recorded whether or not a capability check
 * happened, so that a trace recorded where a gate was open can be
 * re-evaluated toward a stricter profile ("predicted by rule").
 *
 * On kernels that refuse BPF LSM programs, fentry/fexit and kprobes (6.18
 * here), the syscall-exit tracepoint is the only hook that sees a syscall in
 * which no check happened, and attaching it slows every task of the host: so
 * this runs only where the recording already pays for on_sys_exit for its
 * facts (facts_in_sys_exit), never in a default recording.
 *
 * Raw, like the check context: the syscall's argument registers, the words
 * at its pointer argument and the kernel state slots, read by the same
 * fill_check_ctx() the capability hook uses, after the syscall. The filters
 * here only keep hot syscalls (mmap, fcntl, opens, prlimit64 as getrlimit)
 * from flooding the trace; what an operation needs is the rules' decision.
 * Left out: syscalls whose gate the kernel asks about on every call
 * (userfaultfd without UFFD_USER_MODE_ONLY: capable(CAP_SYS_PTRACE) before
 * the sysctl; mq_open with attributes), so a check is always in the trace,
 * and link()/linkat(), whose gate depends on who owns the source file,
 * which the registers at exit do not tell.
 *
 * Included by capaudit.bpf.c after fill_check_ctx(), check_cred() and
 * flush_batch(); on_sys_exit() calls syscall_fact().
 */
#ifndef CAPAUDIT_SYSCALL_FACTS_BPF_H
#define CAPAUDIT_SYSCALL_FACTS_BPF_H

/* The syscalls' numbers are the table's (bpf/syscall_nr.bpf.h); these are
 * constants of their arguments and of the files the rules know. */

#define CLONE_NEWUSER 0x10000000
#define F_SETPIPE_SZ 1031
#define PTRACE_ATTACH 16
#define PTRACE_SEIZE 0x4206
#define MAP_FIXED 0x10
#define MAP_FIXED_NOREPLACE 0x100000
#define S_IFCHR 0020000
#define S_IFREG 0100000
#define PROC_SUPER_MAGIC 0x9fa0
#define KMSG_RDEV ((1u << 20) | 11) /* MKDEV(1, 11) in the kernel's dev_t: /dev/kmsg */

/*
 * mmap() facts only for addresses below this: vm.mmap_min_addr is 4096 to
 * 65536 on every distribution, and the dynamic loader's MAP_FIXED mappings
 * of every library lie far above it.
 */
#define CAPAUDIT_MMAP_FACT_BELOW (1ull << 20)

/*
 * The operation kind of syscall NR at its exit (REGS: its arguments, RET:
 * its return value), 0 for none. Opens are sorted out by the file they
 * opened (open_sensitive_file()).
 */
static __always_inline __u32 syscall_fact_kind(__s32 nr, const struct pt_regs *regs, long ret)
{
	switch (nr) {
	case __NR_syslog:
		return CAPAUDIT_OP_SYSLOG;
	case __NR_setpriority:
		return CAPAUDIT_OP_SETPRIORITY;
	case __NR_sched_setparam:
	case __NR_sched_setscheduler:
	case __NR_sched_setattr:
		return CAPAUDIT_OP_SCHED_SETSCHEDULER;
	case __NR_mlock:
	case __NR_mlock2:
		return CAPAUDIT_OP_MLOCK;
	case __NR_setrlimit:
		return CAPAUDIT_OP_SETRLIMIT;
	case __NR_prlimit64: /* only with a new limit: glibc's getrlimit() is prlimit64 too */
		return regs->dx ? CAPAUDIT_OP_SETRLIMIT : 0;
	case __NR_perf_event_open:
		return CAPAUDIT_OP_PERF_EVENT_OPEN;
	case __NR_bpf:
		return CAPAUDIT_OP_BPF;
	case __NR_io_uring_setup:
		return CAPAUDIT_OP_IO_URING_SETUP;
	case __NR_unshare:
		return regs->di & CLONE_NEWUSER ? CAPAUDIT_OP_UNSHARE_USERNS : 0;
	case __NR_clone: /* the child returns from it too: the parent's exit only */
		return (regs->di & CLONE_NEWUSER) && ret != 0 ? CAPAUDIT_OP_UNSHARE_USERNS : 0;
	case __NR_clone3: /* its flags are in clone_args: decided once they are read */
		return ret != 0 ? CAPAUDIT_OP_UNSHARE_USERNS : 0;
	case __NR_ptrace:
		return regs->di == PTRACE_ATTACH || regs->di == PTRACE_SEIZE ? CAPAUDIT_OP_PTRACE_ATTACH : 0;
	case __NR_mmap:
		if (regs->di >= CAPAUDIT_MMAP_FACT_BELOW)
			return 0;
		return regs->di || (regs->r10 & (MAP_FIXED | MAP_FIXED_NOREPLACE)) ? CAPAUDIT_OP_MMAP_LOW : 0;
	case __NR_fcntl:
		return regs->si == F_SETPIPE_SZ ? CAPAUDIT_OP_SET_PIPE_SIZE : 0;
	case __NR_open:
	case __NR_openat:
	case __NR_openat2:
		return ret >= 0 ? CAPAUDIT_OP_OPEN_SENSITIVE : 0;
	}
	return 0;
}

/*
 * Which file FD of TASK is, when it is one the rules know: the kernel's own
 * object, not the name the program passed (a symlink, /proc/self/fd/N or a
 * bind mount name it just the same). 0: none of them. Every open of a traced
 * task passes here, so helper calls are few: the walk to the file table is
 * direct loads through the task's BTF pointer, and a file that is neither a
 * character device nor a regular file stops after its mode.
 */
static __always_inline __s64 open_sensitive_file(struct task_struct *task, long fd, __s64 *f_flags)
{
	struct fdtable *fdt = task->files->fdt;
	struct super_block *sb;
	struct file *file;
	struct inode *inode;
	struct dentry *d;
	__u64 name;
	umode_t mode;

	if (fd < 0 || fd >= fdt->max_fds)
		return 0;
	if (bpf_core_read(&file, sizeof(file), &fdt->fd[fd]) || !file)
		return 0;
	inode = BPF_CORE_READ(file, f_inode);
	mode = BPF_CORE_READ(inode, i_mode) & S_IFMT;
	if (mode == S_IFCHR) {
		if (BPF_CORE_READ(inode, i_rdev) != KMSG_RDEV)
			return 0;
		*f_flags = BPF_CORE_READ(file, f_flags);
		return CAPAUDIT_FILE_KMSG;
	}
	/* /proc/kallsyms: the regular file "kallsyms" in the root of a procfs */
	if (mode != S_IFREG)
		return 0;
	sb = BPF_CORE_READ(inode, i_sb);
	if (BPF_CORE_READ(sb, s_magic) != PROC_SUPER_MAGIC)
		return 0;
	d = BPF_CORE_READ(file, f_path.dentry);
	if (BPF_CORE_READ(d, d_name.len) != 8 || BPF_CORE_READ(d, d_parent) != BPF_CORE_READ(sb, s_root))
		return 0;
	if (bpf_probe_read_kernel(&name, sizeof(name), BPF_CORE_READ(d, d_name.name)))
		return 0;
	/* "kallsyms" as a little-endian word */
	if (name != 0x736d79736c6c616bull)
		return 0;
	*f_flags = BPF_CORE_READ(file, f_flags);
	return CAPAUDIT_FILE_KALLSYMS;
}

/* At the exit of syscall NR of traced TASK (ST): its operation fact, if it has one. */
static __always_inline void syscall_fact(struct task_struct *task, struct capaudit_task_state *st,
					 struct pt_regs *regs, __s32 nr, long ret)
{
	struct capaudit_syscall_op_event *e;
	__u32 kind = syscall_fact_kind(nr, regs, ret);
	__s64 a0 = 0, a1 = 0;

	if (!kind)
		return;
	if (kind == CAPAUDIT_OP_OPEN_SENSITIVE) {
		a0 = open_sensitive_file(task, ret, &a1);
		if (!a0)
			return;
	} else if (kind == CAPAUDIT_OP_PTRACE_ATTACH) {
		a0 = regs->si; /* target pid */
		a1 = regs->di; /* request */
	}
	check_cred(task, st); /* the fact carries the ids: keep any change before it */
	flush_batch(st);      /* and the checks made in this syscall */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(CAPAUDIT_CNT_RINGBUF_DROPS);
		return;
	}
	fill_check_ctx(&e->ctx, task, st, nr);
	if (nr == __NR_clone3 && (!e->ctx.user_words || !(e->ctx.user[0] & CLONE_NEWUSER))) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return;
	}
	fill_hdr(&e->hdr, CAPAUDIT_EV_SYSCALL_OP, sizeof(*e), task);
	e->kind = kind;
	e->syscall_nr = nr;
	e->ret = ret;
	e->a0 = a0;
	e->a1 = a1;
	bpf_ringbuf_submit(e, wakeup_flag());
}

#endif /* CAPAUDIT_SYSCALL_FACTS_BPF_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The context of a check: what a sysctl/rlimit rule compares with, read at
 * the check (capaudit_check_ctx).
 */
#ifndef CAPAUDIT_CHECK_CTX_BPF_H
#define CAPAUDIT_CHECK_CTX_BPF_H

#define RLIMIT_MEMLOCK 8
#define RLIMIT_NICE 13
#define RLIMIT_RTPRIO 14
#define RLIM_NLIMITS 16
extern const void dac_mmap_min_addr __ksym __weak;

/*
 * The argument of syscall NR that points at the struct its gate reads, or
 * -1. Syscall ABI, not interpretation: the words are
 * recorded raw and the analyzer's rules say what they mean.
 */
static __always_inline int ctx_pointer_arg(__s32 nr)
{
	switch (nr) {
	case __NR_bind:           /* sockaddr */
	case __NR_sched_setparam: /* sched_param */
	case __NR_setrlimit:      /* rlimit */
	case __NR_sched_setattr:  /* sched_attr */
	case __NR_bpf:            /* bpf_attr */
	case __NR_io_uring_setup: /* io_uring_params */
		return 1;
	case __NR_sched_setscheduler: /* sched_param */
	case __NR_prlimit64:          /* the new rlimit */
		return 2;
	case __NR_mq_open: /* mq_attr */
		return 3;
	case __NR_perf_event_open: /* perf_event_attr */
	case __NR_clone3:          /* clone_args */
		return 0;
	}
	return -1;
}

/* The netns value bind() compares a port with; UNSET without a namespace (exit). */
static __always_inline __s64 netns_port_start(struct net *net)
{
	return net ? (__s64)BPF_CORE_READ(net, ipv4.sysctl_ip_prot_sock) : CAPAUDIT_STATE_UNSET;
}

static __always_inline __s64 task_port_start(struct task_struct *task)
{
	struct nsproxy *nsp = task->nsproxy;

	return nsp ? netns_port_start(nsp->net_ns) : CAPAUDIT_STATE_UNSET;
}

/*
 * Fills C for a check of TASK (current) in syscall NR. Runs only for checks
 * that also take a stack (the budget bounds both), so its few helper calls
 * never reach a hot loop.
 */
static __always_inline void fill_check_ctx(struct capaudit_check_ctx *c, struct task_struct *task,
					   const struct capaudit_task_state *st, __s32 nr)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct signal_struct *sig = task->signal;
	struct mm_struct *mm = task->mm;
	long ptr = 0, res = -1;
	int pa = ctx_pointer_arg(nr);

	c->args[0] = regs->di;
	c->args[1] = regs->si;
	c->args[2] = regs->dx;
	c->args[3] = regs->r10;
	c->args[4] = regs->r8;
	c->args[5] = regs->r9;
	__builtin_memset(c->user, 0, sizeof(c->user));
	c->user_words = 0;
	c->euid = st->cred.euid; /* check_cred() brought it up to date */
	c->egid = st->cred.egid;
	c->pad = 0;
	if (pa == 0)
		ptr = regs->di;
	else if (pa == 1)
		ptr = regs->si;
	else if (pa == 2)
		ptr = regs->dx;
	else if (pa == 3)
		ptr = regs->r10;
	if (ptr && !bpf_probe_read_user(c->user, sizeof(c->user), (void *)ptr))
		c->user_words = CAPAUDIT_CTX_USER_WORDS;
	for (int i = 0; i < CAPAUDIT_CTX_STATE; i++)
		c->state[i] = CAPAUDIT_STATE_UNSET;
	if (mm)
		c->state[0] = mm->locked_vm;
	c->state[1] = sig->rlim[RLIMIT_MEMLOCK].rlim_cur;
	c->state[2] = sig->rlim[RLIMIT_RTPRIO].rlim_cur;
	c->state[3] = sig->rlim[RLIMIT_NICE].rlim_cur;
	if (nr == __NR_setrlimit) /* setrlimit(resource, ...) */
		res = regs->di;
	else if (nr == __NR_prlimit64) /* prlimit64(pid, resource, ...) */
		res = regs->si;
	if (res >= 0 && res < RLIM_NLIMITS) {
		__u64 hard;

		if (!bpf_probe_read_kernel(&hard, sizeof(hard), &sig->rlim[res & (RLIM_NLIMITS - 1)].rlim_max))
			c->state[4] = hard;
	}
	c->state[5] = mmap_min_addr_at_start;
	if (&dac_mmap_min_addr) {
		__u64 v;

		if (!bpf_probe_read_kernel(&v, sizeof(v), &dac_mmap_min_addr))
			c->state[5] = v;
	}
	c->state[6] = task_port_start(task);
}

#endif /* CAPAUDIT_CHECK_CTX_BPF_H */

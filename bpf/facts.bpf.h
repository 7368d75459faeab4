/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Sysctl-sensitive operation facts (bind ports, raw/ICMP sockets), read
 * whether or not a check happened: from cgroup programs on the root cgroup,
 * or at syscall exit (outcomes.bpf.h) where those cannot be attached.
 */
#ifndef CAPAUDIT_FACTS_BPF_H
#define CAPAUDIT_FACTS_BPF_H

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_INET 2
#define AF_INET6 10
#define AF_PACKET 17
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define IPPROTO_ICMP 1
#define IPPROTO_ICMPV6 58

static __always_inline void sock_type_proto(struct task_struct *task, long fd, __s64 *type, __s64 *proto,
					   __s64 *port_start)
{
	struct file **fds, *file;
	struct fdtable *fdt;
	struct socket *sock;
	unsigned int max;

	*type = -1;
	*proto = -1;
	fdt = BPF_CORE_READ(task, files, fdt);
	max = BPF_CORE_READ(fdt, max_fds);
	if (fd < 0 || fd >= max)
		return;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&file, sizeof(file), &fds[fd]) || !file)
		return;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return;
	sock = BPF_CORE_READ(file, private_data);
	*type = BPF_CORE_READ(sock, type);
	*proto = BPF_CORE_READ(sock, sk, sk_protocol);
	/* the socket's own namespace, which may not be the task's */
	*port_start = netns_port_start(BPF_CORE_READ(sock, sk, __sk_common.skc_net.net));
}

/*
 * Reads the operation facts of a finished bind()/socket() from the argument
 * registers, which pt_regs still holds at syscall exit (only ax changed).
 * Doing it here rather than at sys_enter means one program per syscall, not two.
 */
static __always_inline bool read_operation(struct task_struct *task, struct pt_regs *regs, long nr,
					   struct capaudit_op_event *e)
{
	if (nr == __NR_bind) {
		struct { __u16 family; __u16 port_be; } sa = {};

		if (bpf_probe_read_user(&sa, sizeof(sa), (void *)regs->si))
			return false;
		if (sa.family != AF_INET && sa.family != AF_INET6)
			return false;
		e->kind = CAPAUDIT_OP_BIND;
		e->a0 = sa.family;
		e->a1 = __builtin_bswap16(sa.port_be);
		e->port_start = CAPAUDIT_STATE_UNSET;
		sock_type_proto(task, regs->di, &e->a2, &e->a3, &e->port_start);
		return true;
	}
	if (nr == __NR_socket) {
		long family = regs->di, type = regs->si, proto = regs->dx;
		long base = type & 0xf;
		bool inet = family == AF_INET || family == AF_INET6;
		bool icmp = base == SOCK_DGRAM && (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6);

		if (!(family == AF_PACKET || (inet && (base == SOCK_RAW || icmp))))
			return false;
		e->kind = CAPAUDIT_OP_SOCKET;
		e->port_start = CAPAUDIT_STATE_UNSET;
		e->a0 = family;
		e->a1 = type;
		e->a2 = proto;
		e->a3 = 0;
		return true;
	}
	return false;
}

/* Completes an operation event whose kind and arguments are set, and submits it. */
static __always_inline void submit_op(struct task_struct *task, struct capaudit_op_event *e, __s32 nr, long ret,
				      bool has_ret)
{
	const struct cred *cred = task->real_cred;

	fill_hdr(&e->hdr, CAPAUDIT_EV_OP, sizeof(*e), task);
	e->syscall_nr = nr;
	e->uid = cred->euid.val;
	e->gid = cred->egid.val;
	e->ret = has_ret ? ret : 0;
	e->has_ret = has_ret;
	e->pad = 0;
	bpf_ringbuf_submit(e, wakeup_flag());
}

/*
 * ---- bind/socket facts from cgroup programs on the root cgroup ----
 * They run only inside bind() and socket() of inet sockets, so untraced tasks
 * pay nothing on other syscalls. bind4/6 run before the port check
 * (inet_bind_sk() before __inet_bind()), so a refused bind is seen too;
 * sock_create runs after inet_create()'s own checks, so a socket refused by
 * the kernel (no CAP_NET_RAW, outside ping_group_range) is not. They never
 * change a verdict: each returns 1 (allow).
 */
static __always_inline void emit_op(struct task_struct *task, __u32 kind, __s32 nr, __s64 a0, __s64 a1, __s64 a2,
				    __s64 a3)
{
	struct capaudit_op_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(CAPAUDIT_CNT_RINGBUF_DROPS);
		return;
	}
	e->kind = kind;
	e->a0 = a0;
	e->a1 = a1;
	e->a2 = a2;
	e->a3 = a3;
	/* cgroup hooks: the binding task's namespace (a socket passed in from
	 * another namespace would be misread; the sys_exit path reads the socket's) */
	e->port_start = kind == CAPAUDIT_OP_BIND ? task_port_start(task) : CAPAUDIT_STATE_UNSET;
	submit_op(task, e, nr, 0, false);
}

/*
 * Without task storage, whether TASK is traced comes from a hash set of the
 * tids marked and not yet exited; the bit alone could be a stale one. The
 * fact then goes out before any checks still batched for the task (they were
 * made earlier; the analyzer goes by time) and a credential change is
 * reported at the next check rather than before it (the fact has its own ids).
 */
static __always_inline bool light_fact_traced(struct task_struct *task)
{
	__u32 tid = task->pid;

	return tid_marked(tid) && bpf_map_lookup_elem(&traced_tid_set, &tid);
}

/* Sends a bind/socket fact of the current task, when it is traced. */
static __always_inline void emit_fact(__u32 kind, __s32 nr, __s64 a0, __s64 a1, __s64 a2, __s64 a3)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct capaudit_task_state *st;

	if (!facts_use_storage) {
		if (light_fact_traced(task))
			emit_op(task, kind, nr, a0, a1, a2, a3);
		return;
	}
	st = traced_state(task);
	if (!st)
		return;
	check_cred(task, st); /* the fact carries the ids: keep any change before it */
	flush_batch(st);
	emit_op(task, kind, nr, a0, a1, a2, a3);
}

static __always_inline int on_bind(struct bpf_sock_addr *ctx)
{
	emit_fact(CAPAUDIT_OP_BIND, __NR_bind, ctx->user_family, __builtin_bswap16((__u16)ctx->user_port), ctx->type,
		  ctx->protocol);
	return 1;
}

SEC("cgroup/bind4")
int facts_bind4(struct bpf_sock_addr *ctx)
{
	return on_bind(ctx);
}

SEC("cgroup/bind6")
int facts_bind6(struct bpf_sock_addr *ctx)
{
	return on_bind(ctx);
}

SEC("cgroup/sock_create")
int facts_sock_create(struct bpf_sock *sk)
{
	__u32 type = sk->type, proto = sk->protocol;
	bool icmp = type == SOCK_DGRAM && (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6);

	if (type == SOCK_RAW || icmp)
		emit_fact(CAPAUDIT_OP_SOCKET, __NR_socket, sk->family, type, proto, 0);
	return 1;
}

#endif /* CAPAUDIT_FACTS_BPF_H */

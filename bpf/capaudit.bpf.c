// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * capaudit kernel side: capability checks of traced tasks plus the process
 * lifecycle, denied-syscall outcomes, capset masks and sysctl-sensitive
 * operation facts, all streamed through one ring buffer.
 *
 * Cost model: on this kind of VM every helper call is a call plus a
 * mitigated return (25-90 ns), so they are counted. The hot programs start
 * with a bit test on the thread id (traced_tids) and untraced tasks return
 * right there; traced ones then look up their task storage. Checks without a
 * stack leave in per-task batches (one ring-buffer call per 16), and only the
 * first `stacks_per_key` checks per (task, cap, syscall, verdict) pay for a
 * kernel stack walk.
 *
 * The syscall-exit tracepoint is the one hook whose mere attachment costs
 * every task on the host (the kernel then sends all syscalls down its slow
 * path), so the recorder attaches it only when it must: bind/socket facts come
 * from cgroup programs, credential changes are noticed at the next check, and
 * denied-syscall outcomes are tracked from the first denial on by default.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "capaudit.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define PF_KTHREAD 0x00200000
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_INET 2
#define AF_INET6 10
#define AF_PACKET 17
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define IPPROTO_ICMP 1
#define IPPROTO_ICMPV6 58
/* x86_64 syscall numbers; the recorder only builds for x86_64 today. */
#define NR_SOCKET 41
#define NR_BIND 49
#define MAX_CGROUP_DEPTH 16
#define VM_EXEC 0x00000004
#define EOPNOTSUPP 95

const volatile __u32 abi_version = CAPAUDIT_BPF_ABI_VERSION;
const volatile __u32 recorder_tgid = 0;
const volatile __u32 stacks_per_key = 4;
const volatile __u32 paths_per_key = CAPAUDIT_PATH_SIGS; /* past the budget: new paths captured per key (0: none) */
const volatile __u32 user_stacks = 0;        /* also walk the user stack of a sampled check */
const volatile __u64 filter_cgroup_id = 0;   /* 0: no cgroup filter */
const volatile __u64 wakeup_bytes = 1 << 20; /* wake the consumer past this backlog */
/* 0 where the kernel refuses task storage in cgroup programs (6.1, 6.12): the
 * fact programs then know traced tasks by their tid in traced_tid_set. */
const volatile __u32 facts_use_storage = 1;

_Static_assert(__builtin_offsetof(struct capaudit_cap_event, stack) == CAPAUDIT_CAP_SMALL_SIZE,
	       "a check without a stack is the cap event up to its stack");

/* Set by the recorder after load: the facts and outcome paths it attached. */
__u32 facts_in_sys_exit = 0; /* bind/socket facts come from on_sys_exit, not cgroup programs */
__u32 outcomes_live = 0;     /* on_sys_exit is attached: denied checks await their outcome; the value
			      * is the outcome window's number (low 16 bits), kept with a pending flag */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct capaudit_task_state);
} tasks SEC(".maps");

/* Children the recorder forked and holds before exec: traced from their exec. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u8);
} pending_exec SEC(".maps");

/* Process ids (tgid) whose tasks the iterator marks (-p mode). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} seed_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CAPAUDIT_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct capaudit_cap_event);
} cap_scratch SEC(".maps");

/*
 * Every thread id that was ever marked, one bit each (PID_MAX_LIMIT on 64-bit:
 * 512 KiB). Checked before the task-storage lookup, so an untraced task's
 * check costs one helper call (current task) instead of two. A set bit only
 * means "look at the task storage": a bit left by an exited thread is
 * cleared by the first untraced task that reuses its id, so exits need not
 * clear theirs (a thread exec'ing takes its leader's id, whose bit is still set).
 */
#define TID_WORDS (4194304 / 64)
__u64 traced_tids[TID_WORDS];

/* Only with facts_use_storage == 0: tids marked and not exited. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} traced_tid_set SEC(".maps");

static __always_inline bool tid_marked(__u32 tid)
{
	return traced_tids[(tid >> 6) & (TID_WORDS - 1)] & (1ull << (tid & 63));
}

static __always_inline void tid_mark(__u32 tid)
{
	__sync_fetch_and_or(&traced_tids[(tid >> 6) & (TID_WORDS - 1)], 1ull << (tid & 63));
}

static __always_inline void tid_unmark(__u32 tid)
{
	__sync_fetch_and_and(&traced_tids[(tid >> 6) & (TID_WORDS - 1)], ~(1ull << (tid & 63)));
}

static __always_inline void count_n(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += n;
}

static __always_inline void count(__u32 idx)
{
	count_n(idx, 1);
}

/* Batch the consumer: no wake-up per event, only when a backlog builds up. */
static __always_inline __u64 wakeup_flag(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void fill_hdr(struct capaudit_event_hdr *h, __u32 type, __u32 size,
				     struct task_struct *task)
{
	h->type = type;
	h->pid = BPF_CORE_READ(task, tgid);
	h->tid = BPF_CORE_READ(task, pid);
	h->size = size;
	h->time_ns = bpf_ktime_get_boot_ns();
}

static __always_inline bool task_in_filter_cgroup(struct task_struct *task)
{
	struct cgroup *cg;

	if (!filter_cgroup_id)
		return false;
	cg = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	for (int i = 0; i < MAX_CGROUP_DEPTH && cg; i++) {
		if (BPF_CORE_READ(cg, kn, id) == filter_cgroup_id)
			return true;
		/* `self` is the first member of struct cgroup */
		cg = (struct cgroup *)BPF_CORE_READ(cg, self.parent);
	}
	return false;
}

static __always_inline void light_fact_mark(__u32 tid)
{
	__u8 one = 1;

	if (bpf_map_update_elem(&traced_tid_set, &tid, &one, BPF_ANY))
		count(CAPAUDIT_CNT_TASK_MAP_FULL);
}

static __always_inline struct capaudit_task_state *mark_task(struct task_struct *task)
{
	struct capaudit_task_state *st;

	if (BPF_CORE_READ(task, tgid) == recorder_tgid)
		return NULL;
	st = bpf_task_storage_get(&tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st) {
		count(CAPAUDIT_CNT_TASK_MAP_FULL);
		return NULL;
	}
	st->flags |= CAPAUDIT_TASK_TRACED;
	/* after the storage exists: a set bit must never hide a traced task */
	tid_mark(task->pid);
	if (!facts_use_storage)
		light_fact_mark(task->pid);
	return st;
}

/*
 * --cgroup: the filter cgroup, so that "is the current task in it?" is one
 * helper call (the kernel compares ancestors) rather than a walk up the
 * hierarchy in probe reads, which every untraced task on the host would pay
 * at each capability check.
 */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} filter_cgroup SEC(".maps");

/*
 * The traced state of TASK; in --cgroup mode, tasks found in the cgroup get
 * marked lazily. IS_CURRENT (a constant at each caller): TASK is the current
 * task, and the program type has bpf_current_task_under_cgroup().
 */
static __always_inline struct capaudit_task_state *traced_state_of(struct task_struct *task, bool is_current)
{
	struct capaudit_task_state *st;
	bool in;

	if (tid_marked(task->pid)) {
		st = bpf_task_storage_get(&tasks, task, 0, 0);
		if (st)
			return st;
		/* An exited traced thread's id, reused: forget the bit, unless
		 * this task got marked (-p iterator) between the lookup and the clear. */
		tid_unmark(task->pid);
		st = bpf_task_storage_get(&tasks, task, 0, 0);
		if (st) {
			tid_mark(task->pid);
			return st;
		}
	}
	if (!filter_cgroup_id)
		return NULL;
	/* a late joiner of the cgroup: no bit yet */
	if (is_current)
		in = bpf_current_task_under_cgroup(&filter_cgroup, 0) == 1;
	else
		in = task_in_filter_cgroup(task);
	return in ? mark_task(task) : NULL;
}

static __always_inline struct capaudit_task_state *traced_state(struct task_struct *task)
{
	return traced_state_of(task, false);
}

/* For tracing programs, whose TASK is the current task. */
static __always_inline struct capaudit_task_state *traced_current(struct task_struct *task)
{
	return traced_state_of(task, true);
}

/*
 * Sends the checks waiting in ST's batch. Called before any other event of
 * the task is sent, so a task's own events keep their order; the batch also
 * leaves when full, when the task leaves its CPU, and at the end of a
 * recording (drain_batches), so no check waits long.
 */
static __always_inline void flush_batch(struct capaudit_task_state *st)
{
	struct capaudit_cap_event *last;
	__u32 n = st->batch_n;

	if (!n)
		return;
	st->batch_n = 0;
	if (n > CAPAUDIT_BATCH_CHECKS)
		n = CAPAUDIT_BATCH_CHECKS;
	/* Untimed repeats that end the batch: the last of them carries now,
	 * the latest time any of them can have. */
	last = (struct capaudit_cap_event *)st->batch[(n - 1) & (CAPAUDIT_BATCH_CHECKS - 1)];
	if (last->flags & CAPAUDIT_CAP_UNTIMED)
		last->hdr.time_ns = bpf_ktime_get_boot_ns();
	if (bpf_ringbuf_output(&events, st->batch, n * CAPAUDIT_CAP_SMALL_SIZE, wakeup_flag()))
		count_n(CAPAUDIT_CNT_RINGBUF_DROPS, n);
}

/* Direct loads through BTF pointers (no probe_read helper calls): this runs per check. */
static __always_inline __s32 syscall_nr_of(struct task_struct *task)
{
	struct pt_regs *regs;
	long nr;

	if (task->flags & PF_KTHREAD)
		return -1;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	nr = regs->orig_ax;
	return nr < 0 ? -1 : (__s32)nr;
}

/* 6.2+; tp_btf needs 6.14, so only the tracepoint's program uses it. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/*
 * The same without the helper call: a task's registers sit at a fixed place
 * on its kernel stack for its whole life, so their address is taken once and
 * then read through a cast (inlined by the verifier).
 */
static __always_inline __s32 syscall_nr_cached(struct task_struct *task, struct capaudit_task_state *st)
{
	struct pt_regs *regs;
	long nr;

	if (task->flags & PF_KTHREAD)
		return -1;
	if (!st->regs_addr)
		st->regs_addr = (__u64)bpf_task_pt_regs(task);
	regs = bpf_rdonly_cast((void *)st->regs_addr, bpf_core_type_id_kernel(struct pt_regs));
	nr = regs->orig_ax;
	return nr < 0 ? -1 : (__s32)nr;
}

static __always_inline bool take_stack_budget(struct capaudit_task_state *st, int cap, __s32 nr, bool granted,
					      struct capaudit_budget_slot **slotp)
{
	__u32 key = ((__u32)cap & 0xff) | (((__u32)nr & 0x7fff) << 8) | ((__u32)granted << 23) | (1u << 24);
	__u32 a = (key * 2654435761u) >> 27;
	__u32 b = ((key ^ (key >> 7)) * 0x85ebca6bu) >> 27;
	struct capaudit_budget_slot *slot;

	*slotp = NULL;
	if (!stacks_per_key)
		return false;
	a &= CAPAUDIT_BUDGET_SLOTS - 1;
	b &= CAPAUDIT_BUDGET_SLOTS - 1;
	if (st->budget[a].key == key) {
		slot = &st->budget[a];
	} else if (st->budget[b].key == key) {
		slot = &st->budget[b];
	} else {
		/* prefer an empty slot, else evict the one that captured more */
		slot = !st->budget[a].key || (st->budget[b].key && st->budget[a].count >= st->budget[b].count)
			       ? &st->budget[a] : &st->budget[b];
		if (st->budget[b].key == 0)
			slot = &st->budget[b];
		if (st->budget[a].key == 0)
			slot = &st->budget[a];
		slot->key = key;
		slot->count = 1;
		for (int i = 0; i < CAPAUDIT_PATH_SIGS; i++)
			slot->sig[i] = 0;
		slot->past = 0;
		*slotp = slot;
		return true;
	}
	*slotp = slot;
	if (slot->count >= stacks_per_key)
		return false;
	slot->count++;
	return true;
}

/*
 * The path signature of a walk of BYTES into IPS: a hash of the frames after
 * the first (the BPF program's own call site, which differs between its walks).
 */
static __always_inline __u32 path_signature(const __u64 *ips, long bytes)
{
	__u64 h = 0x9e3779b97f4a7c15ull;
	long n = bytes / 8;
	__u32 sig;

	for (int i = 1; i <= CAPAUDIT_PATH_FRAMES; i++) {
		if (i >= n)
			break;
		h = (h ^ ips[i]) * 0xff51afd7ed558ccdull;
	}
	h ^= h >> 29;
	sig = (__u32)(h ^ (h >> 32));
	return sig ? sig : 1;
}

/* Remembers SIG in SLOT: 1 new (stored), 0 known, -1 new but the table is full. */
static __always_inline int note_path(struct capaudit_budget_slot *slot, __u32 sig)
{
	for (int i = 0; i < CAPAUDIT_PATH_SIGS; i++) {
		if (i >= paths_per_key)
			return -1;
		if (slot->sig[i] == sig)
			return 0;
		if (!slot->sig[i]) {
			slot->sig[i] = sig;
			return 1;
		}
	}
	return -1;
}

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

static __always_inline void fill_cap_untimed(struct capaudit_cap_event *e, __u32 size, struct task_struct *task,
					     int cap, __s32 nr, __u32 opts, bool has_opts, bool granted, __u64 inum,
					     __u32 cred_flags, __u32 euid)
{
	e->hdr.type = CAPAUDIT_EV_CAP;
	e->hdr.pid = task->tgid;
	e->hdr.tid = task->pid;
	e->hdr.size = size;
	e->cap = cap;
	e->syscall_nr = nr;
	e->opts = opts & ~CAPAUDIT_OPTS_SYNTHESIZED;
	e->flags = (granted ? CAPAUDIT_CAP_GRANTED : 0) | (has_opts ? CAPAUDIT_CAP_HAS_OPTS : 0) |
		   (opts & CAPAUDIT_OPTS_SYNTHESIZED ? CAPAUDIT_CAP_SYNTHESIZED : 0) | cred_flags;
	e->target_userns_inum = inum;
	e->checked_euid = euid;
}

static __always_inline void fill_cap(struct capaudit_cap_event *e, __u32 size, struct task_struct *task, int cap,
				     __s32 nr, __u32 opts, bool has_opts, bool granted, __u64 inum, __u32 cred_flags,
				     __u32 euid)
{
	fill_cap_untimed(e, size, task, cap, nr, opts, has_opts, granted, inum, cred_flags, euid);
	e->hdr.time_ns = bpf_ktime_get_boot_ns();
}

/* E repeats PREV: the same check by the same task (the caller checks the task). */
static __always_inline bool same_check(const struct capaudit_cap_event *e, const struct capaudit_cap_event *prev)
{
	return e->cap == prev->cap && e->syscall_nr == prev->syscall_nr && e->opts == prev->opts &&
	       e->target_userns_inum == prev->target_userns_inum && e->checked_euid == prev->checked_euid &&
	       (e->flags & ~CAPAUDIT_CAP_UNTIMED) == (prev->flags & ~CAPAUDIT_CAP_UNTIMED);
}

/* ---- check context: what a sysctl/rlimit rule compares with, read at the check ---- */

#define RLIMIT_MEMLOCK 8
#define RLIMIT_NICE 13
#define RLIMIT_RTPRIO 14
#define RLIM_NLIMITS 16
extern const void dac_mmap_min_addr __ksym __weak;
/* defined with the inlined-caller fallback below: the recorder's reading at
 * start, for kernels whose kallsyms lacks data symbols */
extern const volatile __u64 mmap_min_addr_at_start;

/*
 * The argument of syscall NR that points at the struct its gate reads
 * (x86_64 numbers), or -1. Syscall ABI, not interpretation: the words are
 * recorded raw and the analyzer's rules say what they mean.
 */
static __always_inline int ctx_pointer_arg(__s32 nr)
{
	switch (nr) {
	case 49:  /* bind: sockaddr */
	case 142: /* sched_setparam: sched_param */
	case 160: /* setrlimit: rlimit */
	case 314: /* sched_setattr: sched_attr */
	case 321: /* bpf: bpf_attr */
	case 425: /* io_uring_setup: io_uring_params */
		return 1;
	case 144: /* sched_setscheduler: sched_param */
	case 302: /* prlimit64: the new rlimit */
		return 2;
	case 240: /* mq_open: mq_attr */
		return 3;
	case 298: /* perf_event_open: perf_event_attr */
	case 435: /* clone3: clone_args */
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
	if (nr == 160) /* setrlimit(resource, ...) */
		res = regs->di;
	else if (nr == 302) /* prlimit64(pid, resource, ...) */
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

/* The per-check path. TASK is current, ST its traced state, NR the syscall. */
static __always_inline int handle_check_nr(void *ctx, struct task_struct *task, struct capaudit_task_state *st,
					   __u64 inum, int cap, __u32 opts, bool has_opts, int ret, __s32 nr,
					   __u32 cred_flags, __u32 euid)
{
	struct capaudit_budget_slot *slot;
	struct capaudit_cap_event *e;
	bool granted = ret == 0, take;
	__u32 zero = 0, i;
	__u64 jiffies;
	long n;

	/* Every helper call counts here (each is a call and a mitigated return):
	 * ids come from direct loads, and checks leave in batches. */
	check_cred(task, st);
	if (!granted && nr >= 0 && outcomes_live) {
		st->flags = (st->flags & 0xffff) | CAPAUDIT_TASK_PENDING_OUTCOME | (outcomes_live << 16);
		st->pending_nr = nr;
	}

	take = take_stack_budget(st, cap, nr, granted, &slot);
	if (!take && slot && paths_per_key) {
		/* past the budget: is this path new to the key? (capaudit.h, "Stack budget") */
		__u32 m = ++slot->past;

		if (m <= CAPAUDIT_FREE_WALKS || !(m & (m - 1))) {
			e = bpf_map_lookup_elem(&cap_scratch, &zero);
			if (!e)
				return 0;
			/* the checks skipped since the last compared one, counted here
			 * rather than each (a helper call per check): a lower bound */
			if (m > CAPAUDIT_FREE_WALKS)
				count_n(CAPAUDIT_CNT_PATHS_UNCHECKED,
					m - 1 - (m / 2 > CAPAUDIT_FREE_WALKS ? m / 2 : CAPAUDIT_FREE_WALKS));
			count(CAPAUDIT_CNT_PATH_WALKS);
			n = bpf_get_stack(ctx, e->stack, (CAPAUDIT_PATH_FRAMES + 1) * 8, 0);
			if (n > 8) {
				int r = note_path(slot, path_signature(e->stack, n));

				if (r > 0) {
					take = true;
					count(CAPAUDIT_CNT_NEW_PATHS);
				} else if (r < 0) {
					count(CAPAUDIT_CNT_PATHS_FULL);
				}
			}
		}
	}
	if (take) {
		flush_batch(st);
		e = bpf_map_lookup_elem(&cap_scratch, &zero);
		if (!e)
			return 0;
		n = bpf_get_stack(ctx, e->stack, sizeof(e->stack), 0);
		if (n < 0) {
			count(CAPAUDIT_CNT_STACK_FAIL);
			n = 0;
		}
		/* a sampled path is known to its key: later checks on it stay unsampled */
		if (slot && paths_per_key && n > 8)
			note_path(slot, path_signature(e->stack, n));
		fill_cap(e, sizeof(*e), task, cap, nr, opts, has_opts, granted, inum, cred_flags, euid);
		e->stack_bytes = n;
		if (nr >= 0) {
			fill_check_ctx(&e->ctx, task, st, nr);
			e->flags |= CAPAUDIT_CAP_HAS_CTX;
		}
		if (user_stacks && !(task->flags & PF_KTHREAD)) {
			fill_ustack(ctx, task, nr, &e->ustack);
			e->flags |= CAPAUDIT_CAP_HAS_USTACK;
			e->hdr.size = sizeof(*e);
			if (bpf_ringbuf_output(&events, e, sizeof(*e), wakeup_flag()))
				count(CAPAUDIT_CNT_RINGBUF_DROPS);
			return 0;
		}
		e->hdr.size = __builtin_offsetof(struct capaudit_cap_event, ustack);
		if (bpf_ringbuf_output(&events, e, __builtin_offsetof(struct capaudit_cap_event, ustack), wakeup_flag()))
			count(CAPAUDIT_CNT_RINGBUF_DROPS);
		return 0;
	}

	st->batch_busy = 1;
	i = st->batch_n;
	if (i >= CAPAUDIT_BATCH_CHECKS) /* never: a full batch leaves at once */
		i = 0;
	e = (struct capaudit_cap_event *)st->batch[i];
	fill_cap_untimed(e, CAPAUDIT_CAP_SMALL_SIZE, task, cap, nr, opts, has_opts, granted, inum, cred_flags, euid);
	e->stack_bytes = 0;
	if (stacks_per_key)
		e->flags |= CAPAUDIT_CAP_UNSAMPLED;
	jiffies = bpf_jiffies64();
	/* The clock is the dearest part of a check: a repeat of the previous one
	 * in the same tick goes without. The last of a batch is always timed. */
	if (i > 0 && i + 1 < CAPAUDIT_BATCH_CHECKS && granted && jiffies == st->batch_jiffies &&
	    same_check(e, (struct capaudit_cap_event *)st->batch[(i - 1) & (CAPAUDIT_BATCH_CHECKS - 1)])) {
		e->flags |= CAPAUDIT_CAP_UNTIMED;
		e->hdr.time_ns = 0;
	} else {
		e->hdr.time_ns = bpf_ktime_get_boot_ns();
	}
	if (i == 0)
		st->batch_jiffies = jiffies;
	st->batch_n = i + 1;
	/* A denial leaves at once: the recorder starts tracking outcomes on it.
	 * A slow trickle of checks leaves within a second of the batch's first. */
	if (i + 1 == CAPAUDIT_BATCH_CHECKS || !granted ||
	    (e->hdr.time_ns &&
	     e->hdr.time_ns - ((struct capaudit_cap_event *)st->batch[0])->hdr.time_ns > 1000000000ull))
		flush_batch(st);
	st->batch_busy = 0;
	return 0;
}

static __always_inline int handle_check(void *ctx, struct task_struct *task, struct capaudit_task_state *st,
					__u64 inum, int cap, __u32 opts, bool has_opts, int ret, __u32 cred_flags,
					__u32 euid)
{
	return handle_check_nr(ctx, task, st, inum, cap, opts, has_opts, ret, syscall_nr_of(task), cred_flags, euid);
}

/* ---- fallback: callers that inline cap_capable (used by the hooks below) ---- */

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

/*
 * A traced task leaving its CPU sends its waiting checks, so a task that
 * blocks (a server in accept()) never holds them back. Every task on the
 * host passes here: untraced ones stop at their tid bit, with no helper call.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev)
{
	struct capaudit_task_state *st;

	if (!tid_marked(prev->pid))
		return 0;
	st = bpf_task_storage_get(&tasks, prev, 0, 0);
	if (st && !st->batch_busy)
		flush_batch(st);
	return 0;
}

/* End of a recording, after the other programs are detached: what still waits. */
SEC("iter/task")
int drain_batches(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct capaudit_task_state *st;

	if (!task)
		return 0;
	st = bpf_task_storage_get(&tasks, task, 0, 0);
	if (st)
		flush_batch(st);
	return 0;
}

/* ---- syscall boundaries: the cheapest possible path for untraced tasks ---- */

#include "syscall_facts.bpf.h"

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
	if (nr == NR_BIND) {
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
	if (nr == NR_SOCKET) {
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
 * Attached for the whole recording only with --outcomes all or when the
 * cgroup programs could not be attached (facts_in_sys_exit); otherwise from
 * the first denied check on, so most recordings never slow the host down.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct capaudit_task_state *st;
	bool facts;
	__s32 nr;

	if (!tid_marked(task->pid))
		return 0;
	st = bpf_task_storage_get(&tasks, task, 0, 0);
	if (!st)
		return 0;
	nr = regs->orig_ax;
	if (facts_in_sys_exit)
		syscall_fact(task, st, regs, nr, ret);
	facts = facts_in_sys_exit && (nr == NR_BIND || nr == NR_SOCKET);
	if (!(st->flags & CAPAUDIT_TASK_PENDING_OUTCOME) && !facts)
		return 0;
	flush_batch(st);

	if (st->flags & CAPAUDIT_TASK_PENDING_OUTCOME) {
		struct capaudit_outcome_event *e;

		st->flags &= ~CAPAUDIT_TASK_PENDING_OUTCOME;
		/* a denial from before this program was attached (an earlier outcome
		 * window) belongs to an earlier syscall */
		if (st->pending_nr != nr || (st->flags >> 16) != (outcomes_live & 0xffff)) {
			count(CAPAUDIT_CNT_OUTCOMES_MISSED);
		} else if ((e = bpf_ringbuf_reserve(&events, sizeof(*e), 0))) {
			fill_hdr(&e->hdr, CAPAUDIT_EV_OUTCOME, sizeof(*e), task);
			e->syscall_nr = st->pending_nr;
			e->pad = 0;
			e->ret = ret;
			bpf_ringbuf_submit(e, wakeup_flag());
		} else {
			count(CAPAUDIT_CNT_RINGBUF_DROPS);
		}
	}
	if (facts) {
		struct capaudit_op_event *e;

		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			count(CAPAUDIT_CNT_RINGBUF_DROPS);
			return 0;
		}
		if (!read_operation(task, regs, nr, e)) {
			bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
			return 0;
		}
		submit_op(task, e, nr, ret, true);
	}
	return 0;
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
	emit_fact(CAPAUDIT_OP_BIND, NR_BIND, ctx->user_family, __builtin_bswap16((__u16)ctx->user_port), ctx->type,
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
		emit_fact(CAPAUDIT_OP_SOCKET, NR_SOCKET, sk->family, type, proto, 0);
	return 1;
}

/* ---- -p PID: mark an existing process tree ---- */

SEC("iter/task")
int mark_tree(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	__u32 tgid, ptgid;
	__u8 one = 1;

	if (!task)
		return 0;
	tgid = task->tgid;
	if (tgid == recorder_tgid)
		return 0;
	ptgid = BPF_CORE_READ(task, real_parent, tgid);
	if (!bpf_map_lookup_elem(&seed_tgids, &tgid)) {
		/* children usually have higher pids, so one pass sees parents first */
		if (!bpf_map_lookup_elem(&seed_tgids, &ptgid))
			return 0;
		bpf_map_update_elem(&seed_tgids, &tgid, &one, BPF_ANY);
	}
	mark_task(task);
	return 0;
}

/* --cgroup: mark every task already in the cgroup */
SEC("iter/task")
int mark_cgroup(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (!task || !task_in_filter_cgroup(task))
		return 0;
	mark_task(task);
	return 0;
}

/* ---- fallback: callers that inline cap_capable ---- */

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

/* vm.mmap_min_addr as the recorder read it at start; the kernel's own
 * variable (kallsyms) wins when libbpf finds it. */
const volatile __u64 mmap_min_addr_at_start = 65536;
extern const void dac_mmap_min_addr __ksym __weak;

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

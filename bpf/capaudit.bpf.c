// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * capaudit kernel side: capability checks of traced tasks plus the process
 * lifecycle, denied-syscall outcomes, capset masks and sysctl-sensitive
 * operation facts, all streamed through one ring buffer.
 *
 * One BPF object, one skeleton. This file holds the object's interface with
 * user space (the globals and maps the recorder sets or reads, listed in
 * capaudit.h, "The object's interface") and includes one *.bpf.h piece per
 * concern, in dependency order:
 *
 *   task_state.bpf.h      BPF-private per-task state and its task storage
 *   syscall_nr.bpf.h      syscall numbers of the build architecture
 *   events.bpf.h          loss counters, consumer wake-up, event header
 *   filter.bpf.h          which tasks are traced, marking them
 *   batch.bpf.h           checks leaving in batches (flush, sched_switch)
 *   cred.bpf.h            credential sets, changes, whose cred was checked
 *   stack_budget.bpf.h    which checks pay for a stack; call-path signatures
 *   check_ctx.bpf.h       what a sysctl/rlimit rule compares with, at the check
 *   user_stack.bpf.h      user-space call path of a sampled check
 *   check.bpf.h           the per-check path every capability hook ends in
 *   inlined_callers.bpf.h fallback for callers that inline cap_capable()
 *   cap_hooks.bpf.h       the cap_capable hooks (tp_btf, fexit, kprobe)
 *   lifecycle.bpf.h       fork, exec, exit
 *   facts.bpf.h           bind/socket facts (cgroup programs)
 *   syscall_facts.bpf.h   operations the rules name, at syscall exit (--facts sys_exit)
 *   link_facts.bpf.h      may_linkat()'s source and caller, at its entry (--facts sys_exit)
 *   outcomes.bpf.h        the syscall-exit program (outcomes, facts)
 *   iterators.bpf.h       task iterators (-p, --cgroup, draining batches)
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

/* ---- the interface with user space (capaudit.h) ---- */

/* rodata: the recorder sets these before load (abi_version it checks) */
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
/* vm.mmap_min_addr as the recorder read it at start; the kernel's own
 * variable (kallsyms) wins when libbpf finds it. */
const volatile __u64 mmap_min_addr_at_start = 65536;

/* Set by the recorder after load: the facts and outcome paths it attached. */
__u32 facts_in_sys_exit = 0; /* bind/socket facts come from on_sys_exit, not cgroup programs */
__u32 outcomes_live = 0;     /* on_sys_exit is attached: denied checks await their outcome; the value
			      * is the outcome window's number (low 16 bits), kept with a pending flag */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

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

/* ---- the pieces ---- */

#include "task_state.bpf.h"
#include "syscall_nr.bpf.h"
#include "events.bpf.h"
#include "filter.bpf.h"
#include "batch.bpf.h"
#include "cred.bpf.h"
#include "stack_budget.bpf.h"
#include "check_ctx.bpf.h"
#include "user_stack.bpf.h"
#include "check.bpf.h"
#include "inlined_callers.bpf.h"
#include "cap_hooks.bpf.h"
#include "lifecycle.bpf.h"
#include "facts.bpf.h"
#include "syscall_facts.bpf.h"
#include "link_facts.bpf.h"
#include "outcomes.bpf.h"
#include "iterators.bpf.h"

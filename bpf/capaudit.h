/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ABI between the BPF object (capaudit.bpf.c) and the recorder: only
 * what crosses the kernel/user boundary. Included by the BPF programs (with
 * vmlinux.h) and by record/ (with <linux/types.h>), so it uses kernel
 * fixed-width types only and pads every struct explicitly: the layout must be
 * identical for clang -target bpf and g++ x86_64. BPF-private state (the
 * per-task state, its flags, the stack-budget table) is in
 * bpf/task_state.bpf.h and changes without touching this file.
 *
 * The object's interface, by name through the skeleton (defined at the top
 * of capaudit.bpf.c):
 *   events        ring buffer: the records below (struct capaudit_*_event),
 *                 read by the recorder
 *   counters      per-CPU __u64[CAPAUDIT_CNT_MAX] (enum capaudit_counter), read
 *   pending_exec  hash __u32 tgid -> __u8, written: children held before exec
 *   seed_tgids    hash __u32 tgid -> __u8, written: -p roots for mark_tree
 *   filter_cgroup cgroup array[1], written: the --cgroup filter
 *   rodata        abi_version (checked), recorder_tgid, stacks_per_key,
 *                 paths_per_key (<= CAPAUDIT_PATH_SIGS), user_stacks,
 *                 filter_cgroup_id, wakeup_bytes, facts_use_storage,
 *                 mmap_min_addr_at_start: set before load
 *   bss           facts_in_sys_exit, outcomes_live: set after load
 *   programs      by name (progs.*), chosen and attached by the recorder
 *
 * Bump CAPAUDIT_BPF_ABI_VERSION whenever what crosses changes meaning or
 * layout: a struct, flag, counter index, event type or constant below, or a
 * map's key/value type or a global above. The recorder refuses a BPF object
 * built for another ABI (they ship together, so this only catches a stale
 * build tree). No bump for changes the other side cannot see: the *.bpf.h
 * pieces, task_state.bpf.h, the programs' code, a rename the skeleton checks
 * at compile time.
 */
#ifndef CAPAUDIT_BPF_ABI_H
#define CAPAUDIT_BPF_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define CAPAUDIT_BPF_ABI_VERSION 13

#define CAPAUDIT_MAX_STACK_DEPTH 64
/* User-space frames asked for per sampled check (bpf_get_stack, BPF_F_USER_STACK) */
#define CAPAUDIT_MAX_USTACK_DEPTH 32
#define CAPAUDIT_FILENAME_LEN 256
#define CAPAUDIT_ARGS_LEN 1024

enum capaudit_event_type {
	CAPAUDIT_EV_CAP = 1,
	CAPAUDIT_EV_FORK = 2,
	CAPAUDIT_EV_EXEC = 3,
	CAPAUDIT_EV_EXIT = 4,
	CAPAUDIT_EV_OUTCOME = 5,
	CAPAUDIT_EV_CAPSET = 6,
	CAPAUDIT_EV_OP = 7,
	CAPAUDIT_EV_SYSCALL_OP = 8, /* struct capaudit_syscall_op_event */
};

/* Index into the per-CPU counters array. */
enum capaudit_counter {
	CAPAUDIT_CNT_RINGBUF_DROPS = 0,
	CAPAUDIT_CNT_TASK_MAP_FULL = 1,
	CAPAUDIT_CNT_STACK_FAIL = 2,
	CAPAUDIT_CNT_STR_TRUNCATED = 3,
	CAPAUDIT_CNT_OUTCOMES_MISSED = 4,
	CAPAUDIT_CNT_SYNTHESIZED = 5,  /* checks of inlined cap_capable() copies, rebuilt at the caller */
	CAPAUDIT_CNT_USTACK_FAIL = 6,  /* sampled checks whose user stack walks both failed */
	CAPAUDIT_CNT_NEW_PATHS = 7,    /* checks past the budget that took a stack: their path was new */
	CAPAUDIT_CNT_PATHS_FULL = 8,   /* checks past the budget with a new path, key's path table full: no stack */
	CAPAUDIT_CNT_PATH_WALKS = 9,   /* short walks past the budget */
	CAPAUDIT_CNT_PATHS_UNCHECKED = 10, /* checks past the budget not compared by path (walk rate limit) */
	CAPAUDIT_CNT_MAX = 11,
};

/* Values of cap_event.flags */
#define CAPAUDIT_CAP_GRANTED 0x1
#define CAPAUDIT_CAP_HAS_OPTS 0x2
/* Not seen by the cap_capable hook: rebuilt at the exit of a caller into
 * which the compiler inlined cap_capable() (fexit/kprobe hooks only). */
#define CAPAUDIT_CAP_SYNTHESIZED 0x4
#define CAPAUDIT_CAP_UNSAMPLED 0x8 /* past the stack budget: no stack by design */
/*
 * A repeat of the task's previous check within the same batch and jiffy: its
 * clock was not read, and hdr.time_ns is 0. It happened after the timed check
 * before it in the record (a record always starts with a timed check) and
 * before the next check that carries a time. A record never ends with a 0:
 * when it ends with untimed repeats, the last of them carries the time the
 * batch was sent, the latest any of them can have.
 */
#define CAPAUDIT_CAP_UNTIMED 0x10
/* The check carries its context (capaudit_cap_event.ctx): only checks that
 * also carry a stack, i.e. within the stack budget. */
#define CAPAUDIT_CAP_HAS_CTX 0x20
/*
 * Whose credentials were checked: the hook's cred argument is not the task's
 * own (task->real_cred) — the kernel installed others with override_creds().
 * checked_euid then holds that cred's euid. FOREIGN: its uid, user namespace
 * or permitted set differ from the task's (someone else's, e.g. the overlayfs
 * mounter's); without it the cred was built from the task's own (access()).
 */
#define CAPAUDIT_CAP_CRED_OVERRIDE 0x40
#define CAPAUDIT_CAP_CRED_FOREIGN 0x80
/* The check carries a user-space stack (capaudit_cap_event.ustack): only
 * checks that also carry a kernel stack, when user stacks are on. */
#define CAPAUDIT_CAP_HAS_USTACK 0x100

/*
 * A check without a stack is sent as the part of capaudit_cap_event before
 * `stack`. Such checks wait in their task's storage and leave in groups of up
 * to CAPAUDIT_BATCH_CHECKS per ring-buffer record (the ring-buffer call is the
 * dearest part of a check): a record may hold several events back to back,
 * each sized by its header.
 */
#define CAPAUDIT_CAP_SMALL_SIZE 56
#define CAPAUDIT_BATCH_CHECKS 16


/* Operation kinds: same numbers as common::OpKind. */
#define CAPAUDIT_OP_BIND 1
#define CAPAUDIT_OP_SOCKET 2
/* ... and the kinds taken at syscall exit (bpf/syscall_facts.bpf.h) */
#define CAPAUDIT_OP_PTRACE_ATTACH 3
#define CAPAUDIT_OP_PERF_EVENT_OPEN 4
#define CAPAUDIT_OP_BPF 5
#define CAPAUDIT_OP_IO_URING_SETUP 6
#define CAPAUDIT_OP_UNSHARE_USERNS 8
#define CAPAUDIT_OP_MMAP_LOW 9
#define CAPAUDIT_OP_SET_PIPE_SIZE 11
#define CAPAUDIT_OP_MLOCK 13
#define CAPAUDIT_OP_SCHED_SETSCHEDULER 14
#define CAPAUDIT_OP_SETRLIMIT 15
#define CAPAUDIT_OP_SYSLOG 16
#define CAPAUDIT_OP_OPEN_SENSITIVE 17
#define CAPAUDIT_OP_SETPRIORITY 19
/* ... and one taken inside its syscall, at may_linkat()'s entry
 * (bpf/link_facts.bpf.h): ret is 0 there, the decision not yet made */
#define CAPAUDIT_OP_LINK 10

/* capaudit_syscall_op_event.a0 of an open_sensitive fact: the file opened */
#define CAPAUDIT_FILE_KALLSYMS 1
#define CAPAUDIT_FILE_KMSG 2

struct capaudit_event_hdr {
	__u32 type;
	__u32 pid;
	__u32 tid;
	__u32 size; /* of the whole record, header included */
	__u64 time_ns;
};

/*
 * What the kernel holds at a check that a sysctl/rlimit rule compares with:
 * raw, read in the capability hook, interpreted only by the analyzer's rules.
 * state[] uses the positions of common::StateSlot; CAPAUDIT_STATE_UNSET =
 * not read. Slots 7..12 (the link source and the caller's fs ids) only a
 * link fact fills.
 */
#define CAPAUDIT_CTX_USER_WORDS 6
#define CAPAUDIT_CTX_STATE 13
#define CAPAUDIT_STATE_UNSET ((__s64)0x8000000000000000ull)
struct capaudit_check_ctx {
	__s64 args[6];                            /* the syscall's argument registers */
	__s64 user[CAPAUDIT_CTX_USER_WORDS];      /* words at the syscall's pointer argument */
	__s64 state[CAPAUDIT_CTX_STATE];
	__u32 user_words;                         /* valid words in user[] */
	__u32 euid, egid;                         /* the task's effective ids */
	__u32 pad;
};

/*
 * One frame as bpf_get_stack(BPF_F_USER_STACK | BPF_F_USER_BUILD_ID) writes
 * it: struct bpf_stack_build_id of <linux/bpf.h>, mirrored so both sides
 * agree without that header. VALID: build_id + offset in the file; IP: the
 * kernel could not read the file's build ID (mmap lock busy, page not
 * cached, no note), only the raw address; EMPTY: no frame.
 */
#define CAPAUDIT_BUILD_ID_SIZE 20
#define CAPAUDIT_STACK_BUILD_ID_EMPTY 0
#define CAPAUDIT_STACK_BUILD_ID_VALID 1
#define CAPAUDIT_STACK_BUILD_ID_IP 2
struct capaudit_ustack_frame {
	__s32 status;
	__u8 build_id[CAPAUDIT_BUILD_ID_SIZE];
	__u64 offset_or_ip;
};

/*
 * Values of capaudit_ustack.leaf_flags: what was read about the word at the
 * user stack pointer of the registers the syscall was entered with (the
 * return address into the caller of a leaf syscall wrapper, which a
 * frame-pointer walk skips; anything when the wrapper pushed something).
 */
#define CAPAUDIT_LEAF_READ 0x1      /* leaf_word holds the word at [sp] */
#define CAPAUDIT_LEAF_CODE 0x2      /* leaf_code holds the 8 bytes of memory ending at leaf_word */
#define CAPAUDIT_LEAF_VMA 0x4       /* leaf_vm_* describe the mapping holding leaf_word (bpf_find_vma) */
#define CAPAUDIT_LEAF_VMA_EXEC 0x8  /* that mapping is executable (VM_EXEC) */
#define CAPAUDIT_LEAF_VMA_FILE 0x10 /* ... and backed by a file */

/*
 * The same user stack walked twice (two calls, one walk each): the raw
 * addresses, and the kernel's own naming of each address's file. The first
 * keeps every address; the second names files without the recording host.
 * A byte count < 0 is the helper's error.
 */
struct capaudit_ustack {
	__s32 ip_bytes;  /* valid bytes in ip[] (frames * 8), or -errno */
	__s32 id_bytes;  /* valid bytes in id[] (frames * 32), or -errno */
	__u64 ip[CAPAUDIT_MAX_USTACK_DEPTH];
	struct capaudit_ustack_frame id[CAPAUDIT_MAX_USTACK_DEPTH];
	__u64 leaf_word;     /* CAPAUDIT_LEAF_READ: the word at [sp] at syscall entry */
	__u64 leaf_code;     /* CAPAUDIT_LEAF_CODE: memory at leaf_word - 8 .. leaf_word - 1 */
	__u64 leaf_vm_start; /* CAPAUDIT_LEAF_VMA: [start, end) of its mapping */
	__u64 leaf_vm_end;
	__u64 leaf_vm_pgoff; /* file offset of leaf_vm_start, in bytes */
	__u32 leaf_flags;
	__s32 leaf_vma_err;  /* bpf_find_vma()'s result (0, -ENOENT, -EBUSY; -EOPNOTSUPP: no such helper) */
};

struct capaudit_cap_event {
	struct capaudit_event_hdr hdr;
	__s32 cap;
	__s32 syscall_nr;
	__u32 opts;
	__u32 flags;
	__u64 target_userns_inum;
	__u32 stack_bytes; /* valid bytes in stack[] (frames * 8) */
	__u32 checked_euid; /* CAPAUDIT_CAP_CRED_OVERRIDE: the checked cred's euid, else 0 */
	__u64 stack[CAPAUDIT_MAX_STACK_DEPTH];
	struct capaudit_check_ctx ctx; /* valid with CAPAUDIT_CAP_HAS_CTX */
	/* With CAPAUDIT_CAP_HAS_USTACK only; the record ends before it otherwise. */
	struct capaudit_ustack ustack;
};

struct capaudit_fork_event {
	struct capaudit_event_hdr hdr;
	__u32 child_pid;
	__u32 child_tid;
	__u64 child_start_time_ns;
	__u32 is_thread;
	__u32 pad;
};

struct capaudit_exec_event {
	struct capaudit_event_hdr hdr;
	__u32 old_tid;
	__u32 uid, gid, euid, egid;
	__u32 filename_truncated;
	__u32 args_len; /* bytes of args[] read (NUL-separated argv) */
	__u32 args_truncated;
	__u64 start_time_ns;
	__u64 cap_effective, cap_permitted, cap_inheritable, cap_bounding, cap_ambient;
	__u64 cgroup_id;
	__u64 userns_inum;
	__u64 netns_inum;
	char filename[CAPAUDIT_FILENAME_LEN];
	char args[CAPAUDIT_ARGS_LEN];
};

struct capaudit_exit_event {
	struct capaudit_event_hdr hdr;
	__s32 exit_code;
	__u32 group_dead;
};

struct capaudit_outcome_event {
	struct capaudit_event_hdr hdr;
	__s32 syscall_nr;
	__u32 pad;
	__s64 ret;
};

/* Credentials of a thread, as far as capability decisions go. */
struct capaudit_cred_state {
	__u64 effective, permitted, inheritable, ambient;
	__u32 uid, euid, gid, egid;
};

/* A thread's credentials changed since its last check/fork/exec (CAPAUDIT_EV_CAPSET). */
struct capaudit_capset_event {
	struct capaudit_event_hdr hdr;
	struct capaudit_cred_state cred;
};

struct capaudit_op_event {
	struct capaudit_event_hdr hdr;
	__u32 kind;
	__s32 syscall_nr;
	__s64 a0, a1, a2, a3;
	__u32 uid, gid;
	__s64 ret;
	__u32 has_ret;
	__u32 pad;
	__s64 port_start; /* bind: the netns's ip_unprivileged_port_start, CAPAUDIT_STATE_UNSET if unknown */
};

/*
 * An operation a sysctl/rlimit rule names, seen at its syscall's exit
 * whether or not a check happened (--facts sys_exit only). ctx is read
 * after the syscall: state[] is the state the operation left.
 */
struct capaudit_syscall_op_event {
	struct capaudit_event_hdr hdr;
	__u32 kind; /* CAPAUDIT_OP_* */
	__s32 syscall_nr;
	__s64 ret;
	__s64 a0, a1; /* open_sensitive: CAPAUDIT_FILE_*, file->f_flags; ptrace_attach: pid, request; else 0 */
	struct capaudit_check_ctx ctx;
};

/*
 * Stack budget: how many stacks a task captured per cheap key (cap, syscall,
 * verdict). Kept in the task's own storage (no hash map on the per-check
 * path) as a small 2-way hashed table; a key that finds both its slots taken
 * by other keys evicts one and starts over, which can only add captures.
 *
 * Past the budget a check is compared by call path with the paths its key
 * already captured; a new path takes a full stack like a sampled check, up
 * to paths_per_key (<= CAPAUDIT_PATH_SIGS) distinct paths per key, and past
 * that it is counted (CAPAUDIT_CNT_PATHS_FULL). A path's signature is a hash
 * of the CAPAUDIT_PATH_FRAMES frames above the BPF program's own: a short
 * walk, which still costs microseconds, so a hot loop must not pay it at
 * every check. The first CAPAUDIT_FREE_WALKS checks of a key past the budget
 * are compared, then the 2^k-th (64th, 128th, ...); the others are counted
 * (CAPAUDIT_CNT_PATHS_UNCHECKED). (A cheaper key, a hash of the return
 * addresses found in the kernel stack above the hook, was tried: stale
 * words in the frames made it differ at ~9 of 10 checks of a setuid loop.)
 *
 * The per-key table itself (CAPAUDIT_BUDGET_SLOTS slots in the task's
 * storage) is BPF-private: task_state.bpf.h.
 */
#define CAPAUDIT_PATH_SIGS 8
#define CAPAUDIT_PATH_FRAMES 8
#define CAPAUDIT_FREE_WALKS 32

#endif /* CAPAUDIT_BPF_ABI_H */

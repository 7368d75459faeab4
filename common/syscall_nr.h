/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The syscall numbers capaudit's own code compares with, per architecture:
 * one table for both sides. The BPF programs take the column of the
 * architecture they are built for (bpf/syscall_nr.bpf.h); the analyzer takes
 * the column of the trace's architecture (common::known_syscall_nr()).
 * Every other syscall is named from libseccomp's tables (common/syscalls.h);
 * tests/common/syscalls_test.cpp checks each row here against them.
 *
 * Plain C, no includes: clang -target bpf and the C++ compiler read it alike.
 * X(NAME, name, x86_64, arm64); a new row needs both numbers, -1 where the
 * architecture has no such syscall (arm64 has no open(2), only openat).
 */
#ifndef CAPAUDIT_COMMON_SYSCALL_NR_H
#define CAPAUDIT_COMMON_SYSCALL_NR_H

#define CAPAUDIT_SYSCALLS(X)                                \
	X(OPEN, open, 2, -1)                                \
	X(MMAP, mmap, 9, 222)                               \
	X(SOCKET, socket, 41, 198)                          \
	X(BIND, bind, 49, 200)                              \
	X(CLONE, clone, 56, 220)                            \
	X(FCNTL, fcntl, 72, 25)                             \
	X(PTRACE, ptrace, 101, 117)                         \
	X(SYSLOG, syslog, 103, 116)                         \
	X(CAPSET, capset, 126, 91)                          \
	X(SETPRIORITY, setpriority, 141, 140)               \
	X(SCHED_SETPARAM, sched_setparam, 142, 118)         \
	X(SCHED_SETSCHEDULER, sched_setscheduler, 144, 119) \
	X(MLOCK, mlock, 149, 228)                           \
	X(SETRLIMIT, setrlimit, 160, 164)                   \
	X(MQ_OPEN, mq_open, 240, 180)                       \
	X(OPENAT, openat, 257, 56)                          \
	X(UNSHARE, unshare, 272, 97)                        \
	X(PERF_EVENT_OPEN, perf_event_open, 298, 241)       \
	X(PRLIMIT64, prlimit64, 302, 261)                   \
	X(SCHED_SETATTR, sched_setattr, 314, 274)           \
	X(BPF, bpf, 321, 280)                               \
	X(MLOCK2, mlock2, 325, 284)                         \
	X(IO_URING_SETUP, io_uring_setup, 425, 425)         \
	X(CLONE3, clone3, 435, 435)                         \
	X(OPENAT2, openat2, 437, 437)

#endif /* CAPAUDIT_COMMON_SYSCALL_NR_H */

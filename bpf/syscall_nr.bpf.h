/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Syscall numbers of the architecture this object is built for (__NR_bind,
 * __NR_socket, ...: the kernel's spelling, because vmlinux.h's enums hold
 * NR_MLOCK and others of their own), from the table the analyzer uses too:
 * common/syscall_nr.h.
 * (The register reads, orig_ax and di..r9, are still x86_64's.)
 */
#ifndef CAPAUDIT_SYSCALL_NR_BPF_H
#define CAPAUDIT_SYSCALL_NR_BPF_H

#include "common/syscall_nr.h"

#if defined(__TARGET_ARCH_x86)
#define CAPAUDIT_NR_OF_BUILD(NAME, name, x86_64, arm64) __NR_##name = x86_64,
#elif defined(__TARGET_ARCH_arm64)
#define CAPAUDIT_NR_OF_BUILD(NAME, name, x86_64, arm64) __NR_##name = arm64,
#else
#error "common/syscall_nr.h has no column for this __TARGET_ARCH"
#endif

enum capaudit_syscall_nr { CAPAUDIT_SYSCALLS(CAPAUDIT_NR_OF_BUILD) };

#undef CAPAUDIT_NR_OF_BUILD

#endif /* CAPAUDIT_SYSCALL_NR_BPF_H */

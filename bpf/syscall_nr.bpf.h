/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Syscall numbers of the architecture this object is built for (NR_BIND,
 * NR_SOCKET, ...), from the table the analyzer uses too: common/syscall_nr.h.
 * (The register reads, orig_ax and di..r9, are still x86_64's.)
 */
#ifndef CAPAUDIT_SYSCALL_NR_BPF_H
#define CAPAUDIT_SYSCALL_NR_BPF_H

#include "common/syscall_nr.h"

#if defined(__TARGET_ARCH_x86)
#define CAPAUDIT_NR_OF_BUILD(NAME, name, x86_64, arm64) NR_##NAME = x86_64,
#elif defined(__TARGET_ARCH_arm64)
#define CAPAUDIT_NR_OF_BUILD(NAME, name, x86_64, arm64) NR_##NAME = arm64,
#else
#error "common/syscall_nr.h has no column for this __TARGET_ARCH"
#endif

enum capaudit_syscall_nr { CAPAUDIT_SYSCALLS(CAPAUDIT_NR_OF_BUILD) };

#undef CAPAUDIT_NR_OF_BUILD

#endif /* CAPAUDIT_SYSCALL_NR_BPF_H */

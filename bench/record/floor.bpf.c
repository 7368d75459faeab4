// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The floor for any recorder on this kernel: an empty program on the same
 * capability tracepoint capaudit uses. Its cost is the kernel's dispatch of
 * the tracepoint to BPF, which no recorder can avoid.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/cap_capable")
int BPF_PROG(floor_cap_capable, const struct cred *cred, struct user_namespace *targ_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	return 0;
}

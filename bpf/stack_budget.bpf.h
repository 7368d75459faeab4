/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The stack budget (capaudit.h, "Stack budget"): which checks pay for a
 * kernel stack walk, and the call-path signatures of the checks past it.
 */
#ifndef CAPAUDIT_STACK_BUDGET_BPF_H
#define CAPAUDIT_STACK_BUDGET_BPF_H

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

#endif /* CAPAUDIT_STACK_BUDGET_BPF_H */

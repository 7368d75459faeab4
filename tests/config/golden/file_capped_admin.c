/*
 * capaudit recommendation for netadm: libcap-ng C snippet (link with -lcap-ng)
 * Needed: CAP_NET_ADMIN CAP_SYS_ADMIN
 * Call capaudit_keep_operational_caps() early in main(), before handling
 * untrusted input, and capaudit_drop_startup_caps() once initialization is done.
 * Every failure exits: the program never continues with more privileges than planned.
 */
#include <cap-ng.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void capaudit_fail(const char *what)
{
	fprintf(stderr, "capaudit: %s failed; refusing to run with more privileges than needed\n", what);
	exit(1);
}

void capaudit_keep_operational_caps(void)
{
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET, CAP_NET_ADMIN))
		capaudit_fail("capng_update");
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET, CAP_SYS_ADMIN))
		capaudit_fail("capng_update");
	/* Limit the bounding set first, while CAP_SETPCAP is still there; then switch to
	 * uid 1000 keeping exactly these capabilities, supplementary groups dropped. */
	if (capng_apply(CAPNG_SELECT_BOUNDS))
		capaudit_fail("limiting the bounding set");
	if (capng_change_id(1000, 1000, CAPNG_DROP_SUPP_GRP))
		capaudit_fail("capng_change_id");
	if (getuid() != 1000 || geteuid() != 1000 || getgid() != 1000 || getegid() != 1000)
		capaudit_fail("changing uid/gid");
	capng_get_caps_process();
	if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN))
		capaudit_fail("keeping CAP_NET_ADMIN");
	if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN))
		capaudit_fail("keeping CAP_SYS_ADMIN");
}

void capaudit_drop_startup_caps(void)
{
	/* No capability was startup-only: nothing to drop. */
}

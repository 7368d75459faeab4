/*
 * capaudit recommendation for webd: libcap-ng C snippet (link with -lcap-ng)
 * Needed: CAP_SETUID CAP_NET_BIND_SERVICE
 * Startup-only: CAP_SETUID — kept here because this config applies to the whole run;
 *   the program can drop them after initialization (see the C/Python snippets).
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
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET, CAP_SETUID))
		capaudit_fail("capng_update");
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET, CAP_NET_BIND_SERVICE))
		capaudit_fail("capng_update");
	/* Runs as root: only the capability sets change. */
	if (capng_apply(CAPNG_SELECT_BOTH))
		capaudit_fail("capng_apply");
	capng_get_caps_process();
	if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID))
		capaudit_fail("keeping CAP_SETUID");
	if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_BIND_SERVICE))
		capaudit_fail("keeping CAP_NET_BIND_SERVICE");
}

void capaudit_drop_startup_caps(void)
{
	capng_get_caps_process();
	if (capng_update(CAPNG_DROP, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_SETUID))
		capaudit_fail("capng_update");
	if (capng_apply(CAPNG_SELECT_CAPS))
		capaudit_fail("dropping startup-only capabilities");
}

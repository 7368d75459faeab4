/*
 * capaudit recommendation for quiet: libcap-ng C snippet (link with -lcap-ng)
 * No capability was needed in the recorded runs.
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
	/* Runs as root: only the capability sets change. */
	if (capng_apply(CAPNG_SELECT_BOTH))
		capaudit_fail("capng_apply");
	capng_get_caps_process();
}

void capaudit_drop_startup_caps(void)
{
	/* No capability was startup-only: nothing to drop. */
}

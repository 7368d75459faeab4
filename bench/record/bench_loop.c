/*
 * capaudit-bench-loop KIND N: runs N iterations of one workload and prints the
 * loop's own time per iteration (ns), so process start-up and the recorder's
 * attach time stay out of the figure.
 *   setuid   N x setuid(0) as root: one CAP_SETUID check each
 *   getppid  N x getppid(): a syscall without any check
 *   fork     N x fork + child _exit(0) + waitpid
 *   open     N x open("/etc/hostname") + close: no check, but an open the
 *            syscall-exit facts look at (--facts sys_exit)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n, i;
	double t0, t1;

	if (argc != 3) {
		fprintf(stderr, "usage: %s setuid|getppid|fork|open N\n", argv[0]);
		return 2;
	}
	n = atol(argv[2]);
	t0 = now_ns();
	if (!strcmp(argv[1], "setuid")) {
		for (i = 0; i < n; i++)
			if (syscall(SYS_setuid, 0) != 0)
				return 1;
	} else if (!strcmp(argv[1], "getppid")) {
		for (i = 0; i < n; i++)
			syscall(SYS_getppid);
	} else if (!strcmp(argv[1], "fork")) {
		for (i = 0; i < n; i++) {
			pid_t pid = fork();

			if (pid < 0)
				return 1;
			if (pid == 0)
				_exit(0);
			waitpid(pid, NULL, 0);
		}
	} else if (!strcmp(argv[1], "open")) {
		for (i = 0; i < n; i++) {
			int fd = open("/etc/hostname", O_RDONLY);

			if (fd < 0)
				return 1;
			close(fd);
		}
	} else {
		return 2;
	}
	t1 = now_ns();
	printf("%.2f\n", (t1 - t0) / n);
	return 0;
}

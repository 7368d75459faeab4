/*
 * A daemon in a few lines, as nginx starts: root forks a worker that drops to
 * nobody and then allocates memory, which makes the kernel's overcommit
 * heuristic check CAP_SYS_ADMIN (cap_vm_enough_memory, CAP_OPT_NOAUDIT) and
 * deny it: advisory noise. After a pause (long enough for a recorder to react
 * to that denial) the worker binds port 80 BINDS times, PAUSE_MS apart: a
 * denial that matters (EACCES with ip_unprivileged_port_start above 80). It
 * pauses once more and exits. With GROUPS > 1 the binds come in GROUPS groups
 * of BINDS, the groups IDLE_MS apart: a denial, then a quiet time, then more.
 *
 * Usage: capaudit-test-drop-daemon [PAUSE_MS [BINDS [IDLE_MS GROUPS]]]   (default 1000 1 0 1)
 * Exit status 0 when the worker saw what it expected.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int bind_80(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80)};
	int fd, err;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("drop-daemon: socket");
		return 1;
	}
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
	close(fd);
	if (err != EACCES) {
		fprintf(stderr, "drop-daemon: bind 127.0.0.1:80 as nobody: %s (expected EACCES)\n", strerror(err));
		return 1;
	}
	return 0;
}

static int worker(long pause, long binds, long idle, long groups)
{
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
		perror("drop-daemon: dropping to nobody");
		return 1;
	}
	/* writable private mappings are accounted: each asks the overcommit heuristic */
	for (int i = 0; i < 8; i++) {
		void *p = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			perror("drop-daemon: mmap");
			return 1;
		}
		memset(p, 1, 4096);
	}
	free(malloc(1 << 20));
	for (long g = 0; g < groups; g++) {
		if (g)
			pause_ms(idle);
		for (long i = 0; i < binds; i++) {
			pause_ms(pause);
			if (bind_80())
				return 1;
		}
	}
	pause_ms(pause);
	return 0;
}

int main(int argc, char **argv)
{
	long pause = argc > 1 ? atol(argv[1]) : 1000;
	long binds = argc > 2 ? atol(argv[2]) : 1;
	long idle = argc > 3 ? atol(argv[3]) : 0;
	long groups = argc > 4 ? atol(argv[4]) : 1;
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		fprintf(stderr, "drop-daemon: must start as root\n");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("drop-daemon: fork");
		return 1;
	}
	if (pid == 0)
		_exit(worker(pause, binds, idle, groups));
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/*
 * Small real workloads for the sysctl/rlimit rules (tests/rules): each
 * subcommand makes one operation whose capability need a rule decides, the
 * way a program would, and exits 0 when the kernel let it through.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	return 1;
}

/* mlock LEN bytes under an 8 MiB RLIMIT_MEMLOCK */
static int mlock_under_8mib(size_t len)
{
	struct rlimit r = {8 << 20, 8 << 20};
	void *p;

	if (setrlimit(RLIMIT_MEMLOCK, &r))
		return fail("setrlimit");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail("mmap");
	if (mlock(p, len))
		return fail("mlock");
	return 0;
}

/* 16 MiB: over the limit, checked */
static int op_mlock(void)
{
	return mlock_under_8mib(16 << 20);
}

/* 4 MiB: within the limit, no check */
static int op_mlock_fits(void)
{
	return mlock_under_8mib(4 << 20);
}

/* a software event on process PID (0 = itself) or, with PID -1, on CPU 0 */
static int perf_open(int pid, int exclude_kernel)
{
	struct perf_event_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = pid == -1 ? PERF_COUNT_SW_CPU_CLOCK : PERF_COUNT_SW_TASK_CLOCK;
	a.exclude_kernel = exclude_kernel;
	fd = syscall(SYS_perf_event_open, &a, pid, pid == -1 ? 0 : -1, -1, 0);
	if (fd < 0)
		return fail("perf_event_open");
	return 0;
}

/* this process, kernel included */
static int op_perf(void)
{
	return perf_open(0, 0);
}

/* this process, user space only: no kernel-measuring gate at all */
static int op_perf_user(void)
{
	return perf_open(0, 1);
}

/* every task on CPU 0, user space only */
static int op_perf_cpu(void)
{
	return perf_open(-1, 1);
}

/* syslog(2) SYSLOG_ACTION_READ_ALL, as dmesg(1) without /dev/kmsg does */
static int op_syslog(void)
{
	static char buf[4096];

	if (klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof(buf)) < 0)
		return fail("syslog");
	return 0;
}

/* a new message queue with more messages than fs.mqueue.msg_max (10) */
static int op_mq_open(void)
{
	struct mq_attr a = {.mq_maxmsg = 64, .mq_msgsize = 128};
	mqd_t q = mq_open("/capaudit-rules", O_CREAT | O_EXCL | O_RDWR, 0600, &a);

	if (q == (mqd_t)-1)
		return fail("mq_open");
	mq_unlink("/capaudit-rules");
	return 0;
}

/*
 * PTRACE_SEIZE of a sibling: the tracer and the target are both children of
 * this process, so the target is not the tracer's descendant (what
 * kernel.yama.ptrace_scope=1 asks about).
 */
static int op_ptrace_sibling(void)
{
	int pipefd[2], status;
	pid_t target, tracer;
	char c;

	if (pipe(pipefd))
		return fail("pipe");
	target = fork();
	if (target < 0)
		return fail("fork");
	if (target == 0) {
		close(pipefd[1]);
		read(pipefd[0], &c, 1); /* until the parent closes it */
		_exit(0);
	}
	tracer = fork();
	if (tracer < 0)
		return fail("fork");
	if (tracer == 0) {
		if (ptrace(PTRACE_SEIZE, target, 0, 0))
			_exit(fail("ptrace(PTRACE_SEIZE)"));
		ptrace(PTRACE_DETACH, target, 0, 0);
		_exit(0);
	}
	waitpid(tracer, &status, 0);
	close(pipefd[1]);
	waitpid(target, NULL, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* a new user namespace (unshare -U) */
static int op_userns(void)
{
	if (unshare(CLONE_NEWUSER))
		return fail("unshare(CLONE_NEWUSER)");
	return 0;
}

/* an array map: a type unprivileged users may create when bpf is allowed them */
static int op_bpf(void)
{
	union bpf_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 1;
	fd = syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	if (fd < 0)
		return fail("bpf");
	return 0;
}

/* userfaultfd that also handles kernel faults (no UFFD_USER_MODE_ONLY) */
static int op_userfaultfd(void)
{
	long fd = syscall(SYS_userfaultfd, O_CLOEXEC);

	if (fd < 0)
		return fail("userfaultfd");
	return 0;
}

static int op_io_uring(void)
{
	char params[120];
	long fd;

	memset(params, 0, sizeof(params));
	fd = syscall(425 /* io_uring_setup */, 4, params);
	if (fd < 0)
		return fail("io_uring_setup");
	return 0;
}

/* a fixed mapping below vm.mmap_min_addr */
static int op_mmap_low(void)
{
	void *p = mmap((void *)0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	if (p == MAP_FAILED)
		return fail("mmap");
	munmap(p, 4096);
	return 0;
}

/* F_SETPIPE_SZ beyond fs.pipe-max-size */
static int op_pipe(void)
{
	int p[2];

	if (pipe(p))
		return fail("pipe");
	if (fcntl(p[0], F_SETPIPE_SZ, 4 << 20) < 0)
		return fail("F_SETPIPE_SZ");
	return 0;
}

/* raise RLIMIT_NOFILE's hard limit */
static int op_raise_hard(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r))
		return fail("getrlimit");
	r.rlim_max += 16;
	if (r.rlim_cur > r.rlim_max)
		r.rlim_cur = r.rlim_max;
	if (prlimit(0, RLIMIT_NOFILE, &r, NULL))
		return fail("prlimit");
	return 0;
}

/* the same through the setrlimit syscall itself (glibc's setrlimit() is prlimit64) */
static int op_nofile_4096_setrlimit(void)
{
	struct rlimit r = {4096, 4096};

	if (syscall(SYS_setrlimit, RLIMIT_NOFILE, &r))
		return fail("setrlimit");
	return 0;
}

/* set RLIMIT_NOFILE to 4096/4096, as a service does at start-up */
static int op_nofile_4096(void)
{
	struct rlimit r = {4096, 4096};

	if (prlimit(0, RLIMIT_NOFILE, &r, NULL))
		return fail("prlimit");
	return 0;
}

/*
 * nice -5 within RLIMIT_NICE 40 (raised first, which needs CAP_SYS_RESOURCE:
 * the qemu guests): can_nice() lets it through without a check.
 */
static int op_nice_rlimit(void)
{
	struct rlimit r = {40, 40};

	if (setrlimit(RLIMIT_NICE, &r))
		return fail("setrlimit(RLIMIT_NICE)");
	if (setpriority(PRIO_PROCESS, 0, -5))
		return fail("setpriority");
	return 0;
}

/*
 * SCHED_FIFO priority 5 within RLIMIT_RTPRIO 10 (raised first, which needs
 * CAP_SYS_RESOURCE: the qemu guests): user_check_sched_setscheduler() lets it
 * through without a check.
 */
static int op_rtprio_rlimit(void)
{
	struct rlimit r = {10, 10};
	struct sched_param sp = {.sched_priority = 5};

	if (setrlimit(RLIMIT_RTPRIO, &r))
		return fail("setrlimit(RLIMIT_RTPRIO)");
	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		return fail("sched_setscheduler");
	return 0;
}

/*
 * A hard link to a file in a fresh directory: WHICH "setuid" (mode 04755) or
 * "other" (0644), both owned by uid/gid 65534, or "own" (0644, the caller's).
 * The other user's file is created under that fsuid/fsgid (setfsuid needs
 * CAP_SETUID, setfsgid CAP_SETGID, nothing else): a chown() would clear
 * the setuid bit, and putting it back on another's file would ask for
 * CAP_FOWNER, the capability the link rules are about. With
 * fs.protected_hardlinks=0 may_linkat() lets every link through unchecked.
 */
static int op_link(const char *which)
{
	char dir[] = "/tmp/capaudit-link.XXXXXX", src[64], dst[64];
	const int other = strcmp(which, "own") != 0;
	const mode_t mode = !strcmp(which, "setuid") ? 04755 : 0644;
	int fd, rc = 0;

	if (!mkdtemp(dir))
		return fail("mkdtemp");
	snprintf(src, sizeof(src), "%s/src", dir);
	snprintf(dst, sizeof(dst), "%s/dst", dir);
	umask(0);
	if (chmod(dir, 0777))
		rc = fail("chmod");
	if (!rc && other) {
		setfsgid(65534);
		setfsuid(65534);
	}
	fd = rc ? -1 : open(src, O_CREAT | O_EXCL | O_WRONLY, mode);
	if (!rc && fd < 0)
		rc = fail("create the source");
	if (fd >= 0)
		close(fd);
	if (other) {
		setfsuid(getuid());
		setfsgid(getgid());
	}
	if (!rc && link(src, dst))
		rc = fail("link");
	unlink(dst);
	unlink(src);
	rmdir(dir);
	return rc;
}

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";

	if (!strcmp(op, "mlock"))
		return op_mlock();
	if (!strcmp(op, "mlock-fits"))
		return op_mlock_fits();
	if (!strcmp(op, "nofile-4096"))
		return op_nofile_4096();
	if (!strcmp(op, "nofile-4096-setrlimit"))
		return op_nofile_4096_setrlimit();
	if (!strcmp(op, "nice-rlimit"))
		return op_nice_rlimit();
	if (!strcmp(op, "rtprio-rlimit"))
		return op_rtprio_rlimit();
	if (!strcmp(op, "perf"))
		return op_perf();
	if (!strcmp(op, "bpf"))
		return op_bpf();
	if (!strcmp(op, "userfaultfd"))
		return op_userfaultfd();
	if (!strcmp(op, "io_uring"))
		return op_io_uring();
	if (!strcmp(op, "mmap-low"))
		return op_mmap_low();
	if (!strcmp(op, "pipe"))
		return op_pipe();
	if (!strcmp(op, "raise-hard"))
		return op_raise_hard();
	if (!strcmp(op, "perf-user"))
		return op_perf_user();
	if (!strcmp(op, "perf-cpu"))
		return op_perf_cpu();
	if (!strcmp(op, "syslog"))
		return op_syslog();
	if (!strcmp(op, "mq-open"))
		return op_mq_open();
	if (!strcmp(op, "ptrace-sibling"))
		return op_ptrace_sibling();
	if (!strcmp(op, "userns"))
		return op_userns();
	if (!strcmp(op, "link-setuid") || !strcmp(op, "link-other") || !strcmp(op, "link-own"))
		return op_link(op + 5);
	fprintf(stderr, "usage: %s mlock|mlock-fits|nofile-4096|nofile-4096-setrlimit|nice-rlimit|rtprio-rlimit|perf|perf-user|perf-cpu|bpf|userfaultfd|io_uring|mmap-low|pipe|raise-hard|"
		"syslog|mq-open|ptrace-sibling|userns|link-setuid|link-other|link-own\n", argv[0]);
	return 2;
}

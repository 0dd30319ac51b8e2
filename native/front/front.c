/*
 * berth-runtime's front: the process a caller of berth-runtime starts.
 *
 * The command line is TypeScript run by Node.js, and a Node.js process pays
 * more for loading child_process and spawning the executor than for the
 * rest of a `create`. So this small single-threaded program starts Node.js
 * on build/berth-runtime.cjs as its child first thing, re-executes itself
 * from a sealed in-memory copy while Node.js boots (CVE-2019-5736, as the
 * executor does), and then serves the command line on a socket whose number
 * Node.js finds in BERTH_FRONT_FD:
 *
 *   FRONT_PLAN    fork an executor from this process (no exec: the copy is
 *                 sealed already) and relay its sync messages both ways
 *                 until every holder of its socket let go of it;
 *   FRONT_LOCK    open a container's lock file and take flock(2) on it
 *                 without waiting: the very lock the library takes, so both
 *                 exclude each other, and the kernel lets go of it when this
 *                 process dies; FRONT_UNLOCK lets go;
 *   FRONT_BYE     the command line is exiting: stop talking to it.
 *
 * Signals sent to the front go on to the command line (those of the
 * terminal reach the whole process group, the command line included, and
 * are not sent twice), and the front exits as the command line does. It
 * decides nothing: every plan, lock name and answer comes from TypeScript.
 *
 * When a resident command line of this build runs and takes the command
 * (resident.c), the front starts no Node.js: it serves the resident on its
 * socket the same way, and also writes the resident's output (FRONT_OUTPUT)
 * and passes every signal on as FRONT_SIGNAL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor.h"
#include "front.h"

#define RESUME_FLAG "--berth-front-resume="
#define RESIDENT_DIR "/run/berth-runtime-resident"
#define LAUNCHER_NAME "berth-runtime.cjs"
#define MAX_LOCKS 64
/* How often, and for how long at most, the front moves itself where it is (see warm_cgroups). */
#define WARM_INTERVAL_MS 2
#define WARM_MAX_MS 1000

/* Sent to the front by a caller, passed on to the command line (runc forwards the same set). */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

struct front {
	char *title;     /* this process's argument area, which /proc/PID/cmdline shows */
	size_t title_len;
	pid_t node;      /* the command line; 0 when it is the resident (resident.c) */
	int node_fd;     /* socket to it; -1 once it said BYE or went away */
	int session_fd;  /* sync socket of the executor being relayed; -1 when none */
	int sig_fd;
	int warm_fd;     /* own cgroup.procs while warming, else -1 */
	long long warm_next, warm_until;
	int nlocks;
	int locks[MAX_LOCKS]; /* descriptors of the lock files held */
};

static void handled_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaddset(set, forwarded[i]);
}

static _Noreturn void die(const char *what, int err)
{
	dprintf(2, "berth-runtime: %s: %s\n", what, strerror(err));
	_exit(EXEC_FAILURE_STATUS);
}

/* build/berth-runtime.cjs next to this binary (symlinks to it resolved by the kernel). */
static int launcher_path(char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len <= 0)
		return -1;
	self[len] = '\0';
	char *slash = strrchr(self, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	int n = snprintf(out, size, "%s/%s", self, LAUNCHER_NAME);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Leaves as the command line did: the same exit code, or death by the same signal. */
static _Noreturn void exit_as(int status)
{
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
	signal(sig, SIG_DFL);
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	raise(sig);
	_exit(128 + sig);
}

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Joining a cgroup takes the kernel's cgroup_threadgroup_rwsem for writing, and when nobody has
 * for a few milliseconds, that waits out an RCU grace period first, holding cgroup_mutex
 * (src/runtime/cgroups/warm.ts measures it). The front writes "0" (itself, where it already is)
 * into its own cgroup.procs as it starts, while Node.js boots, and every few milliseconds after,
 * so the container's cgroup is made and joined on the fast path. The command line says when it no
 * longer needs it (FRONT_WARM_STOP); it ends anyway with the command line or after WARM_MAX_MS.
 */
static void warm_cgroups(struct front *f)
{
	if (f->warm_fd < 0)
		return;
	long long now = now_ms();
	if (now < f->warm_next)
		return;
	if (now > f->warm_until || write(f->warm_fd, "0", 1) != 1) {
		close(f->warm_fd);
		f->warm_fd = -1;
		return;
	}
	f->warm_next = now_ms() + WARM_INTERVAL_MS;
}

static void tell_node(struct front *f, uint32_t type, const void *payload, uint32_t len)
{
	if (f->node_fd >= 0)
		(void)msg_send(f->node_fd, type, payload, len);
}

static void end_session(struct front *f)
{
	if (f->session_fd < 0)
		return;
	close(f->session_fd);
	f->session_fd = -1;
	tell_node(f, MSG_FRONT_SESSION_END, NULL, 0);
}

/*
 * The child becomes what `berth-exec` would be if Node.js had spawned it:
 * default signals, an empty environment, and only stdio, the caller's first
 * `keep` descriptors after them (--preserve-fds) and its sync socket.
 */
static _Noreturn void become_executor(struct front *f, int sync_fd, uint32_t keep, char *plan, size_t len)
{
	/* Named as a spawned executor is, in ps and /proc/PID/cmdline (runc's shows "runc init"). */
	prctl(PR_SET_NAME, "berth-exec", 0, 0, 0);
	if (f->title_len > sizeof "berth-exec") {
		memset(f->title, 0, f->title_len);
		memcpy(f->title, "berth-exec", sizeof "berth-exec");
	}
	/* The caller's environment stays out of /proc/PID/environ too, as with an executor spawned with none. */
	if (environ != NULL && environ[0] != NULL) {
		/* Only the strings exec laid out, one after the other. */
		char *end = environ[0];
		char **e = environ;
		for (; *e != NULL && *e == end; e++)
			end += strlen(*e) + 1;
		if (*e == NULL)
			memset(environ[0], 0, (size_t)(end - environ[0]));
	}
	clearenv();
	close(f->node_fd);
	close(f->sig_fd);
	if (f->warm_fd >= 0)
		close(f->warm_fd);
	for (int i = 0; i < f->nlocks; i++)
		close(f->locks[i]);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	int fd = 3 + (int)keep;
	if (sync_fd != fd) {
		if (dup3(sync_fd, fd, O_CLOEXEC) < 0)
			die("move the sync socket", errno);
		close(sync_fd);
	}
	if (syscall(SYS_close_range, (unsigned int)fd + 1, ~0U, 0) < 0) {
		for (int i = fd + 1; i < 65536; i++)
			close(i);
	}
	executor_run(fd, plan, len);
}

/* FRONT_PLAN: keep:u32 (descriptors after stdio the executor keeps), then the encoded plan. */
static void start_executor(struct front *f, char *payload, uint32_t len)
{
	int32_t answer;
	uint32_t keep;
	int sv[2];
	if (f->session_fd >= 0) {
		answer = -EBUSY;
	} else if (len < 4 || (memcpy(&keep, payload, 4), keep > 4096)) {
		answer = -EINVAL;
	} else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		answer = -errno;
	} else {
		pid_t pid = fork();
		if (pid == 0) {
			close(sv[0]);
			become_executor(f, sv[1], keep, payload + 4, len - 4);
		}
		close(sv[1]);
		if (pid < 0) {
			answer = -errno;
			close(sv[0]);
		} else {
			answer = pid;
			f->session_fd = sv[0];
		}
	}
	free(payload);
	tell_node(f, MSG_FRONT_STARTED, &answer, sizeof answer);
}

/*
 * FRONT_LOCK (payload: the path): answers the lock's descriptor, or -errno: EWOULDBLOCK while
 * another holds it, ENOENT without the file, ESTALE when the file was removed while it was held.
 */
static void take_lock(struct front *f, const char *path)
{
	int32_t answer;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (f->nlocks == MAX_LOCKS)
		answer = -ENOLCK;
	else if (fd < 0)
		answer = -errno;
	else if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0)
		answer = -errno;
	else
		answer = st.st_nlink == 0 ? -ESTALE : fd;
	if (answer >= 0)
		f->locks[f->nlocks++] = fd;
	else if (fd >= 0)
		close(fd);
	tell_node(f, MSG_FRONT_LOCKED, &answer, sizeof answer);
}

/* FRONT_UNLOCK (payload: the descriptor FRONT_LOCKED answered). */
static void drop_lock(struct front *f, const char *payload, uint32_t len)
{
	int32_t fd;
	if (len != sizeof fd)
		return;
	memcpy(&fd, payload, sizeof fd);
	for (int i = 0; i < f->nlocks; i++) {
		if (f->locks[i] == fd) {
			close(fd);
			f->locks[i] = f->locks[--f->nlocks];
			return;
		}
	}
}

static void from_node(struct front *f)
{
	uint32_t type, len;
	char *payload;
	if (msg_recv(f->node_fd, &type, &payload, &len) < 0) {
		/* The command line went away (or spoke nonsense): its executor's socket goes too. */
		close(f->node_fd);
		f->node_fd = -1;
		end_session(f);
		/* Its own child's exit says how it ended; a resident's end without FRONT_BYE is a failure. */
		if (f->node == 0) {
			dprintf(2, "berth-runtime: the resident command line went away\n");
			_exit(EXEC_FAILURE_STATUS);
		}
		return;
	}
	switch (type) {
	case MSG_FRONT_PLAN:
		start_executor(f, payload, len);
		return;
	case MSG_CONTINUE:
	case MSG_ABORT:
		if (f->session_fd >= 0)
			(void)msg_send(f->session_fd, type, payload, len);
		break;
	case MSG_FRONT_LOCK:
		take_lock(f, payload);
		break;
	case MSG_FRONT_UNLOCK:
		drop_lock(f, payload, len);
		break;
	case MSG_FRONT_OUTPUT:
		resident_output(payload, len);
		break;
	case MSG_FRONT_WARM_STOP:
		if (f->warm_fd >= 0)
			close(f->warm_fd);
		f->warm_fd = -1;
		break;
	case MSG_FRONT_BYE: {
		/* Closing our end ends the read the command line still has pending, so it can exit. */
		end_session(f);
		close(f->node_fd);
		f->node_fd = -1;
		/*
		 * With its exit code, the command is done: the caller has its answer now, and need not wait
		 * while Node.js takes itself down (milliseconds); the command line finishes that on its own.
		 */
		int32_t code;
		if (len == sizeof code) {
			memcpy(&code, payload, sizeof code);
			free(payload);
			_exit(code & 0xff);
		}
		break;
	}
	default:
		dprintf(2, "berth-runtime: front: message of type %u from the command line\n", type);
		break;
	}
	free(payload);
}

static void from_executor(struct front *f)
{
	uint32_t type, len;
	char *payload;
	if (msg_recv(f->session_fd, &type, &payload, &len) < 0) {
		end_session(f);
		return;
	}
	tell_node(f, type, payload, len);
	free(payload);
}

static void on_signals(struct front *f)
{
	struct signalfd_siginfo si;
	while (read(f->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo != SIGCHLD) {
			/* The terminal's signals went to the whole process group, the command line too; not to a resident. */
			uint32_t sig = si.ssi_signo;
			if (f->node == 0)
				tell_node(f, MSG_FRONT_SIGNAL, &sig, sizeof sig);
			else if (si.ssi_code != SI_KERNEL)
				kill(f->node, (int)si.ssi_signo);
			continue;
		}
		for (;;) {
			int status;
			pid_t pid = waitpid(-1, &status, WNOHANG);
			if (pid <= 0)
				break;
			if (pid == f->node)
				exit_as(status);
			int32_t exited[2] = { pid, status };
			tell_node(f, MSG_FRONT_EXIT, exited, sizeof exited);
		}
	}
}

static _Noreturn void serve(pid_t node, int node_fd, int warm_fd, int argc, char **argv)
{
	struct front f = { .node = node, .node_fd = node_fd, .session_fd = -1, .sig_fd = -1, .warm_fd = warm_fd };
	f.title = argv[0];
	f.title_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
	prctl(PR_SET_NAME, "berth-runtime", 0, 0, 0);
	if (fcntl(node_fd, F_SETFD, FD_CLOEXEC) < 0)
		die("front socket", errno);
	signal(SIGPIPE, SIG_IGN);
	/* Like the executors it forks: nothing in a container may open /proc/PID/exe of this process. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("prctl(PR_SET_DUMPABLE)", errno);
	sigset_t set;
	handled_signals(&set);
	/* Blocked since before the command line started: what arrived meanwhile is pending, not lost. */
	sigprocmask(SIG_BLOCK, &set, NULL);
	f.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (f.sig_fd < 0) {
		kill(node, SIGKILL);
		die("signalfd", errno);
	}
	if (f.warm_fd >= 0 && fcntl(f.warm_fd, F_SETFD, FD_CLOEXEC) < 0)
		f.warm_fd = -1;
	f.warm_until = now_ms() + WARM_MAX_MS;
	warm_cgroups(&f);
	for (;;) {
		struct pollfd p[3] = { { .fd = f.sig_fd, .events = POLLIN } };
		nfds_t n = 1;
		int at_node = -1, at_session = -1;
		if (f.session_fd >= 0) {
			at_session = (int)n;
			p[n++] = (struct pollfd){ .fd = f.session_fd, .events = POLLIN };
		}
		if (f.node_fd >= 0) {
			at_node = (int)n;
			p[n++] = (struct pollfd){ .fd = f.node_fd, .events = POLLIN };
		}
		int timeout = -1;
		if (f.warm_fd >= 0) {
			long long left = f.warm_next - now_ms();
			timeout = left < 0 ? 0 : (int)left;
		}
		int ready = poll(p, n, timeout);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			die("poll", errno);
		}
		warm_cgroups(&f);
		if (ready == 0)
			continue;
		if (p[0].revents)
			on_signals(&f);
		if (at_session >= 0 && p[at_session].revents && f.session_fd >= 0)
			from_executor(&f);
		if (at_node >= 0 && p[at_node].revents && f.node_fd >= 0)
			from_node(&f);
	}
}

/*
 * "PID:FD:WARM": its own command line (a child of this very process; 0: the resident's socket is FD),
 * its socket, its cgroup.procs or -1.
 */
static int parse_resume(const char *arg, pid_t *node, int *fd, int *warm)
{
	char *end;
	long p = strtol(arg + strlen(RESUME_FLAG), &end, 10);
	if (*end != ':' || p < 0 || p > INT_MAX)
		return -1;
	long d = strtol(end + 1, &end, 10);
	struct stat st;
	if (*end != ':' || d < 3 || d > INT_MAX || fstat((int)d, &st) < 0 || !S_ISSOCK(st.st_mode))
		return -1;
	long w = strtol(end + 1, &end, 10);
	struct statfs fs;
	if (*end != '\0' || w < -1 || w > INT_MAX || (w >= 0 && (fstatfs((int)w, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC)))
		return -1;
	siginfo_t info;
	if (p > 0 && waitid(P_PID, (id_t)p, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
		return -1;
	*node = (pid_t)p;
	*fd = (int)d;
	*warm = (int)w;
	return 0;
}

/* The sealed copy, told what to serve; the caller's arguments come along, unread, so that ps shows what it is for. */
static void exec_resumed(char *flag, int argc, char **argv, char **envp)
{
	char **args = calloc((size_t)argc + 2, sizeof *args);
	if (args == NULL)
		return;
	args[0] = argv[0];
	args[1] = flag;
	for (int i = 1; i < argc; i++)
		args[i + 1] = argv[i];
	exec_sealed_copy(args, envp);
	free(args);
}

int main(int argc, char **argv, char **envp)
{
	if (runs_sealed()) {
		pid_t node;
		int fd, warm;
		if (argc >= 2 && strncmp(argv[1], RESUME_FLAG, strlen(RESUME_FLAG)) == 0 && parse_resume(argv[1], &node, &fd, &warm) == 0)
			serve(node, fd, warm, argc, argv);
		/* Reached through /proc/PID/exe from a container, say: the sealed copy serves nobody else. */
		dprintf(2, "berth-exec: usage: the sealed copy of berth-runtime runs only as its own front\n");
		return EXEC_FAILURE_STATUS;
	}
	char launcher[PATH_MAX];
	if (launcher_path(launcher, sizeof launcher) < 0)
		die("find " LAUNCHER_NAME " next to /proc/self/exe", ENAMETOOLONG);
	sigset_t set, old;
	handled_signals(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	/* Found now, so the command line can be told whether the front keeps cgroup joins fast. */
	int warm = open_own_cgroup2_procs();
	char flag[80];
	int absent = 0;
	char path[108];
	struct stat self;
	/* This build's resident: the socket is named by this binary's device and inode (resident-start.ts). */
	int resident = -1;
	if (stat("/proc/self/exe", &self) == 0 &&
	    snprintf(path, sizeof path, RESIDENT_DIR "/%llx-%llx.sock", (unsigned long long)self.st_dev, (unsigned long long)self.st_ino) < (int)sizeof path)
		resident = resident_connect(path, argv, envp, &absent);
	if (resident >= 0) {
		if (fcntl(resident, F_SETFD, 0) < 0 || (warm >= 0 && fcntl(warm, F_SETFD, 0) < 0))
			die("resident socket", errno);
		snprintf(flag, sizeof flag, RESUME_FLAG "0:%d:%d", resident, warm);
		exec_resumed(flag, argc, argv, envp);
		die("resident", ENOMEM);
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair", errno);
	pid_t pid = fork();
	if (pid < 0)
		die("fork", errno);
	if (pid == 0) {
		char num[16];
		close(sv[0]);
		snprintf(num, sizeof num, "%d", sv[1]);
		if (fcntl(sv[1], F_SETFD, 0) < 0 || setenv("BERTH_FRONT_FD", num, 1) < 0 || setenv("BERTH_FRONT_WARMING", warm >= 0 ? "1" : "0", 1) < 0)
			die("front socket", errno);
		/* No resident of this build runs: the command line may leave one for the next command. */
		if (absent && setenv("BERTH_FRONT_RESIDENT", "absent", 1) < 0)
			die("front environment", errno);
		sigprocmask(SIG_SETMASK, &old, NULL);
		execv(launcher, argv);
		dprintf(2, "berth-runtime: start %s: %s\n", launcher, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	if (fcntl(sv[0], F_SETFD, 0) < 0 || (warm >= 0 && fcntl(warm, F_SETFD, 0) < 0)) {
		kill(pid, SIGKILL);
		die("front socket", errno);
	}
	snprintf(flag, sizeof flag, RESUME_FLAG "%d:%d:%d", (int)pid, sv[0], warm);
	exec_resumed(flag, argc, argv, envp);
	kill(pid, SIGKILL);
	_exit(EXEC_FAILURE_STATUS);
}

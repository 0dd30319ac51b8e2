/*
 * berth-init: a tiny init for containers (`--init`, issue 10), the job of
 * tini and docker-init. Usage:
 *
 *   berth-init [--] CMD [ARG...]
 *
 * Why: a container's first process is pid 1 of its pid namespace. The
 * kernel gives pid 1 no default signal actions (a SIGTERM it has no
 * handler for does nothing) and makes it the parent of every orphan, so
 * a command that was never written to be an init ignores `stop` and
 * leaves zombies behind. berth-init is bind-mounted into the container
 * (read-only; linked statically, as the image may have no libc) and runs
 * as pid 1 in the command's place.
 *
 * Rules, policy-free like the other native programs:
 * - it forks and execs CMD (searched in PATH). If the exec fails it says
 *   so naming CMD and the errno, and exits 127 (not found) or 126 (found
 *   but not executable), as docker does;
 * - every signal it can catch is blocked and taken synchronously with
 *   sigwaitinfo (no handler, no busy loop); SIGCHLD reaps every child
 *   that has exited, the command or any orphan handed to it; any other
 *   signal is forwarded to the command's process (not to its group,
 *   as tini by default). The signals the kernel raises for a fault of
 *   its own (SIGSEGV...) are left alone, and SIGTTIN/SIGTTOU ignored so
 *   a background terminal cannot stop it;
 * - once the command has exited it exits with its code, or 128+N if a
 *   signal N killed it. The kernel then kills what is left in the pid
 *   namespace. When not pid 1 it becomes a child subreaper, so orphans
 *   still come to it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Raised by the kernel for the faulting thread itself: blocking them would hide a crash. */
static const int synchronous[] = { SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS };

static void die(const char *what)
{
	fprintf(stderr, "berth-init: %s: %s\n", what, strerror(errno));
	_exit(1);
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* In the child: back to the signal state berth-init was started with, then the command. */
static void run_command(char **argv, const sigset_t *original)
{
	signal(SIGTTIN, SIG_DFL);
	signal(SIGTTOU, SIG_DFL);
	if (sigprocmask(SIG_SETMASK, original, NULL) < 0)
		die("sigprocmask");
	execvp(argv[0], argv);
	int err = errno;
	fprintf(stderr, "berth-init: exec %s: %s\n", argv[0], strerror(err));
	_exit(err == ENOENT || err == ENOTDIR ? 127 : err == EACCES || err == ENOEXEC || err == EPERM || err == EISDIR ? 126 : 127);
}

/*
 * Reaps every child that has exited. Returns 1 and sets *code once the
 * command is among them.
 */
static int reap(pid_t command, int *code)
{
	int done = 0;
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0 || (pid < 0 && errno == ECHILD))
			return done;
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			die("waitpid");
		}
		if (pid == command) {
			*code = exit_code(status);
			done = 1;
		}
	}
}

int main(int argc, char **argv)
{
	int first = 1;
	if (first < argc && strcmp(argv[first], "--") == 0)
		first++;
	if (first >= argc) {
		fprintf(stderr, "usage: berth-init [--] CMD [ARG...]\n");
		return 2;
	}
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		die("prctl(PR_SET_CHILD_SUBREAPER)");

	sigset_t caught, original;
	sigfillset(&caught);
	for (size_t i = 0; i < sizeof(synchronous) / sizeof(synchronous[0]); i++)
		sigdelset(&caught, synchronous[i]);
	sigdelset(&caught, SIGTTIN);
	sigdelset(&caught, SIGTTOU);
	if (sigprocmask(SIG_SETMASK, &caught, &original) < 0)
		die("sigprocmask");
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);

	pid_t command = fork();
	if (command < 0)
		die("fork");
	if (command == 0)
		run_command(argv + first, &original);

	for (;;) {
		siginfo_t info;
		if (sigwaitinfo(&caught, &info) < 0) {
			if (errno == EINTR)
				continue;
			die("sigwaitinfo");
		}
		if (info.si_signo == SIGCHLD) {
			int code;
			if (reap(command, &code))
				return code;
			continue;
		}
		/* The command may have exited and not yet been reaped: ESRCH is no failure then. */
		if (kill(command, info.si_signo) < 0 && errno != ESRCH)
			fprintf(stderr, "berth-init: forward signal %d to %d: %s\n", info.si_signo, command, strerror(errno));
	}
}

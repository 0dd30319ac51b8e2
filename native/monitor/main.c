/*
 * berth-monitor entry point. Usage (the engine's driver builds it,
 * src/engine/monitor/spawn.ts):
 *
 *   berth-monitor (--runtime PATH --root DIR (--bundle DIR | --exec PROCESS.json) | --executor PATH) --id ID --run-dir DIR
 *     [--log PATH --log-max-size BYTES --log-max-files N --log-line-max BYTES]
 *     --report-fd FD [--attach-fd FD] [--stdin] [--stdin-once] [--terminal] [--no-sync]
 *
 * It detaches (fork, setsid, fork), becomes a child subreaper and runs
 * `RUNTIME --root DIR --log RUN/runtime.log create --bundle DIR --pid-file
 * RUN/pid [--console-socket RUN/console.sock] ID`, so the container's
 * process becomes its child; with --exec, `exec --detach --process FILE`
 * instead of `create --bundle DIR`: the new process, left by the runtime,
 * becomes the subreaper's child. On FD it reports one line, `pid N M` (the
 * container's, the monitor's), or
 * `error STATUS` followed by the runtime's log, then closes FD. --executor
 * execs `EXECUTOR 4 5` (the caller's sync socket and plan) instead, reports
 * `pid EXECUTOR MONITOR` then its `exit C`/`signal N`, and takes the
 * container's pid as `pid N` on RUN/ctl (`abort`, or no child and no pid:
 * it quits, writing no exit); an exec's executor (berthd's exec) is run the
 * same way, and takes its --attach-fd client on fd 6. It stays:
 * it writes the output to the log (log.c), serves attach on RUN/attach
 * (mode 0600; output framed as Docker's multiplexed stream, or raw with a
 * terminal; what a client sends goes to the container's stdin; --attach-fd
 * is a client connected from the start, waited for instead of dropped) and resize
 * on the fifo RUN/ctl (`resize ROWS COLS\n`), reaps the container, drains
 * its output and writes RUN/exit (`exit CODE\n` or `signal N\n`) by
 * temp + fsync + rename (--no-sync: no fsync, for an exit nobody needs
 * after a crash, an exec's), then exits. Fixed buffers only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common.h"
#include "monitor.h"

#define MAX_CLIENTS 8
#define STDIN_BUF 4096

static const char *runtime, *root, *bundle, *exec_process, *executor, *id, *run_dir;
static struct log_opts lo;
/* held: clients[0] is the caller's own (--attach-fd) */
static int report_fd = -1, attach_fd = -1, held, want_stdin, stdin_once, terminal, no_sync;
static char path_buf[PATH_MAX];

static pid_t started;  /* the executor or runtime while the monitor sets itself up: killed if that fails */

void die(const char *what)
{
	dprintf(2, "berth-monitor: %s: %s\n", what, strerror(errno));
	if (started > 0)
		kill(started, SIGKILL);
	_exit(1);
}

static const char *in_run(const char *name)
{
	snprintf(path_buf, sizeof path_buf, "%s/%s", run_dir, name);
	return path_buf;
}

static long number(const char *flag, const char *s, long min)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min) {
		dprintf(2, "berth-monitor: %s: not a number >= %ld: \"%s\"\n", flag, min, s);
		exit(2);
	}
	return v;
}

static void parse(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "runtime", 1, 0, 'r' }, { "root", 1, 0, 'R' }, { "bundle", 1, 0, 'b' }, { "id", 1, 0, 'i' },
		{ "run-dir", 1, 0, 'd' }, { "log", 1, 0, 'l' }, { "log-max-size", 1, 0, 's' }, { "log-max-files", 1, 0, 'n' },
		{ "log-line-max", 1, 0, 'L' }, { "report-fd", 1, 0, 'f' }, { "stdin", 0, 0, 'I' }, { "stdin-once", 0, 0, 'O' },
		{ "terminal", 0, 0, 't' }, { "exec", 1, 0, 'x' }, { "attach-fd", 1, 0, 'a' }, { "executor", 1, 0, 'e' }, { "no-sync", 0, 0, 'S' }, { 0, 0, 0, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'r': runtime = optarg; break;
		case 'R': root = optarg; break;
		case 'b': bundle = optarg; break;
		case 'i': id = optarg; break;
		case 'd': run_dir = optarg; break;
		case 'l': lo.path = optarg; break;
		case 's': lo.max_size = (size_t)number("--log-max-size", optarg, 1); break;
		case 'n': lo.max_files = (int)number("--log-max-files", optarg, 1); break;
		case 'L': lo.line_max = (size_t)number("--log-line-max", optarg, 1); break;
		case 'f': report_fd = (int)number("--report-fd", optarg, 3); break;
		case 'I': want_stdin = 1; break;
		case 'O': stdin_once = 1; break;
		case 't': terminal = 1; break;
		case 'x': exec_process = optarg; break;
		case 'a': attach_fd = (int)number("--attach-fd", optarg, 3); break;
		case 'e': executor = optarg; break;
		case 'S': no_sync = 1; break;
		default: exit(2);
		}
	}
	int bad_mode = executor ? runtime || bundle || exec_process || fcntl(4, F_GETFD) < 0 || fcntl(5, F_GETFD) < 0
				: !runtime || !root || !bundle == !exec_process;
	if (bad_mode || !id || !run_dir || (lo.path && (!lo.max_size || !lo.max_files || !lo.line_max)) ||
	    report_fd < 0 || optind != argc || fcntl(report_fd, F_GETFD) < 0 || (attach_fd >= 0 && fcntl(attach_fd, F_GETFD) < 0)) {
		dprintf(2, "berth-monitor: usage: berth-monitor (--runtime PATH --root DIR (--bundle DIR | --exec FILE) | --executor PATH) --id ID --run-dir DIR "
			   "[--log PATH --log-max-size N --log-max-files N --log-line-max N] --report-fd FD [--attach-fd FD] "
			   "[--stdin] [--stdin-once] [--terminal] [--no-sync]\n");
		exit(2);
	}
	if (!lo.path)
		lo.line_max = STDIN_BUF;  /* the output's read size when nothing is logged */
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, 0600) < 0 || listen(fd, 8) < 0)
		return -1;
	return fd;
}

static void report(const char *text, size_t n)
{
	write_all(report_fd, text, n);
	close(report_fd);
	report_fd = -1;
}

static void quit(void)
{
	unlink(in_run("attach"));
	unlink(in_run("ctl"));
	exit(0);
}

/* The runtime's create failed: its status and its log go to the caller. */
static void report_failure(int status)
{
	char buf[4096];
	int n = snprintf(buf, sizeof buf, "error %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	int fd = open(in_run("runtime.log"), O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, buf + n, sizeof buf - (size_t)n);
		if (r > 0)
			n += (int)r;
		close(fd);
	}
	report(buf, (size_t)n);
	quit();
}

static void detach(void)
{
	pid_t p = fork();
	if (p < 0)
		die("fork");
	if (p > 0)
		_exit(0);
	if (setsid() < 0)
		die("setsid");
	p = fork();
	if (p < 0)
		die("fork");
	if (p > 0)
		_exit(0);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die("PR_SET_CHILD_SUBREAPER");
}

/* Output of one stream: a line buffer of line_max bytes, allocated once. */
struct stream {
	int fd;
	int is_stderr;
	char *buf;
	size_t len;
};

static struct stream out[2];
static int clients[MAX_CLIENTS];
static unsigned char input_ended[MAX_CLIENTS];  /* the client half-closed: still given output, no longer read */
static int stdin_fd = -1;
static char stdin_buf[STDIN_BUF];
static size_t stdin_len, stdin_off;

static void drop_client(int i)
{
	if (i == 0)
		held = 0;
	close(clients[i]);
	clients[i] = -1;
	input_ended[i] = 0;
}

static void close_stdin(void)
{
	if (!terminal && stdin_fd >= 0)
		close(stdin_fd);  /* a terminal's master is also its output: that closes with the output */
	stdin_fd = -1;
	stdin_len = stdin_off = 0;
}

/* What the container takes now; the rest waits for POLLOUT, and no client is read meanwhile. */
static void flush_stdin(void)
{
	ssize_t w = write(stdin_fd, stdin_buf + stdin_off, stdin_len - stdin_off);
	if (w < 0 && errno != EAGAIN && errno != EINTR)
		return close_stdin();
	stdin_off += w > 0 ? (size_t)w : 0;
	if (stdin_off == stdin_len)
		stdin_len = stdin_off = 0;
}

/* To every attached client; a client that cannot take it now is dropped rather than buffered for. */
static void to_clients(int is_stderr, const char *p, size_t n)
{
	unsigned char head[8] = { (unsigned char)(is_stderr ? 2 : 1), 0, 0, 0,
		(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n };
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (clients[i] < 0)
			continue;
		struct iovec iov[2] = { { head, sizeof head }, { (void *)p, n } };
		ssize_t want = (ssize_t)n + (terminal ? 0 : 8);
		int flags = MSG_NOSIGNAL | (i == 0 && held ? 0 : MSG_DONTWAIT);  /* the caller's own client is waited for */
		ssize_t w = terminal ? send(clients[i], p, n, flags) : sendmsg(clients[i], &(struct msghdr){ .msg_iov = iov, .msg_iovlen = 2 }, flags);
		if (w != want)
			drop_client(i);
	}
}

/* Reads what there is; 0 at the end of the stream. Complete lines become F records, a full buffer a P record. */
static int pump(struct stream *s)
{
	ssize_t n = read(s->fd, s->buf + s->len, lo.line_max - s->len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0) {  /* EOF, or EIO from a terminal whose other side closed */
		if (s->len > 0)
			log_record(s->is_stderr, 1, s->buf, s->len);
		s->len = 0;
		return 0;
	}
	to_clients(s->is_stderr, s->buf + s->len, (size_t)n);
	s->len += (size_t)n;
	size_t start = 0;
	for (size_t i = s->len - (size_t)n; i < s->len; i++) {
		if (s->buf[i] == '\n') {
			log_record(s->is_stderr, 0, s->buf + start, i - start);
			start = i + 1;
		}
	}
	if (start == 0 && s->len == lo.line_max) {
		log_record(s->is_stderr, 1, s->buf, s->len);
		start = s->len;
	}
	memmove(s->buf, s->buf + start, s->len - start);
	s->len -= start;
	return 1;
}

static pid_t container;  /* 0 until `pid N` with --executor */
static int exited, exit_status;
/* Children reaped before the container's pid is known (--executor), by pid; the last 8. */
static pid_t early_pid[8];
static int early_status[8], early_n;

/* Commands on RUN/ctl, a line each: `resize ROWS COLS`, and with --executor `pid N`, `abort`. */
static void control(int ctl, int master)
{
	char buf[256];
	ssize_t n = read(ctl, buf, sizeof buf - 1);
	struct winsize ws = { 0 };
	buf[n > 0 ? n : 0] = '\0';
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (master >= 0 && sscanf(line, "resize %hu %hu", &ws.ws_row, &ws.ws_col) == 2 && ioctl(master, TIOCSWINSZ, &ws) < 0)
			dprintf(2, "berth-monitor: resizing the terminal: %s\n", strerror(errno));
		if (executor && !container && strcmp(line, "abort") == 0)
			quit();
		if (executor && !container && sscanf(line, "pid %d", &container) == 1)
			for (int i = 0; i < 8; i++)
				if (early_pid[i] == container)
					exited = 1, exit_status = early_status[i];
	}
}

static int status_text(char *text, size_t size, int status)
{
	return WIFSIGNALED(status) ? snprintf(text, size, "signal %d\n", WTERMSIG(status)) : snprintf(text, size, "exit %d\n", WEXITSTATUS(status));
}

static void write_exit(int status)
{
	char text[32], tmp[PATH_MAX];
	int n = status_text(text, sizeof text, status);
	snprintf(tmp, sizeof tmp, "%s/exit.tmp", run_dir);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, text, (size_t)n) < 0 || (!no_sync && fsync(fd) < 0) || close(fd) < 0 || rename(tmp, in_run("exit")) < 0)
		die("writing the exit status");
	int dir = no_sync ? -1 : open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir >= 0) {
		fsync(dir);
		close(dir);
	}
}

static void drain_signals(int sig)
{
	struct signalfd_siginfo si;
	while (read(sig, &si, sizeof si) > 0)
		continue;
}

static pid_t run_create(int child_in, int child_out, int child_err)
{
	pid_t p = fork();
	if (p != 0)
		return p;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(child_in, 0) < 0 || dup2(child_out, 1) < 0 || dup2(child_err, 2) < 0)
		_exit(127);
	if (executor)
		execl(executor, executor, "4", "5", (char *)NULL), _exit(127);
	char runlog[PATH_MAX], pidfile[PATH_MAX], console[PATH_MAX];
	snprintf(runlog, sizeof runlog, "%s/runtime.log", run_dir);
	snprintf(pidfile, sizeof pidfile, "%s/pid", run_dir);
	snprintf(console, sizeof console, "%s/console.sock", run_dir);
	char *args[16] = { (char *)runtime, "--root", (char *)root, "--log", runlog, exec_process ? "exec" : "create" };
	int n = 6;
	if (exec_process) {
		args[n++] = "--detach";
		args[n++] = "--process";
		args[n++] = (char *)exec_process;
	} else {
		args[n++] = "--bundle";
		args[n++] = (char *)bundle;
	}
	args[n++] = "--pid-file";
	args[n++] = pidfile;
	if (terminal) {
		args[n++] = "--console-socket";
		args[n++] = console;
	}
	args[n++] = (char *)id;
	execv(runtime, args);
	_exit(127);
}

int main(int argc, char **argv)
{
	parse(argc, argv);
	/* Whatever else the starter let us inherit would keep its pipes open for the container's lifetime. */
	if (report_fd > 3 && dup2(report_fd, 3) < 0)
		die("dup2");
	report_fd = 3;
	/* The caller's client, if any, goes to 4 (6 with --executor: 4 and 5 are the executor's), blocking:
	 * its sends wait for the caller instead of dropping it. */
	int held_fd = executor ? 6 : 4;
	if (attach_fd >= 0 && (dup2(attach_fd, held_fd) < 0 || fcntl(held_fd, F_SETFL, 0) < 0 || fcntl(held_fd, F_SETFD, FD_CLOEXEC) < 0))
		die("--attach-fd");
	close_range(held_fd + (attach_fd >= 0), ~0U, 0);
	fcntl(report_fd, F_SETFD, FD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);
	detach();
	umask(077);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	int sig = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sig < 0)
		die("signalfd");
	int console = -1, master = -1;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int in[2] = { null, -1 }, o[2] = { -1, null }, e[2] = { -1, null };
	if (terminal) {
		if ((console = listen_unix(in_run("console.sock"))) < 0)
			die(path_buf);
	} else if ((want_stdin && pipe2(in, O_CLOEXEC) < 0) || pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0) {
		die("pipe");
	}
	pid_t create = run_create(in[0], o[1], e[1]);
	if (create < 0)
		die("fork");
	/* The rest while the executor (or runtime) works: ctl exists before the report that the caller awaits before its `pid N`. */
	started = create;
	if (lo.path && log_open(&lo) < 0)
		die(lo.path);
	for (int i = 0; i < MAX_CLIENTS; i++)
		clients[i] = -1;
	if (attach_fd >= 0) {
		clients[0] = held_fd;
		held = 1;
	}
	int attach = listen_unix(in_run("attach"));
	if (attach < 0)
		die(path_buf);
	unlink(in_run("ctl"));
	int ctl = -1;
	if (mkfifo(path_buf, 0600) < 0 || (ctl = open(path_buf, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		die(path_buf);
	started = 0;
	if (executor) {  /* the sync socket and the plan are the executor's alone */
		close(4);
		close(5);
		dprintf(report_fd, "pid %d %d\n", (int)create, (int)getpid());
	}
	if (!terminal) {
		close(o[1]);
		close(e[1]);
		if (want_stdin) {
			close(in[0]);
			stdin_fd = in[1];
		}
	}
	/* The runtime's create: until it exits, take the terminal it passes on the console socket. */
	int status = 0;
	for (;;) {
		struct pollfd pf[2] = { { sig, POLLIN, 0 }, { console, POLLIN, 0 } };
		if (poll(pf, console >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			die("poll");
		if (console >= 0 && (pf[1].revents & POLLIN)) {
			int conn = accept4(console, NULL, NULL, SOCK_CLOEXEC);
			if (conn >= 0) {
				master = recv_fd(conn);
				close(conn);
			}
		}
		drain_signals(sig);
		if (waitpid(create, &status, WNOHANG) == create)
			break;
	}
	if (console >= 0) {
		close(console);
		unlink(in_run("console.sock"));
	}
	char text[64];
	if (executor)
		report(text, (size_t)status_text(text, sizeof text, status));
	else {
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || (terminal && master < 0))
			report_failure(status);
		int pf = open(in_run("pid"), O_RDONLY | O_CLOEXEC);
		ssize_t pn = pf >= 0 ? read(pf, text, sizeof text - 1) : -1;
		if (pn <= 0)
			report_failure(status);
		text[pn] = '\0';
		close(pf);
		container = (pid_t)strtol(text, NULL, 10);
		report(text, (size_t)snprintf(text, sizeof text, "pid %d %d\n", (int)container, (int)getpid()));
	}
	/* Nobody reads our stderr any more: the caller has its report. */
	for (int fd = 0; null >= 0 && fd < 3; fd++)
		dup2(null, fd);

	out[0] = (struct stream){ .fd = terminal ? master : o[0], .is_stderr = 0 };
	out[1] = (struct stream){ .fd = terminal ? -1 : e[0], .is_stderr = 1 };
	if (terminal)
		stdin_fd = master;
	if (stdin_fd >= 0)
		fcntl(stdin_fd, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 2; i++)
		if (out[i].fd >= 0 && !(out[i].buf = malloc(lo.line_max)))
			die("malloc");
	raise(SIGCHLD);  /* an exec'd process may be gone already, its SIGCHLD taken while waiting for the runtime */
	while (!exited || out[0].fd >= 0 || out[1].fd >= 0) {
		struct pollfd p[6 + MAX_CLIENTS];
		int n = 0;
		int exit_seen = exited;  /* acted on after one more poll: a pty's last output may trail the exit */
		p[n++] = (struct pollfd){ sig, POLLIN, 0 };
		p[n++] = (struct pollfd){ attach, POLLIN, 0 };
		p[n++] = (struct pollfd){ ctl, POLLIN, 0 };
		p[n++] = (struct pollfd){ out[0].fd, POLLIN, 0 };
		p[n++] = (struct pollfd){ out[1].fd, POLLIN, 0 };
		p[n++] = (struct pollfd){ stdin_len > 0 ? stdin_fd : -1, POLLOUT, 0 };
		for (int i = 0; i < MAX_CLIENTS; i++)
			p[n++] = (struct pollfd){ stdin_len > 0 || input_ended[i] ? -1 : clients[i], POLLIN, 0 };
		/* After the exit, only what is already in the pipes is drained: a leftover holder cannot keep us. */
		if (poll(p, (nfds_t)n, exited ? 0 : -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (p[0].revents & POLLIN) {
			drain_signals(sig);
			pid_t w;
			int st;
			while ((w = waitpid(-1, &st, WNOHANG)) > 0)
				if (w == container)
					exited = 1, exit_status = st;
				else if (!container)
					early_pid[early_n % 8] = w, early_status[early_n++ % 8] = st;
			if (w < 0 && errno == ECHILD && !container) {
				control(ctl, master);  /* its pid, written before the container could run, may be there */
				if (!container)
					quit();  /* the creation failed: no container to wait for */
			}
		}
		if (p[1].revents & POLLIN) {
			int c = accept4(attach, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			int slot = -1;
			for (int i = 0; c >= 0 && i < MAX_CLIENTS && slot < 0; i++)
				if (clients[i] < 0)
					slot = i;
			if (slot >= 0)
				clients[slot] = c;
			else if (c >= 0)
				close(c);
		}
		if (p[2].revents & POLLIN)
			control(ctl, master);
		for (int i = 0; i < 2; i++) {
			if (out[i].fd < 0)
				continue;
			if (p[3 + i].revents & (POLLIN | POLLHUP | POLLERR)) {
				if (!pump(&out[i])) {
					close(out[i].fd);
					out[i].fd = -1;
					if (terminal)
						close_stdin();
				}
			} else if (exit_seen) {
				/* nothing more pending: what a lingering holder writes later is not waited for */
				if (out[i].len > 0)
					log_record(out[i].is_stderr, 1, out[i].buf, out[i].len);
				out[i].len = 0;
				close(out[i].fd);
				out[i].fd = -1;
			}
		}
		if (p[5].revents)
			flush_stdin();
		/* One client's input at a time, and none until the container took the last: an attached
		 * writer waits on its socket, never on this process's memory or its output loop. */
		for (int i = 0; i < MAX_CLIENTS && stdin_len == 0; i++) {
			if (clients[i] < 0 || !(p[6 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = read(clients[i], stdin_buf, sizeof stdin_buf);
			if (r > 0 && stdin_fd >= 0) {
				stdin_len = (size_t)r;
				flush_stdin();
			} else if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
				if (stdin_once)  /* nothing of it is pending: clients are read only when all was taken */
					close_stdin();
				if (r == 0)
					input_ended[i] = 1;  /* as docker's CloseWrite: the output goes on */
				else
					drop_client(i);
			}
		}
	}
	write_exit(exit_status);
	quit();
}

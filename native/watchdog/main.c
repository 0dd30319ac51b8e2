/*
 * berth-watchdog: the process of every function container (issue 13),
 * speaking the OpenFaaS classic watchdog's and of-watchdog's environment:
 *
 *   port            where to listen (8080; 0 picks a free port, logged)
 *   mode            streaming (default), serializing, http, static
 *   fprocess        the function's command, split on spaces, no shell
 *                   (function_process when fprocess is unset)
 *   upstream_url    mode http: http://IPV4-OR-localhost:PORT[/PATH]
 *   static_path     mode static (/home/app/public)
 *   exec_timeout, read_timeout, write_timeout   Go durations or seconds (10s)
 *   max_inflight    requests at once, 429 past it (0: no limit)
 *   content_type    of every response (else the request's, else text/plain)
 *   combine_output  fprocess's stderr into the response (false)
 *   prefix_logs     "stderr: " before the process's lines (true)
 *   suppress_lock   no /tmp/.lock once healthy (false)
 *
 * /_/health answers 200 once ready (mode http: once the upstream accepts connections;
 * ?wait=MS holds it until then), /_/ready also 503 while max_inflight requests run.
 *
 * One process listens (and reaps every child: it is the container's pid 1)
 * and forks a handler per connection, which serves its requests one after
 * the other: every wait is a blocking call bounded by a deadline, no event
 * loop, and a crash takes one connection with it, never the server. The
 * handlers share the in-flight count through a MAP_SHARED page. SIGTERM
 * stops accepting, removes the lock, lets the handlers finish their
 * current request (up to write_timeout) and exits.
 */
#include "watchdog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOCK_FILE "/tmp/.lock"
#define MAX_CONNS 1024

struct config cfg;
struct shared *shared;
const sigset_t *poll_mask;
volatile sig_atomic_t terminating;

static const char *const modes[] = { "streaming", "serializing", "http", "static" };

static void __attribute__((noreturn)) bad(const char *var, const char *value, const char *why)
{
	fprintf(stderr, "berth-watchdog: %s=\"%s\": %s\n", var, value, why);
	exit(2);
}

/* A Go duration ("1m30s", "100ms", "1.5h") or, as of-watchdog accepts, a whole number of seconds */
static int64_t duration(const char *var, int64_t fallback)
{
	const char *v = getenv(var), *p = v;
	if (!v || !*v)
		return fallback;
	if (strspn(v, "0123456789") == strlen(v))
		return strtoll(v, NULL, 10) * 1000;
	static const struct { const char *unit; double ms; } units[] = {
		{ "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "ms", 1 }, { "s", 1e3 }, { "m", 6e4 }, { "h", 3.6e6 },
	};
	double total = 0;
	while (*p) {
		char *end;
		double n = strtod(p, &end);
		if (end == p || *p == '-' || *p == '+' || n > 1e12)
			bad(var, v, "not a duration (like 10s, 500ms, 1m30s)");
		size_t i, len = 0;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			len = strlen(units[i].unit);
			if (strncmp(end, units[i].unit, len) == 0 && !(len == 1 && end[0] == 'm' && end[1] == 's'))
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			bad(var, v, "not a duration (like 10s, 500ms, 1m30s)");
		total += n * units[i].ms;
		p = end + len;
	}
	return (int64_t)total;
}

static bool flag(const char *var, bool fallback)
{
	const char *v = getenv(var);
	if (!v || !*v)
		return fallback;
	if (!strcmp(v, "true") || !strcmp(v, "1"))
		return true;
	if (!strcmp(v, "false") || !strcmp(v, "0"))
		return false;
	bad(var, v, "not a boolean (true or false)");
}

static long number(const char *var, long fallback, long max)
{
	const char *v = getenv(var);
	if (!v || !*v)
		return fallback;
	if (strspn(v, "0123456789") != strlen(v) || strlen(v) > 9 || atol(v) > max)
		bad(var, v, "not a number in range");
	return atol(v);
}

static void upstream(const char *v)
{
	char host[64];
	int port = 0, n = 0;
	if (sscanf(v, "http://%63[^:/]:%d%n", host, &port, &n) != 2 || port <= 0 || port > 65535 || (v[n] && v[n] != '/'))
		bad("upstream_url", v, "not http://IPV4-OR-localhost:PORT[/PATH]");
	cfg.upstream.sin_family = AF_INET;
	cfg.upstream.sin_port = htons(port);
	if (inet_pton(AF_INET, strcmp(host, "localhost") ? host : "127.0.0.1", &cfg.upstream.sin_addr) != 1)
		bad("upstream_url", v, "the host must be an IPv4 address or localhost (the watchdog resolves no names)");
	snprintf(cfg.upstream_host, sizeof(cfg.upstream_host), "%s:%d", host, port);
	cfg.upstream_path = v + n;
	cfg.upstream_path_len = strlen(v + n);
	while (cfg.upstream_path_len && cfg.upstream_path[cfg.upstream_path_len - 1] == '/')
		cfg.upstream_path_len--;
}

static void configure(void)
{
	cfg.port = number("port", 8080, 65535);
	const char *mode = getenv("mode");
	cfg.mode = MODE_STREAMING;
	for (size_t i = 0; mode && *mode && i <= sizeof(modes) / sizeof(modes[0]); i++) {
		if (i == sizeof(modes) / sizeof(modes[0]))
			bad("mode", mode, "not one of streaming, serializing, http, static");
		if (!strcmp(mode, modes[i])) {
			cfg.mode = i;
			break;
		}
	}
	cfg.exec_ms = duration("exec_timeout", 10000);
	cfg.read_ms = duration("read_timeout", 10000);
	cfg.write_ms = duration("write_timeout", 10000);
	cfg.max_inflight = number("max_inflight", 0, 1000000);
	cfg.content_type = getenv("content_type");
	if (cfg.content_type && (!*cfg.content_type || strpbrk(cfg.content_type, "\r\n")))
		cfg.content_type = NULL;
	cfg.combine_output = flag("combine_output", false);
	cfg.prefix_logs = flag("prefix_logs", true);
	cfg.suppress_lock = flag("suppress_lock", false);
	cfg.static_path = getenv("static_path") ? getenv("static_path") : "/home/app/public";
	const char *process = getenv("fprocess");
	if (!process || !*process)
		process = getenv("function_process");
	if (cfg.mode != MODE_STATIC) {
		if (!process || !*process)
			bad("fprocess", "", "the function's command is required in this mode");
		char *copy = strdup(process), *save = NULL;
		size_t n = 0;
		cfg.argv = calloc(strlen(process) / 2 + 2, sizeof(char *));
		for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
			cfg.argv[n++] = t;
		if (n == 0)
			bad("fprocess", process, "no command in it");
	}
	if (cfg.mode == MODE_HTTP)
		upstream(getenv("upstream_url") ? getenv("upstream_url") : "");
}

static void on_term(int sig)
{
	terminating = 1;
}

/* /_/health?wait=MS (berth's gateway): held until ready (the listener's futex wake) or MS (at most 10 s) passed; true when not ready at first. */
static bool wait_ready(const char *query)
{
	const char *w = strstr(query, "wait=");
	long ms = w && (w == query || w[-1] == '&') ? strtol(w + 5, NULL, 10) : 0;
	int64_t until = now_ms() + (ms < 0 ? 0 : ms > 10000 ? 10000 : ms);
	bool waited = !__atomic_load_n(&shared->ready, __ATOMIC_SEQ_CST);
	for (int64_t left; !__atomic_load_n(&shared->ready, __ATOMIC_SEQ_CST) && !terminating && (left = until - now_ms()) > 0;)
		syscall(SYS_futex, &shared->ready, FUTEX_WAIT, 0, &(struct timespec){ left / 1000, (left % 1000) * 1000000 }, NULL, 0);
	return waited;
}

static void dispatch(struct conn *c, struct request *r, int64_t start)
{
	int status;
	bool health = !strcmp(r->path, "/_/health"), ready = !strcmp(r->path, "/_/ready");
	if (health || ready) {
		bool fresh = wait_ready(r->query);  /* ready while held: the listener's connect to the upstream just proved it */
		bool ok = __atomic_load_n(&shared->ready, __ATOMIC_SEQ_CST) && !terminating;
		if (ok && health && cfg.mode == MODE_HTTP && !fresh) {
			int fd = upstream_connect(0);
			ok = fd >= 0;
			if (fd >= 0)
				close(fd);
		}
		if (ok && ready && cfg.max_inflight)
			ok = __atomic_load_n(&shared->inflight, __ATOMIC_SEQ_CST) < cfg.max_inflight;
		body_drain(c, r);
		respond(c, ok ? 200 : 503, NULL, ok ? "OK" : "not ready\n", ok ? 2 : 10, NULL);
		return;  /* polled all the time: not logged */
	}
	int inflight = __atomic_add_fetch(&shared->inflight, 1, __ATOMIC_SEQ_CST);
	if (cfg.max_inflight && inflight > cfg.max_inflight) {
		body_drain(c, r);
		status = 429;
		respond(c, 429, NULL, "too many requests: max_inflight reached\n", 40, NULL);
	} else {
		status = cfg.mode == MODE_HTTP ? run_proxy(c, r) : cfg.mode == MODE_STATIC ? run_static(c, r) : run_fork(c, r);
	}
	__atomic_sub_fetch(&shared->inflight, 1, __ATOMIC_SEQ_CST);
	logf_line("%s %.*s %d %.3fms", r->method, (int)strcspn(r->target, "?"), r->target, status,
		  (now_us() - start) / 1000.0);
}

static void __attribute__((noreturn)) handle(int fd, pid_t listener)
{
	static struct conn c;
	static struct request r;
	static sigset_t none;
	/* the listener killed (kill -9, not SIGTERM): its connections go with it, and their functions with them */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != listener)
		_exit(0);
	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);
	poll_mask = &none;
	c.fd = fd;
	if (cfg.write_ms) {
		struct timeval tv = { .tv_sec = cfg.write_ms / 1000, .tv_usec = (cfg.write_ms % 1000) * 1000 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (!c.close) {
		c.deadline = cfg.read_ms ? now_ms() + cfg.read_ms : 0;
		int status = read_request(&c, &r);
		if (status < 0)
			break;
		int64_t start = now_us();
		if (status > 0) {
			c.close = true;
			respond(&c, status, NULL, reason(status), strlen(reason(status)), NULL);
			logf_line("bad request: %d %s", status, reason(status));
			break;
		}
		c.close = !r.keep_alive || terminating;
		c.head = !strcmp(r.method, "HEAD"), c.http10 = r.http10;
		dispatch(&c, &r, start);
	}
	/* a lingering close, so that a client still sending reads the answer instead of a reset */
	shutdown(fd, SHUT_WR);
	c.deadline = now_ms() + 500;
	for (int i = 0; i < 16; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (wait_fds(&p, 1, c.deadline) <= 0 || recv(fd, c.buf, sizeof(c.buf), 0) <= 0)
			break;
	}
	_exit(0);
}

static pid_t *handlers;
static size_t nhandlers;

static void lock_file(bool create)
{
	if (cfg.suppress_lock)
		return;
	if (!create) {
		unlink(LOCK_FILE);
		return;
	}
	int fd = open(LOCK_FILE, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0660);
	if (fd < 0)
		logf_line("cannot write %s: %s", LOCK_FILE, strerror(errno));
	else
		close(fd);
}

/* Mode http: the long-lived process, its stdout and stderr read into the log */
static pid_t start_process(int out[2], int err[2], const sigset_t *original)
{
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		perror("berth-watchdog: pipe");
		exit(1);
	}
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);  /* never outlives the watchdog, even a kill -9 of it */
		if (null < 0 || dup2(null, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			_exit(126);
		syscall(SYS_close_range, 3, ~0U, 0);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, original, NULL);
		execvp(cfg.argv[0], cfg.argv);
		dprintf(2, "exec %s: %s\n", cfg.argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0) {
		perror("berth-watchdog: fork");
		exit(1);
	}
	close(out[1]);
	close(err[1]);
	return pid;
}

static void reap(pid_t process, int *process_status)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == process)
			*process_status = st;
		for (size_t i = 0; i < nhandlers; i++) {
			if (handlers[i] != pid)
				continue;
			handlers[i] = handlers[--nhandlers];
			if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
				logf_line("connection handler %d killed by signal %d", pid, WTERMSIG(st));
		}
	}
}

int main(void)
{
	configure();
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	handlers = calloc(MAX_CONNS, sizeof(pid_t));
	if (shared == MAP_FAILED || !handlers) {
		perror("berth-watchdog: memory");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	sigset_t caught, original;
	sigemptyset(&caught);
	sigaddset(&caught, SIGCHLD);
	sigaddset(&caught, SIGTERM);
	sigaddset(&caught, SIGINT);
	sigprocmask(SIG_BLOCK, &caught, &original);
	int sfd = signalfd(-1, &caught, SFD_CLOEXEC | SFD_NONBLOCK);
	if (getpid() != 1)
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(cfg.port) };
	socklen_t alen = sizeof(addr);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sfd < 0 || lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lfd, 1024) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0) {
		fprintf(stderr, "berth-watchdog: listen on port %d: %s\n", cfg.port, strerror(errno));
		return 1;
	}
	logf_line("berth-watchdog listening on port %d, mode %s", ntohs(addr.sin_port), modes[cfg.mode]);

	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, process_status = -1;
	pid_t process = cfg.mode == MODE_HTTP ? start_process(out, err, &original) : 0;
	struct linebuf outlog = { 0 }, errlog = { 0 };
	bool draining = false;
	int64_t drain_deadline = 0;
	pid_t self = getpid();
	if (!process) {
		shared->ready = 1;
		lock_file(true);
	}
	for (;;) {
		struct pollfd p[4] = { { sfd, POLLIN, 0 }, { draining || nhandlers == MAX_CONNS ? -1 : lfd, POLLIN, 0 },
				       { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
		int64_t deadline = draining ? drain_deadline : !shared->ready ? now_ms() + 1 : 0;  /* the upstream probed every ms */
		int n = wait_fds(p, 4, deadline);
		if (n < 0 && errno != EINTR) {
			perror("berth-watchdog: poll");
			return 1;
		}
		if (!shared->ready && !draining) {
			int fd = upstream_connect(0);
			if (fd >= 0) {
				close(fd);
				shared->ready = 1;  /* the futex call orders it */
				syscall(SYS_futex, &shared->ready, FUTEX_WAKE, MAX_CONNS, NULL, NULL, 0);
				lock_file(true);
			}
		}
		for (int i = 2; i < 4; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			char buf[4096];
			ssize_t k = read(p[i].fd, buf, sizeof(buf));
			if (k < 0 && errno == EINTR)
				continue;
			log_lines(i == 2 ? &outlog : &errlog, i == 2 ? "stdout" : "stderr", buf, k > 0 ? k : 0);
			if (k <= 0) {
				close(p[i].fd);
				(i == 2 ? out : err)[0] = -1;
			}
		}
		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGCHLD) {
				reap(process, &process_status);
			} else if (!draining) {
				draining = true;
				shared->ready = 0;
				lock_file(false);
				close(lfd);
				for (size_t i = 0; i < nhandlers; i++)
					kill(handlers[i], SIGTERM);
				drain_deadline = now_ms() + (cfg.write_ms ? cfg.write_ms : 10000);
				logf_line("SIGTERM: draining %zu connection(s)", nhandlers);
			}
		}
		if (process && process_status != -1) {
			for (int i = 0; i < 2; i++) {  /* its last words first: often why it exited */
				char buf[4096];
				ssize_t k;
				struct pollfd q = { (i ? err : out)[0], POLLIN, 0 };
				while (q.fd >= 0 && poll(&q, 1, 0) > 0 && (k = read(q.fd, buf, sizeof(buf))) > 0)
					log_lines(i ? &errlog : &outlog, i ? "stderr" : "stdout", buf, (size_t)k);
				log_lines(i ? &errlog : &outlog, i ? "stderr" : "stdout", buf, 0);
			}
			logf_line("fprocess exited: %s %d", WIFEXITED(process_status) ? "status" : "signal",
				  WIFEXITED(process_status) ? WEXITSTATUS(process_status) : WTERMSIG(process_status));
			lock_file(false);
			for (size_t i = 0; i < nhandlers; i++)
				kill(handlers[i], SIGKILL);
			return 1;
		}
		if (draining && (nhandlers == 0 || now_ms() >= drain_deadline)) {
			for (size_t i = 0; i < nhandlers; i++)
				kill(handlers[i], SIGKILL);
			if (process)
				kill(-process, SIGTERM);
			logf_line("exiting, %zu connection(s) cut", nhandlers);
			return 0;
		}
		if (draining || p[1].fd < 0 || !(p[1].revents & POLLIN))
			continue;
		for (int accepted = 0; accepted < 64 && nhandlers < MAX_CONNS; accepted++) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0)
				break;
			pid_t pid = fork();
			if (pid == 0) {
				close(lfd);
				close(sfd);
				for (int i = 0; i < 2; i++)
					if ((i ? err : out)[0] >= 0)
						close((i ? err : out)[0]);
				handle(fd, self);
			}
			if (pid > 0)
				handlers[nhandlers++] = pid;
			close(fd);
		}
	}
}

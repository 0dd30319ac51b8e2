/*
 * A process per request (modes streaming and serializing): fprocess gets
 * the body on stdin and the request as CGI-style variables, its stdout is
 * the response, its stderr goes to the log (or into the response with
 * combine_output). Streaming sends the output as it comes (chunked, 200
 * at the first byte); serializing reads the whole body first, buffers the
 * output and answers 500 when the process fails. exec_timeout kills the
 * process group: 504. The group is killed too once the process exits, so
 * nothing it left in the background outlives its request.
 */
#include "watchdog.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char *envf(const char *name, const char *value)
{
	char *s;
	return asprintf(&s, "Http_%s=%s", name, value) < 0 ? NULL : s;
}

/* Http_<Name> as the classic watchdog forms it: Go's canonical header key, '-' to '_' */
static char *header_var(const char *name, const char *value)
{
	char *s = envf(name, value);
	if (!s)
		return NULL;
	bool up = true;
	for (char *p = s + 5; *p != '='; p++) {
		*p = up ? toupper((unsigned char)*p) : tolower((unsigned char)*p);
		up = *p == '-';
		if (*p == '-')
			*p = '_';
	}
	return s;
}

static char **build_env(const struct request *r)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + r->nh + 8, sizeof(char *));
	if (!env)
		return NULL;
	size_t k = 0, fixed;
	char len[24];
	snprintf(len, sizeof(len), "%lld", (long long)r->length);
	env[k++] = envf("Method", r->method);
	env[k++] = envf("Path", r->path);
	if (*r->query)
		env[k++] = envf("Query", r->query);
	env[k++] = envf("Content_Length", len);
	env[k++] = envf("ContentLength", len);
	if (r->chunked)
		env[k++] = envf("Transfer_Encoding", "chunked");
	fixed = k;
	/* Go keeps Host and Transfer-Encoding out of the header map; the first value of a name wins */
	for (int i = 0; i < r->nh; i++) {
		if (!strcasecmp(r->h[i].name, "Host") || !strcasecmp(r->h[i].name, "Transfer-Encoding") ||
		    !strcasecmp(r->h[i].name, "Content-Length"))
			continue;
		char *v = header_var(r->h[i].name, r->h[i].value);
		size_t eq = v ? strcspn(v, "=") + 1 : 0;
		bool dup = false;
		for (size_t j = 0; v && j < k && !dup; j++)
			dup = env[j] && strncmp(env[j], v, eq) == 0;
		if (dup || !v)
			free(v);
		else
			env[k++] = v;
	}
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "Http_", 5) != 0)
			env[k++] = environ[i];
	for (size_t i = 0; i < fixed; i++)
		if (!env[i])
			return NULL;
	return env;
}

static void child(int in, int out, int err)
{
	setpgid(0, 0);
	/* a handler killed (at the end of a drain, or by a crash) takes its function with it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	/* also what the watchdog itself inherited without CLOEXEC */
	syscall(SYS_close_range, 3, ~0U, 0);
	sigset_t none;
	sigemptyset(&none);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int chunk_out(struct conn *c, bool chunked, const char *p, size_t n)
{
	char size[24];
	int k = snprintf(size, sizeof(size), "%zx\r\n", n);
	struct iovec iov[3] = { { size, (size_t)k }, { (void *)p, n }, { "\r\n", 2 } };
	if (!chunked)
		return send_all(c->fd, p, n);
	ssize_t sent = writev(c->fd, iov, 3);
	if (sent == (ssize_t)(k + n + 2))
		return 0;
	/* a short write: the rest the slow way */
	return sent < 0 ? -1 : send_all(c->fd, size, k) || send_all(c->fd, p, n) || send_all(c->fd, "\r\n", 2);
}

int run_fork(struct conn *c, struct request *r)
{
	bool serial = cfg.mode == MODE_SERIALIZING;
	char *in = NULL, *out = NULL;
	size_t in_len = 0, in_off = 0, out_len = 0, out_cap = 0;
	char tmp[16384];
	if (r->expect_continue && !r->body_done)
		send_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	if (serial) {
		size_t cap = 0;
		for (;;) {
			if (in_len + sizeof(tmp) > cap) {
				char *p = realloc(in, cap = cap * 2 + sizeof(tmp));
				if (!p) {
					free(in);
					c->close = true;
					return respond(c, 413, NULL, "request body too large\n", 23, NULL), 413;
				}
				in = p;
			}
			ssize_t n = body_read(c, r, in + in_len, cap - in_len);
			if (n < 0) {
				free(in);
				return respond(c, 400, NULL, "bad request body\n", 17, NULL), 400;
			}
			if (n == 0)
				break;
			in_len += n;
		}
	}
	int pin[2], pout[2], perr[2] = { -1, -1 };
	char **env = build_env(r);
	if (!env || pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 ||
	    (!cfg.combine_output && pipe2(perr, O_CLOEXEC) < 0)) {
		free(in);
		c->close = true;
		return respond(c, 500, NULL, "cannot start the function\n", 26, NULL), 500;
	}
	int64_t start = now_ms(), start_us = now_us();
	pid_t pid = fork();
	if (pid == 0) {
		child(pin[0], pout[1], cfg.combine_output ? pout[1] : perr[1]);
		execvpe(cfg.argv[0], cfg.argv, env);
		dprintf(2, "exec %s: %s\n", cfg.argv[0], strerror(errno));
		_exit(127);
	}
	for (size_t i = 0; env[i] && strncmp(env[i], "Http_", 5) == 0; i++)
		free(env[i]);
	free(env);
	close(pin[0]);
	close(pout[1]);
	if (perr[1] >= 0)
		close(perr[1]);
	if (pid < 0) {
		close(pin[1]);
		close(pout[0]);
		if (perr[0] >= 0)
			close(perr[0]);
		free(in);
		c->close = true;
		return respond(c, 500, NULL, "cannot fork the function\n", 25, NULL), 500;
	}
	setpgid(pid, pid);
	int pidfd = syscall(SYS_pidfd_open, pid, 0);
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	int64_t exec_deadline = cfg.exec_ms ? start + cfg.exec_ms : 0;
	bool sent_head = false, chunked = !r->http10, exited = pidfd < 0, timed_out = false, failed = false;
	int status = 0, stdin_fd = pin[1];
	struct rusage ru = { 0 };
	struct linebuf errlog = { 0 };
	char pend[16384];
	size_t pend_off = 0, pend_len = 0;
	int fds[3] = { pout[0], perr[0], pidfd };
	c->nowait = true;  /* the body is read between the process's output, never waiting for it */
	while (fds[0] >= 0 || fds[1] >= 0 || !exited) {
		/* what goes to stdin next: the buffered body, or the next piece read from the client */
		if (stdin_fd >= 0 && !serial && pend_off == pend_len && !r->body_done && !r->body_bad && c->off < c->len) {
			ssize_t n = body_read(c, r, pend, sizeof(pend));
			pend_off = 0;
			pend_len = n > 0 ? n : 0;
		}
		bool more = serial ? in_off < in_len : pend_off < pend_len || (!r->body_done && !r->body_bad);
		if (stdin_fd >= 0 && !more) {
			close(stdin_fd);
			stdin_fd = -1;
		}
		struct pollfd p[5];
		int np = 0, want_client = -1, want_in = -1;
		for (int i = 0; i < 3; i++)
			if (fds[i] >= 0 && !(i == 2 && exited))
				p[np++] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		if (stdin_fd >= 0 && (serial ? in_off < in_len : pend_off < pend_len)) {
			want_in = np;
			p[np++] = (struct pollfd){ .fd = stdin_fd, .events = POLLOUT };
		} else if (stdin_fd >= 0) {
			want_client = np;
			p[np++] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
		}
		int64_t deadline = exec_deadline;
		if (want_client >= 0 && c->deadline && (!deadline || c->deadline < deadline))
			deadline = c->deadline;
		int ready = wait_fds(p, np, timed_out ? now_ms() + 1000 : deadline);
		if (ready == 0 && timed_out)
			break;  /* killed and still holding the pipes: something escaped the group */
		if (ready == 0) {
			if (exec_deadline && now_ms() >= exec_deadline) {
				timed_out = true;
				kill(-pid, SIGKILL);
			} else {
				r->body_bad = true;  /* the client stopped sending within read_timeout */
				c->close = true;
			}
			continue;
		}
		if (ready < 0 && errno != EINTR)
			break;
		for (int i = 0; i < np; i++) {
			if (!p[i].revents)
				continue;
			if (i == want_in) {
				const char *src = serial ? in + in_off : pend + pend_off;
				size_t left = serial ? in_len - in_off : pend_len - pend_off;
				ssize_t n = write(stdin_fd, src, left);
				if (n < 0 && errno != EAGAIN) {
					close(stdin_fd);  /* the process stopped reading: the rest is drained later */
					stdin_fd = -1;
				} else if (n > 0) {
					*(serial ? &in_off : &pend_off) += n;
				}
				continue;
			}
			if (i == want_client) {
				ssize_t n = body_read(c, r, pend, sizeof(pend));
				pend_off = 0;
				pend_len = n > 0 ? n : 0;
				continue;
			}
			if (p[i].fd == pidfd) {
				int st;
				if (wait4(pid, &st, WNOHANG, &ru) == pid) {
					exited = true;
					status = st;
					kill(-pid, SIGKILL);
				}
				continue;
			}
			ssize_t n = read(p[i].fd, tmp, sizeof(tmp));
			if (n < 0 && errno == EINTR)
				continue;
			bool is_out = p[i].fd == fds[0];
			if (n <= 0) {
				if (!is_out)
					log_lines(&errlog, "stderr", tmp, 0);
				close(p[i].fd);
				fds[is_out ? 0 : 1] = -1;
				continue;
			}
			if (!is_out) {
				log_lines(&errlog, "stderr", tmp, n);
			} else if (serial) {
				if (out_len + n > out_cap) {
					char *q = realloc(out, out_cap = (out_len + n) * 2);
					if (!q) {
						failed = true;
						kill(-pid, SIGKILL);
						continue;
					}
					out = q;
				}
				memcpy(out + out_len, tmp, n);
				out_len += n;
			} else if (!failed) {
				if (!sent_head) {
					const char *ct = cfg.content_type ? cfg.content_type : find_header(r, "Content-Type");
					char head[512];
					int k = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n%s%s\r\n",
							 ct ? ct : "text/plain", chunked ? "Transfer-Encoding: chunked\r\nTrailer: X-Berth-Usage\r\n" : "",
							 chunked && !c->close ? "" : "Connection: close\r\n");
					if (!chunked)
						c->close = true;
					failed = send_all(c->fd, head, k) < 0;
					sent_head = true;
				}
				if (!failed && !c->head && chunk_out(c, chunked, tmp, n) < 0)
					failed = true;
				if (failed)
					kill(-pid, SIGKILL);  /* the client is gone or stuck past write_timeout */
			}
		}
	}
	c->nowait = false;
	if (!exited || pidfd < 0) {
		if (!exited)
			kill(-pid, SIGKILL);
		wait4(pid, &status, 0, &ru);
	}
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (stdin_fd >= 0)
		close(stdin_fd);
	free(in);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	/* the process's own CPU time and peak memory, with what it waited for: the gateway meters the call by them */
	char msg[96], usage[112], extra[160];
	snprintf(usage, sizeof(usage), "X-Berth-Usage: cpu_us=%lld maxrss_kb=%ld exit=%d\r\n",
		 (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec,
		 ru.ru_maxrss, code);
	int answer;
	if (timed_out) {
		logf_line("Function was killed by exec_timeout: %lldms", (long long)cfg.exec_ms);
		answer = 504;
	} else {
		answer = r->body_bad && !sent_head ? 400 : code == 0 ? 200 : 500;
	}
	if (!r->body_done && !body_drain(c, r))
		c->close = true;
	if (failed) {
		c->close = true;
	} else if (sent_head) {
		int n = snprintf(extra, sizeof(extra), "0\r\n%s\r\n", usage);  /* the last chunk, the usage its trailer */
		if (answer != 200 || r->body_bad || (chunked && !c->head && send_all(c->fd, extra, n) < 0))
			c->close = true;  /* cut without its last chunk: the client sees it failed */
	} else if (answer != 200) {
		int n = timed_out ? snprintf(msg, sizeof(msg), "exec_timeout of %lldms exceeded\n", (long long)cfg.exec_ms)
			: answer == 400 ? snprintf(msg, sizeof(msg), "bad request body\n")
				  : snprintf(msg, sizeof(msg), "exit status %d\n", code);
		respond(c, answer, NULL, msg, n, usage);
	} else {
		const char *ct = cfg.content_type ? cfg.content_type : find_header(r, "Content-Type");
		snprintf(extra, sizeof(extra), "X-Duration-Seconds: %.6f\r\n%s", (now_us() - start_us) / 1e6, usage);
		respond(c, 200, ct ? ct : "text/plain", out, out_len, extra);
	}
	free(out);
	return answer;
}

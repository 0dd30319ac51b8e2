/*
 * berth-relay's channel and loop. The channel is Node.js's IPC socket
 * (serialization json: one JSON value a line). In: strings from the
 * gateway,
 *   "f KEY TIMEOUT_MS REASON [IDX:ADDR:PORT:WD ...]"  a function's ready replicas (none: not relayed)
 *   "s N"                                      answered "a N" once all before it is done
 * and Node's own {"cmd":"NODE_HANDLE_ACK"}, ignored. Out: one string per
 * loop turn holding the turn's reports, a line each,
 *   "b IDX"                                    a call went to replica IDX
 *   "e IDX STATUS DURATION_US USAGE"           it ended (STATUS 0: the client went; USAGE "-" or cpu_us,maxrss_kb)
 *   "a N"
 * and {"cmd":"NODE_HANDLE","type":"net.Socket","msg":"h"} with a client's
 * descriptor, which Node.js turns into a net.Socket for the gateway's
 * HTTP server (and acknowledges; nothing waits for that here).
 */
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

int epfd;
volatile sig_atomic_t terminating;
static int chan = -1, lfd = 4;
static struct replica *replicas;
static struct function *functions;
static char rep_out[1 << 20];
static size_t rep_len;
static bool rep_urgent;  /* an "a N": its sync waits for it */

int64_t now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void send_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(chan, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			_exit(0);  /* berthd is gone */
		p += k;
		n -= k;
	}
}

/* The turn's reports as one JSON string: "\n" between lines is written as the two characters \n. */
static void flush_reports(void)
{
	if (rep_len == 0)
		return;
	rep_out[rep_len++] = '"';
	rep_out[rep_len++] = '\n';
	send_all(rep_out, rep_len);
	rep_len = 0;
	rep_urgent = false;
}

void report(const char *fmt, ...)
{
	if (rep_len > sizeof(rep_out) - 1024)
		flush_reports();
	if (rep_len == 0)
		rep_out[rep_len++] = '"';
	else {
		rep_out[rep_len++] = '\\';
		rep_out[rep_len++] = 'n';
	}
	va_list ap;
	va_start(ap, fmt);
	rep_len += vsnprintf(rep_out + rep_len, sizeof(rep_out) - rep_len - 4, fmt, ap);
	va_end(ap);
}

void hand_back(struct client *c)
{
	static const char msg[] = "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":\"h\"}\n";
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec io = { (void *)msg, sizeof(msg) - 1 };
	struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &c->fd, sizeof(int));
	flush_reports();
	ssize_t k;
	do
		k = sendmsg(chan, &mh, MSG_NOSIGNAL);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		_exit(0);
	if ((size_t)k < sizeof(msg) - 1)
		send_all(msg + k, sizeof(msg) - 1 - k);
}

/* Freed after the loop's turn: an event of the same turn may still point at it. */
static void **dead;
static size_t ndead, cdead;

void dispose(void *p, enum kind *k)
{
	*k = K_DEAD;
	if (ndead == cdead) {
		cdead = cdead ? cdead * 2 : 1024;
		if (!(dead = realloc(dead, cdead * sizeof(*dead))))
			abort();
	}
	dead[ndead++] = p;
}

void watch(int fd, void *p, uint32_t events, bool add)
{
	struct epoll_event ev = { .events = events, .data.ptr = p };
	epoll_ctl(epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}

struct function *function_find(const char *key, size_t len)
{
	for (struct function *f = functions; f; f = f->next)
		if (f->n > 0 && strlen(f->key) == len && memcmp(f->key, key, len) == 0)
			return f;
	return NULL;
}

void replica_release(struct replica *r)
{
	if (--r->users > 0 || !r->gone)
		return;
	for (struct replica **p = &replicas; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	free(r);
}

static struct replica *replica_get(int idx)
{
	for (struct replica *r = replicas; r; r = r->next)
		if (r->idx == idx && !r->gone)
			return r;
	struct replica *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	r->idx = idx;
	r->users = 1;  /* the tables' hold, dropped when it is gone */
	r->next = replicas;
	replicas = r;
	return r;
}

/* "f KEY TIMEOUT_MS REASON [IDX:ADDR:PORT:WD ...]", REASON with "+" for its spaces */
static void set_function(char *s)
{
	char *save, *key = strtok_r(s, " ", &save), *t = strtok_r(NULL, " ", &save), *why = strtok_r(NULL, " ", &save);
	if (!key || !t || !why || strlen(key) >= sizeof(((struct function *)0)->key))
		return;
	struct function *f = functions;
	while (f && strcmp(f->key, key) != 0)
		f = f->next;
	if (!f) {
		if (!(f = calloc(1, sizeof(*f))))
			abort();
		strcpy(f->key, key);
		f->next = functions;
		functions = f;
	}
	f->timeout_ms = atoll(t);
	snprintf(f->reason, sizeof(f->reason), "%s", why);
	for (char *p = f->reason; *p; p++)
		if (*p == '+')
			*p = ' ';
	f->n = 0;
	for (char *r; (r = strtok_r(NULL, " ", &save)) && f->n < 32;) {
		int idx, port, wd;
		char addr[64];
		if (sscanf(r, "%d:%63[0-9.]:%d:%d", &idx, addr, &port, &wd) != 4)
			continue;
		struct replica *rep = replica_get(idx);
		rep->addr.sin_family = AF_INET;
		rep->addr.sin_port = htons(port);
		inet_pton(AF_INET, addr, &rep->addr.sin_addr);
		rep->watchdog = wd == 1;
		f->rep[f->n++] = rep;
	}
	/* A replica in no table any more takes no new call; its idle connections close. */
	for (struct replica *r = replicas, *next; r; r = next) {
		next = r->next;
		bool used = false;
		for (struct function *g = functions; g && !used; g = g->next)
			for (int i = 0; i < g->n && !used; i++)
				used = g->rep[i] == r;
		if (used || r->gone)
			continue;
		r->gone = true;
		while (r->idle)
			upstream_close(r->idle);
		replica_release(r);
	}
}

/* One JSON string from the channel, unescaped in place (only what the gateway sends: \\ \" \n). */
static void on_message(char *line)
{
	if (line[0] != '"')
		return;  /* Node.js's own (NODE_HANDLE_ACK) */
	char *o = line, *p = line + 1;
	for (; *p && *p != '"'; p++)
		*o++ = *p == '\\' && p[1] ? (*++p == 'n' ? '\n' : *p) : *p;
	*o = 0;
	if (line[0] == 'f' && line[1] == ' ')
		set_function(line + 2);
	else if (line[0] == 's' && line[1] == ' ') {
		report("a %lld", atoll(line + 2));
		rep_urgent = true;
	}
}

static void channel_read(void)
{
	static char in[1 << 20];
	static size_t have;
	for (;;) {
		ssize_t k = recv(chan, in + have, sizeof(in) - 1 - have, MSG_DONTWAIT);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (k <= 0)
			_exit(0);  /* berthd closed the channel: stop */
		have += k;
		char *start = in, *nl;
		while ((nl = memchr(start, '\n', in + have - start))) {
			*nl = 0;
			on_message(start);
			start = nl + 1;
		}
		have -= start - in;
		memmove(in, start, have);
		if (have == sizeof(in) - 1)
			have = 0;  /* a line longer than any the gateway sends */
	}
}

static void on_term(int sig)
{
	(void)sig;
	terminating = 1;
}

/* Nothing of root is needed once the listening socket and the channel are open: a flaw in parsing what clients send yields nobody's rights. */
static void drop_privileges(void)
{
	if (getuid() != 0)
		return;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
		perror("berth-relay: dropping root");
		exit(1);
	}
}

int main(void)
{
	const char *ch = getenv("NODE_CHANNEL_FD");
	if (!ch) {
		fprintf(stderr, "berth-relay: NODE_CHANNEL_FD not set: berthd's gateway starts this program\n");
		return 2;
	}
	chan = atoi(ch);
	pid_t parent = getppid();
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);
	fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
	fcntl(chan, F_SETFL, fcntl(chan, F_GETFL) & ~O_NONBLOCK);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	static enum kind klisten = K_LISTEN, kchan = K_CHANNEL;
	watch(lfd, &klisten, EPOLLIN, true);
	watch(chan, &kchan, EPOLLIN, true);
	drop_privileges();
	/* After the change of user, which clears it: berthd gone, the relay goes. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		return 0;
	struct epoll_event evs[256];
	int64_t stop_by = 0;
	int64_t next_expiry = 0, next_flush = 0;
	for (;;) {
		/* Reports wait up to 10 ms to go in one message: berthd wakes once for many calls. */
		int n = epoll_wait(epfd, evs, 256, rep_len > 0 ? 10 : 50);
		for (int i = 0; i < n; i++) {
			enum kind *k = evs[i].data.ptr;
			if (*k == K_DEAD)
				continue;
			if (*k == K_LISTEN) {
				for (int c; (c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;)
					client_new(c);
			} else if (*k == K_CHANNEL)
				channel_read();
			else if (*k == K_CLIENT)
				client_event((struct client *)k, evs[i].events);
			else
				upstream_event((struct upstream *)k, evs[i].events);
		}
		int64_t now = now_us() / 1000;
		/* SIGTERM (the gateway closes): no new connection; the calls in flight are answered, then their connections close. */
		if (terminating && !stop_by) {
			epoll_ctl(epfd, EPOLL_CTL_DEL, lfd, NULL);
			close(lfd);
			stop_by = now + 5000;
		}
		if (stop_by && (!calls_active() || now >= stop_by)) {
			flush_reports();
			return 0;
		}
		if (now >= next_expiry) {
			calls_expire(now);
			next_expiry = now + 50;
		}
		if (rep_urgent || now >= next_flush || rep_len > sizeof(rep_out) / 2) {
			flush_reports();
			next_flush = now + 10;
		}
		while (ndead > 0)
			free(dead[--ndead]);
	}
}

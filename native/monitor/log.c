/*
 * The container's output on disk, one line per record in the CRI text
 * format: `<RFC3339Nano UTC> <stdout|stderr> <F|P> <content>\n` (P: the
 * line goes on in the next record, cut at line_max or at the end of the
 * output). The file is rotated to PATH.1 ... PATH.(max_files-1) when the
 * next record would pass max_size. Nothing is buffered here: a record is
 * written before the next read, so a slow disk slows the container's
 * writes (through its pipe) instead of growing this process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"

static const struct log_opts *opts;
static int log_fd = -1;
static size_t log_size;

int log_open(const struct log_opts *o)
{
	struct stat st;
	opts = o;
	log_fd = open(o->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log_fd < 0 || fstat(log_fd, &st) < 0)
		return -1;
	log_size = (size_t)st.st_size;
	return 0;
}

static void rotate(void)
{
	char from[PATH_MAX], to[PATH_MAX];
	for (int i = opts->max_files - 1; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof from, "%s", opts->path);
		else
			snprintf(from, sizeof from, "%s.%d", opts->path, i - 1);
		snprintf(to, sizeof to, "%s.%d", opts->path, i);
		if (rename(from, to) < 0 && errno != ENOENT)
			dprintf(2, "berth-monitor: rotating %s to %s: %s\n", from, to, strerror(errno));
	}
	close(log_fd);
	log_fd = open(opts->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (log_fd < 0)
		die("opening the log after rotation");
	log_size = 0;
}

void log_record(int stderr_stream, int partial, const char *p, size_t n)
{
	char head[64];
	struct timespec ts;
	struct tm tm;
	if (log_fd < 0)
		return;  /* no log was asked for (an exec's output) */
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t h = strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S", &tm);
	h += (size_t)snprintf(head + h, sizeof head - h, ".%09ldZ %s %c ", ts.tv_nsec, stderr_stream ? "stderr" : "stdout", partial ? 'P' : 'F');
	size_t total = h + n + 1;
	if (log_size > 0 && log_size + total > opts->max_size)
		rotate();
	struct iovec iov[3] = { { head, h }, { (void *)p, n }, { "\n", 1 } };
	size_t left = total;
	int i = 0;
	while (left > 0) {
		ssize_t w = writev(log_fd, iov + i, 3 - i);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			/* a full disk loses output, never the container: say so once per record */
			dprintf(2, "berth-monitor: writing the log %s: %s\n", opts->path, strerror(errno));
			return;
		}
		left -= (size_t)w;
		log_size += (size_t)w;
		while (i < 3 && (size_t)w >= iov[i].iov_len) {
			w -= (ssize_t)iov[i].iov_len;
			i++;
		}
		if (i < 3) {
			iov[i].iov_base = (char *)iov[i].iov_base + w;
			iov[i].iov_len -= (size_t)w;
		}
	}
}

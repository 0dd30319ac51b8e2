/*
 * Mode static: GET and HEAD of the files under static_path, index.html for
 * a directory. The path is resolved by the kernel beneath static_path
 * (openat2 RESOLVE_BENEATH), so neither ".." nor a symbolic link leads out.
 */
#include "watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int open_beneath(int dir, const char *path)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
	return syscall(SYS_openat2, dir, path, &how, sizeof(how));
}

static const char *mime(const char *path)
{
	static const char *const types[][2] = {
		{ ".html", "text/html; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" }, { ".json", "application/json" },
		{ ".txt", "text/plain; charset=utf-8" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
		{ ".jpg", "image/jpeg" }, { ".gif", "image/gif" }, { ".wasm", "application/wasm" },
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(dot, types[i][0]) == 0)
			return types[i][1];
	return "application/octet-stream";
}

int run_static(struct conn *c, struct request *r)
{
	bool head = strcmp(r->method, "HEAD") == 0;
	if (!body_drain(c, r))
		c->close = true;
	if (!head && strcmp(r->method, "GET") != 0)
		return respond(c, 405, NULL, "method not allowed\n", 19, "Allow: GET, HEAD\r\n"), 405;
	int root = open(cfg.static_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	const char *rel = r->path + strspn(r->path, "/");
	int fd = root < 0 ? -1 : open_beneath(root, *rel ? rel : ".");
	struct stat st;
	char name[4200];
	snprintf(name, sizeof(name), "%s", rel);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		int index = open_beneath(fd, "index.html");
		close(fd);
		fd = index;
		snprintf(name, sizeof(name), "index.html");
	}
	if (root >= 0)
		close(root);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return respond(c, 404, NULL, "not found\n", 10, NULL), 404;
	}
	char hdr[512];
	int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %lld\r\n%s\r\n",
			 cfg.content_type ? cfg.content_type : mime(name), (long long)st.st_size,
			 c->close ? "Connection: close\r\n" : c->http10 ? "Connection: keep-alive\r\n" : "");
	off_t off = 0;
	bool broken = send_all(c->fd, hdr, n) < 0;
	while (!head && !broken && off < st.st_size) {
		ssize_t k = sendfile(c->fd, fd, &off, st.st_size - off);
		broken = k == 0 || (k < 0 && errno != EINTR);
	}
	if (broken)
		c->close = true;
	close(fd);
	return 200;
}

/*
 * The one place a native program reads text the kernel wrote: the front
 * finds its own cgroup2 cgroup.procs (the "0::" line of /proc/self/cgroup,
 * under the cgroup2 mount point that /proc/self/mountinfo lists) to keep
 * cgroup joins fast while Node.js boots (see warm_cgroups in front.c). It
 * has to be here, not in TypeScript: it runs before the command line
 * exists, and the command line's own lookup (src/runtime/cgroups/paths.ts)
 * is what this saves it from waiting for. It reads only those two fields,
 * skips names with escapes, and keeps the file only if statfs says cgroup2;
 * when anything is off there is no warming, which costs time, never
 * correctness.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "front.h"

/*
 * The cgroup.procs of this process's own cgroup on the cgroup2 mount (the "0::" line of
 * /proc/self/cgroup under the cgroup2 mount point of /proc/self/mountinfo), opened for writing;
 * -1 without one (a v1-only host, or no right to write it).
 */
int open_own_cgroup2_procs(void)
{
	char line[PATH_MAX + 64], own[sizeof line] = "";
	FILE *in = fopen("/proc/self/cgroup", "re");
	if (in == NULL)
		return -1;
	while (fgets(line, sizeof line, in) != NULL) {
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(own, sizeof own, "%s", line + 3);
			break;
		}
	}
	fclose(in);
	if (own[0] != '/' || (in = fopen("/proc/self/mountinfo", "re")) == NULL)
		return -1;
	int fd = -1;
	char root[PATH_MAX], point[PATH_MAX], path[sizeof point + sizeof own + 16];
	while (fd < 0 && fgets(line, sizeof line, in) != NULL) {
		/* id parent major:minor root mount-point ... - cgroup2 ...; escaped names (\040) are left alone. */
		if (strstr(line, " - cgroup2 ") == NULL || strchr(line, '\\') != NULL)
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) != 2)
			continue;
		const char *rel = own;
		size_t n = strlen(root);
		if (strcmp(root, "/") != 0) {
			if (strncmp(own, root, n) != 0 || (own[n] != '/' && own[n] != '\0'))
				continue;
			rel = own + n;
		}
		snprintf(path, sizeof path, "%s%s/cgroup.procs", point, strcmp(rel, "/") == 0 ? "" : rel);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		struct statfs fs;
		if (fd >= 0 && (fstatfs(fd, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC)) {
			close(fd);
			fd = -1;
		}
	}
	fclose(in);
	return fd;
}

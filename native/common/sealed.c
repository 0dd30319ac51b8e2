/*
 * Each native program makes sure it runs from a sealed in-memory copy of
 * itself before it serves anybody, so a process inside a container that
 * reaches /proc/PID/exe of it can never write to the binary on the host
 * (CVE-2019-5736).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define WANT_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int runs_sealed(void)
{
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return 0;
	int seals = fcntl(self, F_GET_SEALS);
	close(self);
	return seals >= 0 && (seals & WANT_SEALS) == WANT_SEALS;
}

void exec_sealed_copy(char **argv, char **envp)
{
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		dprintf(2, "berth-exec: open /proc/self/exe: %s\n", strerror(errno));
		return;
	}
	struct stat st;
	int mfd = memfd_create("berth-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL)
		mfd = memfd_create("berth-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0 || fstat(self, &st) < 0) {
		dprintf(2, "berth-exec: memfd copy of itself: %s\n", strerror(errno));
		return;
	}
	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
		if (n <= 0) {
			dprintf(2, "berth-exec: copy of itself: %s\n", n < 0 ? strerror(errno) : "short copy");
			return;
		}
	}
	if (fcntl(mfd, F_ADD_SEALS, WANT_SEALS) < 0) {
		dprintf(2, "berth-exec: seal copy of itself: %s\n", strerror(errno));
		return;
	}
	close(self);
	fexecve(mfd, argv, envp);
	dprintf(2, "berth-exec: exec sealed copy of itself: %s\n", strerror(errno));
}

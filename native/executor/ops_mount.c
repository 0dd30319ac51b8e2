/*
 * The root filesystem: every path inside the container's root is resolved
 * with openat2(RESOLVE_IN_ROOT), so a symlink in the image can never point a
 * mount, a device node or a write at the host (CVE-2021-30465), and mounts
 * go onto the resolved file descriptor through /proc/self/fd.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "executor.h"

#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

static int openat2_fd(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	struct open_how how = { .flags = flags, .mode = 0, .resolve = resolve };
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static const char *relative(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

/*
 * Creates what is missing of `rel` (directories, and a file or directory
 * last). A dangling symlink on the way is followed the way the kernel
 * would, inside the root: its target is created instead.
 */
static int create_in_root(int root, const char *rel, int kind, int depth)
{
	char buf[PATH_MAX];
	size_t n = strlen(rel);
	if (depth > 40) {
		errno = ELOOP;
		return -1;
	}
	if (n >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, rel, n + 1);
	for (size_t i = 0; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		if (i == 0 || buf[i - 1] == '/')
			continue;
		char saved = buf[i];
		buf[i] = '\0';
		int fd = openat2_fd(root, buf, O_PATH | O_CLOEXEC, IN_ROOT);
		if (fd >= 0) {
			close(fd);
			buf[i] = saved;
			continue;
		}
		if (errno != ENOENT)
			return -1;
		char *slash = strrchr(buf, '/');
		const char *name = slash ? slash + 1 : buf;
		if (slash)
			*slash = '\0';
		const char *parent_path = slash ? (buf[0] ? buf : ".") : ".";
		int parent = openat2_fd(root, parent_path, O_PATH | O_DIRECTORY | O_CLOEXEC, IN_ROOT);
		if (parent < 0)
			return -1;
		int r;
		if (saved == '\0' && kind == 1) {
			r = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
			if (r >= 0)
				close(r);
		} else {
			r = mkdirat(parent, name, 0755);
		}
		int e = errno;
		if (r < 0 && e == EEXIST) {
			/* It exists but does not resolve: a dangling symlink. Create its target. */
			char target[PATH_MAX];
			ssize_t tl = readlinkat(parent, name, target, sizeof target - 1);
			if (tl > 0) {
				target[tl] = '\0';
				char next[PATH_MAX];
				const char *rest = saved == '\0' ? "" : buf + i + 1;
				/* No "/" after the last name: a trailing one would make the file a directory. */
				const char *sep = *rest ? "/" : "";
				int len;
				if (target[0] == '/')
					len = snprintf(next, sizeof next, "%s%s%s", target, sep, rest);
				else if (slash)
					len = snprintf(next, sizeof next, "%s/%s%s%s", buf, target, sep, rest);
				else
					len = snprintf(next, sizeof next, "%s%s%s", target, sep, rest);
				close(parent);
				if (len < 0 || (size_t)len >= sizeof next) {
					errno = ENAMETOOLONG;
					return -1;
				}
				const char *nrel = next;
				while (*nrel == '/')
					nrel++;
				return create_in_root(root, *nrel ? nrel : ".", kind, depth + 1);
			}
		}
		close(parent);
		if (r < 0 && e != EEXIST) {
			errno = e;
			return -1;
		}
		if (slash)
			*slash = '/';
		buf[i] = saved;
	}
	return 0;
}

/* An O_PATH fd of `path` inside the root (EBADF before the root is open); created when missing if kind >= 0. */
int resolve_in_root(struct ctx *c, const char *path, int kind)
{
	const char *rel = relative(path);
	int fd = openat2_fd(c->root_fd, rel, O_PATH | O_CLOEXEC, IN_ROOT);
	if (fd >= 0 || errno != ENOENT || kind < 0)
		return fd;
	if (create_in_root(c->root_fd, rel, kind, 0) < 0)
		return -1;
	return openat2_fd(c->root_fd, rel, O_PATH | O_CLOEXEC, IN_ROOT);
}

void op_propagate_abs(struct ctx *c, const struct op *o)
{
	const char *path = o->a[A_PROPAGATE_ABS_PATH].s;
	unsigned long flags = (unsigned long)o->a[A_PROPAGATE_ABS_FLAGS].i;
	if (mount(NULL, path, NULL, flags, NULL) < 0)
		fail(c, errno, "set propagation %#lx of \"%s\"", flags, path);
}

void op_open_root(struct ctx *c, const struct op *o)
{
	const char *path = o->a[A_OPEN_ROOT_PATH].s;
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		fail(c, errno, "bind the root \"%s\" onto itself", path);
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fail(c, errno, "open the root \"%s\"", path);
	c->root_fd = fd;
}

/*
 * Remounts with `flags`, adding what the kernel locks (nosuid, nodev, ... of the source) when
 * refused. The ST_* flags statvfs reports have the values of their MS_* counterparts.
 */
static int remount(const char *target, unsigned long flags)
{
	if (mount(NULL, target, NULL, flags, NULL) == 0)
		return 0;
	struct statvfs sv;
	if (errno != EPERM || statvfs(target, &sv) < 0)
		return -1;
	unsigned long locked = sv.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY | MS_NOATIME | MS_NODIRATIME | MS_RELATIME);
	if ((flags | locked) == flags) {
		errno = EPERM;
		return -1;
	}
	return mount(NULL, target, NULL, flags | locked, NULL);
}

/*
 * Copies what the directory `src` holds into `dst`, as runc's tmpcopyup does: each entry's kind,
 * content, owner and mode; a link stays a link, nothing is followed.
 */
static int copy_tree(int src, int dst, int depth)
{
	int fd = depth > 64 ? (errno = ELOOP, -1) : dup(src), r = 0;
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);
	if (!dir)
		return fd >= 0 ? (close(fd), -1) : -1;
	for (struct dirent *e; r == 0 && (errno = 0, e = readdir(dir)) != NULL;) {
		const char *name = e->d_name;
		struct stat st;
		int s = -1, d = -1;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -1;
		} else if (S_ISDIR(st.st_mode)) {
			r = mkdirat(dst, name, 0700);
			s = r < 0 ? -1 : openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			d = r < 0 ? -1 : openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			r = s < 0 || d < 0 ? -1 : copy_tree(s, d, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			s = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			d = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			for (ssize_t n = r = s < 0 || d < 0 ? -1 : 0; r == 0 && (n = sendfile(d, s, NULL, 1 << 20)) != 0;)
				r = n < 0 && errno != EINTR ? -1 : 0;
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(src, name, target, sizeof target - 1);
			r = n < 0 ? -1 : (target[n] = '\0', symlinkat(target, dst, name));
		} else {
			r = mknodat(dst, name, st.st_mode, st.st_rdev);
		}
		int err = errno;
		if (s >= 0)
			close(s);
		if (d >= 0)
			close(d);
		errno = err;
		if (r == 0 && fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
			r = -1;
		if (r == 0 && !S_ISLNK(st.st_mode))
			r = fchmodat(dst, name, st.st_mode & 07777, 0);
	}
	int err = errno;
	closedir(dir);
	errno = err;
	return r < 0 || errno ? -1 : 0;
}

/*
 * An O_PATH fd of `target` inside the root (created when missing if kind >= 0) and its
 * /proc/self/fd path to mount on; -1 when it is missing and the operation says to skip it.
 */
static int in_root(struct ctx *c, const struct op *o, const char *target, int kind, char path[static 32])
{
	int fd = resolve_in_root(c, target, kind);
	if (fd < 0 && errno == ENOENT && (o->flags & OPF_IGNORE_ENOENT))
		return -1;
	if (fd < 0)
		fail(c, errno, "resolve \"%s\" in the root", target);
	snprintf(path, 32, "/proc/self/fd/%d", fd);
	return fd;
}

void op_mount(struct ctx *c, const struct op *o)
{
	const struct arg *a = o->a;
	const char *source = a[A_MOUNT_SOURCE].s, *target = a[A_MOUNT_TARGET].s;
	const char *fstype = a[A_MOUNT_FSTYPE].len ? a[A_MOUNT_FSTYPE].s : NULL;
	const char *data = a[A_MOUNT_DATA].len ? a[A_MOUNT_DATA].s : NULL;
	unsigned long flags = (unsigned long)a[A_MOUNT_FLAGS].i;
	char src_path[32], dst_path[32];
	int src_fd = -1;
	if (a[A_MOUNT_SOURCE_IN_ROOT].i) {
		if ((src_fd = in_root(c, o, source, -1, src_path)) < 0)
			return;
		source = src_path;
	}
	if (o->flags & OPF_NO_SYMLINKS) {
		int plain = openat2_fd(c->root_fd, relative(target), O_PATH | O_CLOEXEC, IN_ROOT | RESOLVE_NO_SYMLINKS);
		if (plain < 0 && errno != ENOENT)
			fail(c, errno, "%s must be mounted on an ordinary directory, not through a symlink: \"%s\"",
			     fstype ? fstype : "none", target);
		if (plain >= 0)
			close(plain);
	}
	int fd = in_root(c, o, target, (int)a[A_MOUNT_KIND].i, dst_path);
	if (fd < 0)
		return;
	struct statfs sfs;
	if ((o->flags & OPF_NOT_ON_PROC) && fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC)
		fail(c, EPERM, "mount target \"%s\" resolves inside /proc", target);
	/* What the target holds stays reachable through this descriptor once the mount hides it. */
	int held = (o->flags & OPF_COPY_UP) ? openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if ((o->flags & OPF_COPY_UP) && held < 0)
		fail(c, errno, "open \"%s\" to copy what it holds", target);
	if (mount(source, dst_path, fstype, flags, data) < 0)
		fail(c, errno, "mount \"%s\" on \"%s\" (type %s, flags %#lx, data \"%s\")", a[A_MOUNT_SOURCE].s, target,
		     fstype ? fstype : "none", flags, data ? data : "");
	close(fd);
	if (held >= 0) {
		int fresh = resolve_in_root(c, target, -1);
		int into = fresh < 0 ? -1 : openat(fresh, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (into < 0 || copy_tree(held, into, 0) < 0)
			fail(c, errno, "copy what \"%s\" held into the new mount (tmpcopyup)", target);
		close(into);
		close(fresh);
		close(held);
	}
	if (src_fd >= 0)
		close(src_fd);
}

/* A mount in the root changed: remounted with flags (and what the kernel locks), or its propagation. */
static void change_mount(struct ctx *c, const struct op *o, const char *target, unsigned long flags, int remount_bind)
{
	char path[32];
	int fd = in_root(c, o, target, -1, path);
	if (fd < 0)
		return;
	if ((remount_bind ? remount(path, MS_REMOUNT | MS_BIND | flags) : mount(NULL, path, NULL, flags, NULL)) < 0)
		fail(c, errno, "%s \"%s\" with flags %#lx", remount_bind ? "remount" : "set the propagation of", target, flags);
	close(fd);
}

void op_remount_bind(struct ctx *c, const struct op *o)
{
	change_mount(c, o, o->a[A_REMOUNT_BIND_TARGET].s, (unsigned long)o->a[A_REMOUNT_BIND_FLAGS].i, 1);
}

void op_propagate(struct ctx *c, const struct op *o)
{
	change_mount(c, o, o->a[A_PROPAGATE_TARGET].s, (unsigned long)o->a[A_PROPAGATE_FLAGS].i, 0);
}

/* A directory in the root (created when missing), in which mknod and symlink make a name. */
static int in_root_dir(struct ctx *c, const char *dir)
{
	int fd = resolve_in_root(c, dir, 0);
	if (fd < 0)
		fail(c, errno, "resolve directory \"%s\" in the root", dir);
	return fd;
}

void op_mknod(struct ctx *c, const struct op *o)
{
	const struct arg *a = o->a;
	const char *name = a[A_MKNOD_NAME].s;
	int dir = in_root_dir(c, a[A_MKNOD_DIR].s);
	if (mknodat(dir, name, (mode_t)a[A_MKNOD_MODE].i, (dev_t)a[A_MKNOD_DEV].i) < 0) {
		if (!(errno == EEXIST && (o->flags & OPF_IGNORE_EEXIST)))
			fail(c, errno, "mknod \"%s\" in \"%s\" (mode %#o, device %u:%u)", name, a[A_MKNOD_DIR].s, (unsigned)a[A_MKNOD_MODE].i,
			     major((dev_t)a[A_MKNOD_DEV].i), minor((dev_t)a[A_MKNOD_DEV].i));
	}
	if (fchownat(dir, name, (uid_t)a[A_MKNOD_UID].i, (gid_t)a[A_MKNOD_GID].i, AT_SYMLINK_NOFOLLOW) < 0)
		fail(c, errno, "chown \"%s\" in \"%s\" to %lld:%lld", name, a[A_MKNOD_DIR].s, (long long)a[A_MKNOD_UID].i,
		     (long long)a[A_MKNOD_GID].i);
	/* The mode again: mknod's is cut by the umask. A symlink that was there already has none to set. */
	if (fchmodat(dir, name, (mode_t)a[A_MKNOD_MODE].i & 07777, AT_SYMLINK_NOFOLLOW) < 0 && errno != EOPNOTSUPP)
		fail(c, errno, "chmod \"%s\" in \"%s\" %#llo", name, a[A_MKNOD_DIR].s, (unsigned long long)a[A_MKNOD_MODE].i & 07777);
	close(dir);
}

void op_symlink(struct ctx *c, const struct op *o)
{
	const char *name = o->a[A_SYMLINK_NAME].s, *link = o->a[A_SYMLINK_LINK_TARGET].s;
	int dir = in_root_dir(c, o->a[A_SYMLINK_DIR].s);
	if (symlinkat(link, dir, name) < 0 && !(errno == EEXIST && (o->flags & OPF_IGNORE_EEXIST)))
		fail(c, errno, "symlink \"%s\" in \"%s\" -> \"%s\"", name, o->a[A_SYMLINK_DIR].s, link);
	close(dir);
}

/* Steps after the root changed (read-only and masked paths, in runc's order) still resolve inside it. */
static void reopen_root(struct ctx *c)
{
	close(c->root_fd);
	c->root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->root_fd < 0)
		fail(c, errno, "open the new root");
}

void op_pivot_root(struct ctx *c, const struct op *o)
{
	/* The old root, to reach it after the pivot: "." then still names the new root. */
	int old_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (old_root < 0)
		fail(c, errno, "open the old root");
	if (fchdir(c->root_fd) < 0)
		fail(c, errno, "enter the root");
	/* pivot_root(".", ".") stacks the old root on the new one; detach it right away. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		fail(c, errno, "pivot_root");
	/*
	 * Only the old root's tree becomes a slave, so the detach does not reach the
	 * host; a mount(".") from the new root would turn every mount of the
	 * container into a slave and lose the propagation the spec asked for.
	 */
	if (fchdir(old_root) < 0)
		fail(c, errno, "enter the old root");
	close(old_root);
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		fail(c, errno, "make the old root a slave");
	if (umount2(".", MNT_DETACH) < 0)
		fail(c, errno, "detach the old root");
	if (chdir("/") < 0)
		fail(c, errno, "chdir / in the new root");
	reopen_root(c);
}

void op_move_root(struct ctx *c, const struct op *o)
{
	if (fchdir(c->root_fd) < 0)
		fail(c, errno, "enter the root");
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		fail(c, errno, "move the root over /");
	if (chroot(".") < 0)
		fail(c, errno, "chroot");
	if (chdir("/") < 0)
		fail(c, errno, "chdir / in the new root");
	reopen_root(c);
}

void op_chroot(struct ctx *c, const struct op *o)
{
	const char *path = o->a[A_CHROOT_PATH].s;
	if (chroot(path) < 0)
		fail(c, errno, "chroot \"%s\"", path);
	if (chdir("/") < 0)
		fail(c, errno, "chdir / in the new root");
}

void op_mask_path(struct ctx *c, const struct op *o)
{
	const char *target = o->a[A_MASK_PATH_PATH].s;
	char path[32];
	struct stat st;
	int fd = in_root(c, o, target, -1, path);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0)
		fail(c, errno, "stat masked path \"%s\"", target);
	if (S_ISDIR(st.st_mode)) {
		/* runc's mask: an empty tmpfs, read-only and nothing more. */
		if (mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
			fail(c, errno, "mask directory \"%s\" with an empty read-only tmpfs", target);
	} else {
		/* The container's own /dev/null, as runc's (after its pivot); the host's when it has none. */
		char null_path[32];
		const char *source = "/dev/null";
		int null_fd = resolve_in_root(c, "/dev/null", -1);
		if (null_fd >= 0 && fstat(null_fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) {
			snprintf(null_path, sizeof null_path, "/proc/self/fd/%d", null_fd);
			source = null_path;
		}
		if (mount(source, path, NULL, MS_BIND, NULL) < 0)
			fail(c, errno, "mask \"%s\" with /dev/null", target);
		if (null_fd >= 0)
			close(null_fd);
	}
	close(fd);
}

void op_remount_root_ro(struct ctx *c, const struct op *o)
{
	if (remount("/", MS_REMOUNT | MS_BIND | MS_RDONLY) < 0)
		fail(c, errno, "remount the root read-only");
}

void op_ensure_dir(struct ctx *c, const struct op *o)
{
	const char *path = o->a[A_ENSURE_DIR_PATH].s;
	int fd = resolve_in_root(c, path, 0);
	if (fd < 0)
		fail(c, errno, "create directory \"%s\" in the root", path);
	close(fd);
}

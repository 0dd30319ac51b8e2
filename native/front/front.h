/* berth-runtime's front (front.c) and what it keeps apart (cgroup.c). */
#ifndef BERTH_FRONT_H
#define BERTH_FRONT_H

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* The own cgroup's cgroup.procs on the cgroup2 mount, opened for writing; -1 without one. */
int open_own_cgroup2_procs(void);

#endif

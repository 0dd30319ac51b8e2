/* berth-runtime's front (front.c) and what it keeps apart (cgroup.c). */
#ifndef BERTH_FRONT_H
#define BERTH_FRONT_H

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
/*
 * resident.c: the resident command line's socket, connected and accepted for this command
 * (FRONT_GO sent), or -1; *absent is 1 when no resident listens (the command line may start one).
 */
int resident_connect(char **argv, char **envp, int *absent);
/* FRONT_OUTPUT from the resident: written to the front's stdout or stderr. */
void resident_output(const char *payload, unsigned int len);

#endif

/* The own cgroup's cgroup.procs on the cgroup2 mount, opened for writing; -1 without one. */
int open_own_cgroup2_procs(void);

/*
 * resident.c: the resident command line's socket, connected and accepted for this command
 * (FRONT_GO sent), or -1; *absent is 1 when no resident listens (the command line may start one).
 */
int resident_connect(char **argv, char **envp, int *absent);
/* FRONT_OUTPUT from the resident: written to the front's stdout or stderr. */
void resident_output(const char *payload, unsigned int len);

#endif

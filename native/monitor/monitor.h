/*
 * berth-monitor: the per-container monitor (README.md). log.c writes the
 * container's output in the CRI text format with rotation; main.c starts
 * the container and serves it until it exits.
 */
#ifndef BERTH_MONITOR_H
#define BERTH_MONITOR_H

#include <stddef.h>

/* What the caller decided about the log (all from the command line). */
struct log_opts {
	const char *path;
	size_t max_size;  /* bytes per file before rotating */
	int max_files;    /* files kept, the current one included */
	size_t line_max;  /* longer lines are cut into partial (P) records */
};

int log_open(const struct log_opts *o);
/* One record; content without its newline. partial: the line goes on in the next record. */
void log_record(int stderr_stream, int partial, const char *p, size_t n);

/* Says what failed with errno and exits: used only where nothing else is left to do. */
void die(const char *what);

#endif

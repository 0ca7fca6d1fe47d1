/* log.h: diagnostics and progress to stderr, shared by kvmload, kvmload-fs and kvmload-hotplug. */
#ifndef KVMLOAD_LOG_H
#define KVMLOAD_LOG_H

/* Set the program name used as the prefix and whether log_debug prints. */
void log_init(const char *progname, int verbose);
/* "prog: message: strerror(errno)" */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: message" */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * "prog: message" on stderr too, for progress (what was chosen, what
 * happens next) rather than trouble.  Always printed: -v only adds
 * log_debug, and no program has a switch to hush these.
 */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Printed only when verbose. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * s made safe for a message: every byte outside printable ASCII as \xNN and a
 * backslash as \\, so a name or path from the user or the guest cannot drive
 * the terminal.  The result is one of LOG_ESC_SLOTS static buffers used in
 * turn (so one message may show that many), cut at LOG_ESC_MAX bytes with
 * "..." at the end.  Not for signal handlers.
 */
#define LOG_ESC_SLOTS 4
#define LOG_ESC_MAX 8192
const char *log_esc(const char *s);

#endif

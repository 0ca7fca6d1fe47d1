/* log.h: diagnostics to stderr, shared by kvmload and kvmload-fs. */
#ifndef KVMLOAD_LOG_H
#define KVMLOAD_LOG_H

/* Set the program name used as the prefix and whether log_debug prints. */
void log_init(const char *progname, int verbose);
/* "prog: message: strerror(errno)" */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: message" */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Printed only when verbose. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

/* env_var.h: what a usable loader environment variable is, the one rule kvmload's -e and kvmload.conf's env share. */
#ifndef KVMLOAD_ENV_VAR_H
#define KVMLOAD_ENV_VAR_H

#include <stdbool.h>

/*
 * True for NAME=VALUE with a non-empty NAME (VALUE may be empty or hold
 * more '=').  Each program words its own refusal.
 */
bool env_var_valid(const char *s);

#endif

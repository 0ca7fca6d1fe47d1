/* fuzz.h: the libFuzzer entry point every target defines, and what the targets share. */
#ifndef KVMLOAD_FUZZ_H
#define KVMLOAD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Called once by libFuzzer before any input (the replay build never calls it). */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A contract violation: print it and abort, so libFuzzer and the replay test both see a crash. */
_Noreturn void fuzz_violation(const char *target, const char *what);

#endif

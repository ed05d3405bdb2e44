/*
 * fuzz: the entry points every harness in tests/fuzz/ defines, as libFuzzer
 * calls them.  Each harness is built twice: with clang's
 * -fsanitize=fuzzer (build-fuzz/, `make fuzz`) and with the normal
 * compiler and standalone.c as main (the regression replayer that
 * `make check-regress` runs over tests/regress/ and the seeds).
 */
#ifndef PORTCLASS_FUZZ_H
#define PORTCLASS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* One input; returns 0.  A bug shows as a sanitizer report or abort(). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Optional one-time setup (sandbox directories, fixed rulesets). */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* abort() with a message when an invariant does not hold: a harness's own
 * checks are findings just like a sanitizer's. */
#define FUZZ_CHECK(cond)                                                      \
	do {                                                                  \
		if (!(cond))                                                  \
			fuzz_fail(__FILE__, __LINE__, #cond);                 \
	} while (0)

void fuzz_fail(const char *file, int line, const char *what)
	__attribute__((noreturn));

#endif

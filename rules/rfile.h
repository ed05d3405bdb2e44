/*
 * rfile: reading a rules file (or an included one) that is not being
 * written, the only file reading the engine does.  Internal to the
 * engine.
 */
#ifndef PORTCLASS_RFILE_H
#define PORTCLASS_RFILE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * The whole of the regular file at path (at most 16 MiB), NUL-terminated,
 * into *text (malloc'd, the caller frees) and *len, with the file's
 * identity (*dev, *ino, for include loops), once the file has been left
 * alone for a moment and was the same version before, during and after
 * the read (see rfile.c).  Returns 0, or -1 with errno set and *why a
 * reason to show instead of strerror(errno) when there is one ("not a
 * regular file", "file too large (limit 16 MiB)", "changed while being
 * read (replace rules files by rename)"), else NULL.  ENOMEM is the
 * caller's to treat as fatal.
 */
int rfile_read(const char *path, char **text, size_t *len, dev_t *dev,
	       ino_t *ino, const char **why);

#endif

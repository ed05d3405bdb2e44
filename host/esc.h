/*
 * esc: the one way an untrusted string (a program, user or unit name, a
 * path, anything read from /proc, a snapshot or a capture) reaches human
 * output.  A program may name itself "\e[2J" to clear the admin's screen,
 * or "x\nALERT ..." to forge a report line; through esc neither works.
 *
 * The escaped form is printable ASCII only: a backslash becomes "\\",
 * newline, carriage return and tab become "\n", "\r", "\t", and every
 * other byte below 0x20, 0x7f and every byte from 0x80 up (C1 controls
 * hide in UTF-8 too) becomes "\xHH".  Quotes and every other printable
 * byte are kept.  So no control byte, raw or as part of a multibyte
 * sequence, is ever written, and the original bytes can be read back.
 *
 * JSON output has its own escaping (jsonw); esc is for text meant for a
 * terminal.
 */
#ifndef PORTCLASS_ESC_H
#define PORTCLASS_ESC_H

#include <stddef.h>
#include <stdio.h>

/*
 * Writes the escaped form of s into buf (size len >= 1), always
 * NUL-terminated; an escape sequence is never cut in half (a string too
 * long ends with "..." instead).  s NULL gives "".  Returns buf.
 */
const char *esc_str(char *buf, size_t len, const char *s);

/* Writes the escaped form of s to f, however long.  Returns 0, or -1 when
 * the stream failed. */
int esc_fputs(const char *s, FILE *f);

/* Buffer size that holds the escape of any string of n bytes. */
#define ESC_SIZE(n) ((n) * 4 + 1)

#endif

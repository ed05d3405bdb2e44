/*
 * lexer: splits rules-file text (portclass.rules(5)) into tokens with
 * line and column, for the parser in parse.c.  Internal to the engine.
 *
 * Tokens: bare words (anything up to whitespace, `{ } , " #`), double
 * quoted strings with \" and \\ escapes, `{`, `}`, `,`, and end of line.
 * `#` starts a comment that runs to the end of the line.
 *
 * The state is a plain struct (not opaque) so the parser can keep one per
 * open file on its stack; callers touch it only through these functions.
 */
#ifndef PORTCLASS_LEXER_H
#define PORTCLASS_LEXER_H

#include <stddef.h>

enum lexer_type {
	LEXER_EOF = 0,
	LEXER_NEWLINE,
	LEXER_WORD,
	LEXER_STRING,
	LEXER_LBRACE,
	LEXER_RBRACE,
	LEXER_COMMA,
	LEXER_ERROR, /* text holds the message; the rest of the line is gone */
};

struct lexer_token {
	enum lexer_type type;
	unsigned line;	 /* 1-based */
	unsigned col;	 /* 1-based byte column of the token's first byte */
	size_t line_off; /* offset of the token's line in the source */
	const char *text;/* NUL-terminated value (strings unescaped); valid
			  * until the next lexer_next */
	size_t len;
};

struct lexer {
	const char *src;
	size_t len, pos;
	unsigned line;
	size_t line_off;
	char *buf;
	size_t bufcap;
};

/* The lexer does not copy src: it must outlive the lexer. */
void lexer_init(struct lexer *lx, const char *src, size_t len);
void lexer_fini(struct lexer *lx);

/* Reads the next token.  Returns 0, or -1 with errno ENOMEM. */
int lexer_next(struct lexer *lx, struct lexer_token *t);

/* The source line starting at line_off, without its newline (or \r\n). */
const char *lexer_line(const struct lexer *lx, size_t line_off, size_t *len);

/* A short human name for a token, for "expected X, got Y" messages:
 * "end of line", "end of file", "\"{\"", or the word itself in quotes.
 * Writes into buf (NUL-terminated, truncated to buflen). */
const char *lexer_describe(const struct lexer_token *t, char *buf,
			   size_t buflen);

#endif

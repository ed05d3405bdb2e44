/*
 * lexer: tokens of the rules language.  See lexer.h.
 */
#include "lexer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lexer_init(struct lexer *lx, const char *src, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->src = src;
	lx->len = len;
	lx->line = 1;
}

void lexer_fini(struct lexer *lx)
{
	free(lx->buf);
	lx->buf = NULL;
	lx->bufcap = 0;
}

static int buf_reserve(struct lexer *lx, size_t n)
{
	char *nb;
	size_t cap;

	if (n <= lx->bufcap)
		return 0;
	cap = lx->bufcap ? lx->bufcap : 64;
	while (cap < n)
		cap *= 2;
	nb = realloc(lx->buf, cap);
	if (!nb) {
		errno = ENOMEM;
		return -1;
	}
	lx->buf = nb;
	lx->bufcap = cap;
	return 0;
}

static int set_text(struct lexer *lx, struct lexer_token *t, const char *s,
		    size_t n)
{
	if (buf_reserve(lx, n + 1) < 0)
		return -1;
	memcpy(lx->buf, s, n);
	lx->buf[n] = '\0';
	t->text = lx->buf;
	t->len = n;
	return 0;
}

/* Errors swallow the rest of the line, so the parser resynchronises on
 * the newline that follows and one bad byte gives one diagnostic. */
static int lex_error(struct lexer *lx, struct lexer_token *t, const char *msg)
{
	while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
		lx->pos++;
	t->type = LEXER_ERROR;
	return set_text(lx, t, msg, strlen(msg));
}

static int is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f;
}

static int ends_word(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '{' ||
	       c == '}' || c == ',' || c == '"' || c == '#';
}

static int lex_string(struct lexer *lx, struct lexer_token *t)
{
	size_t n = 0;
	char msg[64];

	lx->pos++; /* opening quote */
	for (;;) {
		unsigned char c;

		if (lx->pos >= lx->len || lx->src[lx->pos] == '\n')
			return lex_error(lx, t, "unterminated string");
		c = (unsigned char)lx->src[lx->pos];
		if (c == '"') {
			lx->pos++;
			break;
		}
		if (is_ctl(c)) {
			snprintf(msg, sizeof(msg),
				 "invalid character 0x%02x in string", c);
			return lex_error(lx, t, msg);
		}
		if (c == '\\') {
			unsigned char e;

			if (lx->pos + 1 >= lx->len ||
			    lx->src[lx->pos + 1] == '\n')
				return lex_error(lx, t, "unterminated string");
			e = (unsigned char)lx->src[lx->pos + 1];
			if (e != '"' && e != '\\') {
				if (is_ctl(e) || e >= 0x80)
					snprintf(msg, sizeof(msg),
						 "unknown escape \\x%02x in "
						 "string (only \\\" and \\\\)",
						 e);
				else
					snprintf(msg, sizeof(msg),
						 "unknown escape \\%c in string"
						 " (only \\\" and \\\\)",
						 e);
				return lex_error(lx, t, msg);
			}
			c = e;
			lx->pos++;
		}
		if (buf_reserve(lx, n + 2) < 0)
			return -1;
		lx->buf[n++] = (char)c;
		lx->pos++;
	}
	if (buf_reserve(lx, n + 1) < 0)
		return -1;
	lx->buf[n] = '\0';
	t->type = LEXER_STRING;
	t->text = lx->buf;
	t->len = n;
	return 0;
}

int lexer_next(struct lexer *lx, struct lexer_token *t)
{
	unsigned char c;
	size_t start;
	char msg[64];

	memset(t, 0, sizeof(*t));
	while (lx->pos < lx->len &&
	       (lx->src[lx->pos] == ' ' || lx->src[lx->pos] == '\t' ||
		lx->src[lx->pos] == '\r'))
		lx->pos++;
	if (lx->pos < lx->len && lx->src[lx->pos] == '#') {
		while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
			lx->pos++;
	}
	t->line = lx->line;
	t->line_off = lx->line_off;
	t->col = (unsigned)(lx->pos - lx->line_off + 1);
	t->text = "";
	if (lx->pos >= lx->len) {
		t->type = LEXER_EOF;
		return 0;
	}
	c = (unsigned char)lx->src[lx->pos];
	switch (c) {
	case '\n':
		lx->pos++;
		lx->line++;
		lx->line_off = lx->pos;
		t->type = LEXER_NEWLINE;
		return 0;
	case '{':
		lx->pos++;
		t->type = LEXER_LBRACE;
		t->text = "{";
		t->len = 1;
		return 0;
	case '}':
		lx->pos++;
		t->type = LEXER_RBRACE;
		t->text = "}";
		t->len = 1;
		return 0;
	case ',':
		lx->pos++;
		t->type = LEXER_COMMA;
		t->text = ",";
		t->len = 1;
		return 0;
	case '"':
		return lex_string(lx, t);
	default:
		break;
	}
	start = lx->pos;
	while (lx->pos < lx->len) {
		c = (unsigned char)lx->src[lx->pos];
		if (ends_word(c))
			break;
		if (is_ctl(c)) {
			snprintf(msg, sizeof(msg), "invalid character 0x%02x",
				 c);
			t->col = (unsigned)(lx->pos - lx->line_off + 1);
			return lex_error(lx, t, msg);
		}
		lx->pos++;
	}
	t->type = LEXER_WORD;
	return set_text(lx, t, lx->src + start, lx->pos - start);
}

const char *lexer_line(const struct lexer *lx, size_t line_off, size_t *len)
{
	size_t e = line_off;

	if (line_off > lx->len)
		line_off = e = lx->len;
	while (e < lx->len && lx->src[e] != '\n')
		e++;
	if (e > line_off && lx->src[e - 1] == '\r')
		e--;
	*len = e - line_off;
	return lx->src + line_off;
}

const char *lexer_describe(const struct lexer_token *t, char *buf,
			   size_t buflen)
{
	switch (t->type) {
	case LEXER_EOF:
		snprintf(buf, buflen, "end of file");
		break;
	case LEXER_NEWLINE:
		snprintf(buf, buflen, "end of line");
		break;
	case LEXER_STRING:
		snprintf(buf, buflen, "string \"%.40s%s\"", t->text,
			 t->len > 40 ? "..." : "");
		break;
	case LEXER_ERROR:
		snprintf(buf, buflen, "invalid input");
		break;
	default:
		snprintf(buf, buflen, "\"%.40s%s\"", t->text,
			 t->len > 40 ? "..." : "");
		break;
	}
	return buf;
}

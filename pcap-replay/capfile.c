/* capfile: see capfile.h. */
#include "capfile.h"

#include <dirent.h>
#include <errno.h>
#include <lzma.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "filekind.h"

#define INBUF (64u * 1024u)

struct cap_cookie {
	FILE *src;
	unsigned char pre[16];	/* bytes read to sniff, served first */
	size_t npre, ppre;
	enum filekind kind;
	int eof;		/* the compressed input is exhausted */
	int done;		/* the decompressed stream is complete */
	unsigned char *in;
	size_t in_len, in_pos;
	z_stream z;
	lzma_stream x;
	ZSTD_DStream *zs;
};

static size_t raw_read(struct cap_cookie *c, unsigned char *buf, size_t n)
{
	size_t got = 0;

	if (c->ppre < c->npre) {
		got = c->npre - c->ppre;
		if (got > n)
			got = n;
		memcpy(buf, c->pre + c->ppre, got);
		c->ppre += got;
	}
	if (got < n && c->src == stdin) {
		/* one read(2): a pipe's data is handed on as it comes, so a
		 * slow producer still shows progress (stdin is unbuffered,
		 * see capfile_open) */
		ssize_t r;

		do
			r = read(fileno(stdin), buf + got, n - got);
		while (r < 0 && errno == EINTR);
		if (r > 0)
			got += (size_t)r;
	} else if (got < n) {
		got += fread(buf + got, 1, n - got, c->src);
	}
	return got;
}

/* Refills the input buffer when it is used up; 0 at end of input. */
static int fill(struct cap_cookie *c)
{
	if (c->in_pos < c->in_len)
		return 1;
	if (c->eof)
		return 0;
	c->in_len = raw_read(c, c->in, INBUF);
	c->in_pos = 0;
	if (c->in_len == 0) {
		c->eof = 1;
		return 0;
	}
	return 1;
}

static ssize_t read_gzip(struct cap_cookie *c, char *buf, size_t size)
{
	size_t out = 0;

	while (out < size && !c->done) {
		int rc;

		if (!fill(c)) {
			/* input ended inside a member: a cut file */
			errno = EIO;
			return out ? (ssize_t)out : -1;
		}
		c->z.next_in = c->in + c->in_pos;
		c->z.avail_in = (uInt)(c->in_len - c->in_pos);
		c->z.next_out = (Bytef *)buf + out;
		c->z.avail_out = (uInt)(size - out);
		rc = inflate(&c->z, Z_NO_FLUSH);
		out = size - c->z.avail_out;
		c->in_pos = c->in_len - c->z.avail_in;
		if (rc == Z_STREAM_END) {
			/* gzip files may hold several members, one after the
			 * other (`cat a.gz b.gz`) */
			if (!fill(c))
				c->done = 1;
			else if (inflateReset(&c->z) != Z_OK)
				return -1;
		} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			errno = EIO;
			return out ? (ssize_t)out : -1;
		}
	}
	return (ssize_t)out;
}

static ssize_t read_xz(struct cap_cookie *c, char *buf, size_t size)
{
	size_t out = 0;

	while (out < size && !c->done) {
		lzma_ret rc;

		fill(c);
		c->x.next_in = c->in + c->in_pos;
		c->x.avail_in = c->in_len - c->in_pos;
		c->x.next_out = (uint8_t *)buf + out;
		c->x.avail_out = size - out;
		rc = lzma_code(&c->x, c->eof ? LZMA_FINISH : LZMA_RUN);
		out = size - c->x.avail_out;
		c->in_pos = c->in_len - c->x.avail_in;
		if (rc == LZMA_STREAM_END) {
			c->done = 1;
		} else if (rc != LZMA_OK) {
			errno = EIO;
			return out ? (ssize_t)out : -1;
		}
	}
	return (ssize_t)out;
}

static ssize_t read_zstd(struct cap_cookie *c, char *buf, size_t size)
{
	size_t out = 0;

	while (out < size && !c->done) {
		ZSTD_inBuffer ib;
		ZSTD_outBuffer ob = { buf, size, out };
		size_t rc;

		if (!fill(c)) {
			c->done = 1;
			break;
		}
		ib.src = c->in;
		ib.size = c->in_len;
		ib.pos = c->in_pos;
		rc = ZSTD_decompressStream(c->zs, &ob, &ib);
		out = ob.pos;
		c->in_pos = ib.pos;
		if (ZSTD_isError(rc)) {
			errno = EIO;
			return out ? (ssize_t)out : -1;
		}
	}
	return (ssize_t)out;
}

static ssize_t cap_read(void *cookie, char *buf, size_t size)
{
	struct cap_cookie *c = cookie;

	switch (c->kind) {
	case FILEKIND_GZIP:
		return read_gzip(c, buf, size);
	case FILEKIND_XZ:
		return read_xz(c, buf, size);
	case FILEKIND_ZSTD:
		return read_zstd(c, buf, size);
	default:
		return (ssize_t)raw_read(c, (unsigned char *)buf, size);
	}
}

static int cap_close(void *cookie)
{
	struct cap_cookie *c = cookie;

	if (c->kind == FILEKIND_GZIP)
		inflateEnd(&c->z);
	else if (c->kind == FILEKIND_XZ)
		lzma_end(&c->x);
	else if (c->kind == FILEKIND_ZSTD)
		ZSTD_freeDStream(c->zs);
	if (c->src != stdin)
		fclose(c->src);
	free(c->in);
	free(c);
	return 0;
}

static int decoder_init(struct cap_cookie *c)
{
	switch (c->kind) {
	case FILEKIND_GZIP:
		/* 15 + 32: zlib or gzip header, detected */
		return inflateInit2(&c->z, 15 + 32) == Z_OK ? 0 : -1;
	case FILEKIND_XZ: {
		lzma_stream init = LZMA_STREAM_INIT;

		c->x = init;
		return lzma_stream_decoder(&c->x, UINT64_MAX,
					   LZMA_CONCATENATED) == LZMA_OK ? 0 : -1;
	}
	case FILEKIND_ZSTD:
		c->zs = ZSTD_createDStream();
		return c->zs && !ZSTD_isError(ZSTD_initDStream(c->zs)) ? 0 : -1;
	default:
		return 0;
	}
}

FILE *capfile_open(const char *path, char *err, size_t errlen)
{
	static const cookie_io_functions_t io = { .read = cap_read,
						  .close = cap_close };
	struct cap_cookie *c;
	FILE *src, *f;
	int is_stdin = strcmp(path, "-") == 0;

	src = is_stdin ? stdin : fopen(path, "rb");
	if (!src) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		goto fail;
	}
	c->src = src;
	/* stdin is read past the sniffed bytes with read(2): nothing may sit
	 * in its stdio buffer */
	if (is_stdin)
		setvbuf(stdin, NULL, _IONBF, 0);
	c->npre = fread(c->pre, 1, sizeof(c->pre), src);
	c->kind = filekind_of_bytes(c->pre, c->npre);
	if (c->kind == FILEKIND_BZIP2) {
		snprintf(err, errlen, "bzip2-compressed captures are not read "
			 "(gzip, xz and zstd are): bunzip2 it first");
		goto fail;
	}
	if (c->kind != FILEKIND_GZIP && c->kind != FILEKIND_XZ &&
	    c->kind != FILEKIND_ZSTD) {
		/* a plain file: libpcap reads it directly and says what is
		 * wrong with it; only stdin, already read from, needs the
		 * sniffed bytes served again */
		if (!is_stdin) {
			free(c);
			if (fseek(src, 0, SEEK_SET) == 0)
				return src;
			fclose(src);
			snprintf(err, errlen, "%s", strerror(errno));
			return NULL;
		}
		c->kind = FILEKIND_UNKNOWN;
	} else {
		c->in = malloc(INBUF);
		if (!c->in || decoder_init(c) < 0) {
			snprintf(err, errlen, "%s decoder: %s",
				 filekind_name(c->kind), strerror(ENOMEM));
			free(c->in);
			goto fail;
		}
	}
	f = fopencookie(c, "rb", io);
	if (!f) {
		snprintf(err, errlen, "%s", strerror(errno));
		cap_close(c); /* closes src */
		return NULL;
	}
	return f;
fail:
	free(c);
	if (src != stdin)
		fclose(src);
	return NULL;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int capfile_list_dir(const char *dir, char ***names)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, cap = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		char *p;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
			goto oom;
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nv = realloc(v, nc * sizeof(*v));
			if (!nv) {
				free(p);
				goto oom;
			}
			v = nv;
			cap = nc;
		}
		v[n++] = p;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), name_cmp);
	*names = v;
	return (int)n;
oom:
	closedir(d);
	while (n > 0)
		free(v[--n]);
	free(v);
	errno = ENOMEM;
	return -1;
}

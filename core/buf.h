/* SPDX-License-Identifier: GPL-2.0-or-later */
/* buf.h - a growable byte buffer, always NUL-terminated, used across the library. */
#ifndef CARNET_CORE_BUF_H
#define CARNET_CORE_BUF_H

#include <stddef.h>

#include "error.h"

typedef struct carnet_buf {
	char *data; /* NULL until the first append, then NUL-terminated */
	size_t len; /* bytes used, not counting the NUL */
	size_t cap; /* bytes allocated */
} carnet_buf;

#define CARNET_BUF_INIT { NULL, 0, 0 }

/* Each returns 0, or -1 when memory runs out (the buffer is then unchanged). */
int carnet_buf__grow(carnet_buf *b, size_t extra);
int carnet_buf__put(carnet_buf *b, const void *data, size_t len);
int carnet_buf__puts(carnet_buf *b, const char *s);
int carnet_buf__putc_grow(carnet_buf *b, char c);

/* One byte: inline while it fits (readers and folding append text a byte
 * at a time: a call and a size check per byte were 5% of indexing). */
static inline int carnet_buf__putc(carnet_buf *b, char c)
{
	if (b->len + 2 > b->cap)
		return carnet_buf__putc_grow(b, c);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
	return 0;
}
int carnet_buf__printf(carnet_buf *b, const char *fmt, ...) CARNET_PRINTF(2, 3);

/* Empty the buffer, keeping its memory. */
void carnet_buf__reset(carnet_buf *b);

/* Hand the data over to the caller (who frees it with free()); the buffer
 * becomes empty. Returns "" allocated when the buffer was never used, or
 * NULL when memory runs out. */
char *carnet_buf__detach(carnet_buf *b);

void carnet_buf__free(carnet_buf *b);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* base64.c - strict base64 decoder. Written here because the decoders of the
 * libraries we already use (GLib) skip invalid characters silently, and an
 * invalid attachment must be rejected with the offset of the fault. */
#include "base64.h"

static int value_of(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int carnet_base64__decode(carnet_buf *out, const char *in, size_t len,
			  size_t *bad_offset)
{
	size_t start = out->len;
	if (carnet_buf__grow(out, len / 4 * 3 + 3) != 0)
		return CARNET_E_NOMEM;
	const unsigned char *s = (const unsigned char *)in;
	unsigned acc = 0;
	int n = 0, pad = 0;
	size_t last = 0;
	for (size_t i = 0; i < len; i++) {
		if (is_space(s[i]))
			continue;
		last = i;
		if (s[i] == '=') {
			/* padding: only in the last two places of a final group */
			if (n < 2 || n + pad >= 4)
				goto bad_at;
			pad++;
			continue;
		}
		int v = value_of(s[i]);
		if (v < 0 || pad)
			goto bad_at;
		acc = (acc << 6) | (unsigned)v;
		if (++n == 4) {
			out->data[out->len++] = (char)(acc >> 16);
			out->data[out->len++] = (char)(acc >> 8);
			out->data[out->len++] = (char)acc;
			acc = 0;
			n = 0;
		}
		continue;
bad_at:
		if (bad_offset)
			*bad_offset = i;
		goto bad;
	}
	if (n == 0 && pad == 0)
		goto done;
	if (n + pad != 4) {
		if (bad_offset)
			*bad_offset = last;
		goto bad;
	}
	/* n is 2 or 3: one or two bytes remain */
	acc <<= 6 * (unsigned)pad;
	out->data[out->len++] = (char)(acc >> 16);
	if (n == 3)
		out->data[out->len++] = (char)(acc >> 8);
done:
	out->data[out->len] = '\0';
	return CARNET_OK;
bad:
	out->len = start;
	out->data[start] = '\0';
	return CARNET_E_INVALID;
}

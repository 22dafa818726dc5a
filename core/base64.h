/* SPDX-License-Identifier: GPL-2.0-or-later */
/* base64.h - strict base64 decoding for embedded documents (CDA nonXMLBody,
 * FHIR attachments): whitespace is allowed, anything else wrong is refused. */
#ifndef CARNET_CORE_BASE64_H
#define CARNET_CORE_BASE64_H

#include <stddef.h>

#include "buf.h"

/* Append to out the bytes encoded in in[0..len) (standard alphabet, '='
 * padding, ASCII whitespace ignored). Returns CARNET_OK; CARNET_E_INVALID
 * with *bad_offset set to the offending input byte when the text is not
 * base64 (bad character, bad padding, truncated group); CARNET_E_NOMEM.
 * On failure out is left as it was. */
int carnet_base64__decode(carnet_buf *out, const char *in, size_t len,
			  size_t *bad_offset);

#endif

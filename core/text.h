/* SPDX-License-Identifier: GPL-2.0-or-later */
/* text.h - text normalisation for indexing and querying (the only ICU user):
 * UTF-8 checks, legacy encodings, and folding of case, accents, ligatures
 * and French elision, applied identically to documents and to queries. */
#ifndef CARNET_CORE_TEXT_H
#define CARNET_CORE_TEXT_H

#include <stddef.h>

#include "buf.h"

/* Is in[0..len) well-formed UTF-8? Returns 1 if so; else 0 and, when
 * bad_offset is not NULL, the byte offset of the first bad sequence. */
int carnet_text__utf8_valid(const char *in, size_t len, size_t *bad_offset);

/* Does in[0..len) look like binary data rather than text (a NUL byte, or
 * control characters other than tab, newline, carriage return, form feed
 * and escape)? Returns 1 if so, with the offset of the first such byte. */
int carnet_text__looks_binary(const char *in, size_t len, size_t *offset);

/* Append to out the UTF-8 conversion of in[0..len) read as Windows-1252
 * (which covers ISO-8859-1). Returns CARNET_OK, CARNET_E_NOMEM or
 * CARNET_E_INTERNAL (origin ICU). */
int carnet_text__from_cp1252(carnet_buf *out, const char *in, size_t len,
			     carnet_error *err);

/* Append to out the folded form of the UTF-8 text in[0..len): compatibility
 * decomposition (NFKD), combining marks removed, case folded, ligatures
 * expanded (oe, ae, ss), typographic apostrophes made ASCII, and French
 * elided articles and pronouns (l', d', qu', ...) removed from the word
 * they precede. Invalid UTF-8 sequences become spaces. The result is what
 * the term generator sees, for documents and queries alike.
 * Returns CARNET_OK, CARNET_E_NOMEM or CARNET_E_INTERNAL (origin ICU). */
int carnet_text__fold(carnet_buf *out, const char *in, size_t len,
		      carnet_error *err);

#endif

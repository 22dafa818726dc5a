/* SPDX-License-Identifier: GPL-2.0-or-later */
/* terms_compare.h - carnet's terms and words (core/xapian_terms.cc) checked
 * against Xapian's own TermGenerator on the same text (fuzz/terms_compare.cc),
 * for tests/test_terms.c and fuzz/fuzz_terms.c. */
#ifndef CARNET_FUZZ_TERMS_COMPARE_H
#define CARNET_FUZZ_TERMS_COMPARE_H

#include <stddef.h>

#include "xapian_shim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Index texts[0..count) as one document in language lang twice: with
 * carnet_xap_prepare_until, and with a TermGenerator (stemmer lang, each
 * text whole, 100 positions between texts) as carnet did before; then split
 * each text as a query twice: carnet_xap_words, and a TermGenerator without
 * stemming (its words in position order). Returns 0 when every term, wdf,
 * position and word is the same, 1 when not (the first difference in why),
 * -1 when a call failed (why says which). */
int terms_compare(const carnet_xtext *texts, size_t count, const char *lang, char *why,
		  size_t size);

#ifdef __cplusplus
}
#endif

#endif

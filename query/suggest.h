/* SPDX-License-Identifier: GPL-2.0-or-later */
/* suggest.h - the spelling suggestion of a search that found nothing. */
#ifndef CARNET_QUERY_SUGGEST_H
#define CARNET_QUERY_SUGGEST_H

#include "words.h"
#include "xapian_shim.h"

/* The typed words with each unknown one replaced by the closest word of
 * the record passing s's filter (a malloc'ed string); "" when nothing
 * would change. */
int carnet_suggest__make(char **out, carnet_xreader *xr, const carnet_xsearch *s,
			 const carnet_words *w, carnet_error *err);

#endif

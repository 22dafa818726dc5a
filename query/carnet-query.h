/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-query.h - what the files of the query CLI share. */
#ifndef CARNET_QUERY_CARNET_QUERY_H
#define CARNET_QUERY_CARNET_QUERY_H

#include <stddef.h>

#include "carnet.h"

/* Print s in exactly `cols` columns (counting UTF-8 code points), cut with
 * an ellipsis when longer; cols 0 prints it whole. */
void put_cell(const char *s, size_t cols);

/* --results: the key results panel of req, as a table (a sparkline of
 * each trend, in block characters when the locale is UTF-8) or as JSON
 * lines (json), on standard output. Returns CARNET_OK or the error, in
 * err. */
int show_results(carnet_index *idx, const carnet_request *req, int json, carnet_error *err);

/* --access-log: the rows of patient's access log, newest first, as a
 * table or JSON lines (json) on standard output, from homes[0] (NULL: the
 * default home) or, when n > 1, merged from the n homes (the replicas of
 * one shard), each row naming its home. Returns the exit status (2 for a
 * bad patient id, 3 when a home or its log cannot be read: nothing is
 * printed then for n > 1), the reason on stderr. */
int show_access_log(const char *const *homes, size_t n, const char *patient, int json);

#endif

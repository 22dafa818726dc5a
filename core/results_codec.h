/* SPDX-License-Identifier: GPL-2.0-or-later */
/* results_codec.h - the coded results of a document as stored in its
 * CARNET_SLOT_RESULTS value: written by the indexer, read by the query side. */
#ifndef CARNET_CORE_RESULTS_CODEC_H
#define CARNET_CORE_RESULTS_CODEC_H

#include <stddef.h>

#include "buf.h"
#include "doc.h"

/* One result a record, records separated by CARNET_RESULTS_RS, fields by
 * CARNET_RESULTS_US, in this order: kind, system, code, display, value,
 * unit, low, high, interpretation, date, specimen (an absent field is
 * empty). A separator inside a field is written as a space. */
#define CARNET_RESULTS_RS '\x1e'
#define CARNET_RESULTS_US '\x1f'
#define CARNET_RESULTS_FIELDS 11

/* Append the encoding of r[0..n) to out. 0, or -1 on no memory (out may
 * then hold part of it). */
int carnet_results__encode(carnet_buf *out, const carnet_result *r, size_t n);

/* Called for each decoded result; r and its strings point into a scratch
 * copy valid during the call (absent fields are NULL). A non-zero return
 * stops the decoding and is returned. */
typedef int (*carnet_result_cb)(const carnet_result *r, void *payload);

/* Decode data[0..len) (not NUL-terminated; anything, damaged included):
 * a record with another number of fields, an empty code or a kind that is
 * not one letter is skipped. Returns the first non-zero cb return, 0, or
 * -1 when memory runs out. */
int carnet_results__decode(const char *data, size_t len, carnet_result_cb cb, void *payload);

/* The same over data itself (writable, data[len] a NUL), its separators
 * made NULs: the strings cb gets point into data and live as long as it
 * (a NULL or empty data decodes to nothing). */
int carnet_results__decode_in_place(char *data, size_t len, carnet_result_cb cb, void *payload);

#endif

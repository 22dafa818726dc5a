/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rank.h - the ranking tables, shared by the indexer (content keywords) and
 * the query side (scoring): the configuration (ranking.conf), the specialty
 * affinity table (affinity.tsv) and the synonym table (synonyms.tsv), each
 * compiled in as a default (core/data/) and extended by the index home's
 * own file; and the score of a document for a viewer. Reading the tables
 * and looking up synonyms is tables.c, scoring rank.c, content vectors
 * vectors.c (their shared in-memory form: tables.h). */
#ifndef CARNET_CORE_RANK_H
#define CARNET_CORE_RANK_H

#include <stddef.h>

#include "buf.h"
#include "carnet.h"
#include "xapian_shim.h"

#define CARNET_RANKING_FILE "ranking.conf"
#define CARNET_AFFINITY_FILE "affinity.tsv"
#define CARNET_SYNONYMS_FILE "synonyms.tsv"

typedef struct carnet_ranking carnet_ranking;

/* ---- the tables (tables.c) ---- */

/* The ranking of an index home: defaults, then the home's ranking.conf,
 * affinity.tsv and synonyms.tsv where present. CARNET_E_INVALID names the
 * file and line of a bad rule ("PATH:LINE: reason"). */
int carnet_rank__load(carnet_ranking **out, const char *home, carnet_error *err);
void carnet_rank__free(carnet_ranking *rk);

/* Apply ranking.conf lines (name is used in messages: "name:LINE:
 * reason"). On error nothing is changed. */
int carnet_rank__configure(carnet_ranking *rk, const char *name,
			   const char *text, size_t len, carnet_error *err);

/* Load the default synonyms, once (a search with words needs them; the
 * home's own are loaded with the rest). Not thread-safe: one handle, one
 * thread. */
int carnet_rank__synonyms(carnet_ranking *rk, carnet_error *err);

/* Synonyms: for the folded words w[0..n), the longest table entry that
 * starts at w[0]. Returns its length in words (0: none) and sets *entry_out
 * to an opaque entry for carnet_rank__partners. */
size_t carnet_rank__synonym_at(const carnet_ranking *rk, const char *const *w,
			       size_t n, size_t *entry_out);

/* The alternatives equivalent to an entry (itself excluded), as word lists
 * borrowed from rk. Returns their number; *alts_out points into rk. */
size_t carnet_rank__partners(const carnet_ranking *rk, size_t which,
			     const carnet_xalt **alts_out);

/* ---- scoring (rank.c) ---- */

/* The viewer of one request, resolved against the tables. */
typedef struct carnet_viewer {
	int profile;                     /* profile index, or -1: none */
	int topic;                       /* the profile the words are about, or -1 */
	long as_of_days;                 /* day recency counts from */
	int series;                      /* the words name analytes: recency
					    weighs recency.series times more */
} carnet_viewer;

/* Resolve a viewer from a specialty code (may be NULL or "") and a
 * profession code (may be NULL); as_of is YYYY-MM-DD or NULL for today. */
void carnet_rank__viewer(const carnet_ranking *rk, carnet_viewer *v,
			 const char *specialty, const char *profession,
			 const char *as_of);

/* The name of profile which (a carnet_viewer's), borrowed from rk; NULL
 * for -1 or out of range. */
const char *carnet_rank__profile_name(const carnet_ranking *rk, int which);

/* The parts of a document's score, as carnet_results_part reports them
 * (index by carnet_part). */
typedef struct carnet_parts {
	double v[13];
} carnet_parts;

/* The profile the words of a request are about (their keywords weigh at
 * least affinity.topic_min), when it is not the viewer's own: sets
 * v->topic. seqs: the word sequences typed, and their synonyms'. */
void carnet_rank__topic(const carnet_ranking *rk, carnet_viewer *v,
			const carnet_xalt *seqs, size_t n);

/* What a document type means for the viewer of a request: its affinity to
 * the viewer's profile [0] and to the words' field [1] (when v->topic),
 * and its half-life in days (0: never fades) for the newest document of
 * that type [0] and for older ones [1]: of a type that never fades (the
 * medical summary, vaccinations) only the newest does so; older ones are
 * superseded and fade with their class. Computed once per distinct type
 * of a request. */
typedef struct carnet_rank_type {
	double affinity[2];
	double half_life[2];
	double content;   /* what the content part of affinity counts
			     (affinity.content.type.TYPE; 1 by default) */
} carnet_rank_type;

void carnet_rank__type(const carnet_ranking *rk, const carnet_viewer *v,
		       const char *type, carnet_rank_type *out);

/* The same for an author specialty: affinity to the viewer's profile [0]
 * and to the words' field [1]. */
typedef struct carnet_rank_author {
	double affinity[2];
} carnet_rank_author;

void carnet_rank__author(const carnet_ranking *rk, const carnet_viewer *v,
			 const char *specialty, carnet_rank_author *out);

/* Score a candidate: text_norm is its BM25 divided by the request's best
 * (0 in browse mode); content (content_topic) the summed weights of the
 * viewer's (the words' field's) keywords it has (carnet_rank__content_of),
 * times t->content (0 for a record-wide type: the medical summary);
 * date_days its date (carnet_rank__days, -1 if unknown); newest_of_type
 * whether no candidate of its type is newer (the caller passes 0 with
 * words: then no document is exempt from fading). Recency is the type's
 * decay blended with the record's long memory (recency.memory), weighed
 * by weight.recency (times recency.series when v->series). When the words are about
 * another field, affinity blends the viewer's with that field's by
 * affinity.topic; results (0..1) is what its key results are worth to
 * the request (query/candidates.c), times weight.results. Returns the
 * score; fills parts. */
double carnet_rank__combine(const carnet_ranking *rk, const carnet_viewer *v,
			    double text_norm, double content, double content_topic,
			    long date_days, const carnet_rank_type *t,
			    const carnet_rank_author *au, int newest_of_type,
			    double results, carnet_parts *parts);

/* What a report of a lab series the words name is worth (0..1), gap days
 * older than the newest hit of the series: 1 for the newest, then
 * 2^(-gap / results.series_half_life); with a half-life of 0, 0. */
double carnet_rank__series(const carnet_ranking *rk, long gap);

/* Does the affinity table give this document type a baseline ("type *")? */
int carnet_rank__type_covered(const carnet_ranking *rk, const char *type);

/* BM25 parameters. */
void carnet_rank__bm25(const carnet_ranking *rk, double *k1, double *b);

/* Days since 1970-01-01 of a "YYYY-MM-DD" or "YYYYMMDD" date; -1 if bad. */
long carnet_rank__days(const char *date);

/* ---- content vectors (vectors.c) ---- */

/* The content keywords of every profile, as the indexer looks for them in
 * a document (each distinct keyword once). Computed on the first call,
 * which is not thread-safe: make it before starting threads. */
int carnet_rank__keys(carnet_ranking *rk, const carnet_xkey **keys_out,
		      size_t *count_out, carnet_error *err);

/* The keys computed by carnet_rank__keys (none before), made ready for
 * matching; safe from threads. Returns their number. */
size_t carnet_rank__keys_ready(const carnet_ranking *rk, const carnet_xkeyset **set_out);

/* The index metadata key holding the profiles' codes. */
#define CARNET_PROFILES_KEY "carnet.profiles"

/* Content vectors name profiles by a one-byte code that the index keeps
 * (CARNET_PROFILES_KEY: the names in code order, comma-separated, codes
 * from 1): stored is that list (NULL or "" when the index has none). A reader passes updated == NULL; a writer passes a
 * buffer, which receives the list with the profiles it lacked appended
 * (codes are never reused or reordered, so documents written with older
 * tables keep their meaning). Returns 0 or -1 on no memory. */
int carnet_rank__codes(carnet_ranking *rk, const char *stored, carnet_buf *updated);

/* A document's content vector, from which keys it has (hits[i] for the
 * keys of carnet_rank__keys): for every profile with a keyword in the
 * document, its code and summed weight (two bytes), appended to out.
 * Returns 0 or -1 on no memory. */
int carnet_rank__content(const carnet_ranking *rk, const unsigned char *hits,
			 carnet_buf *out);

/* The viewer's summed keyword weights in a content vector (0 if absent). */
double carnet_rank__content_of(const carnet_ranking *rk, const carnet_viewer *v,
			       const char *vector, size_t len);

/* The topic profile's summed keyword weights in a content vector. */
double carnet_rank__topic_content(const carnet_ranking *rk, const carnet_viewer *v,
				  const char *vector, size_t len);

#endif

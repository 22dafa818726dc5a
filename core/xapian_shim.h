/* xapian_shim.h - a small C API over Xapian (the only C++ in carnet).
 * Two groups: a writer for the indexer, a reader for queries. Every entry
 * point catches all C++ exceptions and reports them as a carnet_error. */
#ifndef CARNET_CORE_XAPIAN_SHIM_H
#define CARNET_CORE_XAPIAN_SHIM_H

#include <stddef.h>

#include "carnet.h"

#ifdef __cplusplus
#define CARNET_NOEXCEPT noexcept
extern "C" {
#else
#define CARNET_NOEXCEPT
#endif

/* ---- writer ---- */

typedef struct carnet_xwriter carnet_xwriter;

typedef struct carnet_xvalue {
	unsigned slot;
	const char *value;
	size_t len;
} carnet_xvalue;

typedef struct carnet_xtext {
	const char *text;   /* folded text (see core/text.h) */
	size_t len;
	unsigned weight;    /* wdf increment per word */
	const char *prefix; /* "" for the default field */
} carnet_xtext;

/* A document as the index sees it: terms, values, text and a stored record. */
typedef struct carnet_xdoc {
	const char *id_term;        /* unique term, e.g. "QDOC-1" */
	const char *const *terms;   /* boolean terms (not weighted) */
	size_t terms_count;
	const carnet_xvalue *values;
	size_t values_count;
	const carnet_xtext *texts;
	size_t texts_count;
	const char *data;           /* stored record */
	size_t data_len;
	const char *stem_language;  /* Xapian stemmer name, e.g. "french" */
} carnet_xdoc;

typedef struct carnet_xprepared carnet_xprepared;

/* Build the Xapian document for d (terms, values, text, record) without a
 * database: safe to call from several threads at once, each with its own
 * documents. Freed with carnet_xap_prepared_free, or by put_prepared. */
int carnet_xap_prepare(carnet_xprepared **out, const carnet_xdoc *d,
		       carnet_error *err) CARNET_NOEXCEPT;
/* Add (on != 0) or remove a boolean term on a prepared document. */
int carnet_xap_prepared_set_term(carnet_xprepared *p, const char *term, int on,
				 carnet_error *err) CARNET_NOEXCEPT;
void carnet_xap_prepared_free(carnet_xprepared *p) CARNET_NOEXCEPT;

/* Open or create the database at path for writing and check its format
 * (metadata "carnet.format"). LOCKED if another writer holds it. */
int carnet_xap_writer_open(carnet_xwriter **out, const char *path,
			   carnet_error *err) CARNET_NOEXCEPT;
/* Add the document, replacing any with the same id term. */
int carnet_xap_writer_put(carnet_xwriter *w, const carnet_xdoc *d,
			  carnet_error *err) CARNET_NOEXCEPT;
/* Add a prepared document (replacing any with the same id term); p is
 * consumed whatever the outcome. */
int carnet_xap_writer_put_prepared(carnet_xwriter *w, const char *id_term,
				   carnet_xprepared *p, carnet_error *err) CARNET_NOEXCEPT;
/* Delete the document with this id term (no error if absent). */
int carnet_xap_writer_delete(carnet_xwriter *w, const char *id_term,
			     carnet_error *err) CARNET_NOEXCEPT;
/* Add (on != 0) or remove a boolean term on the document with this id term.
 * NOTFOUND if there is no such document. */
int carnet_xap_writer_set_term(carnet_xwriter *w, const char *id_term,
			       const char *term, int on,
			       carnet_error *err) CARNET_NOEXCEPT;
/* Set a metadata entry of the database (visible after commit). */
int carnet_xap_writer_set_metadata(carnet_xwriter *w, const char *key,
				   const char *value, carnet_error *err) CARNET_NOEXCEPT;
/* Make all changes since the last commit durable, atomically. */
int carnet_xap_writer_commit(carnet_xwriter *w, carnet_error *err) CARNET_NOEXCEPT;
/* Call cb with every term starting with prefix (prefix included), in
 * order, including uncommitted changes; a non-zero return stops and is
 * returned. */
int carnet_xap_writer_each_term(carnet_xwriter *w, const char *prefix,
				int (*cb)(const char *term, size_t len, void *payload),
				void *payload, carnet_error *err) CARNET_NOEXCEPT;
/* Number of documents, including uncommitted changes. */
int carnet_xap_writer_doccount(carnet_xwriter *w, unsigned long *out,
			       carnet_error *err) CARNET_NOEXCEPT;
/* Close, discarding uncommitted changes. NULL is allowed. */
void carnet_xap_writer_free(carnet_xwriter *w) CARNET_NOEXCEPT;

/* ---- reader ---- */

typedef struct carnet_xreader carnet_xreader;
typedef struct carnet_xhits carnet_xhits;

/* Terms of which a hit must have at least one. */
typedef struct carnet_xgroup {
	const char *const *terms;
	size_t count; /* 0 means: no hit passes */
} carnet_xgroup;

typedef struct carnet_xsearch {
	const char *words;          /* folded words, or NULL for browse mode */
	const char *stem_language;  /* e.g. "french" */
	const char *const *must;    /* every hit has all of these terms */
	size_t must_count;
	const carnet_xgroup *any;   /* and, for each group, at least one of its terms */
	size_t any_count;           /* number of groups */
	const char *const *hide;    /* no hit has any of these terms ... */
	size_t hide_count;
	const char *unhide;         /* ... unless it also has this one (or NULL) */
	const char *date_from;      /* "YYYYMMDD" inclusive, or NULL */
	const char *date_to;        /* "YYYYMMDD" inclusive, or NULL */
	unsigned offset;
	unsigned limit;
} carnet_xsearch;

/* Open the database at path for reading and check its format. */
int carnet_xap_reader_open(carnet_xreader **out, const char *path,
			   carnet_error *err) CARNET_NOEXCEPT;
/* See the latest committed state. */
int carnet_xap_reader_reopen(carnet_xreader *r, carnet_error *err) CARNET_NOEXCEPT;
/* Run a search: words (if any) ranked by BM25, ties and browse mode by date
 * (newest first) then id; always filtered by every `must` term.
 * MODIFIED means: reopen and retry. */
int carnet_xap_reader_search(carnet_xreader *r, const carnet_xsearch *s,
			     carnet_xhits **out, carnet_error *err) CARNET_NOEXCEPT;
/* Number of documents in the database. */
int carnet_xap_reader_doccount(carnet_xreader *r, unsigned long *out,
			       carnet_error *err) CARNET_NOEXCEPT;
void carnet_xap_reader_free(carnet_xreader *r) CARNET_NOEXCEPT;

size_t carnet_xap_hits_count(const carnet_xhits *h) CARNET_NOEXCEPT;
unsigned long carnet_xap_hits_total(const carnet_xhits *h) CARNET_NOEXCEPT;
/* Weight of hit i, 0..1 relative to the best hit (0 in browse mode). */
double carnet_xap_hits_score(const carnet_xhits *h, size_t i) CARNET_NOEXCEPT;
/* Stored record of hit i; borrowed until carnet_xap_hits_free. */
const char *carnet_xap_hits_data(const carnet_xhits *h, size_t i,
				 size_t *len_out) CARNET_NOEXCEPT;
void carnet_xap_hits_free(carnet_xhits *h) CARNET_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif

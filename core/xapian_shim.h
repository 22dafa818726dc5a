/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xapian_shim.h - a small C API over Xapian (the only C++ in carnet).
 * Two groups: a writer for the indexer, a reader for queries. Every entry
 * point catches all C++ exceptions and reports them as a carnet_error.
 * Written in core/xapian_shim.cc (errors, words, stems),
 * xapian_prepare.cc (documents), xapian_writer.cc and xapian_reader.cc. */
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

/* A keyword to look for in a prepared document: a word, through its stem
 * term in the document's language (zterm[0] French, [1] English), or a
 * phrase of unstemmed words. */
typedef struct carnet_xkey {
	const char *zterm[2];      /* "Z" + stem, for a single word */
	const char *const *words;
	size_t count;
} carnet_xkey;

/* Build the Xapian document for d (terms, values, text, record) without a
 * database: safe to call from several threads at once, each with its own
 * documents. Freed with carnet_xap_prepared_free, or by put_prepared.
 * stop (if not NULL) is polled between pieces of long texts: when it
 * returns non-zero, nothing is built and CARNET_E_INVALID returned. */
int carnet_xap_prepare_until(carnet_xprepared **out, const carnet_xdoc *d, int (*stop)(void),
			     carnet_error *err) CARNET_NOEXCEPT;
/* Add (on != 0) or remove a boolean term on a prepared document. */
int carnet_xap_prepared_set_term(carnet_xprepared *p, const char *term, int on,
				 carnet_error *err) CARNET_NOEXCEPT;
void carnet_xap_prepared_free(carnet_xprepared *p) CARNET_NOEXCEPT;

/* A set of keys made ready for matching (their terms sorted); keys stay
 * owned by the caller and must outlive it. Read-only once made: several
 * threads may match with one set at once. */
typedef struct carnet_xkeyset carnet_xkeyset;
int carnet_xap_keyset_new(carnet_xkeyset **out, const carnet_xkey *keys, size_t n,
			  carnet_error *err) CARNET_NOEXCEPT;
void carnet_xap_keyset_free(carnet_xkeyset *ks) CARNET_NOEXCEPT;

/* Set hits[i] to 1 when the prepared document has key i of the set (0
 * otherwise); english != 0 when it was stemmed in English. */
int carnet_xap_prepared_match(carnet_xprepared *p, const carnet_xkeyset *ks, int english,
			      unsigned char *hits, carnet_error *err) CARNET_NOEXCEPT;
/* Set a value of the prepared document. */
int carnet_xap_prepared_value(carnet_xprepared *p, unsigned slot, const char *value,
			      size_t len, carnet_error *err) CARNET_NOEXCEPT;

/* Open or create a writer over shards: PATH, PATH.1, ... PATH.(n-1), and
 * check their format (metadata "carnet.format"). A new database gets
 * `shards` of them (at most CARNET_SHARDS_MAX); an existing one keeps what
 * it has. Each document lives in the shard its id term hashes to. LOCKED
 * if another writer holds it. */
int carnet_xap_writer_open_shards(carnet_xwriter **out, const char *path,
				  unsigned shards, carnet_error *err) CARNET_NOEXCEPT;
/* Put documents and commit on one thread per shard (on != 0), or on the
 * calling thread. Waits for the work queued so far; returns the first
 * error a shard thread met. */
int carnet_xap_writer_threads(carnet_xwriter *w, int on, carnet_error *err) CARNET_NOEXCEPT;
/* Add a prepared document (replacing any with the same id term) to the
 * shard shard_key (its patient) hashes to; elsewhere != 0 when a document
 * with this id may be in the index already (it is then removed from the
 * other shards). p is consumed whatever the outcome. With threads on, the
 * document is queued: an error comes back from a later call (at the
 * latest, commit). */
int carnet_xap_writer_put_prepared(carnet_xwriter *w, const char *id_term,
				   const char *shard_key, int elsewhere,
				   carnet_xprepared *p, carnet_error *err) CARNET_NOEXCEPT;
/* Delete the document with this id term, from every shard (no error if
 * absent). */
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
/* A metadata entry of the database (including uncommitted changes) into a
 * malloc'ed, NUL-terminated *out ("" when unset), freed with free(). */
int carnet_xap_writer_get_metadata(carnet_xwriter *w, const char *key, char **out,
				   carnet_error *err) CARNET_NOEXCEPT;
/* Make all changes since the last commit durable, atomically. */
int carnet_xap_writer_commit(carnet_xwriter *w, carnet_error *err) CARNET_NOEXCEPT;
/* Call cb with every term starting with prefix (prefix included), in
 * order, including uncommitted changes; a non-zero return stops and is
 * returned. */
int carnet_xap_writer_each_term(carnet_xwriter *w, const char *prefix,
				int (*cb)(const char *term, size_t len, void *payload),
				void *payload, carnet_error *err) CARNET_NOEXCEPT;
/* Close, discarding uncommitted changes. NULL is allowed. */
void carnet_xap_writer_free(carnet_xwriter *w) CARNET_NOEXCEPT;
/* Rewrite the database at path (and its shards) compactly: each shard is
 * compacted into a copy beside it, then the copy and the shard exchange
 * names at once (readers find old or new shards, with the same documents).
 * No writer may have it open. On failure it holds the same documents. */
int carnet_xap_compact(const char *path, carnet_error *err) CARNET_NOEXCEPT;

/* ---- reader ---- */

typedef struct carnet_xreader carnet_xreader;

/* Terms of which a hit must have at least one. */
typedef struct carnet_xgroup {
	const char *const *terms;
	size_t count; /* 0 means: no hit passes */
} carnet_xgroup;

/* The filter of a request: which documents are the record searched. */
typedef struct carnet_xsearch {
	const char *const *must;    /* every hit has all of these terms */
	size_t must_count;
	const carnet_xgroup *any;   /* and, for each group, at least one of its terms */
	size_t any_count;           /* number of groups */
	const char *const *hide;    /* no hit has any of these terms ... */
	size_t hide_count;
	const char *unhide;         /* ... unless it also has this one (or NULL) */
	const char *date_from;      /* "YYYYMMDD" inclusive, or NULL */
	const char *date_to;        /* "YYYYMMDD" inclusive, or NULL */
	/* Whole sets (when all versions are asked): a version without
	 * the latest term passes only if the newest version of its set
	 * (same CARNET_PREFIX_SET term, with the latest term) passes the
	 * must terms, the hide rule and the groups any[access_from..] (the
	 * viewer's access rules): a newest version the viewer may not see
	 * hides its whole set. */
	int whole_sets;
	size_t access_from;
	const char *latest;         /* the record's newest-version term
				       (CARNET_PREFIX_LATEST + patient key) */
	const char *shard_key;      /* the patient key the writer placed the
				       record by (the shard_key of
				       carnet_xap_writer_put_prepared), or NULL */
} carnet_xsearch;

/* Open the database at path for reading and check its format. */
int carnet_xap_reader_open(carnet_xreader **out, const char *path,
			   carnet_error *err) CARNET_NOEXCEPT;
/* A metadata entry, as carnet_xap_writer_get_metadata. */
int carnet_xap_reader_get_metadata(carnet_xreader *r, const char *key, char **out,
				   carnet_error *err) CARNET_NOEXCEPT;
/* See the latest committed state (nothing to do, at the cost of a stat
 * per shard, when no shard has committed since the last open). */
int carnet_xap_reader_reopen(carnet_xreader *r, carnet_error *err) CARNET_NOEXCEPT;
/* 1 when a shard's directory was replaced (carnet_xap_compact) since the
 * last open or reopen: what was read since may have met a table of the
 * old shard gone, and is to be read again (after a reopen); else 0. */
int carnet_xap_reader_replaced(carnet_xreader *r) CARNET_NOEXCEPT;
/* A number that changes, in this process, each time r is opened or
 * reopened on a new revision (and no other reader ever had): what was read
 * of r under the same number (its metadata, say) is still what r holds. */
unsigned long carnet_xap_reader_opened(const carnet_xreader *r) CARNET_NOEXCEPT;
/* Number of documents in the database. */
int carnet_xap_reader_doccount(carnet_xreader *r, unsigned long *out,
			       carnet_error *err) CARNET_NOEXCEPT;
void carnet_xap_reader_free(carnet_xreader *r) CARNET_NOEXCEPT;

/* ---- ranking support ---- */

/* One way of saying a clause: count 1 is a word (matched through its French
 * and English stems, or exactly when the clause is exact), more is a
 * phrase of unstemmed words. Words are folded (core/text.h). */
typedef struct carnet_xalt {
	const char *const *words;
	size_t count;
} carnet_xalt;

enum carnet_xmode {
	CARNET_XSHOULD = 0,  /* a hit has this clause or another should clause */
	CARNET_XMUST = 1,    /* every hit has this clause */
	CARNET_XMUST_NOT = 2 /* no hit has it */
};

/* A clause: its alternatives (synonyms, abbreviations) count as one term. */
typedef struct carnet_xclause {
	int mode;            /* enum carnet_xmode */
	int exact;           /* words typed in quotes: no stemming */
	const carnet_xalt *alts;
	size_t alts_count;
} carnet_xclause;

typedef struct carnet_xrank {
	const carnet_xclause *clauses; /* the words; none for browse mode */
	size_t clauses_count;
	double bm25_k1, bm25_b;        /* BM25 parameters */
	size_t max_candidates;         /* stop after this many (0: no limit) */
} carnet_xrank;

/* Called once per document that passes the filter (and matches the words,
 * if any), in docid order. text: its BM25 weight (0 in browse mode), with
 * the statistics (N, document frequencies, average length) counted over
 * the record: the documents that pass the filter of the request, never
 * the rest of the index; found: the ways of saying a clause (alts) it
 * holds, bit k for the k-th alt of the request counted clause by clause
 * (k < 64; none in browse mode); rank: its CARNET_SLOT_RANK value (len
 * bytes: date, type, specialty, id, content vector), borrowed for the
 * call. A non-zero return stops and is returned. */
typedef int (*carnet_xcand_cb)(unsigned docid, double text, uint64_t found, const char *rank,
			       size_t len, void *payload);

/* Run the search s (its filter; at least one must term) with the words
 * of rk, calling cb for every candidate.
 * MODIFIED means: reopen and retry. */
int carnet_xap_reader_candidates(carnet_xreader *r, const carnet_xsearch *s,
				 const carnet_xrank *rk, carnet_xcand_cb cb,
				 void *payload, carnet_error *err) CARNET_NOEXCEPT;

/* The stored record of document docid (slot == -1) or one of its values
 * into a malloc'ed buffer (*out, NUL-terminated, length *len_out) that the
 * caller frees with free(). NOTFOUND if it is gone. */
int carnet_xap_reader_data(carnet_xreader *r, unsigned docid, int slot, char **out,
			   size_t *len_out, carnet_error *err) CARNET_NOEXCEPT;

/* Several of them, from one read of the document: for each i < n, the
 * stored text (slots[i] == -1) or the value in slots[i] into out[i] (to
 * free, NUL-terminated, length lens[i]). On failure every out[i] is NULL. */
int carnet_xap_reader_fields(carnet_xreader *r, unsigned docid, const int *slots, size_t n,
			     char **out, size_t *lens, carnet_error *err) CARNET_NOEXCEPT;

/* The same for n documents: for each docids[i] and slots[j], into
 * out[i * k + j] and lens[i * k + j]. Read slot by slot, each in docid
 * order (and from a few documents on, along the slot's value stream):
 * the documents of one record are neighbours in the index, so that most
 * values come from blocks, and chunks of values, already read (a page of
 * hits costs a few reads instead of a few per hit). On failure every out
 * is NULL. */
int carnet_xap_reader_page(carnet_xreader *r, const unsigned *docids, size_t n, const int *slots,
			   size_t k, char **out, size_t *lens, carnet_error *err) CARNET_NOEXCEPT;

/* How many documents a caller reads at once with carnet_xap_reader_page:
 * enough for the reads to share blocks, few enough that the values held
 * at once (stored texts of up to 64 KB) stay small. */
#define CARNET_XAP_PAGE 32

/* Call cb once with every distinct unprefixed term (a word as indexed,
 * not stemmed) of the documents passing the filter of s, with the number
 * of those documents that have it. At most max_docs documents are read. */
int carnet_xap_reader_vocabulary(carnet_xreader *r, const carnet_xsearch *s,
				 size_t max_docs,
				 int (*cb)(const char *term, size_t len,
					   unsigned docs, void *payload),
				 void *payload, carnet_error *err) CARNET_NOEXCEPT;

/* Split folded text into words exactly as the indexer does, calling cb
 * for each in order (borrowed for the call). A non-zero return stops. */
int carnet_xap_words(const char *text, size_t len,
		     int (*cb)(const char *word, size_t len, void *payload),
		     void *payload, carnet_error *err) CARNET_NOEXCEPT;

/* Stem a folded word with the stemmer of language ("french", "english")
 * into out (NUL-terminated, cut to size). Returns CARNET_OK or an error. */
int carnet_xap_stem(const char *language, const char *word, char *out,
		    size_t size, carnet_error *err) CARNET_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif

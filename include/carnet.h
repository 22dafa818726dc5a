/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * carnet.h - the public API of libcarnet, a search and relevance index for
 * patients' health documents. Anything not declared here is private.
 *
 * Thread safety
 * -------------
 * One handle (carnet_index, carnet_writer, carnet_results) is used by one
 * thread at a time. Separate handles may be used in parallel, from separate
 * threads, on the same index home. The library keeps no mutable global
 * state, and error details are per call: they are written only to the
 * carnet_error the caller passes. Only one writer may exist per index home
 * at a time, across all processes; a second one gets CARNET_E_LOCKED at
 * once and never blocks. Readers keep working while a writer commits.
 *
 * Conventions
 * -----------
 * Every fallible function returns an int status (CARNET_OK or a negative
 * CARNET_E_* code) and takes a carnet_error * as its last parameter, which
 * may be NULL. Objects handed back through `T **out` belong to the caller,
 * who releases them with the matching _free or _close function (all accept
 * NULL); on failure *out is set to NULL. Strings are UTF-8. Each macro that
 * initialises a structure (CARNET_REQUEST_INIT) has a function form
 * (carnet_request_init) for bindings.
 *
 * Caveats
 * -------
 * - One writer per index home, across processes: the lock is a file lock
 *   (LOCK in the home). Keep a home on a local file system: sqlite's WAL
 *   mode and the lock are not safe over NFS or SMB.
 * - Generations: a rebuild (carnet_writer_open_rebuild, carnet-index
 *   rebuild) writes a new generation beside the live one and switches
 *   CURRENT atomically; readers move to it at their next search. The
 *   generation that was live before is kept until the next rebuild, so a
 *   home needs room for two or three generations.
 * - The access log fails closed: a search whose request cannot be written
 *   to the log (access.sqlite in the home), or whose log does not pass the
 *   checks made when it is opened, fails and returns no hits.
 * - A handle must not be used across fork(): open it in the child.
 * - Environment: CARNET_INDEX is the CLIs' default index home;
 *   CARNET_PDFTEXT names the PDF extractor to run (else it is found next
 *   to the library, in LIBEXECDIR). Builds for the test suite
 *   (-DCARNET_TESTING) add hooks that no installed binary has.
 * - PDF text is extracted in a child process with memory and time limits;
 *   each document has a time budget (CARNET_LIMIT_DOC_MILLISECONDS).
 */
#ifndef CARNET_H
#define CARNET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define CARNET_API __declspec(dllexport)
#elif defined(__GNUC__)
#define CARNET_API __attribute__((visibility("default")))
#else
#define CARNET_API
#endif

/* ---- Versions ---------------------------------------------------------- */

/* The one place the version is written: the Makefile reads these three
 * lines (the shared library's name, carnet.pc, the CLIs' --version). */
#define CARNET_VERSION_MAJOR 0
#define CARNET_VERSION_MINOR 2
#define CARNET_VERSION_PATCH 0
#define CARNET_STRINGIFY_(x) #x
#define CARNET_STRINGIFY(x) CARNET_STRINGIFY_(x)
#define CARNET_VERSION_STRING                                                  \
	CARNET_STRINGIFY(CARNET_VERSION_MAJOR) "." CARNET_STRINGIFY(           \
		CARNET_VERSION_MINOR) "." CARNET_STRINGIFY(CARNET_VERSION_PATCH)
#define CARNET_VERSION_NUMBER                                                  \
	(CARNET_VERSION_MAJOR * 10000 + CARNET_VERSION_MINOR * 100 +           \
	 CARNET_VERSION_PATCH)

/* The on-disk format of an index home. Stored in the index and in the
 * registry and checked when they are opened (CARNET_E_VERSION otherwise).
 * 2: ranking values, content vectors, the record in its own value and the
 * raw text as document data, shards; an index of format 1 is rebuilt.
 * 3: patients keyed by core/patient.c (INS check keys, test INS apart),
 * the newest-version term per patient; an index of format 2 is rebuilt.
 * 4: the value slots nothing read (type, specialty, id) are no longer
 * written; an index of format 3 is rebuilt.
 * 5: the coded results of a document (lab results) in a value and as
 * terms; an index of format 4 is rebuilt.
 * 6: the raw text in a value, compressed by carnet (Zstandard), instead
 * of the document data Xapian deflates; an index of format 5 is rebuilt. */
#define CARNET_INDEX_FORMAT 6

/**
 * Version of the library actually linked, for detecting a header/library
 * mismatch at run time.
 *
 * @param[out] major  may be NULL
 * @param[out] minor  may be NULL
 * @param[out] patch  may be NULL
 * @return CARNET_VERSION_NUMBER of the library.
 */
CARNET_API int carnet_version(int *major, int *minor, int *patch);

/* ---- Errors ------------------------------------------------------------ */

/** Status codes. CARNET_OK is 0; failures are negative. */
typedef enum carnet_status {
	CARNET_OK = 0,
	CARNET_E_NOTFOUND = -1,           /* no such index, document or file */
	CARNET_E_LOCKED = -2,             /* another writer holds the index */
	CARNET_E_MODIFIED = -3,           /* index changed under a reader: refresh and retry */
	CARNET_E_CORRUPT = -4,            /* index or registry damaged */
	CARNET_E_VERSION = -5,            /* index format unknown to this library */
	CARNET_E_QUERY = -6,              /* the words typed cannot be searched */
	CARNET_E_UNSUPPORTED_FORMAT = -7, /* an input no reader can read */
	CARNET_E_NOMEM = -8,              /* out of memory */
	CARNET_E_IO = -9,                 /* operating system or disk error */
	CARNET_E_INVALID = -10,           /* invalid argument or input */
	CARNET_E_INTERNAL = -11,          /* a bug, or an unexpected library failure */
	CARNET_E_DENIED = -12             /* the viewer may not see this record */
} carnet_status;

/** Which component an error came from. */
typedef enum carnet_origin {
	CARNET_ORIGIN_CARNET = 0,
	CARNET_ORIGIN_XAPIAN = 1,
	CARNET_ORIGIN_SQLITE = 2,
	CARNET_ORIGIN_ICU = 3,
	CARNET_ORIGIN_OS = 4,   /* sys_code is an errno value */
	CARNET_ORIGIN_INPUT = 5 /* the input document itself is at fault */
} carnet_origin;

#define CARNET_ERROR_MESSAGE_SIZE 512

/**
 * Error details, filled by a failing call. Nothing to free. Messages name
 * paths, document ids and byte offsets, never document text.
 */
typedef struct carnet_error {
	int code;                                /* a carnet_status */
	int origin;                              /* a carnet_origin */
	int sys_code;                            /* errno, sqlite or ICU code, or 0 */
	char message[CARNET_ERROR_MESSAGE_SIZE]; /* NUL-terminated, one line */
} carnet_error;

/** A static description of a status code; never NULL. */
CARNET_API const char *carnet_strerror(int code);

/* ---- Shards ------------------------------------------------------------ */

/** Most shards an index can be split into across machines. */
#define CARNET_SHARD_COUNT_MAX 4096

/**
 * Which of @p count shards holds the record of a patient. Every request
 * names one patient, so a deployment on several machines splits the
 * patients, whole, between shards (each an ordinary index home; see
 * carnet_writer_set_shard), and a router sends each request to the one
 * shard that can answer it. The shard is XXH32 (seed 0) of the patient id
 * in ASCII upper case, modulo @p count: stable across versions and
 * machines, and what HAProxy 2.6 computes from an IHE MHD request with
 * url_param(patient.identifier),url_dec,field(2,|),upper,xxh32(0),mod(N).
 * The system is not hashed: the NIR and the NIA of one number are one
 * record. Changing @p count moves most patients: resharding is a rebuild.
 *
 * @param patient_system  as carnet_request.patient_system (may be NULL)
 * @param patient_id      as carnet_request.patient_id ("system^id" allowed)
 * @param count           1 to CARNET_SHARD_COUNT_MAX
 * @param[out] shard      0 to count - 1
 * @return CARNET_OK; CARNET_E_INVALID for a patient a request could not
 *         name (carnet_index_search's rules) or a bad count.
 */
CARNET_API int carnet_shard_of(const char *patient_system, const char *patient_id,
			       unsigned count, unsigned *shard, carnet_error *err);

/* ---- Reading an index -------------------------------------------------- */

typedef struct carnet_index carnet_index;

/**
 * Open the index home @p home for searching.
 *
 * @param[out] out  the new handle; NULL on failure
 * @param home      index home directory; NULL means $CARNET_INDEX, else
 *                  "./carnet.idx"
 * @return CARNET_OK; CARNET_E_NOTFOUND if there is no index there;
 *         CARNET_E_VERSION if its format is unknown; CARNET_E_CORRUPT;
 *         CARNET_E_IO; CARNET_E_NOMEM.
 */
CARNET_API int carnet_index_open(carnet_index **out, const char *home,
				 carnet_error *err);

/**
 * Make the handle see the latest committed state of the index. Searches
 * also do this by themselves when the index changed under them.
 *
 * @return CARNET_OK; CARNET_E_IO; CARNET_E_CORRUPT.
 */
CARNET_API int carnet_index_refresh(carnet_index *idx, carnet_error *err);

/** Close a handle. NULL is allowed. */
CARNET_API void carnet_index_close(carnet_index *idx);

/** Figures carnet_index_stat can report. */
typedef enum carnet_stat {
	CARNET_STAT_DOCUMENTS = 0,  /* document versions in the index */
	CARNET_STAT_PATIENTS = 1,   /* distinct patients */
	CARNET_STAT_SETS = 2,       /* distinct documents (version sets) */
	CARNET_STAT_REJECTS = 3,    /* inputs rejected and not since accepted */
	CARNET_STAT_SIZE_BYTES = 4, /* bytes on disk of the whole index home */
	CARNET_STAT_GENERATION = 5, /* index generation number */
	CARNET_STAT_REGISTERED = 6  /* document versions in the registry (equals
				       CARNET_STAT_DOCUMENTS when they agree) */
} carnet_stat;

/**
 * Read one figure about the index.
 *
 * @param[out] value_out  the figure
 * @return CARNET_OK; CARNET_E_INVALID for an unknown @p which;
 *         CARNET_E_IO; CARNET_E_CORRUPT.
 */
CARNET_API int carnet_index_stat(carnet_index *idx, carnet_stat which,
				 uint64_t *value_out, carnet_error *err);

/**
 * Called once per rejected input, oldest first. Strings are borrowed for
 * the duration of the call. A non-zero return stops the iteration and is
 * returned by carnet_index_rejects.
 */
typedef int (*carnet_reject_cb)(const char *path, const char *reason,
				const char *when_utc, void *payload);

/**
 * List every rejected input with its reason and time (UTC, ISO 8601).
 *
 * @return CARNET_OK, the callback's non-zero value, CARNET_E_IO or
 *         CARNET_E_CORRUPT.
 */
CARNET_API int carnet_index_rejects(carnet_index *idx, carnet_reject_cb cb,
				    void *payload, carnet_error *err);

/* ---- Searching --------------------------------------------------------- */

/** Who is asking. */
typedef enum carnet_role {
	CARNET_ROLE_PROFESSIONAL = 0,
	CARNET_ROLE_PATIENT = 1,
	CARNET_ROLE_LEGAL_REPRESENTATIVE = 2
} carnet_role;

/** Request flags (OR-able). */
#define CARNET_REQUEST_ALL_VERSIONS (1u << 0) /* every version, not only the newest */
#define CARNET_REQUEST_EMERGENCY (1u << 1)    /* "bris de glace" access, always logged */
/* (1u << 2) is reserved, never reused: it was CARNET_REQUEST_EXPLAIN, which
 * did nothing (score parts are always available) and is ignored. */
#define CARNET_REQUEST_NO_SNIPPETS (1u << 3)  /* do not make snippets */

/** Longest words string carnet_index_search accepts, in bytes. */
#define CARNET_WORDS_MAX 4096
/** Most hits one request returns: carnet_request.limit is 1 to this. */
#define CARNET_HITS_MAX 1000
/** Most hits one request skips: carnet_request.offset is 0 to this. */
#define CARNET_OFFSET_MAX 100000
/** Most codes in a request's types, its author_specialties and its classes. */
#define CARNET_CODES_MAX 64

/**
 * A search request: one patient, the viewer, optional words and filters.
 * Initialise with CARNET_REQUEST_INIT; fields are only ever appended.
 * Strings are borrowed for the duration of the call.
 */
typedef struct carnet_request {
	unsigned version;             /* CARNET_REQUEST_VERSION */
	const char *patient_id;       /* required: the patient whose record is searched */
	const char *words;            /* NULL or "" for browse mode */
	unsigned limit;               /* hits per page, 1 to CARNET_HITS_MAX */
	unsigned offset;              /* hits to skip, at most CARNET_OFFSET_MAX */
	carnet_role role;             /* who is asking */
	const char *profession;       /* TRE_G15 profession code, e.g. "10" */
	const char *specialty;        /* specialty code, e.g. "SM04" */
	const char *viewer_id;        /* the professional's RPPS id, or NULL */
	unsigned flags;               /* CARNET_REQUEST_* */
	const char *const *types;     /* document type codes to keep, or NULL */
	size_t types_count;           /* entries in types */
	const char *since;            /* YYYY-MM-DD inclusive, or NULL */
	const char *until;            /* YYYY-MM-DD inclusive, or NULL */
	/* version 2 */
	const char *const *author_specialties; /* author specialty codes to keep, or NULL */
	size_t author_specialties_count;       /* entries in author_specialties */
	const char *as_of;            /* YYYY-MM-DD: the day recency is counted
					 from; NULL for today (UTC) */
	/* version 3 */
	const char *patient_system;   /* OID of patient_id's system, or NULL:
					 then an id shaped like an INS is an
					 INS, "system^id" names both, and any
					 other id is a local id without system */
	/* version 4 */
	const char *const *classes;   /* DMP class codes (TRE_A03, the class
					 indexed with each document) to keep,
					 or NULL */
	size_t classes_count;         /* entries in classes */
	const char *document_id;      /* only this document (version) id, or
					 NULL: what a service opening one
					 document asks (with
					 CARNET_REQUEST_ALL_VERSIONS, an older
					 version of a set whose newest version
					 the viewer may see) */
} carnet_request;

#define CARNET_REQUEST_VERSION 4
#define CARNET_REQUEST_INIT                                                    \
	{ CARNET_REQUEST_VERSION, NULL, NULL, 20, 0,                           \
	  CARNET_ROLE_PROFESSIONAL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL,  \
	  NULL, 0, NULL, NULL, NULL, 0, NULL }

/**
 * What CARNET_REQUEST_INIT does, for callers that cannot use a C macro
 * (bindings through a foreign-function interface). Fills the first @p size
 * bytes of *req with the defaults and sets req->version to the newest
 * version whose fields fit in them, so a caller built against an older
 * header passes its own sizeof(carnet_request) and gets a request the
 * library reads correctly.
 *
 * @param[out] req   the request to fill
 * @param      size  sizeof(carnet_request) as the caller knows it
 * @return CARNET_OK, or CARNET_E_INVALID when req is NULL or size is
 *         smaller than a version-1 request.
 */
CARNET_API int carnet_request_init(carnet_request *req, size_t size);

typedef struct carnet_results carnet_results;

/**
 * Search one patient's documents. Only documents of req->patient_id are
 * ever returned, whatever the words hold, and only those the viewer may
 * see: a professional reads what the authorisation matrix grants their
 * profession (authorisations.tsv in the index home, else the default),
 * never a document masked from professionals (MASQUE_PS) unless they are
 * its author or the request is an emergency access; the patient never
 * sees INVISIBLE_PATIENT documents, legal representatives never
 * INVISIBLE_REPRESENTANTS_LEGAUX ones. Every request is written to the
 * access log first, a refused one with its status and reason: if the log
 * cannot be written, or does not pass the checks made when it is opened,
 * the search fails (CARNET_E_CORRUPT, CARNET_E_IO).
 * Hits are ranked by score = w_text x text + w_specialty x affinity +
 * w_recency x recency (see ranking.conf); without words, text is 0 and
 * the record is ranked by affinity and recency. Ties break by date
 * (newest first), then id. A document matches words when it has every
 * +word, no -word, and at least one of the other words (or a synonym or
 * abbreviation of it, from synonyms.tsv).
 *
 * @param[out] out  the results; NULL on failure
 * A patient is (patient_system, patient_id), keyed as the indexer keys
 * documents: an INS (NIR or NIA) must carry its right check key. Before a
 * hit is returned, its stored record is checked against the request
 * (patient, id, set, version, filters, visibility); a mismatch means a
 * damaged index and fails the whole search with CARNET_E_CORRUPT.
 *
 * @return CARNET_OK (possibly with no hits); CARNET_E_INVALID for a
 *         missing or malformed patient id (an INS with a wrong check key,
 *         an id or system holding '^') or request; CARNET_E_DENIED for
 *         a professional without a profession, or whose profession the
 *         matrix does not know; CARNET_E_QUERY for words that cannot be
 *         searched (not UTF-8, longer than CARNET_WORDS_MAX); CARNET_E_IO
 *         (including an access log that cannot be written),
 *         CARNET_E_CORRUPT, CARNET_E_NOMEM.
 */
CARNET_API int carnet_index_search(carnet_results **out, carnet_index *idx,
				   const carnet_request *req,
				   carnet_error *err);

/**
 * Called once per logged search, newest first. Strings are borrowed for the
 * duration of the call; doc_ids lists the ids returned, space-separated.
 * A non-zero return stops the iteration and is returned.
 */
typedef int (*carnet_access_cb)(const char *at_utc, const char *viewer_id,
				const char *role, const char *profession,
				const char *specialty, int emergency,
				const char *words, const char *doc_ids,
				void *payload);

/**
 * Read the access log of one patient: every search of their record, who
 * asked, when, with which words, and which documents were returned
 * (refused requests too, with no documents: carnet_index_access_log_entries
 * says why). The log is append-only; nothing in the API changes an entry,
 * and only carnet_access_log_archive removes one, into its archive file.
 *
 * @return CARNET_OK, the callback's value; CARNET_E_INVALID for a bad
 *         patient id; CARNET_E_IO; CARNET_E_CORRUPT (also for a log that
 *         fails the checks made when it is opened).
 */
CARNET_API int carnet_index_access_log(carnet_index *idx, const char *patient_id,
				       carnet_access_cb cb, void *payload,
				       carnet_error *err);

/**
 * One row of the access log: a request, answered (status CARNET_OK) or
 * refused (status the CARNET_E_* code the search returned, reason its
 * message). Strings are borrowed for the duration of the callback, never
 * NULL ("" when the request did not give one). Fields are only ever
 * appended.
 */
typedef struct carnet_access_entry {
	uint64_t seq;             /* the row's place in the log's chain */
	const char *at_utc;       /* YYYY-MM-DDTHH:MM:SS.mmmZ */
	const char *viewer_id;
	const char *role;
	const char *profession;
	const char *specialty;
	int emergency;
	const char *words;
	const char *doc_ids;      /* the ids returned, space-separated */
	unsigned long count;      /* how many */
	int status;               /* CARNET_OK, or why the request was refused */
	const char *reason;       /* "" or the refusal's message */
} carnet_access_entry;

/** Called once per row, newest first; non-zero stops and is returned. */
typedef int (*carnet_access_entry_cb)(const carnet_access_entry *entry,
				      void *payload);

/**
 * Read the access log of one patient with every field, refused requests
 * included (carnet_index_access_log hands the same rows without status).
 *
 * @return as carnet_index_access_log.
 */
CARNET_API int carnet_index_access_log_entries(carnet_index *idx,
					       const char *patient_id,
					       carnet_access_entry_cb cb,
					       void *payload, carnet_error *err);

/**
 * Write to the access log a request refused before it reached the library,
 * by a program in front of it (carnet-serve: a bad token, a bad parameter,
 * a patient's token asking for another patient), so that the log holds
 * every refusal. @p req gives what is known: the patient (patient_id and
 * patient_system; NULL patient_id when the request named none: the row is
 * kept in the chain under no patient), emergency, words; with
 * @p viewer_known, the viewer (role, viewer_id, profession, specialty) of a
 * verified identity, otherwise the row's role is "" and no viewer is
 * written. @p status is the CARNET_E_* code that says why (CARNET_E_DENIED
 * for a refused identity, CARNET_E_INVALID for a bad request); @p reason
 * the refusal in words, never a token or document text. Nothing is
 * checked against the policy: this only records.
 *
 * @return CARNET_OK; CARNET_E_INVALID for a status that is not an error
 *         (nothing written); CARNET_E_IO, CARNET_E_CORRUPT as a search
 *         writing the log.
 */
CARNET_API int carnet_index_access_log_refusal(carnet_index *idx,
					       const carnet_request *req,
					       int viewer_known, int status,
					       const char *reason,
					       carnet_error *err);

/** What checking or archiving the access log found. */
typedef struct carnet_access_log_report {
	uint64_t rows;       /* rows checked (the log's, or the archive file's) */
	uint64_t first_seq;  /* the first row's sequence number, 0 if none */
	uint64_t last_seq;   /* the last row's */
	char head[65];       /* SHA-256 of the last row, hex: record it elsewhere
				as an anchor that this log can be checked against */
	uint64_t bad_seq;    /* the first row that breaks the chain, 0 if none */
	uint64_t archived;   /* rows moved to (or recorded for) the archive file */
} carnet_access_log_report;

/**
 * Walk the whole access log of index home @p home: each row's hash over
 * the previous row's hash and its content, the sequence without gaps, the
 * start of the chain (row 1, or the row after an archive that a later
 * archive row records), the head counter, the schema and triggers. With
 * @p archive (a file written by carnet_access_log_archive), check that
 * file instead against its record in the log.
 *
 * @return CARNET_OK; CARNET_E_CORRUPT naming the first row that breaks
 *         (out->bad_seq), or what else is wrong (missing, empty, a trigger
 *         dropped or added); CARNET_E_IO; CARNET_E_NOTFOUND for a missing
 *         archive file.
 */
CARNET_API int carnet_access_log_verify(const char *home, const char *archive,
					carnet_access_log_report *out,
					carnet_error *err);

/**
 * Copy the rows of the access log after row @p after (0: all) to the
 * descriptor @p fd as JSON lines, as carnet_access_log_archive writes
 * them (one object per row, its hashes included), in order; nothing is
 * removed. The log must verify first. For a central store fed from every
 * replica: each export starts after the last row (out->last_seq) the one
 * before it took, and the store can check the chain across exports.
 *
 * @param[out] out  rows copied (out->rows), their first and last seq and
 *                  the last one's hash; may be NULL
 * @return CARNET_OK (possibly with no rows); CARNET_E_CORRUPT when the log
 *         does not verify; CARNET_E_IO (a write to @p fd that failed).
 */
CARNET_API int carnet_access_log_export(const char *home, uint64_t after, int fd,
					carnet_access_log_report *out,
					carnet_error *err);

/**
 * Move the oldest rows of the access log, those before @p before
 * (YYYY-MM-DD, UTC), to @p file as JSON lines (one object per row, its
 * hashes included): the file is created (never replaced), written and
 * fsynced, then one transaction appends a row recording the archive (rows,
 * the last archived row's hash, the file) and removes the rows. The log
 * must verify first.
 *
 * @return CARNET_OK; CARNET_E_INVALID for a bad date or an existing file;
 *         CARNET_E_NOTFOUND when no row is that old (no file is left);
 *         CARNET_E_CORRUPT when the log does not verify; CARNET_E_IO.
 */
CARNET_API int carnet_access_log_archive(const char *home, const char *before,
					 const char *file,
					 carnet_access_log_report *out,
					 carnet_error *err);

/** Number of hits in this page of results. */
CARNET_API size_t carnet_results_count(const carnet_results *res);

/** Number of documents the request found (all pages): exact, since every
 *  candidate of the record is ranked. */
CARNET_API uint64_t carnet_results_total(const carnet_results *res);

/** The text fields of a hit. */
typedef enum carnet_field {
	CARNET_FIELD_ID = 0,
	CARNET_FIELD_SET_ID = 1,
	CARNET_FIELD_PATIENT = 2,
	CARNET_FIELD_TYPE = 3,        /* LOINC or DMP type code */
	CARNET_FIELD_TYPE_LABEL = 4,  /* French label of the type */
	CARNET_FIELD_TITLE = 5,
	CARNET_FIELD_DATE = 6,        /* YYYY-MM-DD */
	CARNET_FIELD_AUTHOR_ID = 7,
	CARNET_FIELD_AUTHOR_SPECIALTY = 8,
	CARNET_FIELD_SOURCE = 9,      /* path the document was read from */
	CARNET_FIELD_AUTHOR_SPECIALTY_LABEL = 10, /* French label of the specialty */
	CARNET_FIELD_CONFIDENTIALITY = 11, /* confidentiality and visibility codes,
					      space-separated */
	CARNET_FIELD_CLASS = 12       /* DMP class (TRE_A03) of the type, or "" */
} carnet_field;

/**
 * A text field of hit @p i (0-based, rank order).
 *
 * @return a string borrowed from @p res, valid until carnet_results_free;
 *         "" when the document has no such field; NULL when @p i or
 *         @p field is out of range.
 */
CARNET_API const char *carnet_results_field(const carnet_results *res,
					    size_t i, carnet_field field);

/** Version number of hit @p i (1 when unknown), or 0 when out of range. */
CARNET_API int carnet_results_version(const carnet_results *res, size_t i);

/** Score of hit @p i, 0..1 within this request; 0 when out of range. */
CARNET_API double carnet_results_score(const carnet_results *res, size_t i);

/** The parts of a hit's score (see carnet_results_part). */
typedef enum carnet_part {
	CARNET_PART_TEXT = 0,      /* weight.text x text relevance */
	CARNET_PART_SPECIALTY = 1, /* weight.specialty x affinity */
	CARNET_PART_RECENCY = 2,   /* weight.recency x recency (times
				      recency.series when the words name
				      analytes); the three add up to
				      carnet_results_score */
	CARNET_PART_TEXT_RAW = 3,  /* BM25 normalised to 0..1 in this request */
	CARNET_PART_AFFINITY = 4,  /* affinity to the viewer's specialty, 0..1 */
	CARNET_PART_AFFINITY_TYPE = 5,    /* from the document type, 0..1 */
	CARNET_PART_AFFINITY_AUTHOR = 6,  /* from the author's specialty, 0..1 */
	CARNET_PART_AFFINITY_CONTENT = 7, /* from the words of the document, 0..1 */
	CARNET_PART_RECENCY_RAW = 8,      /* 2^(-age/half-life) blended with
					     the record's long memory
					     (ranking.conf), 0..1 */
	CARNET_PART_AGE_DAYS = 9,         /* age of the document at as_of */
	CARNET_PART_HALF_LIFE_DAYS = 10,  /* its half-life; 0 means it never fades */
	CARNET_PART_AFFINITY_TOPIC = 11,  /* when the words are about another
					     specialty than the viewer's: the
					     affinity to that one, 0..1, blended
					     into CARNET_PART_AFFINITY */
	CARNET_PART_RESULTS = 12          /* weight.results x key results, in a
					     browse: 1 for the newest document
					     reporting the first analyte of the
					     viewer's panel (panels.tsv), less
					     for the next four; with words that
					     name analytes: 1 for the newest hit
					     reporting one, less for older ones;
					     else 0. Added to the three parts
					     above */
} carnet_part;

/**
 * One part of the score of hit @p i, explaining why it ranks where it does.
 *
 * @return the value; 0 when @p i or @p part is out of range.
 */
CARNET_API double carnet_results_part(const carnet_results *res, size_t i,
				      carnet_part part);

/**
 * The best passage of hit @p i for the words typed, with each matched word
 * between "<b>" and "</b>"; the rest of the text is HTML-escaped (&amp;
 * &lt; &gt;), and "…" marks text left out.
 *
 * @return a string borrowed from @p res, valid until carnet_results_free;
 *         "" in browse mode, with CARNET_REQUEST_NO_SNIPPETS, or when the
 *         document has no stored text; NULL when @p i is out of range.
 */
CARNET_API const char *carnet_results_snippet(const carnet_results *res,
					      size_t i);

/** What facets count. */
typedef enum carnet_facet {
	CARNET_FACET_TYPE = 0,             /* document type code */
	CARNET_FACET_AUTHOR_SPECIALTY = 1, /* author specialty code ("" if none) */
	CARNET_FACET_YEAR = 2,             /* year of the document date */
	CARNET_FACET_CLASS = 3             /* DMP class (TRE_A03) of the type
					      ("" for a type without one) */
} carnet_facet;

/** Number of distinct values of facet @p which over every hit of the
 *  request (all pages); 0 for an unknown facet. */
CARNET_API size_t carnet_results_facet_count(const carnet_results *res,
					     carnet_facet which);

/**
 * Value @p j of facet @p which, most frequent first (ties by value), and
 * how many hits of the request, over all pages, have it.
 *
 * @param[out] count_out  may be NULL
 * @return a string borrowed from @p res, valid until carnet_results_free;
 *         NULL when @p which or @p j is out of range.
 */
CARNET_API const char *carnet_results_facet(const carnet_results *res,
					    carnet_facet which, size_t j,
					    uint64_t *count_out);

/**
 * The French label of a value of facet @p which: a document type, an
 * author specialty, a class.
 *
 * @return a static string; "" for a year, an unknown code or facet.
 */
CARNET_API const char *carnet_facet_label(carnet_facet which, const char *code);

/**
 * When words found nothing: the words with each unknown word replaced by
 * the closest word of this patient's own record (never of another
 * patient's).
 *
 * @return a string borrowed from @p res, valid until carnet_results_free;
 *         "" when there is no suggestion.
 */
CARNET_API const char *carnet_results_suggestion(const carnet_results *res);

/** Free results. NULL is allowed. */
CARNET_API void carnet_results_free(carnet_results *res);

/**
 * Change the ranking of this handle's searches: @p config holds lines in
 * the format of ranking.conf ("key = value", # comments), applied over
 * the defaults and the index home's own ranking.conf. For example
 * "weight.text = 1\nweight.specialty = 0\nweight.recency = 0" ranks by
 * text relevance alone.
 *
 * @return CARNET_OK; CARNET_E_INVALID for an unknown key or a bad value
 *         (the message names the line), and then nothing is changed.
 */
CARNET_API int carnet_index_set_ranking(carnet_index *idx, const char *config,
					carnet_error *err);

/* ---- Key results ------------------------------------------------------ */

/** Most documents one request for results reads: the patient's newest
 *  (by document date) that hold results. */
#define CARNET_RESULTS_DOCS_MAX 5000
/** Most values of one analyte a panel keeps: its newest. */
#define CARNET_SERIES_MAX 100

typedef struct carnet_panel carnet_panel;

/**
 * The key results of one patient's record at a glance: the lab results
 * (and other coded observations with a value) the indexer found in the
 * documents, gathered per analyte, each a series newest first.
 *
 * Analytes come in the order of the viewer's panel (panels.tsv: the
 * profile of req->specialty, "patient" for a patient or a legal
 * representative, else "*"), then the record's other analytes of
 * analytes.tsv in its order, then codes the table does not know. With
 * req->words, only the analytes those words name (analytes.tsv words,
 * as "kaliémie", "HbA1c", "NFS"; or a LOINC code typed as "2823-3"),
 * in the same order; a word that names none is passed over, and words
 * that name none at all give an empty panel.
 *
 * A value is converted to its analyte's unit when the conversion is
 * exact (g/L and mmol/L of glucose, mg/dL and µmol/L of creatinine; never
 * % and mmol/mol of HbA1c): then carnet_panel_number gives it, and the
 * converted values are the series' trend; any other value is shown as
 * written and stays out of the trend. The original value and unit are
 * always kept. The same value (date, value, unit) found in two documents
 * is shown once, from the newest.
 *
 * Only req->patient_id's documents, only their newest versions (whatever
 * the flags), only those the viewer may see, by the same rules and the
 * same checks as carnet_index_search (a result of a document the viewer
 * may not see is neither shown nor counted); since and until keep the
 * documents of those dates; limit, offset, types, author specialties,
 * classes and document_id are checked but not used. The request is written to the access log
 * like a search, with the ids of the documents whose values are shown;
 * a refused one with its reason. At most CARNET_RESULTS_DOCS_MAX
 * documents are read, and each series keeps CARNET_SERIES_MAX values.
 *
 * @param[out] out  the panel (empty when the record has no result); NULL
 *                  on failure
 * @return CARNET_OK; as carnet_index_search otherwise (CARNET_E_INVALID,
 *         CARNET_E_DENIED, CARNET_E_QUERY for words that are not UTF-8 or
 *         too long, CARNET_E_IO, CARNET_E_CORRUPT, CARNET_E_NOMEM);
 *         CARNET_E_INVALID also for a bad line of the
 *         index home's analytes.tsv or panels.tsv (naming it).
 */
CARNET_API int carnet_index_results(carnet_panel **out, carnet_index *idx,
				    const carnet_request *req, carnet_error *err);

/** Number of analytes of the panel. */
CARNET_API size_t carnet_panel_count(const carnet_panel *p);

/** What names an analyte. */
typedef enum carnet_analyte_field {
	CARNET_ANALYTE_KEY = 0,   /* analytes.tsv key; for a code the table does
				     not know, "SYSTEM|CODE" */
	CARNET_ANALYTE_LABEL = 1, /* French label; for a code the table does
				     not know, the newest value's display */
	CARNET_ANALYTE_UNIT = 2   /* the unit of its trend ("" for a code the
				     table does not know) */
} carnet_analyte_field;

/**
 * A field of analyte @p i (0-based, panel order).
 *
 * @return a string borrowed from @p p, valid until carnet_panel_free;
 *         NULL when @p i or @p field is out of range.
 */
CARNET_API const char *carnet_panel_analyte(const carnet_panel *p, size_t i,
					    carnet_analyte_field field);

/** 1 when analyte @p i is on the viewer's panel (panels.tsv), else 0. */
CARNET_API int carnet_panel_wanted(const carnet_panel *p, size_t i);

/** Number of values of analyte @p i (at most CARNET_SERIES_MAX); 0 when
 *  out of range. */
CARNET_API size_t carnet_panel_values(const carnet_panel *p, size_t i);

/** The fields of a value. */
typedef enum carnet_value_field {
	CARNET_VALUE_DATE = 0,       /* YYYY-MM-DD or YYYY-MM-DDTHH:MM: the
					observation's, else the document's */
	CARNET_VALUE_VALUE = 1,      /* as shown: converted to the analyte's unit
					when exact, else as written (a coded
					value: its label or code) */
	CARNET_VALUE_UNIT = 2,       /* the unit of CARNET_VALUE_VALUE */
	CARNET_VALUE_ORIGINAL = 3,   /* the value as the document wrote it */
	CARNET_VALUE_ORIGINAL_UNIT = 4,
	CARNET_VALUE_LOW = 5,        /* reference range, in the unit of VALUE */
	CARNET_VALUE_HIGH = 6,
	CARNET_VALUE_FLAG = 7,       /* interpretation (H, L, N, HH, LL, A, ...);
					when the document gives none, H or L
					from the range, or "" */
	CARNET_VALUE_DOC_ID = 8,     /* the document (version) it comes from */
	CARNET_VALUE_CODE = 9,       /* its code, and */
	CARNET_VALUE_SYSTEM = 10,    /* code system (LOINC: 2.16.840.1.113883.6.1) */
	CARNET_VALUE_DISPLAY = 11,   /* the code's label in the document */
	CARNET_VALUE_SPECIMEN = 12
} carnet_value_field;

/**
 * A field of value @p j (newest first) of analyte @p i.
 *
 * @return a string borrowed from @p p, valid until carnet_panel_free;
 *         "" when the value has no such field; NULL when out of range.
 */
CARNET_API const char *carnet_panel_value(const carnet_panel *p, size_t i, size_t j,
					  carnet_value_field field);

/**
 * Value @p j of analyte @p i as a number in the analyte's unit, when it
 * is one (numeric, and converted or already in that unit): part of the
 * trend.
 *
 * @param[out] out  the number, when 1 is returned
 * @return 1, or 0 (a value shown as written, or out of range).
 */
CARNET_API int carnet_panel_number(const carnet_panel *p, size_t i, size_t j, double *out);

/** Version number of the document value @p j of analyte @p i comes from;
 *  0 when out of range. */
CARNET_API int carnet_panel_version(const carnet_panel *p, size_t i, size_t j);

/** Free a panel. NULL is allowed. */
CARNET_API void carnet_panel_free(carnet_panel *p);

/* ---- Writing an index -------------------------------------------------- */

typedef struct carnet_writer carnet_writer;

/**
 * Open (creating it if needed) the index home @p home for writing.
 *
 * @param[out] out  the writer; NULL on failure
 * @param home      index home; NULL means $CARNET_INDEX, else ./carnet.idx
 * @return CARNET_OK; CARNET_E_LOCKED if another writer is active (never
 *         waits); CARNET_E_VERSION; CARNET_E_CORRUPT; CARNET_E_IO.
 */
CARNET_API int carnet_writer_open(carnet_writer **out, const char *home,
				  carnet_error *err);

/**
 * Open a writer that builds a new generation of the index beside the live
 * one, for a rebuild: give it every input, then carnet_writer_publish.
 * Readers keep the live generation until then. If the rebuild stops
 * before publishing (error, crash), the live index is untouched and the
 * unfinished generation is removed by the next writer.
 *
 * @return as carnet_writer_open.
 */
CARNET_API int carnet_writer_open_rebuild(carnet_writer **out, const char *home,
					  carnet_error *err);

/**
 * Commit a rebuild, compact it (carnet_writer_compact; a rebuild that
 * cannot be compacted, for want of room say, is published as written) and
 * make its generation the live one, atomically; readers switch to it at
 * their next search. The generation that was live
 * before is kept until the next rebuild, for readers still using it.
 *
 * @return CARNET_OK; CARNET_E_INVALID if @p w is not a rebuild;
 *         CARNET_E_IO.
 */
CARNET_API int carnet_writer_publish(carnet_writer *w, carnet_error *err);

/** Limits on what one input may cost the writer. */
typedef enum carnet_limit {
	CARNET_LIMIT_INPUT_BYTES = 0,     /* largest input file read; default 64 MiB */
	CARNET_LIMIT_PDF_SECONDS = 1,     /* time for one PDF extraction; default 30 */
	CARNET_LIMIT_PDF_MEMORY_BYTES = 2, /* memory of the PDF extractor; default 1 GiB */
	CARNET_LIMIT_DOC_MILLISECONDS = 3  /* time to read and index one input, in
					      milliseconds (at most a day); default 30000 */
} carnet_limit;

/**
 * Change a limit. An input over a limit is rejected with its reason.
 *
 * @return CARNET_OK; CARNET_E_INVALID for an unknown limit or a value of 0.
 */
CARNET_API int carnet_writer_set_limit(carnet_writer *w, carnet_limit which,
				       uint64_t value, carnet_error *err);

/**
 * Make this index shard @p index of @p count (carnet_shard_of): from now
 * on it indexes only the documents of the patients of that shard; an
 * input whose documents are all another shard's is counted as
 * CARNET_OUTCOME_OTHER_SHARD, not rejected, so that every shard's nightly
 * job can read the same document store. What such an input gave this
 * index before (its patient moved to another shard) is removed. An index
 * keeps its shard: setting another one on a writer that is not a rebuild
 * is refused (resharding is a rebuild of every shard).
 *
 * @return CARNET_OK; CARNET_E_INVALID for index >= count, a count of 0 or
 *         over CARNET_SHARD_COUNT_MAX, or another shard than the index's.
 */
CARNET_API int carnet_writer_set_shard(carnet_writer *w, unsigned index, unsigned count,
				       carnet_error *err);

/** What happened to one input. */
typedef enum carnet_outcome {
	CARNET_OUTCOME_ADDED = 0,     /* a new document */
	CARNET_OUTCOME_REPLACED = 1,  /* the input changed and was read again */
	CARNET_OUTCOME_UNCHANGED = 2, /* same content as already indexed */
	CARNET_OUTCOME_REJECTED = 3,  /* bad input: recorded with its reason */
	CARNET_OUTCOME_MOVED = 4,     /* a file renamed or moved: its documents
					 keep their id and masks, under the new path */
	CARNET_OUTCOME_OTHER_SHARD = 5, /* its documents belong to patients of
					   another shard (carnet_writer_set_shard):
					   not indexed here */
	CARNET_OUTCOME_LEFT_SHARD = 6   /* the same, for an input whose documents
					   were in this index (their patient was
					   corrected to one of another shard): they
					   are removed from it */
} carnet_outcome;

/**
 * Read one input file (and its sidecar FILE.meta.json) into the index.
 * Changes become visible at the next carnet_writer_commit.
 *
 * A document's identity is its id, not its path: when the file holds a
 * document already indexed from another path, and that path is gone, the
 * file was renamed or moved and the document follows it (its masks
 * stay; outcome CARNET_OUTCOME_MOVED). When the other path still exists,
 * the input is rejected naming both, and the document indexed stays.
 *
 * A bad input is not a failure of the call: it returns CARNET_OK with
 * *outcome_out = CARNET_OUTCOME_REJECTED, and @p err (when not NULL) holds
 * the reason (code CARNET_E_UNSUPPORTED_FORMAT, CARNET_E_INVALID or
 * CARNET_E_IO, origin CARNET_ORIGIN_INPUT). The reject is recorded and
 * the batch can go on.
 *
 * @param[out] outcome_out  may be NULL
 * @return CARNET_OK; or, when the index itself failed, CARNET_E_IO,
 *         CARNET_E_CORRUPT, CARNET_E_NOMEM, CARNET_E_INTERNAL: stop then.
 */
CARNET_API int carnet_writer_add_file(carnet_writer *w, const char *path,
				      carnet_outcome *outcome_out,
				      carnet_error *err);

/**
 * Called once per input by carnet_writer_add_files, in input order, from
 * the calling thread. @p reason is NULL unless the input was rejected.
 */
typedef void (*carnet_outcome_cb)(const char *path, carnet_outcome outcome,
				  const carnet_error *reason, void *payload);

/**
 * Read several inputs, extracting them on @p jobs threads (reading,
 * parsing, text folding and term generation) while the calling thread
 * records them; the result is the same as carnet_writer_add_file on
 * each in order. With @p jobs above 1, each shard of the index is also
 * written, and committed, on a thread of its own until the writer
 * closes; an index error may then be reported by a later call (at the
 * latest carnet_writer_commit). Memory in flight is bounded by 2 x jobs
 * inputs of any size, plus up to 64 small ones while the inputs extracted
 * and waiting hold less than 1 MiB of text, plus 4 documents per shard
 * waiting to be written. Commits what was pending first: when that is
 * only what the previous call added (as carnet-index leaves each batch),
 * while the threads extract this call's first inputs; anything else (a
 * mask, a shard) before they start. The threads do not see uncommitted
 * changes; what they decided from them is checked again before an input
 * is recorded, so the result stays that of adding the files one by one.
 *
 * @return CARNET_OK (rejects are reported through @p cb); or, when the
 *         index itself failed, the error, after which the remaining inputs
 *         are not read.
 */
CARNET_API int carnet_writer_add_files(carnet_writer *w, const char *const *paths,
				       size_t count, unsigned jobs,
				       carnet_outcome_cb cb, void *payload,
				       carnet_error *err);

/**
 * Remove from the index every document read from a file under directory
 * @p dir that this writer has not been given (carnet_writer_add_file)
 * since it was opened: the file is gone. Rejected inputs that are gone are
 * forgotten too. Paths given to carnet_writer_keep, and files that cannot
 * be checked (EACCES, EIO), are kept. This is the last step of a sync; call it only after every
 * file under @p dir was given, or documents of files not given are lost.
 *
 * @param[out] removed_out  documents removed; may be NULL
 * @return CARNET_OK; CARNET_E_NOTFOUND if @p dir does not exist;
 *         CARNET_E_IO, CARNET_E_CORRUPT, CARNET_E_NOMEM.
 */
CARNET_API int carnet_writer_remove_unseen(carnet_writer *w, const char *dir,
					   uint64_t *removed_out,
					   carnet_error *err);

/**
 * Keep everything at or under @p path (a file or a directory that could
 * not be read during a sync) from carnet_writer_remove_unseen and
 * carnet_writer_unseen: its documents stay.
 *
 * @return CARNET_OK; CARNET_E_NOMEM.
 */
CARNET_API int carnet_writer_keep(carnet_writer *w, const char *path,
				  carnet_error *err);

/** Called per document carnet_writer_remove_unseen would remove (@p id
 * NULL for a rejected input that would only be forgotten); non-zero stops
 * and is returned. */
typedef int (*carnet_unseen_cb)(const char *path, const char *id, void *payload);

/**
 * What carnet_writer_remove_unseen(w, dir) would remove now, without
 * removing it: each document of a file under @p dir that this writer was
 * not given, that is not kept (carnet_writer_keep) and that is gone (a
 * file that cannot be checked, EACCES or EIO, is kept).
 *
 * @param cb            may be NULL
 * @param[out] removable_out  documents that would be removed; may be NULL
 * @param[out] total_out      documents in the index now; may be NULL
 * @return as carnet_writer_remove_unseen.
 */
CARNET_API int carnet_writer_unseen(carnet_writer *w, const char *dir,
				    carnet_unseen_cb cb, void *payload,
				    uint64_t *removable_out, uint64_t *total_out,
				    carnet_error *err);

/** Called by carnet_writer_preview_file per document the file would add,
 * replace or move (@p id set; for a move @p detail is the old path), or
 * once for an unchanged or rejected file (@p id NULL; @p detail the
 * reason of a reject). */
typedef void (*carnet_preview_cb)(const char *path, carnet_outcome outcome,
				  const char *id, const char *detail,
				  void *payload);

/**
 * Read @p path as carnet_writer_add_file would, and say what it would do,
 * changing nothing in the index (a dry run). The file counts as given for
 * carnet_writer_unseen.
 *
 * @return CARNET_OK (rejects are reported to @p cb); CARNET_E_NOMEM,
 *         CARNET_E_IO, CARNET_E_CORRUPT.
 */
CARNET_API int carnet_writer_preview_file(carnet_writer *w, const char *path,
					  carnet_preview_cb cb, void *payload,
					  carnet_error *err);

/** Who a document can be hidden from, after upload. */
typedef enum carnet_audience {
	CARNET_AUDIENCE_PROFESSIONALS = 0,        /* MASQUE_PS */
	CARNET_AUDIENCE_PATIENT = 1,              /* INVISIBLE_PATIENT */
	CARNET_AUDIENCE_LEGAL_REPRESENTATIVES = 2 /* INVISIBLE_REPRESENTANTS_LEGAUX */
} carnet_audience;

/**
 * Hide document @p id from an audience (hidden != 0), or show it again,
 * without reading it again. The change is kept when the document's file
 * is read again, and is visible to readers at the next commit.
 *
 * @return CARNET_OK; CARNET_E_NOTFOUND if no document has this id;
 *         CARNET_E_INVALID for an unknown audience; CARNET_E_IO, CARNET_E_CORRUPT.
 */
CARNET_API int carnet_writer_set_visibility(carnet_writer *w, const char *id,
					    carnet_audience audience, int hidden,
					    carnet_error *err);

/**
 * Make every change since the last commit durable and visible to readers,
 * in the index and the registry together.
 *
 * @return CARNET_OK; CARNET_E_IO; CARNET_E_CORRUPT.
 */
CARNET_API int carnet_writer_commit(carnet_writer *w, carnet_error *err);

/** carnet_writer_compact: only when the index held no document when @p w
 * was opened (the end of a first, bulk load). */
#define CARNET_COMPACT_IF_FIRST 1u

/**
 * Commit, then rewrite the index's Xapian database compactly: a database
 * written document by document leaves its blocks part full, and a compact
 * one is smaller and quicker to search. Readers go on searching
 * throughout and see the same documents. Takes about as long as reading
 * the database once. carnet_writer_publish does it to every rebuild;
 * carnet-index after the first add or sync of an empty index.
 *
 * @param flags 0, or CARNET_COMPACT_IF_FIRST.
 * @return CARNET_OK (also when nothing was to be done); CARNET_E_IO;
 *         CARNET_E_NOMEM. After a failure the index holds what it held
 *         and @p w goes on (unless the database could not even be opened
 *         again: then @p w may only be closed).
 */
CARNET_API int carnet_writer_compact(carnet_writer *w, unsigned flags, carnet_error *err);

/**
 * Close a writer, discarding uncommitted changes. NULL is allowed. The PDF
 * extractor process of the calling thread, if it has one, is stopped and
 * reaped (other threads' end with them, or at exit).
 */
CARNET_API void carnet_writer_close(carnet_writer *w);

#ifdef __cplusplus
}
#endif

#endif /* CARNET_H */

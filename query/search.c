/* SPDX-License-Identifier: GPL-2.0-or-later */
/* search.c - the reading side of the public API: opening an index, turning a
 * request into a filtered Xapian search, and the results. The patient filter
 * and the visibility rules are applied here, never left to the caller. */
#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "access_log.h"
#include "carnet.h"
#include "codes.h"
#include "doc.h"
#include "home.h"
#include "patient.h"
#include "policy.h"
#include "rank.h"
#include "snippet.h"
#include "words.h"
#include "registry.h"
#include "schema.h"
#include "text.h"
#include "xapian_shim.h"

#define LIMIT_MAX 1000
#define TYPES_MAX 64

struct carnet_index {
	carnet_registry *reg;
	carnet_xreader *xr;
	carnet_policy *policy;
	carnet_ranking *rank;     /* ranking tables: defaults and the home's own */
	char *profile_codes;      /* the index's CARNET_PROFILES_KEY, as last read */
	carnet_alog *log;         /* the access log, opened at first use */
	char home[CARNET_PATH_MAX];
	char gen[CARNET_PATH_MAX];   /* the generation the handle has open */
	unsigned long long stamp;    /* CURRENT's fingerprint when opened */
};

/* How many documents of one request are ranked at most: a patient's whole
 * record, with room to spare. */
#define CANDIDATES_MAX 200000
#define SNIPPET_WORDS 28
#define FACETS 3

typedef struct facet_value {
	char *value;
	uint64_t count;
} facet_value;

typedef struct facet {
	facet_value *v;     /* most frequent first */
	size_t count;
} facet;

typedef struct hit {
	char *rec;                     /* stored data: record (split in place), NUL, text */
	char *f[CARNET_REC_COUNT];
	const char *type_label;
	const char *specialty_label;
	double score;
	carnet_parts parts;
	char *snippet;                 /* or NULL */
	int version;
} hit;

struct carnet_results {
	hit *hits;
	size_t count;
	uint64_t total;
	facet facets[FACETS];             /* over every hit, not just this page */
	char *suggestion;
};

/* Open the registry and the Xapian database of generation directory gen. */
static int open_generation(carnet_registry **reg_out, carnet_xreader **xr_out,
			   const char *gen, carnet_error *err)
{
	char db[CARNET_PATH_MAX], reg[CARNET_PATH_MAX];
	int rc;
	*reg_out = NULL;
	*xr_out = NULL;
	if ((rc = carnet_home__path(db, sizeof db, gen, CARNET_XAPIAN_DIR, err)) ||
	    (rc = carnet_home__path(reg, sizeof reg, gen, CARNET_REGISTRY_FILE, err)) ||
	    (rc = carnet_registry__open(reg_out, reg, 0, err)))
		return rc;
	if ((rc = carnet_xap_reader_open(xr_out, db, err))) {
		carnet_registry__close(*reg_out);
		*reg_out = NULL;
	}
	return rc;
}

int carnet_index_open(carnet_index **out, const char *home, carnet_error *err)
{
	*out = NULL;
	home = carnet_home__resolve(home);
	carnet_index *idx = calloc(1, sizeof *idx);
	if (!idx)
		return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET,
					 0, "out of memory opening index");
	snprintf(idx->home, sizeof idx->home, "%s", home);
	int rc;
	struct stat st;
	if (stat(home, &st) != 0 || !S_ISDIR(st.st_mode)) {
		rc = carnet_error__set(err, CARNET_E_NOTFOUND, CARNET_ORIGIN_CARNET,
				       0, "no carnet index at %s", home);
		goto fail;
	}
	idx->stamp = carnet_home__stamp(home);
	if ((rc = carnet_home__current(idx->gen, sizeof idx->gen, home, err)) ||
	    (rc = carnet_policy__load(&idx->policy, home, err)) ||
	    (rc = carnet_rank__load(&idx->rank, home, err)) ||
	    (rc = open_generation(&idx->reg, &idx->xr, idx->gen, err)))
		goto fail;
	*out = idx;
	return CARNET_OK;
fail:
	carnet_index_close(idx);
	return rc;
}

void carnet_index_close(carnet_index *idx)
{
	if (!idx)
		return;
	carnet_xap_reader_free(idx->xr);
	carnet_registry__close(idx->reg);
	carnet_alog__close(idx->log);
	carnet_policy__free(idx->policy);
	carnet_rank__free(idx->rank);
	free(idx->profile_codes);
	free(idx);
}

/* Open the access log on first use (and again after a failure), checking
 * it (core/access_log.h): a log that fails the checks stops every search. */
static int attach_log(carnet_index *idx, carnet_error *err)
{
	if (idx->log)
		return CARNET_OK;
	char path[CARNET_PATH_MAX];
	int rc = carnet_home__path(path, sizeof path, idx->home, CARNET_ACCESS_LOG_FILE, err);
	if (rc == CARNET_OK)
		rc = carnet_alog__open(&idx->log, path, err);
	return rc;
}

static const char *role_name(carnet_role role)
{
	switch (role) {
	case CARNET_ROLE_PROFESSIONAL: return "professional";
	case CARNET_ROLE_PATIENT: return "patient";
	case CARNET_ROLE_LEGAL_REPRESENTATIVE: return "legal-representative";
	}
	return "unknown";
}

/* Write a request to the access log: what it returned (res), or why it
 * was refused (status, reason). req may be NULL. */
static int log_request(carnet_index *idx, const carnet_request *req,
		       const carnet_results *res, int status, const char *reason,
		       carnet_error *err)
{
	int rc = attach_log(idx, err);
	if (rc)
		return rc;
	carnet_buf ids = CARNET_BUF_INIT;
	for (size_t i = 0; i < carnet_results_count(res); i++)
		if ((i && carnet_buf__putc(&ids, ' ') != 0) ||
		    carnet_buf__puts(&ids, carnet_results_field(res, i, CARNET_FIELD_ID)) != 0) {
			carnet_buf__free(&ids);
			return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET,
						 0, "out of memory");
		}
	carnet_access a;
	memset(&a, 0, sizeof a);
	char key[CARNET_ID_MAX + 1];
	if (req) {
		a.viewer_id = req->viewer_id;
		a.profession = req->profession;
		a.specialty = req->specialty;
		a.role = role_name(req->role);
		/* under the patient's key, as the record is kept and listed;
		 * a request whose patient is invalid is logged as given */
		char why[160];
		const char *system = req->version >= 3 ? req->patient_system : NULL;
		a.patient_id = req->patient_id && carnet_patient__request_key(
					key, system, req->patient_id, why, sizeof why) == 0
				       ? key : req->patient_id;
		a.emergency = (req->flags & CARNET_REQUEST_EMERGENCY) != 0;
		a.words = req->words;
	}
	a.doc_ids = ids.data ? ids.data : "";
	a.count = carnet_results_count(res);
	a.status = status;
	a.reason = reason;
	rc = carnet_alog__append(idx->log, &a, err);
	if (rc) {
		/* check and open it afresh next time */
		carnet_alog__close(idx->log);
		idx->log = NULL;
	}
	carnet_buf__free(&ids);
	return rc;
}

typedef struct log_relay {
	carnet_access_cb cb;
	carnet_access_entry_cb entry_cb;
	void *payload;
} log_relay;

#define OR_EMPTY(s) ((s) ? (s) : "")

static int relay(const carnet_access *a, void *payload)
{
	log_relay *r = payload;
	if (r->entry_cb) {
		carnet_access_entry e = {
			a->seq, OR_EMPTY(a->at), OR_EMPTY(a->viewer_id), OR_EMPTY(a->role),
			OR_EMPTY(a->profession), OR_EMPTY(a->specialty), a->emergency,
			OR_EMPTY(a->words), OR_EMPTY(a->doc_ids), a->count, a->status,
			OR_EMPTY(a->reason),
		};
		return r->entry_cb(&e, r->payload);
	}
	return r->cb(OR_EMPTY(a->at), OR_EMPTY(a->viewer_id), OR_EMPTY(a->role),
		     OR_EMPTY(a->profession), OR_EMPTY(a->specialty), a->emergency,
		     OR_EMPTY(a->words), OR_EMPTY(a->doc_ids), r->payload);
}

static int list_log(carnet_index *idx, const char *patient_id, log_relay *r,
		    carnet_error *err)
{
	if (!patient_id || !carnet_doc__valid_id(patient_id))
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "invalid request: patient id must be 1 to 128 printable characters without spaces");
	/* searches are logged under the patient's key */
	char key[CARNET_ID_MAX + 1], why[160];
	if (carnet_patient__request_key(key, NULL, patient_id, why, sizeof why))
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "invalid request: %s", why);
	int rc = attach_log(idx, err);
	if (rc)
		return rc;
	return carnet_alog__list(idx->log, key, relay, r, err);
}

int carnet_index_access_log(carnet_index *idx, const char *patient_id,
			    carnet_access_cb cb, void *payload, carnet_error *err)
{
	log_relay r = { cb, NULL, payload };
	return list_log(idx, patient_id, &r, err);
}

int carnet_index_access_log_entries(carnet_index *idx, const char *patient_id,
				    carnet_access_entry_cb cb, void *payload,
				    carnet_error *err)
{
	log_relay r = { NULL, cb, payload };
	return list_log(idx, patient_id, &r, err);
}

/* Move the handle to the latest committed state of the live generation,
 * once. */
static int refresh_once(carnet_index *idx, unsigned long long stamp, carnet_error *err)
{
	char gen[CARNET_PATH_MAX];
	int rc = carnet_home__current(gen, sizeof gen, idx->home, err);
	if (rc)
		return rc;
	if (strcmp(gen, idx->gen) == 0) {
		idx->stamp = stamp;
		return carnet_xap_reader_reopen(idx->xr, err);
	}
	/* a new generation went live: open it, then let the old one go */
	carnet_registry *reg;
	carnet_xreader *xr;
	if ((rc = open_generation(&reg, &xr, gen, err)))
		return rc;
	carnet_xap_reader_free(idx->xr);
	carnet_registry__close(idx->reg);
	idx->xr = xr;
	idx->reg = reg;
	idx->stamp = stamp;
	snprintf(idx->gen, sizeof idx->gen, "%s", gen);
	return CARNET_OK;
}

/* Monotonic seconds. */
static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A writer can get in the way of a reader: a commit discards the revision
 * being read (MODIFIED; or, when Xapian meets a block the writer has
 * already reused, CORRUPT), and a rebuild can remove the generation being
 * opened or read once a newer one is live (then CURRENT has changed).
 * These pass: the reader starts again on the latest state, after a pause
 * that grows (1 ms doubling up to 64 ms), for RETRY_SECONDS at most. A
 * CORRUPT that comes back CORRUPT_TRIES times in a row is real. */
#define RETRY_SECONDS 5.0
#define RETRY_MAX 200
#define CORRUPT_TRIES 4

/* Should an attempt that began when CURRENT's fingerprint was `seen` and
 * ended with rc be made again? *corrupt counts the CORRUPT answers in a
 * row. */
static int retryable(const carnet_index *idx, int rc, unsigned long long seen, int *corrupt)
{
	*corrupt = rc == CARNET_E_CORRUPT ? *corrupt + 1 : 0;
	return rc == CARNET_E_MODIFIED ||
	       (rc == CARNET_E_CORRUPT && *corrupt < CORRUPT_TRIES) ||
	       (rc != CARNET_OK && rc != CARNET_E_NOMEM &&
		carnet_home__stamp(idx->home) != seen);
}

static void retry_pause(int retry)
{
	long ms = retry < 6 ? 1L << retry : 64;
	struct timespec ts = { 0, ms * 1000000L };
	nanosleep(&ts, NULL);
}

int carnet_index_refresh(carnet_index *idx, carnet_error *err)
{
	double start = seconds_now();
	int rc = CARNET_OK, corrupt = 0;
	for (int retry = 0; retry < RETRY_MAX; retry++) {
		if (retry)
			retry_pause(retry - 1);
		unsigned long long stamp = carnet_home__stamp(idx->home);
		rc = refresh_once(idx, stamp, err);
		/* the generation went away while it was being opened: a
		 * newer one is live, open that */
		if (!retryable(idx, rc, stamp, &corrupt) || seconds_now() - start > RETRY_SECONDS)
			break;
	}
	return rc;
}

/* Bytes used by the files under dir (not following links). */
static uint64_t dir_bytes(const char *dir, int depth)
{
	uint64_t total = 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char p[CARNET_PATH_MAX];
		if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
			continue;
		struct stat st;
		if (lstat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < 4)
			total += dir_bytes(p, depth + 1);
		else if (S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

int carnet_index_stat(carnet_index *idx, carnet_stat which, uint64_t *value_out,
		      carnet_error *err)
{
	*value_out = 0;
	switch (which) {
	case CARNET_STAT_DOCUMENTS: {
		unsigned long n;
		int rc = carnet_xap_reader_doccount(idx->xr, &n, err);
		*value_out = n;
		return rc;
	}
	case CARNET_STAT_REGISTERED:
		return carnet_registry__count(idx->reg, CARNET_COUNT_DOCUMENTS, value_out, err);
	case CARNET_STAT_PATIENTS:
		return carnet_registry__count(idx->reg, CARNET_COUNT_PATIENTS, value_out, err);
	case CARNET_STAT_SETS:
		return carnet_registry__count(idx->reg, CARNET_COUNT_SETS, value_out, err);
	case CARNET_STAT_REJECTS:
		return carnet_registry__count(idx->reg, CARNET_COUNT_REJECTS, value_out, err);
	case CARNET_STAT_SIZE_BYTES:
		*value_out = dir_bytes(idx->home, 0);
		return CARNET_OK;
	case CARNET_STAT_GENERATION: {
		const char *dash = strrchr(idx->gen, '-');
		*value_out = dash ? strtoull(dash + 1, NULL, 10) : 0;
		return CARNET_OK;
	}
	}
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
				 "unknown statistic %d", (int)which);
}

int carnet_index_rejects(carnet_index *idx, carnet_reject_cb cb, void *payload,
			 carnet_error *err)
{
	return carnet_registry__rejects(idx->reg, cb, payload, err);
}

static int invalid(carnet_error *err, const char *what)
{
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
				 "invalid request: %s", what);
}

/* Check everything in req before anything is searched. */
static int check_request(const carnet_index *idx, const carnet_request *req,
			 carnet_error *err)
{
	if (!req || req->version < 1)
		return invalid(err, "no request, or request version unset (use CARNET_REQUEST_INIT)");
	if (!req->patient_id || !*req->patient_id)
		return invalid(err, "no patient id");
	if (!carnet_doc__valid_id(req->patient_id))
		return invalid(err, "patient id must be 1 to 128 printable characters without spaces");
	if (req->limit == 0 || req->limit > LIMIT_MAX)
		return invalid(err, "limit must be between 1 and 1000");
	if (req->offset > 100000)
		return invalid(err, "offset must be at most 100000");
	if (req->role != CARNET_ROLE_PROFESSIONAL && req->role != CARNET_ROLE_PATIENT &&
	    req->role != CARNET_ROLE_LEGAL_REPRESENTATIVE)
		return invalid(err, "unknown role");
	if (req->viewer_id && *req->viewer_id && !carnet_doc__valid_id(req->viewer_id))
		return invalid(err, "viewer id must be printable characters without spaces");
	/* profession and specialty: codes of the lists in core/codes_data.h
	 * (a TRE_G15 profession is there as the J01 code G15_nn), or a
	 * specialty the index's own affinity.tsv profiles; a known profession
	 * without a rule in the matrix is refused later, as denied */
	if (req->profession && *req->profession) {
		size_t n = strlen(req->profession);
		char g15[8];
		if (n != 2 || strspn(req->profession, "0123456789") != n)
			return invalid(err, "profession must be a TRE_G15 code of two digits "
					    "(10 médecin, 21 pharmacien, 60 infirmier, ...)");
		snprintf(g15, sizeof g15, "G15_%s", req->profession);
		if (!carnet_codes__specialty_label(g15))
			return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
						 "invalid request: profession %s is not a TRE_G15 "
						 "profession (10 médecin, 21 pharmacien, 60 infirmier, ...)",
						 req->profession);
	}
	if (req->specialty && *req->specialty) {
		size_t n = strlen(req->specialty);
		if (n > 32 || strspn(req->specialty, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
						      "0123456789_/") != n)
			return invalid(err, "specialty must be a JDV_J01 code: capital letters, "
					    "digits, '_' and '/' (SM54 médecine générale, SM04 "
					    "cardiologie, G15_21 pharmacien, ...)");
		int known = carnet_codes__specialty_label(req->specialty) != NULL;
		if (!known) {
			carnet_viewer profiled;
			carnet_rank__viewer(idx->rank, &profiled, req->specialty, NULL, NULL);
			known = profiled.profile >= 0;
		}
		if (!known)
			return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
						 "invalid request: specialty %s is not in the JDV_J01 "
						 "list (SM54 médecine générale, SM04 cardiologie, "
						 "G15_21 pharmacien, ...)", req->specialty);
	}
	if (req->since && !carnet_doc__valid_date(req->since))
		return invalid(err, "since must be a YYYY-MM-DD date");
	if (req->until && !carnet_doc__valid_date(req->until))
		return invalid(err, "until must be a YYYY-MM-DD date");
	if (req->types_count > TYPES_MAX || (req->types_count && !req->types))
		return invalid(err, "too many document types (at most 64)");
	for (size_t i = 0; i < req->types_count; i++)
		if (!carnet_doc__valid_id(req->types[i]))
			return invalid(err, "document type codes must be printable without spaces");
	if (req->version >= 2) {
		if (req->author_specialties_count > TYPES_MAX ||
		    (req->author_specialties_count && !req->author_specialties))
			return invalid(err, "too many author specialties (at most 64)");
		for (size_t i = 0; i < req->author_specialties_count; i++)
			if (!carnet_doc__valid_id(req->author_specialties[i]))
				return invalid(err, "author specialty codes must be printable without spaces");
		if (req->as_of && !carnet_doc__valid_date(req->as_of))
			return invalid(err, "as_of must be a YYYY-MM-DD date");
	}
	if (req->words) {
		size_t n = strlen(req->words), off;
		if (n > CARNET_WORDS_MAX)
			return carnet_error__set(err, CARNET_E_QUERY, CARNET_ORIGIN_CARNET, 0,
						 "query too long: %zu bytes, at most %d",
						 n, CARNET_WORDS_MAX);
		if (!carnet_text__utf8_valid(req->words, n, &off))
			return carnet_error__set(err, CARNET_E_QUERY, CARNET_ORIGIN_CARNET, 0,
						 "query is not valid UTF-8 (byte offset %zu)", off);
	}
	return CARNET_OK;
}

/* A copy of req (of whatever request version the caller was built
 * with) naming its patient by key: patient_system (version 3) and
 * patient_id, or "system^id", through carnet_patient__request_key. */
static int key_request(carnet_request *out, char key[CARNET_ID_MAX + 1],
		       const carnet_request *req, carnet_error *err)
{
	size_t size = req->version >= 3   ? sizeof *out
		      : req->version == 2 ? offsetof(carnet_request, patient_system)
					  : offsetof(carnet_request, author_specialties);
	memset(out, 0, sizeof *out);
	memcpy(out, req, size);
	char why[160];
	const char *system = req->version >= 3 ? req->patient_system : NULL;
	if (carnet_patient__request_key(key, system, req->patient_id, why, sizeof why))
		return invalid(err, why);
	out->patient_id = key;
	out->patient_system = NULL;
	return CARNET_OK;
}

/* ---- ranking a request ---- */

/* One document that passed the filter, as the shim reports it. */
/* The distinct values of one kind (types, specialties, years) among a
 * request's candidates: each candidate keeps an index, so that ranking and
 * facets work once per distinct value. */
typedef struct distinct {
	size_t *off;          /* each value's offset in the arena */
	uint64_t *count;      /* candidates with it */
	size_t n, cap;
	unsigned *table;      /* hash table of value index + 1 (0: free) */
	size_t table_cap;     /* a power of two */
} distinct;

enum { KIND_TYPE, KIND_SPEC, KIND_YEAR, KINDS };

typedef struct cand {
	unsigned docid;
	double text, content, content_topic, score;
	char date[9];
	long days;
	unsigned kind[KINDS];    /* the index of its type, specialty, year */
	size_t id;               /* offset of its id in the arena */
	const char *id_str;      /* the id, once the arena no longer moves */
	carnet_parts parts;
} cand;

typedef struct collect {
	cand *c;
	size_t count, cap;
	carnet_buf arena;        /* NUL-terminated strings */
	distinct d[KINDS];
	int nomem;
	const carnet_ranking *rank;
	const carnet_viewer *viewer;
} collect;

/* Copy field [s, s+n) of a rank value into the arena. */
static int arena_put(collect *k, const char *s, size_t n, size_t *off)
{
	*off = k->arena.len;
	return carnet_buf__put(&k->arena, s, n) != 0 || carnet_buf__putc(&k->arena, '\0') != 0;
}

static size_t value_hash(const char *s, size_t n)
{
	size_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* The index of value s[0..n) among the distinct values of d, added if new;
 * -1 on no memory. */
static long intern(collect *k, distinct *d, const char *s, size_t n)
{
	if ((d->n + 1) * 2 > d->table_cap) {
		size_t cap = d->table_cap ? d->table_cap * 2 : 64;
		unsigned *t = calloc(cap, sizeof *t);
		if (!t)
			return -1;
		for (size_t i = 0; i < d->n; i++) {
			const char *v = k->arena.data + d->off[i];
			size_t j = value_hash(v, strlen(v)) & (cap - 1);
			while (t[j])
				j = (j + 1) & (cap - 1);
			t[j] = (unsigned)i + 1;
		}
		free(d->table);
		d->table = t;
		d->table_cap = cap;
	}
	size_t j = value_hash(s, n) & (d->table_cap - 1);
	for (; d->table[j]; j = (j + 1) & (d->table_cap - 1)) {
		const char *v = k->arena.data + d->off[d->table[j] - 1];
		if (strncmp(v, s, n) == 0 && v[n] == '\0')
			return (long)d->table[j] - 1;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		size_t *o = realloc(d->off, cap * sizeof *o);
		if (!o)
			return -1;
		d->off = o;
		d->cap = cap;
	}
	if (arena_put(k, s, n, &d->off[d->n]))
		return -1;
	d->table[j] = (unsigned)d->n + 1;
	return (long)d->n++;
}

static void distinct_free(distinct *d)
{
	free(d->off);
	free(d->count);
	free(d->table);
}

static int on_candidate(unsigned docid, double text, const char *rank, size_t len,
			void *payload)
{
	collect *k = payload;
	if (k->count == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 256;
		cand *n = realloc(k->c, cap * sizeof *n);
		if (!n) {
			k->nomem = 1;
			return 1;
		}
		k->c = n;
		k->cap = cap;
	}
	cand *c = &k->c[k->count];
	c->docid = docid;
	c->text = text;
	/* date, type, specialty, id, content vector */
	const char *f[5] = { "", "", "", "", "" };
	size_t fl[5] = { 0, 0, 0, 0, 0 };
	/* the content vector, last, may hold any byte: it takes the rest */
	for (size_t i = 0, start = 0, nf = 0; i <= len && nf < 5; i++)
		if (i == len || (rank[i] == CARNET_RANK_SEP && nf < 4)) {
			f[nf] = rank + start;
			fl[nf++] = i - start;
			start = i + 1;
		}
	size_t dl = fl[0] < 8 ? fl[0] : 8;
	memcpy(c->date, f[0], dl);
	c->date[dl] = '\0';
	c->days = carnet_rank__days(c->date);
	c->content = fl[4] ? carnet_rank__content_of(k->rank, k->viewer, f[4], fl[4]) : 0;
	c->content_topic = fl[4] && k->viewer->topic >= 0
		? carnet_rank__topic_content(k->rank, k->viewer, f[4], fl[4]) : 0;
	long t = intern(k, &k->d[KIND_TYPE], f[1], fl[1]);
	long sp = intern(k, &k->d[KIND_SPEC], f[2], fl[2]);
	long y = intern(k, &k->d[KIND_YEAR], f[0], dl < 4 ? dl : 4);
	if (t < 0 || sp < 0 || y < 0 || arena_put(k, f[3], fl[3], &c->id)) {
		k->nomem = 1;
		return 1;
	}
	c->kind[KIND_TYPE] = (unsigned)t;
	c->kind[KIND_SPEC] = (unsigned)sp;
	c->kind[KIND_YEAR] = (unsigned)y;
	k->count++;
	return 0;
}

/* Score first, then date (newest first), then id: deterministic. */
static int rank_cmp(const void *pa, const void *pb)
{
	const cand *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	int d = strcmp(b->date, a->date);
	if (d)
		return d;
	return strcmp(a->id_str, b->id_str);
}

static int facet_cmp(const void *pa, const void *pb)
{
	const facet_value *a = pa, *b = pb;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->value, b->value);
}

/* The facet of one kind, from its distinct values: most frequent first. */
static int count_facet(facet *f, const collect *k, int kind)
{
	const distinct *d = &k->d[kind];
	f->v = calloc(d->n ? d->n : 1, sizeof *f->v);
	if (!f->v)
		return -1;
	for (size_t i = 0; i < d->n; i++) {
		if (!(f->v[i].value = strdup(k->arena.data + d->off[i])))
			return -1;
		f->v[i].count = d->count[i];
		f->count++;
	}
	if (f->count)
		qsort(f->v, f->count, sizeof *f->v, facet_cmp);
	return 0;
}

/* Levenshtein distance of a and b, or max + 1 once it is over max. */
static size_t distance(const char *a, size_t an, const char *b, size_t bn, size_t max)
{
	size_t row[64 + 1];
	if (an > 64 || bn > 64)
		return max + 1;
	if ((an > bn ? an - bn : bn - an) > max)
		return max + 1;
	for (size_t j = 0; j <= bn; j++)
		row[j] = j;
	for (size_t i = 1; i <= an; i++) {
		size_t prev = row[0], low;
		row[0] = i;
		low = row[0];
		for (size_t j = 1; j <= bn; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
			if (best < low)
				low = best;
		}
		if (low > max)
			return max + 1;
	}
	return row[bn];
}

typedef struct suggest {
	const char **words;     /* typed words */
	size_t count;
	char (*best)[65];       /* the closest known word of each, or "" */
	size_t *best_dist;
	unsigned *best_docs;
	unsigned char *known;   /* the word itself is in the record */
} suggest;

static int on_term(const char *term, size_t len, unsigned docs, void *payload)
{
	suggest *g = payload;
	for (size_t i = 0; i < g->count; i++) {
		const char *w = g->words[i];
		size_t wn = strlen(w);
		if (wn == len && memcmp(w, term, len) == 0) {
			g->known[i] = 1;
			continue;
		}
		size_t max = wn <= 4 ? 1 : 2;
		size_t d = distance(w, wn, term, len, max);
		if (d > max || len > 64)
			continue;
		if (d < g->best_dist[i] || (d == g->best_dist[i] && docs > g->best_docs[i]) ||
		    (d == g->best_dist[i] && docs == g->best_docs[i] &&
		     strncmp(term, g->best[i], len) < 0)) {
			g->best_dist[i] = d;
			g->best_docs[i] = docs;
			memcpy(g->best[i], term, len);
			g->best[i][len] = '\0';
		}
	}
	return 0;
}

/* The typed words with each unknown one replaced by the closest word of
 * the record passing s's filter; "" when nothing would change. */
static int make_suggestion(char **out, carnet_xreader *xr, const carnet_xsearch *s,
			   const carnet_words *w, carnet_error *err)
{
	*out = NULL;
	suggest g = { (const char **)w->typed, w->typed_count, NULL, NULL, NULL, NULL };
	size_t n = w->typed_count ? w->typed_count : 1;
	g.best = calloc(n, sizeof *g.best);
	g.best_dist = malloc(n * sizeof *g.best_dist);
	g.best_docs = calloc(n, sizeof *g.best_docs);
	g.known = calloc(n, 1);
	carnet_buf text = CARNET_BUF_INIT;
	int rc = CARNET_OK;
	if (!g.best || !g.best_dist || !g.best_docs || !g.known)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		g.best_dist[i] = (size_t)-1;
	rc = carnet_xap_reader_vocabulary(xr, s, 5000, on_term, &g, err);
	if (rc)
		goto out;
	int changed = 0;
	for (size_t i = 0; i < w->typed_count; i++) {
		const char *word = !g.known[i] && g.best[i][0] ? g.best[i] : w->typed[i];
		changed |= word != w->typed[i];
		if ((i && carnet_buf__putc(&text, ' ') != 0) || carnet_buf__puts(&text, word) != 0)
			goto nomem;
	}
	if (!changed)
		carnet_buf__reset(&text);
	if (!(*out = carnet_buf__detach(&text)))
		goto nomem;
	goto out;
nomem:
	rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0, "out of memory");
out:
	free(g.best);
	free(g.best_dist);
	free(g.best_docs);
	free(g.known);
	carnet_buf__free(&text);
	return rc;
}

/* Fill hit h from the stored data of candidate c (record, NUL, text), and
 * its snippet when marks is not NULL. */
static int fill_hit(hit *h, const cand *c, carnet_xreader *xr,
		    carnet_marks *marks, carnet_error *err)
{
	size_t len;
	int rc = carnet_xap_reader_data(xr, c->docid, CARNET_SLOT_RECORD, &h->rec, &len, err);
	if (rc)
		return rc;
	if (!carnet_doc__record_intact(h->rec, len))
		return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
					 "index damaged: a hit's stored record fails its check; "
					 "nothing is returned (rebuild the index)");
	carnet_doc__decode_record(h->rec, h->f);
	h->score = c->score;
	h->parts = c->parts;
	h->version = atoi(h->f[CARNET_REC_VERSION]);
	if (h->version < 1)
		h->version = 1;
	const char *label = carnet_codes__type_label(h->f[CARNET_REC_TYPE]);
	h->type_label = label ? label : "";
	label = carnet_codes__specialty_label(h->f[CARNET_REC_AUTHOR_SPECIALTY]);
	h->specialty_label = label ? label : "";
	if (!marks)
		return CARNET_OK;
	char *text;
	if ((rc = carnet_xap_reader_data(xr, c->docid, -1, &text, &len, err)))
		return rc;
	carnet_buf snip = CARNET_BUF_INIT;
	rc = carnet_snippet__make(&snip, text, len, marks, SNIPPET_WORDS, err);
	if (rc == CARNET_OK && !(h->snippet = carnet_buf__detach(&snip)))
		rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
				       "out of memory");
	carnet_buf__free(&snip);
	free(text);
	return rc;
}

/* Is s one of list[0..count)? */
static int one_of(const char *s, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

/* Before a hit leaves the library, its stored record must be what the
 * request asked for: this patient's (req->patient_id is the request's
 * key), the candidate ranked (id, date, set), a valid version, and not a
 * document the request's filters (dates, types, author specialties)
 * exclude. A record that is not is a damaged index: CARNET_E_CORRUPT,
 * never an answer. (Visibility is not checked here: masks set after
 * upload change the index terms the search filters on, not the record.) */
static int check_hit(const hit *h, const cand *c, carnet_xreader *xr,
		     const carnet_request *req, carnet_error *err)
{
	const char *why = NULL;
	char **f = (char **)h->f;
	char date[9];
	snprintf(date, sizeof date, "%.4s%.2s%.2s", f[CARNET_REC_DATE],
		 strlen(f[CARNET_REC_DATE]) >= 7 ? f[CARNET_REC_DATE] + 5 : "",
		 strlen(f[CARNET_REC_DATE]) >= 10 ? f[CARNET_REC_DATE] + 8 : "");
	const char *v = f[CARNET_REC_VERSION];
	size_t nv = strlen(v);
	if (strcmp(f[CARNET_REC_PATIENT], req->patient_id) != 0)
		why = "its patient is not the request's";
	else if (strcmp(f[CARNET_REC_ID], c->id_str) != 0)
		why = "its id is not the ranked document's";
	else if (!carnet_doc__valid_date(f[CARNET_REC_DATE]) || strcmp(date, c->date) != 0)
		why = "its date is not the ranked document's";
	else if (nv == 0 || nv > 7 || strspn(v, "0123456789") != nv || v[0] == '0')
		why = "its version is not a positive number";
	else if (req->since && strcmp(f[CARNET_REC_DATE], req->since) < 0)
		why = "it is older than the request's since";
	else if (req->until && strcmp(f[CARNET_REC_DATE], req->until) > 0)
		why = "it is newer than the request's until";
	else if (req->types_count && !one_of(f[CARNET_REC_TYPE], req->types, req->types_count))
		why = "its type is not among the request's";
	else if (req->version >= 2 && req->author_specialties_count &&
		 !one_of(f[CARNET_REC_AUTHOR_SPECIALTY], req->author_specialties,
			 req->author_specialties_count))
		why = "its author specialty is not among the request's";
	if (!why) {
		char *set;
		size_t len;
		int rc = carnet_xap_reader_data(xr, c->docid, CARNET_SLOT_SET, &set, &len, err);
		if (rc)
			return rc;
		if (strcmp(set, f[CARNET_REC_SET_ID]) != 0)
			why = "its set id is not the indexed one";
		free(set);
	}
	if (!why)
		return CARNET_OK;
	return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
				 "index damaged: a hit's stored record does not match the request "
				 "(%s); nothing is returned (rebuild the index)", why);
}

/* Learn the codes by which the index names profiles in content vectors
 * (they only grow, when a writer brings new tables). */
static int read_profile_codes(carnet_index *idx, carnet_error *err)
{
	char *stored;
	int rc = carnet_xap_reader_get_metadata(idx->xr, CARNET_PROFILES_KEY, &stored, err);
	if (rc)
		return rc;
	if (idx->profile_codes && strcmp(idx->profile_codes, stored) == 0) {
		free(stored);
		return CARNET_OK;
	}
	free(idx->profile_codes);
	idx->profile_codes = stored;
	carnet_rank__codes(idx->rank, stored, NULL);
	return CARNET_OK;
}

/* Rank every candidate of the request, then fill the page of results. */
static int run_ranked(carnet_results *res, carnet_index *idx, const carnet_request *req,
		      const carnet_xsearch *s, const carnet_words *w,
		      const carnet_viewer *v, carnet_error *err)
{
	int rc0 = read_profile_codes(idx, err);
	if (rc0)
		return rc0;
	collect k;
	memset(&k, 0, sizeof k);
	carnet_marks marks;
	memset(&marks, 0, sizeof marks);
	int rc;
	carnet_xrank xr;
	memset(&xr, 0, sizeof xr);
	xr.clauses = w ? w->clauses : NULL;
	xr.clauses_count = w ? w->count : 0;
	carnet_rank__bm25(idx->rank, &xr.bm25_k1, &xr.bm25_b);
	k.rank = idx->rank;
	k.viewer = v;
	xr.max_candidates = CANDIDATES_MAX;

	if ((rc = carnet_xap_reader_candidates(idx->xr, s, &xr, on_candidate, &k, err))) {
		if (k.nomem)
			rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
					       "out of memory ranking");
		goto out;
	}
	double top = 0;
	for (size_t i = 0; i < k.count; i++)
		if (k.c[i].text > top)
			top = k.c[i].text;
	/* once per distinct type and specialty: what they mean to the viewer;
	 * per type, the newest date (of a type that never fades, only the
	 * newest document does) */
	distinct *dt = &k.d[KIND_TYPE], *ds = &k.d[KIND_SPEC];
	carnet_rank_type *ti = calloc(dt->n ? dt->n : 1, sizeof *ti);
	carnet_rank_author *ai = calloc(ds->n ? ds->n : 1, sizeof *ai);
	long *newest_days = calloc(dt->n ? dt->n : 1, sizeof *newest_days);
	for (int kd = 0; kd < KINDS; kd++)
		if (!(k.d[kd].count = calloc(k.d[kd].n ? k.d[kd].n : 1, sizeof *k.d[kd].count)))
			k.nomem = 1;
	if (!ti || !ai || !newest_days || k.nomem) {
		free(ti);
		free(ai);
		free(newest_days);
		rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
				       "out of memory ranking");
		goto out;
	}
	for (size_t i = 0; i < dt->n; i++) {
		carnet_rank__type(idx->rank, v, k.arena.data + dt->off[i], &ti[i]);
		newest_days[i] = -1;
	}
	for (size_t i = 0; i < ds->n; i++)
		carnet_rank__author(idx->rank, v, k.arena.data + ds->off[i], &ai[i]);
	for (size_t i = 0; i < k.count; i++) {
		cand *c = &k.c[i];
		if (c->days > newest_days[c->kind[KIND_TYPE]])
			newest_days[c->kind[KIND_TYPE]] = c->days;
		for (int kd = 0; kd < KINDS; kd++)
			k.d[kd].count[c->kind[kd]]++;
	}
	for (size_t i = 0; i < k.count; i++) {
		cand *c = &k.c[i];
		unsigned t = c->kind[KIND_TYPE];
		c->score = carnet_rank__combine(idx->rank, v, top > 0 ? c->text / top : 0,
						c->content, c->content_topic, c->days, &ti[t],
						&ai[c->kind[KIND_SPEC]], c->days >= newest_days[t],
						&c->parts);
		c->id_str = k.arena.data + c->id;
	}
	free(ti);
	free(ai);
	free(newest_days);
	if (k.count)
		qsort(k.c, k.count, sizeof *k.c, rank_cmp);
	res->total = k.count;
	for (int f = 0; f < FACETS; f++)
		if (count_facet(&res->facets[f], &k, f) != 0) {
			rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
					       "out of memory counting facets");
			goto out;
		}

	size_t first = req->offset < k.count ? req->offset : k.count;
	size_t n = k.count - first < req->limit ? k.count - first : req->limit;
	res->hits = calloc(n ? n : 1, sizeof *res->hits);
	if (!res->hits) {
		rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
				       "out of memory for results");
		goto out;
	}
	int snippets = w && w->positive && !(req->flags & CARNET_REQUEST_NO_SNIPPETS);
	if (snippets && (rc = carnet_snippet__marks(&marks, w->marked, w->marked_count,
						    w->typed_count, err)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		res->count = i + 1;
		if ((rc = fill_hit(&res->hits[i], &k.c[first + i], idx->xr,
				   snippets ? &marks : NULL, err)) ||
		    (rc = check_hit(&res->hits[i], &k.c[first + i], idx->xr, req, err)))
			goto out;
	}
	if (w && w->positive && k.count == 0 &&
	    (rc = make_suggestion(&res->suggestion, idx->xr, s, w, err)))
		goto out;
out:
	carnet_snippet__marks_free(&marks);
	free(k.c);
	carnet_buf__free(&k.arena);
	for (int kd = 0; kd < KINDS; kd++)
		distinct_free(&k.d[kd]);
	return rc;
}

/* Empty what run_ranked filled, before a retry. */
static void clear_results(carnet_results *res)
{
	for (size_t i = 0; i < res->count; i++) {
		free(res->hits[i].rec);
		free(res->hits[i].snippet);
	}
	free(res->hits);
	for (int f = 0; f < FACETS; f++) {
		for (size_t j = 0; j < res->facets[f].count; j++)
			free(res->facets[f].v[j].value);
		free(res->facets[f].v);
	}
	free(res->suggestion);
	memset(res, 0, sizeof *res);
}

static int search(carnet_results **out, carnet_index *idx,
		  const carnet_request *req, carnet_error *err)
{
	*out = NULL;
	int rc = check_request(idx, req, err);
	if (rc)
		return rc;
	/* from here on, the request names its patient by key (core/patient.c,
	 * as the indexer keys documents) */
	carnet_request keyed;
	char key[CARNET_ID_MAX + 1];
	if ((rc = key_request(&keyed, key, req, err)))
		return rc;
	req = &keyed;

	carnet_buf authz = CARNET_BUF_INIT;
	const char **authz_terms = NULL;
	carnet_results *res = NULL;
	carnet_words words;
	memset(&words, 0, sizeof words);
	int have_words = req->words && *req->words;
	const char *must[2], *hide[1];
	const char **any = NULL;
	carnet_xgroup groups[3];
	char *code_terms = NULL;
	char patient_term[CARNET_ID_MAX + 8], latest_term[CARNET_ID_MAX + 8];
	char unhide[CARNET_ID_MAX + 8];
	char from[9], to[9];
	size_t spec_count = req->version >= 2 ? req->author_specialties_count : 0;
	const char *as_of = req->version >= 2 ? req->as_of : NULL;

	if (have_words && ((rc = carnet_rank__synonyms(idx->rank, err)) ||
			   (rc = carnet_words__parse(&words, req->words, idx->rank, err))))
		goto out;

	carnet_xsearch s;
	memset(&s, 0, sizeof s);
	snprintf(patient_term, sizeof patient_term, CARNET_PREFIX_PATIENT "%s",
		 req->patient_id);
	must[s.must_count++] = patient_term;
	/* versions: the newest only; or all of them, of the sets whose
	 * newest version the viewer may see (s.whole_sets) */
	snprintf(latest_term, sizeof latest_term, CARNET_PREFIX_LATEST "%s", req->patient_id);
	s.latest = latest_term;
	if (!(req->flags & CARNET_REQUEST_ALL_VERSIONS))
		must[s.must_count++] = latest_term;
	else
		s.whole_sets = 1;
	s.must = must;
	s.any = groups;

	/* the filters: types, author specialties */
	size_t codes = req->types_count + spec_count;
	if (codes) {
		code_terms = malloc(codes * (CARNET_ID_MAX + 8));
		any = malloc(codes * sizeof *any);
		if (!code_terms || !any) {
			rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET,
					       0, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < codes; i++) {
			char *t = code_terms + i * (CARNET_ID_MAX + 8);
			if (i < req->types_count)
				snprintf(t, CARNET_ID_MAX + 8, CARNET_PREFIX_TYPE "%s", req->types[i]);
			else
				snprintf(t, CARNET_ID_MAX + 8, CARNET_PREFIX_SPECIALTY "%s",
					 req->author_specialties[i - req->types_count]);
			any[i] = t;
		}
		if (req->types_count) {
			groups[s.any_count].terms = any;
			groups[s.any_count].count = req->types_count;
			s.any_count++;
		}
		if (spec_count) {
			groups[s.any_count].terms = any + req->types_count;
			groups[s.any_count].count = spec_count;
			s.any_count++;
		}
	}

	/* the authorisation matrix: what the viewer's profession may read */
	s.access_from = s.any_count;
	if (req->role == CARNET_ROLE_PROFESSIONAL) {
		int all;
		size_t nterms;
		if ((rc = carnet_policy__filter(idx->policy, req->profession, req->specialty,
						&all, &authz, &nterms, err)))
			goto out;
		if (!all) {
			authz_terms = calloc(nterms ? nterms : 1, sizeof *authz_terms);
			if (!authz_terms) {
				rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET,
						       0, "out of memory");
				goto out;
			}
			for (size_t i = 0, off = 0; i < nterms; i++) {
				authz_terms[i] = authz.data + off;
				off += strlen(authz_terms[i]) + 1;
			}
			groups[s.any_count].terms = authz_terms;
			groups[s.any_count].count = nterms;
			s.any_count++;
		}
	}

	/* visibility: what each role may not see */
	if (req->role == CARNET_ROLE_PROFESSIONAL) {
		if (!(req->flags & CARNET_REQUEST_EMERGENCY)) {
			hide[s.hide_count++] = CARNET_PREFIX_CONF "MASQUE_PS";
			if (req->viewer_id && *req->viewer_id) {
				/* a masked document stays visible to its author */
				snprintf(unhide, sizeof unhide, CARNET_PREFIX_AUTHOR "%s",
					 req->viewer_id);
				s.unhide = unhide;
			}
		}
	} else if (req->role == CARNET_ROLE_PATIENT) {
		hide[s.hide_count++] = CARNET_PREFIX_CONF "INVISIBLE_PATIENT";
	} else {
		hide[s.hide_count++] = CARNET_PREFIX_CONF "INVISIBLE_REPRESENTANTS_LEGAUX";
	}
	s.hide = hide;

	if (req->since) {
		snprintf(from, sizeof from, "%.4s%.2s%.2s", req->since,
			 req->since + 5, req->since + 8);
		s.date_from = from;
	}
	if (req->until) {
		snprintf(to, sizeof to, "%.4s%.2s%.2s", req->until,
			 req->until + 5, req->until + 8);
		s.date_to = to;
	}

	carnet_viewer v;
	carnet_rank__viewer(idx->rank, &v,
			    req->role == CARNET_ROLE_PROFESSIONAL ? req->specialty : NULL,
			    req->role == CARNET_ROLE_PROFESSIONAL ? req->profession : NULL,
			    as_of);
	if (have_words && words.positive) {
		/* what the words are about: the words typed, and each way of
		 * saying a clause (synonyms, abbreviations) */
		carnet_xalt *seqs = malloc((words.alts_count + 1) * sizeof *seqs);
		if (!seqs) {
			rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET,
					       0, "out of memory");
			goto out;
		}
		seqs[0].words = words.typed;
		seqs[0].count = words.typed_count;
		memcpy(seqs + 1, words.alts, words.alts_count * sizeof *seqs);
		carnet_rank__topic(idx->rank, &v, seqs, words.alts_count + 1);
		free(seqs);
	}

	res = calloc(1, sizeof *res);
	if (!res) {
		rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET,
				       0, "out of memory for results");
		goto out;
	}
	/* words that hold nothing searchable find nothing */
	int nothing = have_words && words.count == 0;

	/* see the latest committed state, and a new generation if one went
	 * live since the last search */
	unsigned long long seen = carnet_home__stamp(idx->home);
	if (seen != idx->stamp)
		rc = carnet_index_refresh(idx, err);
	else
		rc = carnet_xap_reader_reopen(idx->xr, err);
	if (rc == CARNET_OK && !nothing)
		rc = run_ranked(res, idx, req, &s, have_words ? &words : NULL, &v, err);
	/* a writer committed under us (between choosing the hits and reading
	 * them, too), or a rebuild took the generation away: the whole
	 * request starts again on the latest state, nothing of the first
	 * attempt kept (see retryable) */
	double start = seconds_now();
	int corrupt = 0;
	for (int retry = 0; retryable(idx, rc, seen, &corrupt) && retry < RETRY_MAX &&
			    seconds_now() - start < RETRY_SECONDS; retry++) {
		clear_results(res);
		if (retry)
			retry_pause(retry - 1);
		seen = carnet_home__stamp(idx->home);
		if ((rc = carnet_index_refresh(idx, err)) == CARNET_OK && !nothing)
			rc = run_ranked(res, idx, req, &s, have_words ? &words : NULL, &v, err);
	}
	if (rc) {
		carnet_results_free(res);
		res = NULL;
		goto out;
	}
	*out = res;
out:
	carnet_words__free(&words);
	free(authz_terms);
	carnet_buf__free(&authz);
	free(code_terms);
	free(any);
	return rc;
}

int carnet_index_search(carnet_results **out, carnet_index *idx,
			const carnet_request *req, carnet_error *err)
{
	*out = NULL;
	if (!idx)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "no index");
	carnet_error mine;
	carnet_error__clear(&mine);
	int rc = search(out, idx, req, &mine);
	/* every request is logged, a refused one with its reason; no answer
	 * leaves unlogged: if the log cannot be written, the request fails */
	int lrc = log_request(idx, req, *out, rc, rc ? mine.message : "", err);
	if (lrc) {
		carnet_results_free(*out);
		*out = NULL;
		return lrc;
	}
	if (rc && err)
		*err = mine;
	return rc;
}

int carnet_index_set_ranking(carnet_index *idx, const char *config, carnet_error *err)
{
	if (!config)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "no ranking configuration");
	return carnet_rank__configure(idx->rank, "ranking configuration", config,
				      strlen(config), err);
}

size_t carnet_results_count(const carnet_results *res)
{
	return res ? res->count : 0;
}

uint64_t carnet_results_total(const carnet_results *res)
{
	return res ? res->total : 0;
}

const char *carnet_results_field(const carnet_results *res, size_t i,
				 carnet_field field)
{
	if (!res || i >= res->count)
		return NULL;
	const hit *h = &res->hits[i];
	switch (field) {
	case CARNET_FIELD_ID: return h->f[CARNET_REC_ID];
	case CARNET_FIELD_SET_ID: return h->f[CARNET_REC_SET_ID];
	case CARNET_FIELD_PATIENT: return h->f[CARNET_REC_PATIENT];
	case CARNET_FIELD_TYPE: return h->f[CARNET_REC_TYPE];
	case CARNET_FIELD_TYPE_LABEL: return h->type_label;
	case CARNET_FIELD_TITLE: return h->f[CARNET_REC_TITLE];
	case CARNET_FIELD_DATE: return h->f[CARNET_REC_DATE];
	case CARNET_FIELD_AUTHOR_ID: return h->f[CARNET_REC_AUTHOR_ID];
	case CARNET_FIELD_AUTHOR_SPECIALTY: return h->f[CARNET_REC_AUTHOR_SPECIALTY];
	case CARNET_FIELD_SOURCE: return h->f[CARNET_REC_SOURCE];
	case CARNET_FIELD_AUTHOR_SPECIALTY_LABEL: return h->specialty_label;
	}
	return NULL;
}

int carnet_results_version(const carnet_results *res, size_t i)
{
	return res && i < res->count ? res->hits[i].version : 0;
}

double carnet_results_score(const carnet_results *res, size_t i)
{
	return res && i < res->count ? res->hits[i].score : 0.0;
}

double carnet_results_part(const carnet_results *res, size_t i, carnet_part part)
{
	if (!res || i >= res->count || (int)part < 0 ||
	    (size_t)part >= sizeof res->hits[i].parts.v / sizeof res->hits[i].parts.v[0])
		return 0.0;
	return res->hits[i].parts.v[part];
}

const char *carnet_results_snippet(const carnet_results *res, size_t i)
{
	if (!res || i >= res->count)
		return NULL;
	return res->hits[i].snippet ? res->hits[i].snippet : "";
}

size_t carnet_results_facet_count(const carnet_results *res, carnet_facet which)
{
	if (!res || (int)which < 0 || (int)which >= FACETS)
		return 0;
	return res->facets[which].count;
}

const char *carnet_results_facet(const carnet_results *res, carnet_facet which,
				 size_t j, uint64_t *count_out)
{
	if (count_out)
		*count_out = 0;
	if (!res || (int)which < 0 || (int)which >= FACETS || j >= res->facets[which].count)
		return NULL;
	if (count_out)
		*count_out = res->facets[which].v[j].count;
	return res->facets[which].v[j].value;
}

const char *carnet_results_suggestion(const carnet_results *res)
{
	return res && res->suggestion ? res->suggestion : "";
}

void carnet_results_free(carnet_results *res)
{
	if (!res)
		return;
	clear_results(res);
	free(res);
}

/* search.c - the reading side of the public API: opening an index, turning a
 * request into a filtered Xapian search, and the results. The patient filter
 * and the visibility rules are applied here, never left to the caller. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "carnet.h"
#include "codes.h"
#include "doc.h"
#include "home.h"
#include "policy.h"
#include "registry.h"
#include "schema.h"
#include "text.h"
#include "xapian_shim.h"

#define LIMIT_MAX 1000
#define TYPES_MAX 64

#define ACCESS_LOG_FILE "access.sqlite"

struct carnet_index {
	carnet_registry *reg;
	carnet_xreader *xr;
	carnet_policy *policy;
	int log_attached;         /* the access log is open on reg */
	char home[CARNET_PATH_MAX];
	char gen[CARNET_PATH_MAX];   /* the generation the handle has open */
	unsigned long long stamp;    /* CURRENT's fingerprint when opened */
};

typedef struct hit {
	char *rec;                     /* stored record, split in place */
	char *f[CARNET_REC_COUNT];
	const char *type_label;
	const char *specialty_label;
	double score;
	int version;
} hit;

struct carnet_results {
	hit *hits;
	size_t count;
	uint64_t total;
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
	carnet_policy__free(idx->policy);
	free(idx);
}

/* Open the access log on first use (and again after a failure). */
static int attach_log(carnet_index *idx, carnet_error *err)
{
	if (idx->log_attached)
		return CARNET_OK;
	char path[CARNET_PATH_MAX];
	int rc = carnet_home__path(path, sizeof path, idx->home, ACCESS_LOG_FILE, err);
	if (rc == CARNET_OK)
		rc = carnet_registry__log_attach(idx->reg, path, err);
	idx->log_attached = rc == CARNET_OK;
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

/* Write the search and what it returned to the access log. */
static int log_search(carnet_index *idx, const carnet_request *req,
		      const carnet_results *res, carnet_error *err)
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
	carnet_access a = {
		req->viewer_id, req->profession, req->specialty, role_name(req->role),
		req->patient_id, (req->flags & CARNET_REQUEST_EMERGENCY) != 0,
		req->words, ids.data ? ids.data : "", carnet_results_count(res),
	};
	rc = carnet_registry__log_append(idx->reg, &a, err);
	if (rc) {
		/* try to open it afresh next time */
		idx->log_attached = 0;
	}
	carnet_buf__free(&ids);
	return rc;
}

typedef struct log_relay {
	carnet_access_cb cb;
	void *payload;
} log_relay;

static int relay(const char *at, const carnet_access *a, void *payload)
{
	log_relay *r = payload;
	return r->cb(at, a->viewer_id ? a->viewer_id : "", a->role ? a->role : "",
		     a->profession ? a->profession : "", a->specialty ? a->specialty : "",
		     a->emergency, a->words ? a->words : "", a->doc_ids ? a->doc_ids : "",
		     r->payload);
}

int carnet_index_access_log(carnet_index *idx, const char *patient_id,
			    carnet_access_cb cb, void *payload, carnet_error *err)
{
	if (!patient_id || !carnet_doc__valid_id(patient_id))
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "invalid request: patient id must be 1 to 128 printable characters without spaces");
	int rc = attach_log(idx, err);
	if (rc)
		return rc;
	log_relay r = { cb, payload };
	return carnet_registry__log_list(idx->reg, patient_id, relay, &r, err);
}

int carnet_index_refresh(carnet_index *idx, carnet_error *err)
{
	unsigned long long stamp = carnet_home__stamp(idx->home);
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
	idx->log_attached = 0; /* the log was attached to the old connection */
	idx->stamp = stamp;
	snprintf(idx->gen, sizeof idx->gen, "%s", gen);
	return CARNET_OK;
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
static int check_request(const carnet_request *req, carnet_error *err)
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
	if (req->since && !carnet_doc__valid_date(req->since))
		return invalid(err, "since must be a YYYY-MM-DD date");
	if (req->until && !carnet_doc__valid_date(req->until))
		return invalid(err, "until must be a YYYY-MM-DD date");
	if (req->types_count > TYPES_MAX || (req->types_count && !req->types))
		return invalid(err, "too many document types (at most 64)");
	for (size_t i = 0; i < req->types_count; i++)
		if (!carnet_doc__valid_id(req->types[i]))
			return invalid(err, "document type codes must be printable without spaces");
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

static int fill_results(carnet_results *res, const carnet_xhits *xh,
			carnet_error *err)
{
	size_t n = carnet_xap_hits_count(xh);
	res->total = carnet_xap_hits_total(xh);
	res->hits = calloc(n ? n : 1, sizeof *res->hits);
	if (!res->hits)
		return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET,
					 0, "out of memory for results");
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *data = carnet_xap_hits_data(xh, i, &len);
		hit *h = &res->hits[i];
		h->rec = malloc(len + 1);
		if (!h->rec)
			return carnet_error__set(err, CARNET_E_NOMEM,
						 CARNET_ORIGIN_CARNET, 0,
						 "out of memory for results");
		memcpy(h->rec, data, len);
		h->rec[len] = '\0';
		res->count = i + 1;
		carnet_doc__decode_record(h->rec, h->f);
		h->score = carnet_xap_hits_score(xh, i);
		h->version = atoi(h->f[CARNET_REC_VERSION]);
		if (h->version < 1)
			h->version = 1;
		const char *label = carnet_codes__type_label(h->f[CARNET_REC_TYPE]);
		h->type_label = label ? label : "";
		label = carnet_codes__specialty_label(h->f[CARNET_REC_AUTHOR_SPECIALTY]);
		h->specialty_label = label ? label : "";
	}
	return CARNET_OK;
}

int carnet_index_search(carnet_results **out, carnet_index *idx,
			const carnet_request *req, carnet_error *err)
{
	*out = NULL;
	int rc = check_request(req, err);
	if (rc)
		return rc;

	carnet_buf words = CARNET_BUF_INIT, authz = CARNET_BUF_INIT;
	const char **authz_terms = NULL;
	carnet_xhits *xh = NULL;
	carnet_results *res = NULL;
	const char *must[2], *any[TYPES_MAX], *hide[1];
	carnet_xgroup groups[2];
	char *type_terms = NULL;
	char patient_term[CARNET_ID_MAX + 8], unhide[CARNET_ID_MAX + 8];
	char from[9], to[9];

	if (req->words && *req->words &&
	    (rc = carnet_text__fold(&words, req->words, strlen(req->words), err)))
		goto out;

	carnet_xsearch s;
	memset(&s, 0, sizeof s);
	s.words = words.data;
	s.stem_language = "french";
	snprintf(patient_term, sizeof patient_term, CARNET_PREFIX_PATIENT "%s",
		 req->patient_id);
	must[s.must_count++] = patient_term;
	if (!(req->flags & CARNET_REQUEST_ALL_VERSIONS))
		must[s.must_count++] = CARNET_TERM_LATEST;
	s.must = must;
	s.any = groups;

	if (req->types_count) {
		size_t size = req->types_count * (CARNET_ID_MAX + 8);
		type_terms = malloc(size);
		if (!type_terms) {
			rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET,
					       0, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < req->types_count; i++) {
			char *t = type_terms + i * (CARNET_ID_MAX + 8);
			snprintf(t, CARNET_ID_MAX + 8, CARNET_PREFIX_TYPE "%s", req->types[i]);
			any[i] = t;
		}
		groups[s.any_count].terms = any;
		groups[s.any_count].count = req->types_count;
		s.any_count++;
	}

	/* the authorisation matrix: what the viewer's profession may read */
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
	s.offset = req->offset;
	s.limit = req->limit;

	/* see the latest committed state, and a new generation if one went
	 * live since the last search */
	if (carnet_home__stamp(idx->home) != idx->stamp)
		rc = carnet_index_refresh(idx, err);
	else
		rc = carnet_xap_reader_reopen(idx->xr, err);
	if (rc == CARNET_OK)
		rc = carnet_xap_reader_search(idx->xr, &s, &xh, err);
	if (rc == CARNET_E_MODIFIED) {
		/* a writer committed under us: see its state and try once more */
		if ((rc = carnet_index_refresh(idx, err)) == CARNET_OK)
			rc = carnet_xap_reader_search(idx->xr, &s, &xh, err);
	}
	if (rc)
		goto out;

	res = calloc(1, sizeof *res);
	if (!res) {
		rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET,
				       0, "out of memory for results");
		goto out;
	}
	/* no answer leaves unlogged: if the log cannot be written, fail */
	if ((rc = fill_results(res, xh, err)) || (rc = log_search(idx, req, res, err))) {
		carnet_results_free(res);
		res = NULL;
		goto out;
	}
	*out = res;
out:
	free(authz_terms);
	carnet_buf__free(&authz);
	carnet_xap_hits_free(xh);
	free(type_terms);
	carnet_buf__free(&words);
	return rc;
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

void carnet_results_free(carnet_results *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->count; i++)
		free(res->hits[i].rec);
	free(res->hits);
	free(res);
}

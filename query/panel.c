/* SPDX-License-Identifier: GPL-2.0-or-later */
/* panel.c - the key results panel of a request (carnet_index_results):
 * the request checked as a search is, its words turned into analytes,
 * the patient's newest versions that hold results and that the viewer
 * may see found through the same access filter as a search, read newest
 * first (at most CARNET_RESULTS_DOCS_MAX), and the request logged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "analytes.h"
#include "carnet.h"
#include "index.h"
#include "named.h"
#include "panel.h"
#include "rank.h"
#include "request.h"
#include "results_codec.h"
#include "schema.h"
#include "util.h"

/* How many documents with results one request looks at, before the
 * newest CARNET_RESULTS_DOCS_MAX are read: a whole record. */
#define CANDIDATES_MAX 200000
#define LOINC_OID "2.16.840.1.113883.6.1"
#define TERM_MAX (CARNET_ID_MAX + 8)

typedef struct doc_ref {
	unsigned docid;
	char date[9];
} doc_ref;

typedef struct plan {
	carnet_index *idx;
	const carnet_request *req;     /* checked, its patient named by key */
	carnet_xsearch s;
	const char *must[3];
	carnet_xgroup groups[2];       /* the analytes asked for, access */
	char patient_term[TERM_MAX], latest_term[TERM_MAX];
	char from[9], to[9];
	carnet_access_filter access;
	carnet_named named;            /* what the words select (sel NULL: no words) */
	const char **terms;            /* XR: terms of what the words select */
	char *term_store;
	size_t nterms;
	const size_t *wanted;          /* the viewer's panel */
	size_t nwanted;
	doc_ref *docs;
	size_t ndocs, docs_cap;
	int nomem;
	carnet_panel *panel;
} plan;

/* The XR: terms of the analytes and codes the words select: a group of
 * the search. */
static int selection_group(plan *p, carnet_error *err)
{
	const carnet_analytes *t = p->idx->analytes;
	const carnet_named *nm = &p->named;
	size_t n = nm->ncodes;
	for (size_t i = 0; i < carnet_analytes__count(t); i++)
		if (nm->sel[i])
			n += carnet_analytes__at(t, i)->codes_count;
	p->terms = malloc((n ? n : 1) * sizeof *p->terms);
	p->term_store = malloc((n ? n : 1) * TERM_MAX);
	if (!p->terms || !p->term_store)
		return carnet_error__nomem(err, NULL);
	for (size_t i = 0; i < carnet_analytes__count(t) + nm->ncodes; i++) {
		const carnet_analyte *an = i < carnet_analytes__count(t)
			? carnet_analytes__at(t, i) : NULL;
		size_t k = an ? an->codes_count : 1;
		for (size_t j = 0; j < k && (!an || nm->sel[i]); j++) {
			char *term = p->term_store + p->nterms * TERM_MAX;
			snprintf(term, TERM_MAX, CARNET_PREFIX_RESULT LOINC_OID "|%s",
				 an ? an->codes[j] : nm->codes[i - carnet_analytes__count(t)]);
			p->terms[p->nterms++] = term;
		}
	}
	p->groups[p->s.any_count].terms = p->terms;
	p->groups[p->s.any_count].count = p->nterms;
	p->s.any_count++;
	return CARNET_OK;
}

/* ---- the search ---- */

static int build_xsearch(plan *p, carnet_error *err)
{
	const carnet_request *req = p->req;
	carnet_xsearch *s = &p->s;
	memset(s, 0, sizeof *s);
	snprintf(p->patient_term, sizeof p->patient_term, CARNET_PREFIX_PATIENT "%s",
		 req->patient_id);
	snprintf(p->latest_term, sizeof p->latest_term, CARNET_PREFIX_LATEST "%s",
		 req->patient_id);
	/* the newest versions only, whatever the flags; those with results */
	p->must[s->must_count++] = p->patient_term;
	p->must[s->must_count++] = p->latest_term;
	p->must[s->must_count++] = CARNET_TERM_HAS_RESULTS;
	s->must = p->must;
	s->latest = p->latest_term;
	s->shard_key = req->patient_id; /* the writer placed the record by it */
	s->any = p->groups;
	int rc;
	if ((p->named.sel && (rc = selection_group(p, err))) ||
	    (rc = carnet_access__filter(&p->access, p->idx, req, s, p->groups, err)))
		return rc;
	carnet_request__dates(req, s, p->from, p->to);
	return CARNET_OK;
}

/* The viewer's panel: their profile's, the patient's, or "*". */
static void viewer_panel(plan *p)
{
	const carnet_request *req = p->req;
	const char *profile = "patient";
	if (req->role == CARNET_ROLE_PROFESSIONAL) {
		carnet_viewer v;
		carnet_rank__viewer(p->idx->rank, &v, req->specialty, req->profession, NULL);
		profile = carnet_rank__profile_name(p->idx->rank, v.profile);
	}
	p->nwanted = carnet_analytes__panel(p->idx->analytes, profile, &p->wanted);
}

/* ---- reading the documents ---- */

static int on_doc(unsigned docid, double text, uint64_t found, const char *rank, size_t len,
		  void *payload)
{
	(void)found;
	(void)text;
	plan *p = payload;
	if (CARNET_GROW(p->docs, p->docs_cap, p->ndocs + 1)) {
		p->nomem = 1;
		return 1;
	}
	doc_ref *d = &p->docs[p->ndocs++];
	d->docid = docid;
	size_t n = 0;
	while (n < len && n < 8 && rank[n] != CARNET_RANK_SEP)
		n++;
	memcpy(d->date, rank, n);
	d->date[n] = '\0';
	return 0;
}

static int newest_first(const void *pa, const void *pb)
{
	const doc_ref *a = pa, *b = pb;
	int c = strcmp(b->date, a->date);
	return c ? c : (a->docid < b->docid) - (a->docid > b->docid);
}

typedef struct adding {
	plan *p;
	pdoc d;
} adding;

static int on_result(const carnet_result *r, void *payload)
{
	adding *a = payload;
	plan *p = a->p;
	return carnet_panel__add(p->panel, p->idx->analytes, p->named.sel,
				 (const char *const *)p->named.codes, p->named.ncodes, &a->d,
				 r) ? 2 : 0;
}

/* The results of the n-th document read, from its record and results
 * values (v, len): its record checked (a damaged index shows nothing),
 * then each result added. */
static int add_doc(plan *p, size_t n, char *const *v, const size_t *len, carnet_error *err)
{
	char *f[CARNET_REC_COUNT];
	if (!carnet_doc__record_intact(v[0], len[0]))
		return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
					 "index damaged: a document's stored record fails its "
					 "check; nothing is returned (rebuild the index)");
	carnet_doc__decode_record(v[0], f);
	if (strcmp(f[CARNET_REC_PATIENT], p->req->patient_id) != 0)
		return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
					 "index damaged: a document's stored record is not the "
					 "request's patient's; nothing is returned (rebuild the "
					 "index)");
	adding a = { p, { f[CARNET_REC_ID], f[CARNET_REC_DATE], atoi(f[CARNET_REC_VERSION]), n } };
	if (a.d.version < 1)
		a.d.version = 1;
	if (carnet_results__decode_in_place(v[1], len[1], on_result, &a))
		return carnet_error__nomem(err, "reading results");
	return CARNET_OK;
}

/* The results of the documents d[0..n) (n <= CARNET_XAP_PAGE), in that
 * order; the panel keeps the values of those that gave it values. */
static int read_docs(plan *p, const doc_ref *d, size_t n, carnet_error *err)
{
	const int slots[2] = { CARNET_SLOT_RECORD, CARNET_SLOT_RESULTS };
	unsigned ids[CARNET_XAP_PAGE] = { 0 };
	char *v[2 * CARNET_XAP_PAGE];
	size_t len[2 * CARNET_XAP_PAGE];
	for (size_t i = 0; i < n; i++)
		ids[i] = d[i].docid;
	int rc = carnet_xap_reader_page(p->idx->xr, ids, n, slots, 2, v, len, err);
	for (size_t i = 0; i < n && rc == CARNET_OK; i++) {
		size_t before = p->panel->values;
		if (carnet_panel__room(p->panel, 2))
			rc = carnet_error__nomem(err, NULL);
		else if ((rc = add_doc(p, (size_t)(d - p->docs) + i, v + 2 * i, len + 2 * i,
				       err)) == CARNET_OK &&
			 p->panel->values > before) {
			/* its values point into its record and results */
			carnet_panel__hold(p->panel, v[2 * i]);
			carnet_panel__hold(p->panel, v[2 * i + 1]);
			v[2 * i] = v[2 * i + 1] = NULL;
		}
	}
	for (size_t i = 0; i < 2 * n; i++)
		free(v[i]); /* all NULL when the read failed */
	return rc;
}

/* One attempt (carnet_index__with_retries): nothing of one before kept. */
static int attempt(void *payload, carnet_error *err)
{
	plan *p = payload;
	carnet_panel_free(p->panel);
	p->ndocs = 0;
	if (!(p->panel = calloc(1, sizeof *p->panel)))
		return carnet_error__nomem(err, NULL);
	carnet_xrank xr;
	memset(&xr, 0, sizeof xr);
	carnet_rank__bm25(p->idx->rank, &xr.bm25_k1, &xr.bm25_b);
	xr.max_candidates = CANDIDATES_MAX;
	int rc = carnet_xap_reader_candidates(p->idx->xr, &p->s, &xr, on_doc, p, err);
	if (rc)
		return p->nomem ? carnet_error__nomem(err, NULL) : rc;
	if (p->ndocs)
		qsort(p->docs, p->ndocs, sizeof *p->docs, newest_first);
	size_t nd = p->ndocs < CARNET_RESULTS_DOCS_MAX ? p->ndocs : CARNET_RESULTS_DOCS_MAX;
	for (size_t i = 0; i < nd && rc == CARNET_OK; i += CARNET_XAP_PAGE)
		rc = read_docs(p, p->docs + i,
			       nd - i < CARNET_XAP_PAGE ? nd - i : CARNET_XAP_PAGE, err);
	if (rc == CARNET_OK)
		carnet_panel__finish(p->panel, p->wanted, p->nwanted);
	return rc;
}

static int results(carnet_panel **out, carnet_index *idx, const carnet_request *req,
		   carnet_error *err)
{
	int rc = carnet_request__check(idx, req, err);
	carnet_request keyed;
	char key[CARNET_ID_MAX + 1];
	if (rc || (rc = carnet_request__key(&keyed, key, req, err)) ||
	    (rc = carnet_index__holds_patient(idx, req, err)))
		return rc;
	if (!idx->analytes && (rc = carnet_analytes__load(&idx->analytes, idx->home, err)))
		return rc;
	plan p;
	memset(&p, 0, sizeof p);
	p.idx = idx;
	p.req = &keyed;
	if ((rc = carnet_named__parse(&p.named, idx->analytes, keyed.words, err)) == CARNET_OK &&
	    (rc = build_xsearch(&p, err)) == CARNET_OK) {
		viewer_panel(&p);
		rc = carnet_index__with_retries(idx, attempt, &p, err);
	}
	if (rc == CARNET_OK) {
		*out = p.panel;
		p.panel = NULL;
	}
	carnet_panel_free(p.panel);
	carnet_access__filter_free(&p.access);
	carnet_named__free(&p.named);
	free(p.terms);
	free(p.term_store);
	free(p.docs);
	return rc;
}

/* The ids of the documents whose values p shows, each once. */
static int shown_ids(carnet_buf *ids, size_t *count, const carnet_panel *p)
{
	if (!p || !p->docs)
		return 0;
	unsigned char *seen = calloc(p->docs, 1);
	if (!seen)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < p->count && !rc; i++)
		for (size_t j = 0; j < p->a[i].count && !rc; j++) {
			const pvalue *v = &p->a[i].v[j];
			if (seen[v->doc])
				continue;
			seen[v->doc] = 1;
			if ((*count && carnet_buf__putc(ids, ' ')) ||
			    carnet_buf__puts(ids, v->f[CARNET_VALUE_DOC_ID]))
				rc = -1;
			(*count)++;
		}
	free(seen);
	return rc;
}

int carnet_index_results(carnet_panel **out, carnet_index *idx, const carnet_request *req,
			 carnet_error *err)
{
	*out = NULL;
	if (!idx)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "no index");
	carnet_error mine;
	carnet_error__clear(&mine);
	int rc = results(out, idx, req, &mine);
	/* logged as a search is: what it showed, or why it was refused; no
	 * answer leaves unlogged */
	carnet_buf ids = CARNET_BUF_INIT;
	size_t count = 0;
	int lrc = shown_ids(&ids, &count, *out) ? carnet_error__nomem(err, NULL)
		: carnet_access__log_ids(idx, req, ids.data ? ids.data : "", count, rc,
					 rc ? mine.message : "", err);
	carnet_buf__free(&ids);
	if (lrc) {
		carnet_panel_free(*out);
		*out = NULL;
		return lrc;
	}
	if (rc && err)
		*err = mine;
	return rc;
}

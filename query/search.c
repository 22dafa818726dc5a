/* SPDX-License-Identifier: GPL-2.0-or-later */
/* search.c - the reading side of the public API: a request checked, turned
 * into a filtered Xapian search (the patient filter, the versions, the
 * request's own filters, the access filter of query/access.c), ranked by
 * query/candidates.c, retried while a writer gets in the way, and logged.
 * The patient filter and the visibility rules are applied here, never
 * left to the caller. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "candidates.h"
#include "carnet.h"
#include "codes.h"
#include "doc.h"
#include "index.h"
#include "request.h"
#include "patient.h"
#include "rank.h"
#include "results.h"
#include "schema.h"
#include "text.h"
#include "words.h"

/* ---- one search ---- */

/* A search and what it is made of: the Xapian search and the terms it
 * points to, the words, the viewer, and the results being filled. */
typedef struct plan {
	carnet_index *idx;
	const carnet_request *req;     /* checked, its patient named by key */
	carnet_xsearch s;
	const char *must[2];
	carnet_xgroup groups[5];       /* types, author specialties, classes,
					  the document id, access */
	const char **any;              /* the terms of the groups before access */
	char *code_terms;              /* and their storage */
	char patient_term[CARNET_ID_MAX + 8], latest_term[CARNET_ID_MAX + 8];
	char from[9], to[9];
	carnet_access_filter access;
	carnet_words words;
	int have_words;
	carnet_viewer v;
	carnet_results *res;
} plan;

/* The words of the request, parsed (with the index's synonyms). */
static int parse_words(plan *p, carnet_error *err)
{
	const carnet_request *req = p->req;
	int rc = CARNET_OK;
	p->have_words = req->words && *req->words;
	if (p->have_words && ((rc = carnet_rank__synonyms(p->idx->rank, err)) ||
			      (rc = carnet_words__parse(&p->words, req->words, p->idx->rank, err))))
		return rc;
	return CARNET_OK;
}

/* The request's own filters: document types, author specialties, classes
 * and the one document asked for, each a group of which a hit has one
 * term. The document id is a group, not a must term: with whole sets, the
 * newest version of the set passes the access groups alone. */
static int code_groups(plan *p, carnet_error *err)
{
	const carnet_request *req = p->req;
	carnet_xsearch *s = &p->s;
	static const char *const prefixes[4] = { CARNET_PREFIX_TYPE, CARNET_PREFIX_SPECIALTY,
						 CARNET_PREFIX_CLASS, CARNET_PREFIX_ID };
	const char *const *lists[4] = { req->types, NULL, NULL, NULL };
	size_t counts[4] = { req->types_count, 0, 0, 0 };
	if (req->version >= 2) {
		lists[1] = req->author_specialties;
		counts[1] = req->author_specialties_count;
	}
	if (req->version >= 4) {
		lists[2] = req->classes;
		counts[2] = req->classes_count;
		lists[3] = &req->document_id;
		counts[3] = req->document_id != NULL;
	}
	size_t codes = counts[0] + counts[1] + counts[2] + counts[3];
	if (!codes)
		return CARNET_OK;
	p->code_terms = malloc(codes * (CARNET_ID_MAX + 8));
	p->any = malloc(codes * sizeof *p->any);
	if (!p->code_terms || !p->any)
		return carnet_error__nomem(err, NULL);
	size_t n = 0;
	for (int g = 0; g < 4; g++) {
		if (!counts[g])
			continue;
		p->groups[s->any_count].terms = p->any + n;
		p->groups[s->any_count].count = counts[g];
		s->any_count++;
		for (size_t i = 0; i < counts[g]; i++, n++) {
			char *t = p->code_terms + n * (CARNET_ID_MAX + 8);
			snprintf(t, CARNET_ID_MAX + 8, "%s%s", prefixes[g], lists[g][i]);
			p->any[n] = t;
		}
	}
	return CARNET_OK;
}

/* The Xapian search of the request: its patient, the versions, its own
 * filters, the access filter, the dates. */
static int build_xsearch(plan *p, carnet_error *err)
{
	const carnet_request *req = p->req;
	carnet_xsearch *s = &p->s;
	memset(s, 0, sizeof *s);
	snprintf(p->patient_term, sizeof p->patient_term, CARNET_PREFIX_PATIENT "%s",
		 req->patient_id);
	p->must[s->must_count++] = p->patient_term;
	/* versions: the newest only; or all of them, of the sets whose
	 * newest version the viewer may see (s.whole_sets) */
	snprintf(p->latest_term, sizeof p->latest_term, CARNET_PREFIX_LATEST "%s",
		 req->patient_id);
	s->latest = p->latest_term;
	s->shard_key = req->patient_id; /* the writer placed the record by it */
	if (!(req->flags & CARNET_REQUEST_ALL_VERSIONS))
		p->must[s->must_count++] = p->latest_term;
	else
		s->whole_sets = 1;
	s->must = p->must;
	s->any = p->groups;

	int rc;
	if ((rc = code_groups(p, err)) ||
	    (rc = carnet_access__filter(&p->access, p->idx, req, s, p->groups, err)))
		return rc;

	carnet_request__dates(req, s, p->from, p->to);
	return CARNET_OK;
}

/* Who the viewer is for ranking, and what the words are about. */
static int viewer_and_topic(plan *p, carnet_error *err)
{
	const carnet_request *req = p->req;
	const char *as_of = req->version >= 2 ? req->as_of : NULL;
	carnet_rank__viewer(p->idx->rank, &p->v,
			    req->role == CARNET_ROLE_PROFESSIONAL ? req->specialty : NULL,
			    req->role == CARNET_ROLE_PROFESSIONAL ? req->profession : NULL,
			    as_of);
	if (!p->have_words || !p->words.positive)
		return CARNET_OK;
	/* what the words are about: the words typed, and each way of
	 * saying a clause (synonyms, abbreviations) */
	carnet_words *w = &p->words;
	carnet_xalt *seqs = malloc((w->alts_count + 1) * sizeof *seqs);
	if (!seqs)
		return carnet_error__nomem(err, NULL);
	seqs[0].words = w->typed;
	seqs[0].count = w->typed_count;
	memcpy(seqs + 1, w->alts, w->alts_count * sizeof *seqs);
	carnet_rank__topic(p->idx->rank, &p->v, seqs, w->alts_count + 1);
	free(seqs);
	return CARNET_OK;
}

/* One attempt at ranking the request (carnet_index__with_retries): nothing
 * of an attempt before it kept. */
static int attempt(void *payload, carnet_error *err)
{
	plan *p = payload;
	carnet_results__clear(p->res);
	/* words that hold nothing searchable find nothing */
	if (p->have_words && p->words.count == 0)
		return CARNET_OK;
	return carnet_candidates__rank(p->res, p->idx, p->req, &p->s,
				       p->have_words ? &p->words : NULL, &p->v, err);
}

static int search(carnet_results **out, carnet_index *idx,
		  const carnet_request *req, carnet_error *err)
{
	*out = NULL;
	int rc = carnet_request__check(idx, req, err);
	if (rc)
		return rc;
	/* from here on, the request names its patient by key (core/patient.c,
	 * as the indexer keys documents) */
	carnet_request keyed;
	char key[CARNET_ID_MAX + 1];
	if ((rc = carnet_request__key(&keyed, key, req, err)) ||
	    (rc = carnet_index__holds_patient(idx, req, err)))
		return rc;

	plan p;
	memset(&p, 0, sizeof p);
	p.idx = idx;
	p.req = &keyed;
	if ((rc = parse_words(&p, err)) || (rc = build_xsearch(&p, err)) ||
	    (rc = viewer_and_topic(&p, err)))
		goto out;
	if (!(p.res = calloc(1, sizeof *p.res))) {
		rc = carnet_error__nomem(err, "for results");
		goto out;
	}
	if ((rc = carnet_index__with_retries(idx, attempt, &p, err))) {
		carnet_results_free(p.res);
		goto out;
	}
	*out = p.res;
out:
	carnet_words__free(&p.words);
	carnet_access__filter_free(&p.access);
	free(p.code_terms);
	free(p.any);
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
	int lrc = carnet_access__log_request(idx, req, *out, rc, rc ? mine.message : "", err);
	if (lrc) {
		carnet_results_free(*out);
		*out = NULL;
		return lrc;
	}
	if (rc && err)
		*err = mine;
	return rc;
}

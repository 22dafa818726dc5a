/* SPDX-License-Identifier: GPL-2.0-or-later */
/* candidates.c - ranking a request: every document that passed its filter
 * collected from the shim, scored for the viewer (core/rank.c), sorted,
 * counted into facets; then the page of hits read, checked against the
 * request and given their snippets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytes.h"
#include "candidates.h"
#include "codes.h"
#include "doc.h"
#include "named.h"
#include "schema.h"
#include "snippet.h"
#include "suggest.h"
#include "textpack.h"
#include "util.h"

/* How many documents of one request are ranked at most: a patient's whole
 * record, with room to spare. */
#define CANDIDATES_MAX 200000
#define SNIPPET_WORDS 28

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

/* The fields of a rank value (core/schema.h, CARNET_SLOT_RANK). */
#define RANK_FIELDS 6

/* One document that passed the filter, as the shim reports it. */
typedef struct cand {
	unsigned docid;
	uint64_t found;          /* the alts it holds (the shim's bits) */
	double text, content, content_topic, score;
	char date[9];
	long days;
	unsigned kind[KINDS];    /* the index of its type, specialty, year */
	size_t id;               /* offset of its id in the arena */
	size_t codes;            /* offset of its results' LOINC codes, when */
	size_t codes_len;        /* it has any */
	double results;          /* what they are worth to the request, 0..1 */
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
			size_t j = carnet__hash(v, strlen(v)) & (cap - 1);
			while (t[j])
				j = (j + 1) & (cap - 1);
			t[j] = (unsigned)i + 1;
		}
		free(d->table);
		d->table = t;
		d->table_cap = cap;
	}
	size_t j = carnet__hash(s, n) & (d->table_cap - 1);
	for (; d->table[j]; j = (j + 1) & (d->table_cap - 1)) {
		const char *v = k->arena.data + d->off[d->table[j] - 1];
		if (strncmp(v, s, n) == 0 && v[n] == '\0')
			return (long)d->table[j] - 1;
	}
	if (CARNET_GROW(d->off, d->cap, d->n + 1))
		return -1;
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

static int on_candidate(unsigned docid, double text, uint64_t found, const char *rank,
			size_t len, void *payload)
{
	collect *k = payload;
	if (CARNET_GROW(k->c, k->cap, k->count + 1)) {
		k->nomem = 1;
		return 1;
	}
	cand *c = &k->c[k->count];
	c->docid = docid;
	c->found = found;
	c->text = text;
	/* date, type, specialty, id, result codes, content vector */
	const char *f[RANK_FIELDS] = { "", "", "", "", "", "" };
	size_t fl[RANK_FIELDS] = { 0, 0, 0, 0, 0, 0 };
	/* the content vector, last, may hold any byte: it takes the rest,
	 * unread here */
	for (size_t i = 0, start = 0, nf = 0; i <= len && nf < RANK_FIELDS; i++)
		if (nf == RANK_FIELDS - 1) {
			f[nf] = rank + start;
			fl[nf++] = len - start;
		} else if (i == len || rank[i] == CARNET_RANK_SEP) {
			f[nf] = rank + start;
			fl[nf++] = i - start;
			start = i + 1;
		}
	size_t dl = fl[0] < 8 ? fl[0] : 8;
	memcpy(c->date, f[0], dl);
	c->date[dl] = '\0';
	c->days = carnet_rank__days(c->date);
	c->content = fl[5] ? carnet_rank__content_of(k->rank, k->viewer, f[5], fl[5]) : 0;
	c->content_topic = fl[5] && k->viewer->topic >= 0
		? carnet_rank__topic_content(k->rank, k->viewer, f[5], fl[5]) : 0;
	long t = intern(k, &k->d[KIND_TYPE], f[1], fl[1]);
	long sp = intern(k, &k->d[KIND_SPEC], f[2], fl[2]);
	long y = intern(k, &k->d[KIND_YEAR], f[0], dl < 4 ? dl : 4);
	c->codes_len = fl[4];
	c->results = 0;
	if (t < 0 || sp < 0 || y < 0 || arena_put(k, f[3], fl[3], &c->id) ||
	    (fl[4] && arena_put(k, f[4], fl[4], &c->codes))) {
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

/* The class facet, from the type facet: each type's count added to its
 * class ("" for a type without one). */
static int class_facet(facet *f, const facet *types)
{
	f->v = calloc(types->count ? types->count : 1, sizeof *f->v);
	if (!f->v)
		return -1;
	for (size_t i = 0; i < types->count; i++) {
		const char *c = carnet_codes__type_class(types->v[i].value);
		size_t j = 0;
		while (j < f->count && strcmp(f->v[j].value, c ? c : "") != 0)
			j++;
		if (j == f->count && !(f->v[f->count++].value = strdup(c ? c : "")))
			return -1;
		f->v[j].count += types->v[i].count;
	}
	if (f->count)
		qsort(f->v, f->count, sizeof *f->v, facet_cmp);
	return 0;
}

/* Fill hit h from candidate c's values v[0..3) (len[0..3): its stored
 * record, taken (v[0] NULL after), its set, its text), and its snippet
 * when marks is not NULL (the text read with tr, decoded no further than
 * the snippet reads; held: the marked words the document holds, see
 * carnet_snippet__make). */
static int fill_hit(hit *h, char **v, const size_t *len, const cand *c, carnet_marks *marks,
		    uint64_t held, carnet_textpack_reader *tr, carnet_error *err)
{
	int rc;
	h->rec = v[0];
	v[0] = NULL;
	if (marks && (rc = carnet_textpack__open(tr, v[2], len[2], err)) != CARNET_OK)
		return rc;
	if (!carnet_doc__record_intact(h->rec, len[0]))
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
	carnet_buf snip = CARNET_BUF_INIT;
	rc = carnet_snippet__make(&snip, tr, marks, held, SNIPPET_WORDS, err);
	if (rc == CARNET_OK && !(h->snippet = carnet_buf__detach(&snip)))
		rc = carnet_error__nomem(err, NULL);
	carnet_buf__free(&snip);
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
static int check_hit(const hit *h, const cand *c, const char *set,
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
	else if (req->version >= 4 && req->document_id &&
		 strcmp(f[CARNET_REC_ID], req->document_id) != 0)
		why = "its id is not the request's document";
	if (!why && strcmp(set, f[CARNET_REC_SET_ID]) != 0)
		why = "its set id is not the indexed one";
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
	unsigned long opened = carnet_xap_reader_opened(idx->xr);
	if (idx->profile_codes && idx->profile_codes_of == opened)
		return CARNET_OK; /* the same revision as when last read */
	char *stored;
	int rc = carnet_xap_reader_get_metadata(idx->xr, CARNET_PROFILES_KEY, &stored, err);
	if (rc)
		return rc;
	idx->profile_codes_of = opened;
	if (idx->profile_codes && strcmp(idx->profile_codes, stored) == 0) {
		free(stored);
		return CARNET_OK;
	}
	free(idx->profile_codes);
	idx->profile_codes = stored;
	carnet_rank__codes(idx->rank, stored, NULL);
	return CARNET_OK;
}

/* Score every candidate of k for viewer v, and sort them best first;
 * count each distinct value's candidates (the facets). With words, no
 * document is exempt from fading (the newest of a type that never fades
 * is only so in a browse): what a summary says about them is as old as
 * the summary. */
static int score(collect *k, const carnet_ranking *rk, const carnet_viewer *v,
		 int words, carnet_error *err)
{
	double top = 0;
	for (size_t i = 0; i < k->count; i++)
		if (k->c[i].text > top)
			top = k->c[i].text;
	/* once per distinct type and specialty: what they mean to the viewer;
	 * per type, the newest date (of a type that never fades, only the
	 * newest document does) */
	distinct *dt = &k->d[KIND_TYPE], *ds = &k->d[KIND_SPEC];
	carnet_rank_type *ti = calloc(dt->n ? dt->n : 1, sizeof *ti);
	carnet_rank_author *ai = calloc(ds->n ? ds->n : 1, sizeof *ai);
	long *newest_days = calloc(dt->n ? dt->n : 1, sizeof *newest_days);
	for (int kd = 0; kd < KINDS; kd++)
		if (!(k->d[kd].count = calloc(k->d[kd].n ? k->d[kd].n : 1, sizeof *k->d[kd].count)))
			k->nomem = 1;
	if (!ti || !ai || !newest_days || k->nomem) {
		free(ti);
		free(ai);
		free(newest_days);
		return carnet_error__nomem(err, "ranking");
	}
	for (size_t i = 0; i < dt->n; i++) {
		carnet_rank__type(rk, v, k->arena.data + dt->off[i], &ti[i]);
		newest_days[i] = -1;
	}
	for (size_t i = 0; i < ds->n; i++)
		carnet_rank__author(rk, v, k->arena.data + ds->off[i], &ai[i]);
	for (size_t i = 0; i < k->count; i++) {
		cand *c = &k->c[i];
		if (c->days > newest_days[c->kind[KIND_TYPE]])
			newest_days[c->kind[KIND_TYPE]] = c->days;
		for (int kd = 0; kd < KINDS; kd++)
			k->d[kd].count[c->kind[kd]]++;
	}
	for (size_t i = 0; i < k->count; i++) {
		cand *c = &k->c[i];
		unsigned t = c->kind[KIND_TYPE];
		c->score = carnet_rank__combine(rk, v, top > 0 ? c->text / top : 0,
						c->content, c->content_topic, c->days, &ti[t],
						&ai[c->kind[KIND_SPEC]],
						!words && c->days >= newest_days[t],
						c->results, &c->parts);
		c->id_str = k->arena.data + c->id;
	}
	free(ti);
	free(ai);
	free(newest_days);
	if (k->count)
		qsort(k->c, k->count, sizeof *k->c, rank_cmp);
	return CARNET_OK;
}

/* Which marked words of w (bit i: w->marked[i], i < 64; the typed words,
 * then their synonyms' words) a document holds, from the alts the shim
 * found in it (found: bit k for w->alts[k], k < 64): the words of each
 * alt found. An alt past the 64th is not reported: its words count as
 * not found. */
static uint64_t marked_found(const carnet_words *w, uint64_t found)
{
	uint64_t marked = 0;
	for (size_t a = 0, syn = w->typed_count; a < w->alts_count; a++) {
		const carnet_xalt *alt = &w->alts[a];
		int typed = alt->words >= w->typed && alt->words < w->typed + w->typed_count;
		size_t first = typed ? (size_t)(alt->words - w->typed) : syn;
		if (!typed)
			syn += alt->count; /* a synonym's words follow the typed ones */
		if (a >= 64 || !(found >> a & 1))
			continue;
		for (size_t i = first; i < first + alt->count && i < 64; i++)
			marked |= (uint64_t)1 << i;
	}
	return marked;
}

/* Fill res->hits[at .. at+n) from the candidates c[0..n): their values
 * read at once, each hit then filled and checked; res->count says how
 * many were. */
static int fill_hits(carnet_results *res, const cand *c, size_t at, size_t n,
		     carnet_xreader *xr, const carnet_request *req, const carnet_words *w,
		     carnet_marks *marks, carnet_textpack_reader *tr, carnet_error *err)
{
	const int slots[3] = { CARNET_SLOT_RECORD, CARNET_SLOT_SET, CARNET_SLOT_TEXT };
	const size_t ns = marks ? 3 : 2;
	unsigned ids[CARNET_XAP_PAGE] = { 0 };
	char *v[CARNET_XAP_PAGE * 3];
	size_t len[CARNET_XAP_PAGE * 3];
	for (size_t i = 0; i < n; i++)
		ids[i] = c[i].docid;
	int rc = carnet_xap_reader_page(xr, ids, n, slots, ns, v, len, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && rc == CARNET_OK; i++) {
		res->count = at + i + 1;
		rc = fill_hit(&res->hits[at + i], v + i * ns, len + i * ns, &c[i], marks,
			      marks ? marked_found(w, c[i].found) : 0, tr, err);
		if (rc == CARNET_OK)
			rc = check_hit(&res->hits[at + i], &c[i], v[i * ns + 1], req, err);
	}
	for (size_t i = 0; i < n * ns; i++)
		free(v[i]);
	return rc;
}

/* Fill res from the ranked candidates of k: the total, the facets, and
 * the page of hits req asks for, read, checked and (with words w) given
 * their snippets. */
static int fill_page(carnet_results *res, const collect *k, carnet_xreader *xr,
		     const carnet_request *req, const carnet_words *w, carnet_error *err)
{
	res->total = k->count;
	for (int f = 0; f < KINDS; f++)
		if (count_facet(&res->facets[f], k, f) != 0)
			return carnet_error__nomem(err, "counting facets");
	if (class_facet(&res->facets[CARNET_FACET_CLASS], &res->facets[CARNET_FACET_TYPE]) != 0)
		return carnet_error__nomem(err, "counting facets");

	size_t first = req->offset < k->count ? req->offset : k->count;
	size_t n = k->count - first < req->limit ? k->count - first : req->limit;
	res->hits = calloc(n ? n : 1, sizeof *res->hits);
	if (!res->hits)
		return carnet_error__nomem(err, "for results");
	carnet_marks marks;
	memset(&marks, 0, sizeof marks);
	carnet_textpack_reader tr = { 0 };
	int rc = CARNET_OK;
	int snippets = w && w->positive && !(req->flags & CARNET_REQUEST_NO_SNIPPETS);
	if (snippets && (rc = carnet_snippet__marks(&marks, w->marked, w->marked_count,
						    w->typed_count, err)))
		goto out;
	for (size_t i = 0; i < n && rc == CARNET_OK; i += CARNET_XAP_PAGE)
		rc = fill_hits(res, k->c + first + i, i,
			       n - i < CARNET_XAP_PAGE ? n - i : CARNET_XAP_PAGE, xr, req, w,
			       snippets ? &marks : NULL, &tr, err);
out:
	carnet_snippet__marks_free(&marks);
	carnet_textpack__reader_free(&tr);
	return rc;
}

/* The analytes of the viewer's panel that count for the ranking without
 * words: the first ones, the first most. */
#define PANEL_TOP 5

/* For each analyte wanted (prio, one per analyte of t, 0: not wanted),
 * the newest candidate reporting it gets prio as its key-results worth. */
static void newest_reporting(collect *k, const carnet_analytes *t, const double *prio,
			     size_t *best)
{
	size_t n = carnet_analytes__count(t);
	for (size_t a = 0; a < n; a++)
		best[a] = SIZE_MAX;
	for (size_t i = 0; i < k->count; i++) {
		const cand *c = &k->c[i];
		const char *s = c->codes_len ? k->arena.data + c->codes : "";
		while (*s) {
			size_t len = strcspn(s, " ");
			char code[16];
			snprintf(code, sizeof code, "%.*s", (int)(len < 15 ? len : 15), s);
			long a = carnet_analytes__by_code(t, code);
			if (a >= 0 && prio[a] > 0 &&
			    (best[a] == SIZE_MAX || c->days > k->c[best[a]].days))
				best[a] = i;
			s += len + (s[len] == ' ');
		}
	}
	for (size_t a = 0; a < n; a++)
		if (best[a] != SIZE_MAX && prio[a] > k->c[best[a]].results)
			k->c[best[a]].results = prio[a];
}

/* With words that name analytes (named.c), the hits reporting one of
 * them are a lab series, which the clinician reads newest first: each is
 * worth what its distance to the newest of them is worth
 * (carnet_rank__series), and the request's recency weighs more
 * (v->series). Words that name none leave everything at 0. */
static int series_worth(collect *k, const carnet_analytes *t, const char *words,
			const carnet_ranking *rk, carnet_viewer *v, carnet_error *err)
{
	carnet_named n;
	memset(&n, 0, sizeof n);
	int rc = carnet_named__parse(&n, t, words, err);
	unsigned char *in = NULL;
	if (rc == CARNET_OK && (n.count || n.ncodes) && !(in = calloc(k->count + 1, 1)))
		rc = carnet_error__nomem(err, "ranking");
	long newest = 0;
	int found = 0;
	for (size_t i = 0; in && i < k->count; i++) {
		const cand *c = &k->c[i];
		in[i] = c->codes_len &&
			carnet_named__in(&n, t, k->arena.data + c->codes, c->codes_len);
		if (in[i] && (!found || c->days > newest))
			newest = c->days;
		found |= in[i];
	}
	v->series = found;
	for (size_t i = 0; in && i < k->count; i++)
		if (in[i])
			k->c[i].results = carnet_rank__series(rk, newest - k->c[i].days);
	free(in);
	carnet_named__free(&n);
	return rc;
}

/* What each candidate's key results are worth to the request. Without
 * words: for the r-th of the first PANEL_TOP analytes of the viewer's
 * panel (panels.tsv, as the results panel reads it), 1 - r / PANEL_TOP
 * for the newest candidate reporting it: the latest report of what the
 * viewer follows is what they open first. With words: their lab series
 * (series_worth). */
static int results_worth(collect *k, carnet_index *idx, const carnet_request *req,
			 const carnet_words *w, carnet_viewer *v, carnet_error *err)
{
	size_t with = 0;
	for (size_t i = 0; i < k->count; i++)
		with += k->c[i].codes_len > 0;
	int rc = CARNET_OK;
	if (!with || (!idx->analytes && (rc = carnet_analytes__load(&idx->analytes, idx->home, err))))
		return rc;
	const carnet_analytes *t = idx->analytes;
	if (w && w->positive)
		return series_worth(k, t, req->words, idx->rank, v, err);
	size_t n = carnet_analytes__count(t);
	double *prio = calloc(n + 1, sizeof *prio);
	size_t *best = malloc((n + 1) * sizeof *best);
	if (!prio || !best) {
		free(prio);
		free(best);
		return carnet_error__nomem(err, "ranking");
	}
	const char *profile = req->role == CARNET_ROLE_PROFESSIONAL
		? carnet_rank__profile_name(idx->rank, v->profile) : "patient";
	const size_t *panel;
	size_t m = carnet_analytes__panel(t, profile, &panel);
	for (size_t r = 0; r < m && r < PANEL_TOP; r++)
		if (prio[panel[r]] < 1 - (double)r / PANEL_TOP)
			prio[panel[r]] = 1 - (double)r / PANEL_TOP;
	newest_reporting(k, t, prio, best);
	free(prio);
	free(best);
	return CARNET_OK;
}

/* Rank every candidate of the request, then fill the page of results. */
int carnet_candidates__rank(carnet_results *res, carnet_index *idx,
			    const carnet_request *req, const carnet_xsearch *s,
			    const carnet_words *w, const carnet_viewer *v,
			    carnet_error *err)
{
	int rc = read_profile_codes(idx, err);
	if (rc)
		return rc;
	collect k;
	memset(&k, 0, sizeof k);
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
			rc = carnet_error__nomem(err, "ranking");
		goto out;
	}
	carnet_viewer vr = *v;  /* with what the words name */
	if ((rc = results_worth(&k, idx, req, w, &vr, err)) ||
	    (rc = score(&k, idx->rank, &vr, w && w->positive, err)) ||
	    (rc = fill_page(res, &k, idx->xr, req, w, err)))
		goto out;
	if (w && w->positive && k.count == 0)
		rc = carnet_suggest__make(&res->suggestion, idx->xr, s, w, err);
out:
	free(k.c);
	carnet_buf__free(&k.arena);
	for (int kd = 0; kd < KINDS; kd++)
		distinct_free(&k.d[kd]);
	return rc;
}

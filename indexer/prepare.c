/* SPDX-License-Identifier: GPL-2.0-or-later */
/* prepare.c - the part of indexing an input that needs no writer: read the
 * file and its sidecar, hash them, run its reader, complete the documents
 * and build their Xapian documents. Runs in extraction threads. */
#include "prepare.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "codes.h"
#include "patient.h"
#include "results_codec.h"
#include "schema.h"
#include "sidecar.h"
#include "text.h"
#include "textpack.h"
#include "util.h"
#include "walk.h"

/* One input being indexed: the documents its reader produced. */
typedef struct pending {
	carnet_registry *reg;    /* for the masks set after upload */
	const char *source;      /* canonical path */
	const carnet_doc *meta;  /* sidecar, or NULL */
	const char *default_date;
	const carnet_shard_spec *shard; /* the patients this index holds */
	carnet_doc *docs;
	size_t count, cap;
	size_t other_shard;      /* documents of patients another shard holds */
	carnet_error *err;
} pending;

/* Read a whole file. NOTFOUND when missing; IO otherwise. */
static int slurp(const char *path, uint64_t max, char **data_out,
		 size_t *len_out, struct stat *st_out, carnet_error *err)
{
	*data_out = NULL;
	*len_out = 0;
	/* never blocks: a FIFO or a device (even one swapped in after the
	 * walk looked) is opened without waiting, then refused on fstat */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return carnet_error__os(err, carnet_error__from_errno(errno),
					errno, "%s: cannot open", path);
	struct stat st;
	int rc = CARNET_OK;
	if (fstat(fd, &st) != 0) {
		rc = carnet_error__os(err, CARNET_E_IO, errno, "%s: cannot stat", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT,
				       0, "%s: not a regular file (%s)", path,
				       carnet_walk__type_name(st.st_mode));
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT,
				       0, "%s: file too large (%lld bytes, limit %llu)",
				       path, (long long)st.st_size, (unsigned long long)max);
		goto out;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *data = malloc(cap);
	if (!data) {
		rc = carnet_error__nomem(err, "reading a file");
		goto out;
	}
	for (;;) {
		if (len == cap - 1)
			break; /* the file grew while read: take what st said */
		ssize_t n = read(fd, data + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = carnet_error__os(err, CARNET_E_IO, errno,
					      "%s: read failed", path);
			free(data);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	data[len] = '\0';
	*data_out = data;
	*len_out = len;
	if (st_out)
		*st_out = st;
out:
	close(fd);
	return rc;
}

/* Hash of the input and its sidecar, as 32 hex digits. */
static void content_hash(char out[64], const char *data, size_t len,
			 const char *side, size_t side_len)
{
	XXH3_state_t *s = XXH3_createState();
	XXH128_hash_t h;
	if (s) {
		XXH3_128bits_reset(s);
		XXH3_128bits_update(s, data, len);
		XXH3_128bits_update(s, "\0sidecar\0", 9);
		if (side)
			XXH3_128bits_update(s, side, side_len);
		h = XXH3_128bits_digest(s);
		XXH3_freeState(s);
	} else {
		/* no memory for the state: hash both parts separately */
		XXH128_hash_t a = XXH3_128bits(data, len);
		XXH128_hash_t b = XXH3_128bits(side ? side : "", side ? side_len : 0);
		h.high64 = a.high64 ^ (b.high64 * 31);
		h.low64 = a.low64 ^ (b.low64 * 31);
	}
	snprintf(out, 64, "%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
}

/* Sink for readers: complete the document and keep it. */
static int collect(carnet_doc *doc, void *payload)
{
	pending *p = payload;
	carnet_error *err = p->err;
	char key[CARNET_ID_MAX + 1], why[160];
	/* a sidecar naming another patient than the document does is a
	 * conflict, not an override, unless it says it corrects the patient */
	if (p->meta && (p->meta->patient_id || p->meta->patient_system) && doc->patient_id &&
	    !p->meta->patient_correction) {
		/* a system alone in the sidecar requalifies the document's id */
		const char *mid = p->meta->patient_id ? p->meta->patient_id : doc->patient_id;
		char mkey[CARNET_ID_MAX + 1];
		if (carnet_patient__key(key, doc->patient_system, doc->patient_id, why, sizeof why))
			return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
						 "%s: the document's patient is refused: %s",
						 p->source, why);
		if (carnet_patient__key(mkey, p->meta->patient_system, mid, why, sizeof why))
			return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
						 "%s: the patient of %s.meta.json is refused: %s",
						 p->source, p->source, why);
		if (strcmp(key, mkey) != 0)
			return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
						 "%s: the document names patient %s but %s.meta.json names patient %s (set \"patient_correction\": true in the sidecar if it corrects the patient)",
						 p->source, key, p->source, mkey);
	}
	if (p->meta && carnet_sidecar__apply(doc, p->meta) != 0)
		goto nomem;
	if (carnet_doc__sets(&doc->source, p->source) != 0)
		goto nomem;
	if (!doc->patient_id)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT,
					 0, "%s: no patient id (give \"patient_id\" in %s.meta.json)",
					 p->source, p->source);
	/* the patient's key (core/patient.c): the query side keys requests
	 * with the same function */
	if (carnet_patient__key(key, doc->patient_system, doc->patient_id, why, sizeof why))
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: %s", p->source, why);
	/* a patient of another shard is that shard's: not read further here
	 * (the same id the router hashes: carnet_shard_of) */
	if (p->shard->count &&
	    carnet_patient__shard(doc->patient_id, p->shard->count) != p->shard->index) {
		p->other_shard++;
		return CARNET_OK;
	}
	if (carnet_doc__sets(&doc->patient_id, key) != 0)
		goto nomem;
	carnet_doc__normalise_visibility(doc->confidentiality);
	if (!doc->id) {
		/* a stable id derived from where the document was read */
		char id[40];
		XXH64_hash_t h = XXH3_64bits(p->source, strlen(p->source));
		snprintf(id, sizeof id, "F%016llx", (unsigned long long)h);
		if (p->count > 0) /* a source yielding several documents */
			snprintf(id + 17, sizeof id - 17, "-%zu", p->count + 1);
		if (carnet_doc__sets(&doc->id, id) != 0)
			goto nomem;
	}
	if (!doc->set_id && carnet_doc__sets(&doc->set_id, doc->id) != 0)
		goto nomem;
	const char *ids[] = { doc->id, doc->set_id, doc->type,
			      doc->author_id, doc->author_specialty };
	const char *names[] = { "id", "set_id", "type", "author_id",
				"author_specialty" };
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		if (ids[i] && !carnet_doc__valid_id(ids[i]))
			return carnet_error__set(err, CARNET_E_INVALID,
						 CARNET_ORIGIN_INPUT, 0,
						 "%s: %s is not a printable code of at most %d bytes",
						 p->source, names[i], CARNET_ID_MAX);
	if (!doc->date && carnet_doc__sets(&doc->date, p->default_date) != 0)
		goto nomem;
	if (!carnet_doc__valid_date(doc->date))
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT,
					 0, "%s: document date is not a valid YYYY-MM-DD date",
					 p->source);
	if (!doc->language && carnet_doc__sets(&doc->language, "fr") != 0)
		goto nomem;
	/* a result without a date of its own is of the document's */
	for (size_t i = 0; i < doc->results_count; i++)
		if (!doc->results[i].date && carnet_doc__sets(&doc->results[i].date, doc->date) != 0)
			goto nomem;
	/* masks set after upload (carnet-index mask) outlive re-reads */
	int vrc = carnet_registry__visibility_apply(p->reg, doc, err);
	if (vrc)
		return vrc;
	if (!doc->class_code && doc->type &&
	    carnet_doc__sets(&doc->class_code, carnet_codes__type_class(doc->type)) != 0)
		goto nomem;
	/* an optional code that cannot be an index term is dropped; it does
	 * not make the document bad */
	char **codes[] = { &doc->class_code, &doc->practice_setting };
	for (size_t i = 0; i < 2; i++)
		if (*codes[i] && !carnet_doc__valid_id(*codes[i]))
			carnet_doc__sets(codes[i], NULL);
	if (CARNET_GROW(p->docs, p->cap, p->count + 1) != 0)
		goto nomem;
	/* take the document over; the reader gets an empty one back */
	p->docs[p->count++] = *doc;
	carnet_doc__init(doc);
	return CARNET_OK;
nomem:
	return carnet_error__nomem(err, "reading a document");
}

/* The raw text of d's sections (at most CARNET_STORED_TEXT_MAX bytes, cut
 * at a character boundary), from which the query side makes snippets.
 * Returns 0 or -1 on no memory. */
static int stored_text(carnet_buf *out, const carnet_doc *d)
{
	size_t room = CARNET_STORED_TEXT_MAX;
	for (size_t i = 0; i < d->sections_count && room > 1; i++) {
		size_t n = d->sections[i].len;
		if (n >= room) {
			n = room - 1;
			/* do not cut a UTF-8 sequence */
			while (n > 0 && ((unsigned char)d->sections[i].text[n] & 0xC0) == 0x80)
				n--;
		}
		if (carnet_buf__put(out, d->sections[i].text, n) != 0 ||
		    carnet_buf__putc(out, '\n') != 0)
			return -1;
		room -= n + 1;
	}
	return 0;
}

/* Give the prepared document of d its CARNET_SLOT_RANK value: date, type,
 * specialty, id, and the content vector (which profiles' keywords it has),
 * so that ranking reads one value per candidate. */
/* The LOINC codes of d's results, each once, space-separated, into v
 * (what ranking reads of them). 0 or -1 on no memory. */
static int result_codes(carnet_buf *v, const carnet_doc *d)
{
	size_t start = v->len;
	for (size_t i = 0; i < d->results_count; i++) {
		const carnet_result *r = &d->results[i];
		if (!r->system || strcmp(r->system, CARNET_LOINC_OID) != 0 || !r->code)
			continue;
		/* a code already there (the same analyte twice) */
		size_t n = strlen(r->code);
		const char *seen = v->data ? v->data + start : NULL;
		int dup = 0;
		for (const char *p = seen; p && !dup && (p = strstr(p, r->code)) != NULL; p += n)
			dup = (p == seen || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0');
		if (!dup && carnet_buf__printf(v, "%s%s", v->len > start ? " " : "", r->code) != 0)
			return -1;
	}
	return 0;
}

static int add_rank_value(carnet_xprepared *x, const carnet_doc *d, const char *date,
			  int english, const carnet_ranking *rank, carnet_error *err)
{
	const carnet_xkeyset *keys = NULL;
	size_t nkeys = rank ? carnet_rank__keys_ready(rank, &keys) : 0;
	unsigned char *hits = calloc(nkeys ? nkeys : 1, 1);
	carnet_buf v = CARNET_BUF_INIT;
	int rc = hits ? CARNET_OK : CARNET_E_NOMEM;
	if (rc == CARNET_OK && nkeys)
		rc = carnet_xap_prepared_match(x, keys, english, hits, err);
	if (rc == CARNET_OK) {
		const char sep = CARNET_RANK_SEP;
		if (carnet_buf__printf(&v, "%s%c%s%c%s%c%s%c", date, sep, d->type ? d->type : "",
				       sep, d->author_specialty ? d->author_specialty : "", sep,
				       d->id, sep) != 0 || result_codes(&v, d) != 0 ||
		    carnet_buf__printf(&v, "%c", sep) != 0 ||
		    (rank && carnet_rank__content(rank, hits, &v) != 0))
			rc = CARNET_E_NOMEM;
	}
	if (rc == CARNET_OK)
		rc = carnet_xap_prepared_value(x, CARNET_SLOT_RANK, v.data, v.len, err);
	else if (rc == CARNET_E_NOMEM)
		carnet_error__nomem(err, "indexing a document");
	free(hits);
	carnet_buf__free(&v);
	return rc;
}

/* What the words of a section of each kind weigh in the index (their wdf
 * increment): the one place a section kind becomes a weight. */
static unsigned section_weight(carnet_section_kind kind)
{
	switch (kind) {
	case CARNET_SECTION_CONCLUSION:
		return CARNET_WEIGHT_CONCLUSION;
	case CARNET_SECTION_BODY:
		break;
	}
	return CARNET_WEIGHT_BODY;
}

/* carnet_text__fold of text[0..len) into out, in pieces (folding is
 * character by character) with the time budget checked between them. */
static int fold_in_time(carnet_buf *out, const char *text, size_t len, const char *source,
			carnet_error *err)
{
	const size_t piece = 256 * 1024;
	size_t n;
	for (; len; text += n, len -= n) {
		if (carnet_budget__over())
			return carnet_budget__fail(err, source);
		n = len;
		if (n > piece) {
			n = piece;
			while (n > 1 && ((unsigned char)text[n] & 0xC0) == 0x80)
				n--;
		}
		int rc = carnet_text__fold(out, text, n, err);
		if (rc)
			return rc;
	}
	return CARNET_OK;
}

/* The terms of d's coded results into termbuf (NUL-separated, counted in
 * *nterms): CARNET_PREFIX_RESULT system|code, cut to CARNET_ID_MAX bytes,
 * and CARNET_TERM_HAS_RESULTS when there is one. 0, or -1 on no memory. */
static int result_terms(carnet_buf *termbuf, const carnet_doc *d, size_t *nterms)
{
	for (size_t i = 0; i < d->results_count; i++) {
		const carnet_result *r = &d->results[i];
		size_t start = termbuf->len;
		if (carnet_buf__printf(termbuf, CARNET_PREFIX_RESULT "%s|%s",
				       r->system ? r->system : "", r->code) != 0)
			return -1;
		if (termbuf->len - start > CARNET_ID_MAX) {
			termbuf->len = start + CARNET_ID_MAX;
			termbuf->data[termbuf->len] = '\0';
		}
		if (carnet_buf__putc(termbuf, '\0') != 0)
			return -1;
		(*nterms)++;
	}
	if (d->results_count && (carnet_buf__puts(termbuf, CARNET_TERM_HAS_RESULTS) != 0 ||
				 carnet_buf__putc(termbuf, '\0') != 0))
		return -1;
	*nterms += d->results_count > 0;
	return 0;
}

/* d's boolean terms (patient, set, type, specialty, author, class,
 * setting, year, confidentiality codes), NUL-separated in termbuf, and
 * *terms_out (to free) pointing at each of them. 0, or -1 on no memory. */
static int boolean_terms(carnet_buf *termbuf, const carnet_doc *d,
			 const char ***terms_out, size_t *nterms_out)
{
	*terms_out = NULL;
	*nterms_out = 0;
	struct { const char *prefix, *value; } bt[] = {
		{ CARNET_PREFIX_PATIENT, d->patient_id },
		{ CARNET_PREFIX_SET, d->set_id },
		{ CARNET_PREFIX_TYPE, d->type },
		{ CARNET_PREFIX_SPECIALTY, d->author_specialty },
		{ CARNET_PREFIX_AUTHOR, d->author_id },
		{ CARNET_PREFIX_CLASS, d->class_code },
		{ CARNET_PREFIX_SETTING, d->practice_setting },
	};
	size_t nterms = 0;
	for (size_t i = 0; i < sizeof bt / sizeof bt[0]; i++) {
		if (!bt[i].value)
			continue;
		if (carnet_buf__printf(termbuf, "%s%s", bt[i].prefix, bt[i].value) ||
		    carnet_buf__putc(termbuf, '\0'))
			return -1;
		nterms++;
	}
	if (carnet_buf__printf(termbuf, CARNET_PREFIX_YEAR "%.4s", d->date) ||
	    carnet_buf__putc(termbuf, '\0'))
		return -1;
	nterms++;
	if (result_terms(termbuf, d, &nterms) != 0)
		return -1;
	if (d->confidentiality) {
		const char *c = d->confidentiality;
		while (*c) {
			size_t n = strcspn(c, " \t\r\n");
			if (n && (carnet_buf__printf(termbuf, CARNET_PREFIX_CONF "%.*s",
						     (int)n, c) ||
				  carnet_buf__putc(termbuf, '\0')))
				return -1;
			nterms += n > 0;
			c += n;
			while (*c == ' ' || *c == '\t' || *c == '\r' || *c == '\n')
				c++;
		}
	}
	const char **terms = calloc(nterms ? nterms : 1, sizeof *terms);
	if (!terms)
		return -1;
	for (size_t i = 0, off = 0; i < nterms; i++) {
		terms[i] = termbuf->data + off;
		off += strlen(terms[i]) + 1;
	}
	*terms_out = terms;
	*nterms_out = nterms;
	return 0;
}

/* The texts of d, folded into folded, as texts[0..*ntexts) (room for the
 * sections and two more): the title twice (weighted, and under its own
 * prefix), then the sections. */
static int fold_texts(carnet_buf *folded, carnet_xtext *texts, size_t *ntexts,
		      const carnet_doc *d, carnet_error *err)
{
	size_t *offs = calloc(d->sections_count + 3, sizeof *offs);
	if (!offs)
		return carnet_error__nomem(err, "indexing a document");
	int rc = CARNET_OK;
	size_t t = 0;
	if (d->title) {
		offs[t] = folded->len;
		rc = carnet_text__fold(folded, d->title, strlen(d->title), err);
		texts[t++] = (carnet_xtext){ NULL, 0, CARNET_WEIGHT_TITLE, "" };
		texts[t++] = (carnet_xtext){ NULL, 0, 1, CARNET_PREFIX_TITLE };
	}
	size_t first_section = t;
	for (size_t i = 0; rc == CARNET_OK && i < d->sections_count; i++) {
		offs[t] = folded->len;
		rc = fold_in_time(folded, d->sections[i].text, d->sections[i].len, d->source,
				  err);
		texts[t++] = (carnet_xtext){ NULL, 0, section_weight(d->sections[i].kind), "" };
	}
	if (rc == CARNET_OK) {
		size_t title_end = d->title ? (d->sections_count ? offs[first_section] : folded->len) : 0;
		if (d->title) {
			texts[0].text = texts[1].text = folded->data;
			texts[0].len = texts[1].len = title_end;
		}
		for (size_t i = first_section; i < t; i++) {
			size_t end = i + 1 < t ? offs[i + 1] : folded->len;
			texts[i].text = folded->data + offs[i];
			texts[i].len = end - offs[i];
		}
	}
	free(offs);
	*ntexts = t;
	return rc;
}

/* Prepare x, the Xapian document of d, with its values (the record, the
 * stored text) and its rank value. */
static int prepare_xdoc(carnet_xprepared **out, const carnet_doc *d, carnet_xdoc *x,
			const carnet_ranking *rank, carnet_error *err)
{
	char date[9];
	snprintf(date, sizeof date, "%.4s%.2s%.2s", d->date, d->date + 5, d->date + 8);
	carnet_xvalue values[5];
	/* the record and the text in values of their own: a hit without a
	 * snippet reads the record alone; the text is packed here
	 * (core/textpack.c), and the document data stays empty, so Xapian
	 * has nothing to deflate */
	size_t nvalues = 0;
	values[nvalues++] = (carnet_xvalue){ CARNET_SLOT_DATE, date, 8 };
	values[nvalues++] = (carnet_xvalue){ CARNET_SLOT_SET, d->set_id, strlen(d->set_id) };

	char id_term[CARNET_ID_MAX + 8];
	snprintf(id_term, sizeof id_term, CARNET_PREFIX_ID "%s", d->id);
	carnet_buf record = CARNET_BUF_INIT, text = CARNET_BUF_INIT, results = CARNET_BUF_INIT;
	carnet_buf packed = CARNET_BUF_INIT;
	int rc = CARNET_OK;
	if (carnet_doc__encode_record(&record, d) != 0 || stored_text(&text, d) != 0 ||
	    carnet_textpack__pack(&packed, text.data, text.len) != 0 ||
	    carnet_results__encode(&results, d->results, d->results_count) != 0)
		rc = carnet_error__nomem(err, "indexing a document");
	if (rc == CARNET_OK) {
		if (results.len)
			values[nvalues++] = (carnet_xvalue){ CARNET_SLOT_RESULTS, results.data,
							     results.len };
		/* English documents get English stems; queries look for both */
		int english = d->language && strncmp(d->language, "en", 2) == 0;
		values[nvalues++] = (carnet_xvalue){ CARNET_SLOT_RECORD, record.data, record.len };
		if (packed.len)
			values[nvalues++] = (carnet_xvalue){ CARNET_SLOT_TEXT, packed.data,
							     packed.len };
		x->id_term = id_term;
		x->values = values;
		x->values_count = nvalues;
		x->data = "";
		x->data_len = 0;
		x->stem_language = english ? "english" : "french";
		rc = carnet_xap_prepare_until(out, x, carnet_budget__over, err);
		if (rc && carnet_budget__expired())
			rc = carnet_budget__fail(err, d->source);
		if (rc == CARNET_OK && (rc = add_rank_value(*out, d, date, english, rank, err))) {
			carnet_xap_prepared_free(*out);
			*out = NULL;
		}
	}
	carnet_buf__free(&text);
	carnet_buf__free(&packed);
	carnet_buf__free(&record);
	carnet_buf__free(&results);
	return rc;
}

/* Build the Xapian document of d (without the latest term: the writer
 * sets it, see carnet_writer__mark_latest). */
static int build_doc(carnet_xprepared **out, const carnet_doc *d,
		     const carnet_ranking *rank, carnet_error *err)
{
	*out = NULL;
	carnet_buf folded = CARNET_BUF_INIT, termbuf = CARNET_BUF_INIT;
	carnet_xdoc x;
	memset(&x, 0, sizeof x);
	carnet_xtext *texts = calloc(d->sections_count + 2, sizeof *texts);
	const char **terms = NULL;
	size_t nterms = 0, ntexts = 0;
	int rc;
	if (!texts || boolean_terms(&termbuf, d, &terms, &nterms) != 0)
		rc = carnet_error__nomem(err, "indexing a document");
	else if ((rc = fold_texts(&folded, texts, &ntexts, d, err)) == CARNET_OK) {
		x.terms = terms;
		x.terms_count = nterms;
		x.texts = texts;
		x.texts_count = ntexts;
		rc = prepare_xdoc(out, d, &x, rank, err);
	}
	free(texts);
	free(terms);
	carnet_buf__free(&folded);
	carnet_buf__free(&termbuf);
	return rc;
}

/* An input's bytes, and its sidecar's, as read. */
typedef struct input_files {
	char *data, *side;          /* side: NULL without a sidecar */
	size_t len, side_len;
	struct stat st;
	char side_path[PATH_MAX + 16];
} input_files;

/* Read path (resolved into job->source) and its sidecar into f. 0, or -1
 * with job's kind and reason set. */
static int read_files(carnet_prepared *job, const char *path,
		      const carnet_limits *limits, input_files *f)
{
	carnet_error *reason = &job->reason;
	if (!realpath(path, job->source)) {
		int e = errno;
		job->source[0] = '\0';
		carnet_error__os(reason, carnet_error__from_errno(e), e,
				 "%s: cannot read", path);
		return -1;
	}
	int rc = slurp(job->source, limits->input_bytes, &f->data, &f->len, &f->st, reason);
	if (rc) {
		if (rc == CARNET_E_NOMEM)
			job->kind = CARNET_PREP_FATAL;
		return -1;
	}
	/* the sidecar, if there is one */
	snprintf(f->side_path, sizeof f->side_path, "%s.meta.json", job->source);
	carnet_error side_err;
	if (slurp(f->side_path, 1024 * 1024, &f->side, &f->side_len, NULL,
		  &side_err) != CARNET_OK && side_err.code != CARNET_E_NOTFOUND) {
		*reason = side_err;
		if (side_err.code == CARNET_E_NOMEM)
			job->kind = CARNET_PREP_FATAL;
		return -1;
	}
	return 0;
}

/* Was job's source read before with this content and sidecar? 1 with
 * job's kind set (unchanged, rejected before, or fatal when the registry
 * failed), 0 if it must be read. */
static int known_before(carnet_prepared *job, carnet_registry *reg,
			const input_files *f)
{
	carnet_error *reason = &job->reason;
	content_hash(job->hash, f->data, f->len, f->side, f->side_len);
	char old_hash[64] = "";
	int rc = carnet_registry__source_get(reg, job->source, &job->state, old_hash,
					     reason->message, sizeof reason->message, reason);
	if (rc) {
		job->kind = CARNET_PREP_FATAL;
		return 1;
	}
	/* what the decisions below rest on, for carnet_prepare__recheck */
	job->state_read = 1;
	memcpy(job->state_hash, old_hash, sizeof job->state_hash);
	snprintf(job->state_note, sizeof job->state_note, "%s", reason->message);
	if (job->state == CARNET_SOURCE_NONE || strcmp(old_hash, job->hash) != 0)
		return 0;
	if (job->state == CARNET_SOURCE_INDEXED &&
	    strcmp(reason->message, CARNET_OTHER_SHARD_NOTE) == 0) {
		job->kind = CARNET_PREP_OTHER_SHARD_BEFORE;
		reason->message[0] = '\0';
	} else if (job->state == CARNET_SOURCE_INDEXED) {
		job->kind = CARNET_PREP_UNCHANGED;
	} else {
		/* rejected before, for the reason now in reason->message */
		reason->code = CARNET_E_INVALID;
		reason->origin = CARNET_ORIGIN_INPUT;
		job->kind = CARNET_PREP_REJECTED_BEFORE;
	}
	return 1;
}

/* Run the reader of job's source over f, the sidecar's metadata (meta,
 * NULL without a sidecar) completing the documents it finds, which go to
 * job. CARNET_OK, or why the input yields nothing (in job's reason). */
static int read_docs(carnet_prepared *job, carnet_registry *reg,
		     const carnet_limits *limits, const carnet_shard_spec *shard,
		     const input_files *f, const carnet_doc *meta)
{
	carnet_error *reason = &job->reason;
	carnet_input in = { job->source, f->data, f->len, limits };
	const carnet_reader *reader = carnet_reader__find(&in);
	char default_date[16];
	struct tm tm;
	localtime_r(&f->st.st_mtime, &tm);
	strftime(default_date, sizeof default_date, "%Y-%m-%d", &tm);
	pending p = { reg, job->source, meta, default_date, shard, NULL, 0, 0, 0, reason };
	int read_rc;
	if (!reader) {
		char ext[16];
		carnet_reader__extension(job->source, ext, sizeof ext);
		read_rc = carnet_error__set(reason, CARNET_E_UNSUPPORTED_FORMAT,
					    CARNET_ORIGIN_INPUT, 0,
					    "%s: no reader for this kind of file (extension \"%s\")",
					    job->source, ext);
	} else if (!meta && (reader->flags & CARNET_READER_NEEDS_SIDECAR)) {
		read_rc = carnet_error__set(reason, CARNET_E_INVALID,
					    CARNET_ORIGIN_INPUT, 0,
					    "%s: no sidecar %s.meta.json with the patient id",
					    job->source, job->source);
	} else {
		/* the input's time budget runs from here to its last document
		 * built for Xapian */
		carnet_budget__start(limits);
		read_rc = reader->read(&in, collect, &p, reason);
		if (read_rc == CARNET_OK && carnet_budget__over())
			read_rc = carnet_budget__fail(reason, job->source);
		if (read_rc == CARNET_OK && p.count == 0 && p.other_shard)
			job->kind = CARNET_PREP_OTHER_SHARD;
		else if (read_rc == CARNET_OK && p.count == 0)
			read_rc = carnet_error__set(reason, CARNET_E_INVALID,
						    CARNET_ORIGIN_INPUT, 0,
						    "%s: no document found", job->source);
	}
	job->docs = p.docs;
	job->count = p.count;
	return read_rc;
}

/* The Xapian documents of job's documents: text folded, terms generated,
 * here. Sets job's kind. */
static void build_docs(carnet_prepared *job, const carnet_ranking *rank)
{
	carnet_error *reason = &job->reason;
	job->xdocs = calloc(job->count, sizeof *job->xdocs);
	if (!job->xdocs) {
		carnet_error__nomem(reason, "indexing an input");
		job->kind = CARNET_PREP_FATAL;
		return;
	}
	for (size_t i = 0; i < job->count; i++) {
		if (build_doc(&job->xdocs[i], &job->docs[i], rank, reason)) {
			/* a document over its time budget is rejected */
			job->kind = carnet_budget__expired() ? CARNET_PREP_REJECT
							     : CARNET_PREP_FATAL;
			return;
		}
	}
	if (carnet_budget__over()) {
		carnet_budget__fail(reason, job->source);
		job->kind = CARNET_PREP_REJECT;
		return;
	}
	job->kind = CARNET_PREP_DOCS;
}

int carnet_prepare__input(carnet_prepared *job, const char *path,
			  carnet_registry *reg, const carnet_limits *limits,
			  const carnet_ranking *rank, const carnet_shard_spec *shard)
{
	memset(job, 0, sizeof *job);
	carnet_error *reason = &job->reason;
	snprintf(job->path, sizeof job->path, "%s", path);
	input_files f;
	memset(&f, 0, sizeof f);
	job->kind = CARNET_PREP_REJECT;
	if (read_files(job, path, limits, &f) != 0 || known_before(job, reg, &f))
		goto out;
	carnet_doc meta;
	carnet_doc__init(&meta);
	meta.version = 0;
	if (f.side && carnet_sidecar__parse(&meta, f.side_path, f.side, f.side_len, reason)) {
		carnet_doc__clear(&meta);
		if (reason->code == CARNET_E_NOMEM)
			job->kind = CARNET_PREP_FATAL;
		goto out;
	}
	int read_rc = read_docs(job, reg, limits, shard, &f, f.side ? &meta : NULL);
	carnet_doc__clear(&meta);
	if (read_rc) {
		/* out of memory, or an extractor that cannot run, is not the
		 * input's fault: stop rather than reject good files */
		job->kind = read_rc == CARNET_E_NOMEM || read_rc == CARNET_E_INTERNAL
				    ? CARNET_PREP_FATAL
				    : CARNET_PREP_REJECT;
		goto out;
	}
	if (job->kind != CARNET_PREP_OTHER_SHARD)
		build_docs(job, rank);
out:
	carnet_budget__stop();
	free(f.data);
	free(f.side);
	return job->kind;
}

int carnet_prepare__recheck(carnet_prepared *job, carnet_registry *reg,
			    const carnet_limits *limits, const carnet_ranking *rank,
			    const carnet_shard_spec *shard)
{
	if (!job->state_read || job->kind == CARNET_PREP_FATAL)
		return job->kind; /* decided without the registry */
	int state;
	char hash[64] = "";
	carnet_error now;
	carnet_error__clear(&now);
	if (carnet_registry__source_get(reg, job->source, &state, hash, now.message,
					sizeof now.message, &now) != CARNET_OK) {
		carnet_prepare__clear(job);
		job->kind = CARNET_PREP_FATAL;
		job->reason = now;
		return job->kind;
	}
	if (state == job->state && (state == CARNET_SOURCE_NONE ||
				    (strcmp(hash, job->state_hash) == 0 &&
				     strcmp(now.message, job->state_note) == 0)))
		return job->kind;
	/* an input applied since (by the writer, not committed when the
	 * worker looked) recorded this source: decide again, as one by one */
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s", job->path);
	carnet_prepare__clear(job);
	return carnet_prepare__input(job, path, reg, limits, rank, shard);
}

void carnet_prepare__clear(carnet_prepared *job)
{
	for (size_t i = 0; i < job->count; i++) {
		carnet_doc__clear(&job->docs[i]);
		if (job->xdocs)
			carnet_xap_prepared_free(job->xdocs[i]);
	}
	free(job->docs);
	free(job->xdocs);
	job->docs = NULL;
	job->xdocs = NULL;
	job->count = 0;
}

/* writer.c - the index writer (public carnet_writer_*): reads inputs through
 * the readers, records them in the registry and indexes them in Xapian,
 * committing both together. */
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

#include "carnet.h"
#include "codes.h"
#include "home.h"
#include "reader.h"
#include "registry.h"
#include "schema.h"
#include "sidecar.h"
#include "text.h"
#include "xapian_shim.h"

struct carnet_writer {
	carnet_registry *reg;
	carnet_xwriter *xw;
	carnet_limits limits;
	int lock_fd;              /* the home's writer lock */
	char new_gen[CARNET_PATH_MAX]; /* rebuild: the generation being written */
	carnet_error *scratch_err;     /* for callbacks */
	int disagree;                  /* Xapian committed, the registry did not */
	char old_gen[CARNET_PATH_MAX]; /* rebuild: the one live when it began */
	char home[CARNET_PATH_MAX];
};

/* One input being indexed: the documents its reader produced. */
typedef struct pending {
	carnet_writer *w;
	const char *source;      /* canonical path */
	const carnet_doc *meta;  /* sidecar, or NULL */
	const char *default_date;
	carnet_doc *docs;
	size_t count, cap;
	carnet_error *err;
} pending;

/* Does the registry know document id (a term "Q<id>")? If not, the
 * document was committed to Xapian by a run that died before its registry
 * commit, from a file the registry never recorded: remove it. */
static int drop_orphan(const char *term, size_t len, void *payload)
{
	carnet_writer *w = payload;
	carnet_error *err = w->scratch_err;
	char id[CARNET_ID_MAX + 2];
	if (len < 2 || len - 1 > CARNET_ID_MAX)
		return 0;
	memcpy(id, term + 1, len - 1);
	id[len - 1] = '\0';
	int found;
	int rc = carnet_registry__doc_exists(w->reg, id, &found, NULL, err);
	if (rc == CARNET_OK && !found)
		rc = carnet_xap_writer_delete(w->xw, term, err);
	return rc;
}

/* After a run that did not finish (the registry's "clean" mark is unset),
 * make the index agree with the registry again. The reverse case cannot
 * happen: the registry only commits after Xapian. */
static int recover(carnet_writer *w, carnet_error *err)
{
	char clean[8];
	int rc = carnet_registry__meta_get(w->reg, "clean", clean, sizeof clean, err);
	if (rc)
		return rc;
	if (strcmp(clean, "0") == 0) {
		w->scratch_err = err;
		if ((rc = carnet_xap_writer_each_term(w->xw, CARNET_PREFIX_ID, drop_orphan, w, err)) ||
		    (rc = carnet_xap_writer_commit(w->xw, err)))
			return rc;
	}
	/* until close, a crash leaves this mark for the next writer to see */
	if ((rc = carnet_registry__begin(w->reg, err)) ||
	    (rc = carnet_registry__meta_set(w->reg, "clean", "0", err)))
		return rc;
	return carnet_registry__commit(w->reg, err);
}

/* Open the Xapian database and the registry of generation directory gen. */
static int open_generation(carnet_writer *w, const char *gen, carnet_error *err)
{
	char db[CARNET_PATH_MAX], reg[CARNET_PATH_MAX];
	int rc;
	if ((rc = carnet_home__path(db, sizeof db, gen, CARNET_XAPIAN_DIR, err)) ||
	    (rc = carnet_home__path(reg, sizeof reg, gen, CARNET_REGISTRY_FILE, err)))
		return rc;
	if ((rc = carnet_xap_writer_open(&w->xw, db, err)) ||
	    (rc = carnet_registry__open(&w->reg, reg, 1, err)))
		return rc;
	return recover(w, err);
}

/* Common start of a writer: create the home if needed, take its lock
 * (never waiting), and remove what an unfinished rebuild left. */
static int start(carnet_writer **out, const char *home, carnet_error *err)
{
	*out = NULL;
	carnet_writer *w = calloc(1, sizeof *w);
	if (!w)
		return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET,
					 0, "out of memory opening writer");
	w->lock_fd = -1;
	snprintf(w->home, sizeof w->home, "%s", home);
	w->limits.input_bytes = CARNET_DEFAULT_INPUT_BYTES;
	w->limits.pdf_seconds = CARNET_DEFAULT_PDF_SECONDS;
	w->limits.pdf_memory_bytes = CARNET_DEFAULT_PDF_MEMORY_BYTES;
	int rc;
	if ((rc = carnet_home__create(home, err)) ||
	    (rc = carnet_home__lock(&w->lock_fd, home, err)) ||
	    (rc = carnet_home__prune(home, NULL, 1, err))) {
		carnet_writer_close(w);
		return rc;
	}
	*out = w;
	return CARNET_OK;
}

int carnet_writer_open(carnet_writer **out, const char *home,
		       carnet_error *err)
{
	*out = NULL;
	home = carnet_home__resolve(home);
	carnet_writer *w;
	int rc = start(&w, home, err);
	if (rc)
		return rc;
	char gen[CARNET_PATH_MAX];
	if ((rc = carnet_home__current(gen, sizeof gen, home, err)) ||
	    (rc = open_generation(w, gen, err))) {
		carnet_writer_close(w);
		return rc;
	}
	*out = w;
	return CARNET_OK;
}

int carnet_writer_open_rebuild(carnet_writer **out, const char *home,
			       carnet_error *err)
{
	*out = NULL;
	home = carnet_home__resolve(home);
	carnet_writer *w;
	int rc = start(&w, home, err);
	if (rc)
		return rc;
	char live[CARNET_PATH_MAX], live_reg[CARNET_PATH_MAX], gen[CARNET_PATH_MAX];
	if ((rc = carnet_home__current(live, sizeof live, home, err)) ||
	    (rc = carnet_home__path(live_reg, sizeof live_reg, live, CARNET_REGISTRY_FILE, err)) ||
	    (rc = carnet_home__new_generation(gen, sizeof gen, w->new_gen, sizeof w->new_gen,
					      home, err)) ||
	    (rc = open_generation(w, gen, err))) {
		carnet_writer_close(w);
		return rc;
	}
	/* masks set after upload survive the rebuild */
	const char *slash = strrchr(live, '/');
	snprintf(w->old_gen, sizeof w->old_gen, "%s", slash ? slash + 1 : live);
	if (access(live_reg, F_OK) == 0 &&
	    (rc = carnet_registry__copy_visibility(w->reg, live_reg, err))) {
		carnet_writer_close(w);
		return rc;
	}
	*out = w;
	return CARNET_OK;
}

int carnet_writer_publish(carnet_writer *w, carnet_error *err)
{
	if (!w->new_gen[0])
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "this writer is not a rebuild");
	int rc;
	if ((rc = carnet_writer_commit(w, err)) ||
	    (rc = carnet_home__publish(w->home, w->new_gen, err)))
		return rc;
	/* readers move to the new generation at their next search; the one
	 * they may still have open stays until the next rebuild */
	rc = carnet_home__prune(w->home, w->old_gen, 0, err);
	w->new_gen[0] = '\0';
	return rc;
}

int carnet_writer_set_limit(carnet_writer *w, carnet_limit which,
			    uint64_t value, carnet_error *err)
{
	if (value == 0)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET,
					 0, "a limit must be greater than 0");
	switch (which) {
	case CARNET_LIMIT_INPUT_BYTES:
		w->limits.input_bytes = value;
		return CARNET_OK;
	case CARNET_LIMIT_PDF_SECONDS:
		w->limits.pdf_seconds = value > 86400 ? 86400 : (unsigned)value;
		return CARNET_OK;
	case CARNET_LIMIT_PDF_MEMORY_BYTES:
		w->limits.pdf_memory_bytes = value;
		return CARNET_OK;
	}
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
				 "unknown limit %d", (int)which);
}

void carnet_writer_close(carnet_writer *w)
{
	if (!w)
		return;
	/* a writer closed normally leaves index and registry in agreement
	 * (uncommitted changes are discarded from both) */
	if (w->reg && w->xw && !w->disagree) {
		carnet_registry__rollback(w->reg);
		if (carnet_registry__begin(w->reg, NULL) == CARNET_OK &&
		    carnet_registry__meta_set(w->reg, "clean", "1", NULL) == CARNET_OK)
			carnet_registry__commit(w->reg, NULL);
		else
			carnet_registry__rollback(w->reg);
	}
	carnet_xap_writer_free(w->xw);
	carnet_registry__close(w->reg);
	carnet_home__unlock(w->lock_fd);
	free(w);
}

int carnet_writer_commit(carnet_writer *w, carnet_error *err)
{
	/* Xapian first: if we crash before the registry commits, the next run
	 * sees the sources as new and indexes them again (replacing by id). */
	int rc = carnet_xap_writer_commit(w->xw, err);
	if (rc) {
		carnet_registry__rollback(w->reg);
		return rc;
	}
	/* Crash point for the crash-consistency tests: the process dies in the
	 * one window where the index is ahead of the registry. Only an
	 * environment variable set on purpose reaches it. */
	const char *crash = getenv("CARNET_CRASH_AT");
	if (crash && strcmp(crash, "between-index-and-registry-commits") == 0)
		_exit(99);
	rc = carnet_registry__commit(w->reg, err);
	if (rc)
		w->disagree = 1; /* left for the next writer's recovery */
	return rc;
}

/* Read a whole file. NOTFOUND when missing; IO otherwise. */
static int slurp(const char *path, uint64_t max, char **data_out,
		 size_t *len_out, struct stat *st_out, carnet_error *err)
{
	*data_out = NULL;
	*len_out = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
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
				       0, "%s: not a regular file", path);
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
		rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET,
				       0, "%s: out of memory reading", path);
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

/* Record a rejected source and describe it in err. */
static int record_reject(carnet_writer *w, const char *source,
			 const char *hash, carnet_error *reason,
			 carnet_outcome *outcome_out, carnet_error *err)
{
	if (outcome_out)
		*outcome_out = CARNET_OUTCOME_REJECTED;
	int rc;
	if ((rc = carnet_registry__begin(w->reg, err)) ||
	    (rc = carnet_registry__source_set(w->reg, source, hash ? hash : "",
					      CARNET_SOURCE_REJECTED,
					      reason->message, err)))
		return rc;
	if (err && err != reason)
		*err = *reason;
	if (err)
		err->origin = CARNET_ORIGIN_INPUT;
	return CARNET_OK;
}

/* Sink for readers: complete the document and keep it. */
static int collect(carnet_doc *doc, void *payload)
{
	pending *p = payload;
	carnet_error *err = p->err;
	if (p->meta && carnet_sidecar__apply(doc, p->meta) != 0)
		goto nomem;
	if (carnet_doc__sets(&doc->source, p->source) != 0)
		goto nomem;
	if (!doc->patient_id)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT,
					 0, "%s: no patient id (give \"patient_id\" in %s.meta.json)",
					 p->source, p->source);
	if (!carnet_doc__valid_id(doc->patient_id))
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT,
					 0, "%s: patient id is not a printable code of at most %d bytes",
					 p->source, CARNET_ID_MAX);
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
	/* masks set after upload (carnet-index mask) outlive re-reads */
	int vrc = carnet_registry__visibility_apply(p->w->reg, doc, err);
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
	if (p->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 2;
		carnet_doc *d = realloc(p->docs, cap * sizeof *d);
		if (!d)
			goto nomem;
		p->docs = d;
		p->cap = cap;
	}
	/* take the document over; the reader gets an empty one back */
	p->docs[p->count++] = *doc;
	carnet_doc__init(doc);
	return CARNET_OK;
nomem:
	return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
				 "%s: out of memory", p->source);
}

/* Versions of a set as the registry knows them, to find the newest. */
typedef struct set_scan {
	char best_id[CARNET_ID_MAX + 1];
	int best_version;
	char best_date[16];
	char (*ids)[CARNET_ID_MAX + 1];
	size_t count, cap;
} set_scan;

/* Is (version, date, id) newer than the best so far? */
static int newer(const set_scan *s, int version, const char *date,
		 const char *id)
{
	if (!s->best_id[0] || version != s->best_version)
		return !s->best_id[0] || version > s->best_version;
	int c = strcmp(date, s->best_date);
	return c != 0 ? c > 0 : strcmp(id, s->best_id) > 0;
}

static int scan_set(const char *id, const char *set_id, int version,
		    const char *date, void *payload)
{
	(void)set_id;
	set_scan *s = payload;
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4;
		void *p = realloc(s->ids, cap * sizeof *s->ids);
		if (!p)
			return CARNET_E_NOMEM;
		s->ids = p;
		s->cap = cap;
	}
	snprintf(s->ids[s->count++], sizeof *s->ids, "%s", id);
	if (newer(s, version, date, id)) {
		snprintf(s->best_id, sizeof s->best_id, "%s", id);
		snprintf(s->best_date, sizeof s->best_date, "%s", date);
		s->best_version = version;
	}
	return 0;
}

/* Make the newest version of set_id, and only it, carry the latest term.
 * Call after the registry holds the set's current versions. */
static int mark_latest(carnet_writer *w, const char *set_id, carnet_error *err)
{
	set_scan s;
	memset(&s, 0, sizeof s);
	int rc = carnet_registry__docs_of_set(w->reg, set_id, scan_set, &s, err);
	if (rc == CARNET_E_NOMEM)
		carnet_error__set(err, rc, CARNET_ORIGIN_CARNET, 0,
				  "out of memory scanning versions");
	for (size_t i = 0; rc == CARNET_OK && i < s.count; i++) {
		char term[CARNET_ID_MAX + 8];
		snprintf(term, sizeof term, CARNET_PREFIX_ID "%s", s.ids[i]);
		rc = carnet_xap_writer_set_term(w->xw, term, CARNET_TERM_LATEST,
						strcmp(s.ids[i], s.best_id) == 0,
						err);
		if (rc == CARNET_E_NOTFOUND) /* registry ahead of the index */
			rc = CARNET_OK;
	}
	free(s.ids);
	return rc;
}

/* Index one complete document (without the latest term; see mark_latest). */
static int index_doc(carnet_writer *w, const carnet_doc *d, carnet_error *err)
{
	carnet_buf folded = CARNET_BUF_INIT, record = CARNET_BUF_INIT;
	carnet_buf termbuf = CARNET_BUF_INIT;
	int rc = CARNET_OK;

	/* boolean terms, NUL-separated in termbuf */
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
		if (carnet_buf__printf(&termbuf, "%s%s", bt[i].prefix, bt[i].value) ||
		    carnet_buf__putc(&termbuf, '\0'))
			goto nomem;
		nterms++;
	}
	if (carnet_buf__printf(&termbuf, CARNET_PREFIX_YEAR "%.4s", d->date) ||
	    carnet_buf__putc(&termbuf, '\0'))
		goto nomem;
	nterms++;
	if (d->confidentiality) {
		const char *c = d->confidentiality;
		while (*c) {
			size_t n = strcspn(c, " ");
			if (n && (carnet_buf__printf(&termbuf, CARNET_PREFIX_CONF "%.*s",
						     (int)n, c) ||
				  carnet_buf__putc(&termbuf, '\0')))
				goto nomem;
			nterms += n > 0;
			c += n;
			while (*c == ' ')
				c++;
		}
	}
	const char **terms = calloc(nterms ? nterms : 1, sizeof *terms);
	if (!terms)
		goto nomem;
	for (size_t i = 0, off = 0; i < nterms; i++) {
		terms[i] = termbuf.data + off;
		off += strlen(terms[i]) + 1;
	}

	/* text: the title twice (weighted, and under its own prefix), then
	 * the sections; all folded */
	size_t ntexts = d->sections_count + (d->title ? 2 : 0);
	carnet_xtext *texts = calloc(ntexts ? ntexts : 1, sizeof *texts);
	size_t *offs = calloc(ntexts ? ntexts + 1 : 1, sizeof *offs);
	if (!texts || !offs) {
		free(texts);
		free(offs);
		free(terms);
		goto nomem;
	}
	size_t t = 0;
	if (d->title) {
		offs[t] = folded.len;
		rc = carnet_text__fold(&folded, d->title, strlen(d->title), err);
		texts[t++] = (carnet_xtext){ NULL, 0, CARNET_WEIGHT_TITLE, "" };
		texts[t++] = (carnet_xtext){ NULL, 0, 1, CARNET_PREFIX_TITLE };
	}
	size_t first_section = t;
	for (size_t i = 0; rc == CARNET_OK && i < d->sections_count; i++) {
		offs[t] = folded.len;
		rc = carnet_text__fold(&folded, d->sections[i].text,
				       d->sections[i].len, err);
		texts[t++] = (carnet_xtext){ NULL, 0, d->sections[i].weight, "" };
	}
	if (rc == CARNET_OK) {
		size_t title_end = d->title ? (d->sections_count ? offs[first_section] : folded.len) : 0;
		if (d->title) {
			texts[0].text = texts[1].text = folded.data;
			texts[0].len = texts[1].len = title_end;
		}
		for (size_t i = first_section; i < t; i++) {
			size_t end = i + 1 < t ? offs[i + 1] : folded.len;
			texts[i].text = folded.data + offs[i];
			texts[i].len = end - offs[i];
		}
	}

	char date[9];
	snprintf(date, sizeof date, "%.4s%.2s%.2s", d->date, d->date + 5, d->date + 8);
	carnet_xvalue values[5];
	size_t nvalues = 0;
	values[nvalues++] = (carnet_xvalue){ CARNET_SLOT_DATE, date, 8 };
	values[nvalues++] = (carnet_xvalue){ CARNET_SLOT_SET, d->set_id, strlen(d->set_id) };
	values[nvalues++] = (carnet_xvalue){ CARNET_SLOT_ID, d->id, strlen(d->id) };
	if (d->type)
		values[nvalues++] = (carnet_xvalue){ CARNET_SLOT_TYPE, d->type, strlen(d->type) };
	if (d->author_specialty)
		values[nvalues++] = (carnet_xvalue){ CARNET_SLOT_SPECIALTY, d->author_specialty,
						     strlen(d->author_specialty) };

	char id_term[CARNET_ID_MAX + 8];
	snprintf(id_term, sizeof id_term, CARNET_PREFIX_ID "%s", d->id);
	if (rc == CARNET_OK && carnet_doc__encode_record(&record, d) != 0)
		rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET,
				       0, "out of memory");
	if (rc == CARNET_OK) {
		int english = d->language && strncmp(d->language, "en", 2) == 0;
		(void)english; /* queries stem French only for now: keep one stemmer */
		carnet_xdoc x = {
			id_term, terms, nterms, values, nvalues, texts, t,
			record.data, record.len, "french",
		};
		rc = carnet_xap_writer_put(w->xw, &x, err);
	}
	free(texts);
	free(offs);
	free(terms);
	carnet_buf__free(&folded);
	carnet_buf__free(&record);
	carnet_buf__free(&termbuf);
	return rc;
nomem:
	carnet_buf__free(&folded);
	carnet_buf__free(&record);
	carnet_buf__free(&termbuf);
	return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
				 "out of memory indexing %s", d->id);
}

/* The (id, set id) pairs a source produced before. */
typedef struct prior_docs {
	char (*ids)[2][CARNET_ID_MAX + 1];
	size_t count, cap;
} prior_docs;

static int collect_prior(const char *id, const char *set_id, int version,
			 const char *date, void *payload)
{
	(void)version;
	(void)date;
	prior_docs *pd = payload;
	if (pd->count == pd->cap) {
		size_t cap = pd->cap ? pd->cap * 2 : 4;
		void *n = realloc(pd->ids, cap * sizeof *pd->ids);
		if (!n)
			return CARNET_E_NOMEM;
		pd->ids = n;
		pd->cap = cap;
	}
	snprintf(pd->ids[pd->count][0], CARNET_ID_MAX + 1, "%s", id);
	snprintf(pd->ids[pd->count][1], CARNET_ID_MAX + 1, "%s", set_id);
	pd->count++;
	return 0;
}

/* Remove the documents source produced before and no longer yields. */
static int drop_stale(carnet_writer *w, const pending *p, carnet_error *err)
{
	prior_docs pd = { NULL, 0, 0 };
	int rc = carnet_registry__docs_of_source(w->reg, p->source, collect_prior,
						 &pd, err);
	if (rc == CARNET_E_NOMEM)
		carnet_error__set(err, rc, CARNET_ORIGIN_CARNET, 0, "out of memory");
	for (size_t i = 0; rc == CARNET_OK && i < pd.count; i++) {
		int kept = 0;
		for (size_t j = 0; j < p->count && !kept; j++)
			kept = strcmp(p->docs[j].id, pd.ids[i][0]) == 0;
		if (kept)
			continue;
		char term[CARNET_ID_MAX + 8];
		snprintf(term, sizeof term, CARNET_PREFIX_ID "%s", pd.ids[i][0]);
		if ((rc = carnet_xap_writer_delete(w->xw, term, err)) == CARNET_OK &&
		    (rc = carnet_registry__doc_delete(w->reg, pd.ids[i][0], err)) == CARNET_OK)
			rc = mark_latest(w, pd.ids[i][1], err);
	}
	free(pd.ids);
	return rc;
}

int carnet_writer_add_file(carnet_writer *w, const char *path,
			   carnet_outcome *outcome_out, carnet_error *err)
{
	carnet_error reason;
	carnet_error__clear(&reason);
	if (outcome_out)
		*outcome_out = CARNET_OUTCOME_REJECTED;
	char source[PATH_MAX];
	char *data = NULL, *side = NULL;
	size_t len = 0, side_len = 0;
	struct stat st;
	int rc;

	if (!realpath(path, source)) {
		int e = errno;
		carnet_error__os(&reason, carnet_error__from_errno(e), e,
				 "%s: cannot read", path);
		return record_reject(w, path, NULL, &reason, outcome_out, err);
	}
	if ((rc = carnet_registry__seen(w->reg, source, err)))
		return rc;
	if ((rc = slurp(source, w->limits.input_bytes, &data, &len, &st, &reason))) {
		if (rc == CARNET_E_NOMEM) {
			if (err)
				*err = reason;
			return rc;
		}
		return record_reject(w, source, NULL, &reason, outcome_out, err);
	}

	/* the sidecar, if there is one */
	char side_path[PATH_MAX + 16];
	snprintf(side_path, sizeof side_path, "%s.meta.json", source);
	carnet_error side_err;
	int have_side = slurp(side_path, 1024 * 1024, &side, &side_len, NULL,
			      &side_err) == CARNET_OK;
	if (!have_side && side_err.code != CARNET_E_NOTFOUND) {
		free(data);
		return record_reject(w, source, NULL, &side_err, outcome_out, err);
	}

	char hash[64];
	content_hash(hash, data, len, have_side ? side : NULL, side_len);
	int state;
	char old_hash[64], old_reason[CARNET_ERROR_MESSAGE_SIZE];
	rc = carnet_registry__source_get(w->reg, source, &state, old_hash,
					 old_reason, sizeof old_reason, err);
	if (rc)
		goto out;
	if (state != CARNET_SOURCE_NONE && strcmp(old_hash, hash) == 0) {
		if (state == CARNET_SOURCE_INDEXED) {
			if (outcome_out)
				*outcome_out = CARNET_OUTCOME_UNCHANGED;
		} else {
			carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT,
					  0, "%s", old_reason);
		}
		goto out;
	}

	carnet_doc meta;
	carnet_doc__init(&meta);
	meta.version = 0;
	if (have_side &&
	    carnet_sidecar__parse(&meta, side_path, side, side_len, &reason)) {
		carnet_doc__clear(&meta);
		if (reason.code == CARNET_E_NOMEM) {
			rc = reason.code;
			if (err)
				*err = reason;
			goto out;
		}
		rc = record_reject(w, source, hash, &reason, outcome_out, err);
		goto out;
	}

	carnet_input in = { source, data, len, &w->limits };
	const carnet_reader *reader = carnet_reader__find(&in);
	char default_date[16];
	struct tm tm;
	localtime_r(&st.st_mtime, &tm);
	strftime(default_date, sizeof default_date, "%Y-%m-%d", &tm);
	pending p = { w, source, have_side ? &meta : NULL, default_date,
		      NULL, 0, 0, &reason };
	int read_rc;
	if (!reader) {
		char ext[16];
		carnet_reader__extension(source, ext, sizeof ext);
		read_rc = carnet_error__set(&reason, CARNET_E_UNSUPPORTED_FORMAT,
					    CARNET_ORIGIN_INPUT, 0,
					    "%s: no reader for this kind of file (extension \"%s\")",
					    source, ext);
	} else if (!have_side && (reader->flags & CARNET_READER_NEEDS_SIDECAR)) {
		read_rc = carnet_error__set(&reason, CARNET_E_INVALID,
					    CARNET_ORIGIN_INPUT, 0,
					    "%s: no sidecar %s.meta.json with the patient id",
					    source, source);
	} else {
		read_rc = reader->read(&in, collect, &p, &reason);
		if (read_rc == CARNET_OK && p.count == 0)
			read_rc = carnet_error__set(&reason, CARNET_E_INVALID,
						    CARNET_ORIGIN_INPUT, 0,
						    "%s: no document found", source);
	}
	carnet_doc__clear(&meta);

	if (read_rc == CARNET_E_NOMEM) {
		rc = read_rc;
		if (err)
			*err = reason;
	} else if (read_rc) {
		rc = record_reject(w, source, hash, &reason, outcome_out, err);
	} else if ((rc = carnet_registry__begin(w->reg, err)) == CARNET_OK) {
		/* index: drop what the source no longer yields, then put */
		rc = drop_stale(w, &p, err);
		for (size_t i = 0; rc == CARNET_OK && i < p.count; i++) {
			if ((rc = index_doc(w, &p.docs[i], err)) == CARNET_OK &&
			    (rc = carnet_registry__doc_put(w->reg, &p.docs[i], err)) == CARNET_OK)
				rc = mark_latest(w, p.docs[i].set_id, err);
		}
		if (rc == CARNET_OK)
			rc = carnet_registry__source_set(w->reg, source, hash,
							 CARNET_SOURCE_INDEXED, NULL, err);
		if (rc == CARNET_OK && outcome_out)
			*outcome_out = state == CARNET_SOURCE_INDEXED
					       ? CARNET_OUTCOME_REPLACED
					       : CARNET_OUTCOME_ADDED;
	}
	for (size_t i = 0; i < p.count; i++)
		carnet_doc__clear(&p.docs[i]);
	free(p.docs);
out:
	free(data);
	free(side);
	return rc;
}

/* Paths of the sources that disappeared. */
typedef struct path_list {
	char **paths;
	size_t count, cap;
} path_list;

static int collect_path(const char *path, void *payload)
{
	path_list *l = payload;
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **p = realloc(l->paths, cap * sizeof *p);
		if (!p)
			return CARNET_E_NOMEM;
		l->paths = p;
		l->cap = cap;
	}
	size_t n = strlen(path) + 1;
	if (!(l->paths[l->count] = malloc(n)))
		return CARNET_E_NOMEM;
	memcpy(l->paths[l->count++], path, n);
	return 0;
}

int carnet_writer_remove_unseen(carnet_writer *w, const char *dir,
				uint64_t *removed_out, carnet_error *err)
{
	if (removed_out)
		*removed_out = 0;
	char canon[PATH_MAX], prefix[PATH_MAX + 2];
	if (!realpath(dir, canon)) {
		int e = errno;
		return carnet_error__os(err, carnet_error__from_errno(e), e,
					"%s: cannot resolve", dir);
	}
	snprintf(prefix, sizeof prefix, "%s%s", canon,
		 strcmp(canon, "/") == 0 ? "" : "/");
	path_list gone = { NULL, 0, 0 };
	int rc = carnet_registry__unseen_sources(w->reg, prefix, collect_path, &gone, err);
	if (rc == CARNET_E_NOMEM)
		carnet_error__set(err, rc, CARNET_ORIGIN_CARNET, 0, "out of memory");
	if (rc == CARNET_OK)
		rc = carnet_registry__begin(w->reg, err);
	for (size_t i = 0; rc == CARNET_OK && i < gone.count; i++) {
		/* a source that yields nothing: all its documents go */
		pending none = { w, gone.paths[i], NULL, NULL, NULL, 0, 0, err };
		prior_docs before = { NULL, 0, 0 };
		rc = carnet_registry__docs_of_source(w->reg, gone.paths[i],
						     collect_prior, &before, err);
		if (rc == CARNET_OK && removed_out)
			*removed_out += before.count;
		free(before.ids);
		if (rc == CARNET_OK)
			rc = drop_stale(w, &none, err);
		if (rc == CARNET_OK)
			rc = carnet_registry__source_delete(w->reg, gone.paths[i], err);
	}
	for (size_t i = 0; i < gone.count; i++)
		free(gone.paths[i]);
	free(gone.paths);
	return rc;
}

int carnet_writer_set_visibility(carnet_writer *w, const char *id,
				 carnet_audience audience, int hidden,
				 carnet_error *err)
{
	static const char *const codes[] = {
		[CARNET_AUDIENCE_PROFESSIONALS] = "MASQUE_PS",
		[CARNET_AUDIENCE_PATIENT] = "INVISIBLE_PATIENT",
		[CARNET_AUDIENCE_LEGAL_REPRESENTATIVES] = "INVISIBLE_REPRESENTANTS_LEGAUX",
	};
	if ((int)audience < 0 || (int)audience > CARNET_AUDIENCE_LEGAL_REPRESENTATIVES)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "unknown audience %d", (int)audience);
	if (!carnet_doc__valid_id(id))
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "invalid document id");
	int found;
	char conf[256];
	int rc = carnet_registry__doc_exists(w->reg, id, &found, conf, err);
	if (rc)
		return rc;
	if (!found)
		return carnet_error__set(err, CARNET_E_NOTFOUND, CARNET_ORIGIN_CARNET, 0,
					 "no document with id %s", id);
	char id_term[CARNET_ID_MAX + 8], conf_term[64];
	snprintf(id_term, sizeof id_term, CARNET_PREFIX_ID "%s", id);
	snprintf(conf_term, sizeof conf_term, CARNET_PREFIX_CONF "%s", codes[audience]);
	carnet_doc d;
	carnet_doc__init(&d);
	if (carnet_doc__sets(&d.id, id) != 0 ||
	    carnet_doc__sets(&d.confidentiality, conf[0] ? conf : NULL) != 0) {
		carnet_doc__clear(&d);
		return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
					 "out of memory");
	}
	if ((rc = carnet_registry__begin(w->reg, err)) == CARNET_OK &&
	    (rc = carnet_registry__visibility_set(w->reg, id, codes[audience], hidden, err)) == CARNET_OK &&
	    (rc = carnet_registry__visibility_apply(w->reg, &d, err)) == CARNET_OK &&
	    (rc = carnet_registry__doc_set_confidentiality(w->reg, id, d.confidentiality, err)) == CARNET_OK)
		rc = carnet_xap_writer_set_term(w->xw, id_term, conf_term, hidden, err);
	carnet_doc__clear(&d);
	return rc;
}

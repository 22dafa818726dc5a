/* SPDX-License-Identifier: GPL-2.0-or-later */
/* writer_versions.c - the registry's record of documents as the writer
 * keeps it right: which version of a set is the patient's latest, and
 * removing what a source no longer yields. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "writer.h"

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
	if (CARNET_GROW(s->ids, s->cap, s->count + 1) != 0)
		return CARNET_E_NOMEM;
	snprintf(s->ids[s->count++], sizeof *s->ids, "%s", id);
	if (newer(s, version, date, id)) {
		snprintf(s->best_id, sizeof s->best_id, "%s", id);
		snprintf(s->best_date, sizeof s->best_date, "%s", date);
		s->best_version = version;
	}
	return 0;
}

int carnet_writer__mark_latest(carnet_writer *w, const char *patient, const char *set_id,
			       const char *fresh_id, carnet_xprepared *fresh,
			       carnet_error *err)
{
	set_scan s;
	memset(&s, 0, sizeof s);
	char latest_term[CARNET_ID_MAX + 8];
	snprintf(latest_term, sizeof latest_term, CARNET_PREFIX_LATEST "%s", patient);
	int rc = carnet_registry__docs_of_set(w->reg, patient, set_id, scan_set, &s, err);
	if (rc == CARNET_E_NOMEM)
		carnet_error__nomem(err, "scanning versions");
	for (size_t i = 0; rc == CARNET_OK && i < s.count; i++) {
		int latest = strcmp(s.ids[i], s.best_id) == 0;
		if (fresh && strcmp(s.ids[i], fresh_id) == 0) {
			rc = carnet_xap_prepared_set_term(fresh, latest_term, latest, err);
			continue;
		}
		char term[CARNET_ID_MAX + 8];
		snprintf(term, sizeof term, CARNET_PREFIX_ID "%s", s.ids[i]);
		rc = carnet_xap_writer_set_term(w->xw, term, latest_term, latest, err);
		if (rc == CARNET_E_NOTFOUND) /* registry ahead of the index */
			rc = CARNET_OK;
	}
	free(s.ids);
	return rc;
}

int carnet_writer__collect_prior(const char *id, const char *set_id, int version,
				 const char *date, void *payload)
{
	(void)version;
	(void)date;
	carnet_prior_docs *pd = payload;
	if (CARNET_GROW(pd->ids, pd->cap, pd->count + 1) != 0)
		return CARNET_E_NOMEM;
	snprintf(pd->ids[pd->count][0], CARNET_ID_MAX + 1, "%s", id);
	snprintf(pd->ids[pd->count][1], CARNET_ID_MAX + 1, "%s", set_id);
	pd->count++;
	return 0;
}

int carnet_writer__drop_stale(carnet_writer *w, const char *source, const carnet_doc *docs,
			      size_t count, carnet_error *err)
{
	carnet_prior_docs pd = { NULL, 0, 0 };
	int rc = carnet_registry__docs_of_source(w->reg, source, carnet_writer__collect_prior,
						 &pd, err);
	if (rc == CARNET_E_NOMEM)
		carnet_error__nomem(err, "listing a source's documents");
	for (size_t i = 0; rc == CARNET_OK && i < pd.count; i++) {
		int kept = 0;
		for (size_t j = 0; j < count && !kept; j++)
			kept = strcmp(docs[j].id, pd.ids[i][0]) == 0;
		if (kept)
			continue;
		char term[CARNET_ID_MAX + 8], patient[CARNET_ID_MAX + 1], set[CARNET_ID_MAX + 1];
		snprintf(term, sizeof term, CARNET_PREFIX_ID "%s", pd.ids[i][0]);
		if ((rc = carnet_registry__doc_owner(w->reg, pd.ids[i][0], patient, set, NULL, 0,
						     err)) == CARNET_OK &&
		    (rc = carnet_xap_writer_delete(w->xw, term, err)) == CARNET_OK &&
		    (rc = carnet_registry__doc_delete(w->reg, pd.ids[i][0], err)) == CARNET_OK)
			rc = carnet_writer__mark_latest(w, patient, set, NULL, NULL, err);
	}
	free(pd.ids);
	return rc;
}

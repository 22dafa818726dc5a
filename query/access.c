/* SPDX-License-Identifier: GPL-2.0-or-later */
/* access.c - who may see what, on the query side: the access filter of a
 * request that core/policy.c decides (the authorisation matrix, the
 * confidentiality codes each role may not see, the author exception,
 * emergency access) put into the search, and the request's record in
 * the access log (core/access_log.c), read back per patient. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "doc.h"
#include "patient.h"
#include "schema.h"

/* ---- the access filter ---- */

int carnet_access__filter(carnet_access_filter *f, carnet_index *idx,
			  const carnet_request *req, carnet_xsearch *s,
			  carnet_xgroup *groups, carnet_error *err)
{
	memset(f, 0, sizeof *f);
	/* core/policy.c decides; here the filter becomes the search's terms */
	s->access_from = s->any_count;
	int rc = carnet_policy__request(idx->policy, req, &f->policy, err);
	if (rc)
		return rc;
	if (!f->policy.everything) {
		/* what the matrix grants the viewer's profession */
		groups[s->any_count].terms = f->policy.grants;
		groups[s->any_count].count = f->policy.grants_count;
		s->any_count++;
	}
	/* what the viewer's role may not see, but their own documents */
	s->hide = f->policy.hide;
	s->hide_count = f->policy.hide_count;
	s->unhide = f->policy.unhide;
	return CARNET_OK;
}

void carnet_access__filter_free(carnet_access_filter *f)
{
	carnet_policy__filter_clear(&f->policy);
}

/* ---- the access log ---- */

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
int carnet_access__log_request(carnet_index *idx, const carnet_request *req,
			       const carnet_results *res, int status,
			       const char *reason, carnet_error *err)
{
	carnet_buf ids = CARNET_BUF_INIT;
	for (size_t i = 0; i < carnet_results_count(res); i++)
		if ((i && carnet_buf__putc(&ids, ' ') != 0) ||
		    carnet_buf__puts(&ids, carnet_results_field(res, i, CARNET_FIELD_ID)) != 0) {
			carnet_buf__free(&ids);
			return carnet_error__nomem(err, NULL);
		}
	int rc = carnet_access__log_ids(idx, req, ids.data ? ids.data : "",
					carnet_results_count(res), status, reason, err);
	carnet_buf__free(&ids);
	return rc;
}

/* One row: the viewer of req only when known. */
static int log_row(carnet_index *idx, const carnet_request *req, int viewer_known,
		   const char *ids, size_t count, int status, const char *reason,
		   carnet_error *err)
{
	int rc = attach_log(idx, err);
	if (rc)
		return rc;
	carnet_access a;
	memset(&a, 0, sizeof a);
	char key[CARNET_ID_MAX + 1];
	if (req) {
		if (viewer_known) {
			a.viewer_id = req->viewer_id;
			a.profession = req->profession;
			a.specialty = req->specialty;
			a.role = role_name(req->role);
		}
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
	a.doc_ids = ids;
	a.count = count;
	a.status = status;
	a.reason = reason;
	rc = carnet_alog__append(idx->log, &a, err);
	if (rc) {
		/* check and open it afresh next time */
		carnet_alog__close(idx->log);
		idx->log = NULL;
	}
	return rc;
}

int carnet_access__log_ids(carnet_index *idx, const carnet_request *req, const char *ids,
			   size_t count, int status, const char *reason, carnet_error *err)
{
	return log_row(idx, req, 1, ids, count, status, reason, err);
}

int carnet_index_access_log_refusal(carnet_index *idx, const carnet_request *req,
				    int viewer_known, int status, const char *reason,
				    carnet_error *err)
{
	if (!idx || status >= 0)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "a refusal written to the access log needs an error status");
	return log_row(idx, req, viewer_known, "", 0, status, reason ? reason : "", err);
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

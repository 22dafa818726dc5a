/* SPDX-License-Identifier: GPL-2.0-or-later */
/* request.c - a carnet_request's defaults, for callers that cannot use
 * CARNET_REQUEST_INIT (bindings); and the checks every request passes
 * before anything is read (searches and results alike). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "carnet.h"
#include "codes.h"
#include "doc.h"
#include "patient.h"
#include "rank.h"
#include "request.h"
#include "text.h"

/* where each version's fields end */
static const size_t ends[] = {
	offsetof(carnet_request, author_specialties),
	offsetof(carnet_request, patient_system),
	offsetof(carnet_request, classes),
	sizeof(carnet_request),
};
_Static_assert(sizeof ends / sizeof *ends == CARNET_REQUEST_VERSION,
	       "a request version was added: say where its fields end");

size_t carnet_request__size(unsigned version)
{
	if (version == 0)
		return 0;
	return ends[version <= CARNET_REQUEST_VERSION ? version - 1 : CARNET_REQUEST_VERSION - 1];
}

int carnet_request_init(carnet_request *req, size_t size)
{
	if (!req || size < ends[0])
		return CARNET_E_INVALID;
	const carnet_request defaults = CARNET_REQUEST_INIT;
	if (size > sizeof defaults)
		size = sizeof defaults;
	unsigned version = 1;
	while (version < sizeof ends / sizeof *ends && size >= ends[version])
		version++;
	memcpy(req, &defaults, size);
	req->version = version;
	return CARNET_OK;
}

/* A number macro as a string literal, for messages. */
#define TEXT_OF(n) TEXT_OF_(n)
#define TEXT_OF_(n) #n

static int invalid(carnet_error *err, const char *what)
{
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
				 "invalid request: %s", what);
}

int carnet_request__check(const carnet_index *idx, const carnet_request *req,
			 carnet_error *err)
{
	if (!req || req->version < 1)
		return invalid(err, "no request, or request version unset (use CARNET_REQUEST_INIT)");
	if (!req->patient_id || !*req->patient_id)
		return invalid(err, "no patient id");
	if (!carnet_doc__valid_id(req->patient_id))
		return invalid(err, "patient id must be 1 to 128 printable characters without spaces");
	if (req->limit == 0 || req->limit > CARNET_HITS_MAX)
		return invalid(err, "limit must be between 1 and " TEXT_OF(CARNET_HITS_MAX));
	if (req->offset > CARNET_OFFSET_MAX)
		return invalid(err, "offset must be at most " TEXT_OF(CARNET_OFFSET_MAX));
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
	if (req->types_count > CARNET_CODES_MAX || (req->types_count && !req->types))
		return invalid(err, "too many document types (at most " TEXT_OF(CARNET_CODES_MAX) ")");
	for (size_t i = 0; i < req->types_count; i++)
		if (!carnet_doc__valid_id(req->types[i]))
			return invalid(err, "document type codes must be printable without spaces");
	if (req->version >= 2) {
		if (req->author_specialties_count > CARNET_CODES_MAX ||
		    (req->author_specialties_count && !req->author_specialties))
			return invalid(err, "too many author specialties (at most "
					    TEXT_OF(CARNET_CODES_MAX) ")");
		for (size_t i = 0; i < req->author_specialties_count; i++)
			if (!carnet_doc__valid_id(req->author_specialties[i]))
				return invalid(err, "author specialty codes must be printable without spaces");
		if (req->as_of && !carnet_doc__valid_date(req->as_of))
			return invalid(err, "as_of must be a YYYY-MM-DD date");
	}
	if (req->version >= 4) {
		if (req->classes_count > CARNET_CODES_MAX || (req->classes_count && !req->classes))
			return invalid(err, "too many classes (at most " TEXT_OF(CARNET_CODES_MAX) ")");
		for (size_t i = 0; i < req->classes_count; i++)
			if (!carnet_doc__valid_id(req->classes[i]))
				return invalid(err, "class codes must be printable without spaces");
		if (req->document_id && !carnet_doc__valid_id(req->document_id))
			return invalid(err, "document id must be 1 to 128 printable characters "
					    "without spaces");
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

int carnet_request__key(carnet_request *out, char key[CARNET_ID_MAX + 1],
		       const carnet_request *req, carnet_error *err)
{
	memset(out, 0, sizeof *out);
	memcpy(out, req, carnet_request__size(req->version));
	char why[160];
	const char *system = req->version >= 3 ? req->patient_system : NULL;
	if (carnet_patient__request_key(key, system, req->patient_id, why, sizeof why))
		return invalid(err, why);
	out->patient_id = key;
	out->patient_system = NULL;
	return CARNET_OK;
}

void carnet_request__dates(const carnet_request *req, carnet_xsearch *s, char from[9],
			   char to[9])
{
	if (req->since) {
		snprintf(from, 9, "%.4s%.2s%.2s", req->since, req->since + 5, req->since + 8);
		s->date_from = from;
	}
	if (req->until) {
		snprintf(to, 9, "%.4s%.2s%.2s", req->until, req->until + 5, req->until + 8);
		s->date_to = to;
	}
}

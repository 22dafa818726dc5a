/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sidecar.c - reading FILE.meta.json with jansson. */
#include "sidecar.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "reader.h"

/* Reject the sidecar: field `key` (or the whole sidecar when key is
 * NULL) is wrong in the way `why` says. */
static int bad(carnet_error *err, const char *path, const char *key,
	       const char *why)
{
	if (!key)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT,
					 0, "%s: %s", path, why);
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
				 "%s: field \"%s\" %s", path, key, why);
}

static int take_string(char **field, json_t *root, const char *key,
		       const char *path, carnet_error *err)
{
	json_t *v = json_object_get(root, key);
	if (!v || json_is_null(v))
		return CARNET_OK;
	if (!json_is_string(v))
		return bad(err, path, key, "must be a string");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (memchr(s, '\0', n))
		return bad(err, path, key, "holds a NUL character");
	/* trim surrounding blanks, line breaks included */
	while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
		     s[n - 1] == '\n'))
		n--;
	if (n == 0)
		return CARNET_OK;
	if (carnet_doc__set(field, s, n) != 0)
		return carnet_reader__nomem(err, path);
	return CARNET_OK;
}

static int take_confidentiality(carnet_doc *meta, json_t *root,
				const char *path, carnet_error *err)
{
	json_t *v = json_object_get(root, "confidentiality");
	if (!v || json_is_null(v))
		return CARNET_OK;
	if (json_is_string(v)) {
		/* codes separated by any blanks: each is checked and they are
		 * joined by single spaces, so none can hide inside another */
		char *codes = NULL;
		int rc = take_string(&codes, root, "confidentiality", path, err);
		if (rc || !codes)
			return rc;
		carnet_buf out = CARNET_BUF_INIT;
		rc = CARNET_OK;
		char *save = NULL;
		for (char *tok = strtok_r(codes, " \t\r\n", &save); tok && rc == CARNET_OK;
		     tok = strtok_r(NULL, " \t\r\n", &save)) {
			if (!carnet_doc__valid_id(tok))
				rc = bad(err, path, "confidentiality", "must hold codes without spaces");
			else if ((out.len && carnet_buf__putc(&out, ' ') != 0) ||
				 carnet_buf__puts(&out, tok) != 0)
				rc = carnet_reader__nomem(err, path);
		}
		if (rc == CARNET_OK && out.len &&
		    carnet_doc__set(&meta->confidentiality, out.data, out.len) != 0)
			rc = carnet_reader__nomem(err, path);
		free(codes);
		carnet_buf__free(&out);
		return rc;
	}
	if (!json_is_array(v))
		return bad(err, path, "confidentiality", "must be an array of codes");
	carnet_buf codes = CARNET_BUF_INIT;
	size_t i;
	json_t *code;
	json_array_foreach(v, i, code) {
		if (!json_is_string(code) ||
		    !carnet_doc__valid_id(json_string_value(code))) {
			carnet_buf__free(&codes);
			return bad(err, path, "confidentiality", "must hold codes without spaces");
		}
		if ((codes.len && carnet_buf__putc(&codes, ' ') != 0) ||
		    carnet_buf__puts(&codes, json_string_value(code)) != 0) {
			carnet_buf__free(&codes);
			return carnet_reader__nomem(err, path);
		}
	}
	int rc = CARNET_OK;
	if (codes.len && carnet_doc__set(&meta->confidentiality, codes.data,
					 codes.len) != 0)
		rc = carnet_reader__nomem(err, path);
	carnet_buf__free(&codes);
	return rc;
}

int carnet_sidecar__parse(carnet_doc *meta, const char *path,
			  const char *json, size_t len, carnet_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		/* jansson quotes the offending token after " near ": keep the
		 * reason, drop the quote (it may be a patient identifier) */
		char *near = strstr(jerr.text, " near ");
		if (near)
			*near = '\0';
		return carnet_error__set(err, CARNET_E_INVALID,
					 CARNET_ORIGIN_INPUT, 0,
					 "%s: invalid JSON at line %d column %d: %s",
					 path, jerr.line, jerr.column, jerr.text);
	}
	int rc = CARNET_OK;
	if (!json_is_object(root)) {
		rc = bad(err, path, NULL, "sidecar must be a JSON object");
		goto out;
	}
	struct {
		const char *key;
		char **field;
	} strings[] = {
		{ "patient_id", &meta->patient_id },
		{ "patient_id_system", &meta->patient_system },
		{ "id", &meta->id },
		{ "set_id", &meta->set_id },
		{ "type", &meta->type },
		{ "title", &meta->title },
		{ "date", &meta->date },
		{ "author_id", &meta->author_id },
		{ "author_specialty", &meta->author_specialty },
		{ "language", &meta->language },
	};
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
		if ((rc = take_string(strings[i].field, root, strings[i].key,
				      path, err)))
			goto out;
	if ((rc = take_confidentiality(meta, root, path, err)))
		goto out;
	json_t *corr = json_object_get(root, "patient_correction");
	if (corr && !json_is_null(corr)) {
		if (!json_is_boolean(corr)) {
			rc = bad(err, path, "patient_correction", "must be true or false");
			goto out;
		}
		meta->patient_correction = json_is_true(corr);
	}
	json_t *v = json_object_get(root, "version");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 1000000) {
			rc = bad(err, path, "version", "must be a positive integer");
			goto out;
		}
		meta->version = (int)json_integer_value(v);
	}
	if (meta->date && !carnet_doc__valid_date(meta->date)) {
		rc = bad(err, path, "date", "is not a valid YYYY-MM-DD date");
		goto out;
	}
out:
	json_decref(root);
	return rc;
}

int carnet_sidecar__apply(carnet_doc *doc, const carnet_doc *meta)
{
	static const carnet_doc_field fields[] = {
		CARNET_DOC_PATIENT_ID, CARNET_DOC_PATIENT_SYSTEM, CARNET_DOC_ID, CARNET_DOC_SET_ID,
		CARNET_DOC_TYPE, CARNET_DOC_TITLE, CARNET_DOC_DATE, CARNET_DOC_AUTHOR_ID,
		CARNET_DOC_AUTHOR_SPECIALTY, CARNET_DOC_CONFIDENTIALITY, CARNET_DOC_LANGUAGE,
	};
	if (carnet_doc__copy(doc, meta, fields, sizeof fields / sizeof fields[0], 1) != 0)
		return -1;
	/* a patient id names its system too: without one in the sidecar, the
	 * document's system does not qualify the sidecar's id */
	if (meta->patient_id && !meta->patient_system &&
	    carnet_doc__sets(&doc->patient_system, NULL) != 0)
		return -1;
	if (meta->version > 0)
		doc->version = meta->version;
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* registry_docs.c - the documents of the registry: recording and removing
 * them, the documents of a source or of a set, who a document belongs to,
 * the counts. */
#include "registry_int.h"

int carnet_registry__doc_put(carnet_registry *r, const carnet_doc *d,
			     carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = carnet_registry__cached(r, &st,
			 "INSERT OR REPLACE INTO documents(id, set_id, version, patient_id,"
			 " patient_system, type, title, date, author_id, author_specialty,"
			 " confidentiality, language, format, source_path, indexed_at,"
			 " class_code, practice_setting, facility, author_name, custodian,"
			 " service_start, service_end, replaces, other_patient_ids)"
			 " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			 err);
	if (rc)
		return rc;
	char now[32];
	carnet_registry__now(now);
	carnet_registry__bind_text(st, 1, d->id);
	carnet_registry__bind_text(st, 2, d->set_id ? d->set_id : d->id);
	sqlite3_bind_int(st, 3, d->version);
	carnet_registry__bind_text(st, 4, d->patient_id);
	carnet_registry__bind_text(st, 5, d->patient_system);
	carnet_registry__bind_text(st, 6, d->type);
	carnet_registry__bind_text(st, 7, d->title);
	carnet_registry__bind_text(st, 8, d->date);
	carnet_registry__bind_text(st, 9, d->author_id);
	carnet_registry__bind_text(st, 10, d->author_specialty);
	carnet_registry__bind_text(st, 11, d->confidentiality);
	carnet_registry__bind_text(st, 12, d->language);
	carnet_registry__bind_text(st, 13, d->format);
	carnet_registry__bind_text(st, 14, d->source ? d->source : "");
	carnet_registry__bind_text(st, 15, now);
	carnet_registry__bind_text(st, 16, d->class_code);
	carnet_registry__bind_text(st, 17, d->practice_setting);
	carnet_registry__bind_text(st, 18, d->facility);
	carnet_registry__bind_text(st, 19, d->author_name);
	carnet_registry__bind_text(st, 20, d->custodian);
	carnet_registry__bind_text(st, 21, d->service_start);
	carnet_registry__bind_text(st, 22, d->service_end);
	carnet_registry__bind_text(st, 23, d->replaces);
	carnet_registry__bind_text(st, 24, d->other_ids);
	return carnet_registry__run(r, st, "record document", err);
}

int carnet_registry__doc_delete(carnet_registry *r, const char *id,
				carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = carnet_registry__select(r, &st, "DELETE FROM documents WHERE id = ?", id, err);
	if (rc)
		return rc;
	return carnet_registry__run(r, st, "delete document", err);
}

static int each_doc(carnet_registry *r, const char *sql, const char *key,
		    const char *key2, carnet_registry_doc_cb cb, void *payload,
		    carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = carnet_registry__select(r, &st, sql, key, err);
	if (rc)
		return rc;
	if (key2)
		carnet_registry__bind_text(st, 2, key2);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *id = sqlite3_column_text(st, 0);
		const unsigned char *set = sqlite3_column_text(st, 1);
		const unsigned char *date = sqlite3_column_text(st, 3);
		rc = cb(id ? (const char *)id : "", set ? (const char *)set : "",
			sqlite3_column_int(st, 2),
			date ? (const char *)date : "", payload);
		if (rc) {
			carnet_registry__release(r, st);
			return rc;
		}
	}
	carnet_registry__release(r, st);
	return s == SQLITE_DONE ? CARNET_OK : carnet_registry__fail(r, err, s, "list documents");
}

int carnet_registry__docs_of_source(carnet_registry *r, const char *path,
				    carnet_registry_doc_cb cb, void *payload,
				    carnet_error *err)
{
	return each_doc(r,
			"SELECT id, set_id, version, date FROM documents WHERE source_path = ? ORDER BY id",
			path, NULL, cb, payload, err);
}

int carnet_registry__docs_of_set(carnet_registry *r, const char *patient,
				 const char *set_id, carnet_registry_doc_cb cb,
				 void *payload, carnet_error *err)
{
	return each_doc(r,
			"SELECT id, set_id, version, date FROM documents"
			" WHERE patient_id = ? AND set_id = ? ORDER BY id",
			patient, set_id, cb, payload, err);
}

int carnet_registry__set_clash(carnet_registry *r, const char *patient,
			       const char *set_id, const char *source,
			       char id_out[CARNET_ID_MAX + 1],
			       char patient_out[CARNET_ID_MAX + 1], carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = carnet_registry__cached(r, &st,
					 "SELECT id, patient_id FROM documents WHERE set_id = ?"
					 " AND patient_id <> ? AND source_path <> ? ORDER BY id LIMIT 1",
					 err);
	if (rc)
		return rc;
	carnet_registry__bind_text(st, 1, set_id);
	carnet_registry__bind_text(st, 2, patient);
	carnet_registry__bind_text(st, 3, source);
	int s = sqlite3_step(st);
	id_out[0] = patient_out[0] = '\0';
	if (s == SQLITE_ROW) {
		carnet_registry__copy_col(st, 0, id_out, CARNET_ID_MAX + 1);
		carnet_registry__copy_col(st, 1, patient_out, CARNET_ID_MAX + 1);
	}
	carnet_registry__release(r, st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? CARNET_OK
						   : carnet_registry__fail(r, err, s,
									   "look up a set");
}

int carnet_registry__doc_owner(carnet_registry *r, const char *id,
			       char patient_out[CARNET_ID_MAX + 1],
			       char set_out[CARNET_ID_MAX + 1], char *source_out,
			       size_t source_size, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = carnet_registry__select(r, &st, "SELECT patient_id, set_id, source_path"
					 " FROM documents WHERE id = ?", id, err);
	if (rc)
		return rc;
	int s = sqlite3_step(st);
	patient_out[0] = set_out[0] = '\0';
	if (source_size)
		source_out[0] = '\0';
	if (s == SQLITE_ROW) {
		carnet_registry__copy_col(st, 0, patient_out, CARNET_ID_MAX + 1);
		carnet_registry__copy_col(st, 1, set_out, CARNET_ID_MAX + 1);
		carnet_registry__copy_col(st, 2, source_out, source_size);
	}
	carnet_registry__release(r, st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? CARNET_OK
						   : carnet_registry__fail(r, err, s,
									   "look up document");
}

int carnet_registry__doc_source(carnet_registry *r, const char *id, char *out,
				size_t size, carnet_error *err)
{
	return carnet_registry__lookup(r, "SELECT source_path FROM documents WHERE id = ?", id,
				       out, size, NULL, "look up document", err);
}

int carnet_registry__doc_exists(carnet_registry *r, const char *id,
				int *found_out, char confidentiality[256],
				carnet_error *err)
{
	return carnet_registry__lookup(r, "SELECT confidentiality FROM documents WHERE id = ?",
				       id, confidentiality, confidentiality ? 256 : 0, found_out,
				       "look up document", err);
}

/* ---- counts ---- */

int carnet_registry__count(carnet_registry *r, int which, uint64_t *out,
			   carnet_error *err)
{
	static const char *const sql[] = {
		[CARNET_COUNT_DOCUMENTS] = "SELECT count(*) FROM documents",
		[CARNET_COUNT_PATIENTS] = "SELECT count(DISTINCT patient_id) FROM documents",
		[CARNET_COUNT_SETS] = "SELECT count(DISTINCT set_id) FROM documents",
		[CARNET_COUNT_REJECTS] = "SELECT count(*) FROM sources WHERE state = 'rejected'",
	};
	if (which < 0 || which > CARNET_COUNT_REJECTS)
		return carnet_error__set(err, CARNET_E_INVALID,
					 CARNET_ORIGIN_CARNET, 0,
					 "unknown registry count %d", which);
	sqlite3_stmt *st;
	int rc = carnet_registry__prepare(r, &st, sql[which], err);
	if (rc)
		return rc;
	int s = sqlite3_step(st);
	*out = s == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return s == SQLITE_ROW ? CARNET_OK : carnet_registry__fail(r, err, s, "count");
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* registry_visibility.c - what the registry keeps of who may see a
 * document: the hiding codes changed after upload (mask, unmask), kept
 * across re-reads and rebuilds, and applied to a document's codes. */
#include "registry_int.h"

#include <string.h>

#include "buf.h"

int carnet_registry__visibility_set(carnet_registry *r, const char *id,
				    const char *code, int hidden,
				    carnet_error *err)
{
	char now[32];
	carnet_registry__now(now);
	/* "1" or "0" is stored as an integer (the column's affinity) */
	return carnet_registry__write(r, "INSERT OR REPLACE INTO visibility(id, code, hidden,"
				      " changed_at) VALUES(?, ?, ?, ?)", "record visibility", err,
				      4, id, code, hidden ? "1" : "0", now);
}

/* Does the space-separated list have code? */
static int has_code(const char *list, const char *code)
{
	size_t n = strlen(code);
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, " ");
		if (len == n && strncmp(p, code, n) == 0)
			return 1;
		p += len;
		while (*p == ' ')
			p++;
	}
	return 0;
}

/* Rebuild the space-separated list in out without code. 0, or -1 when
 * memory runs out (out unchanged). */
static int drop_code(carnet_buf *out, const char *code)
{
	carnet_buf kept = CARNET_BUF_INIT;
	for (const char *p = out->data; *p;) {
		size_t len = strcspn(p, " ");
		if (!(len == strlen(code) && strncmp(p, code, len) == 0) &&
		    ((kept.len && carnet_buf__putc(&kept, ' ') != 0) ||
		     carnet_buf__put(&kept, p, len) != 0)) {
			carnet_buf__free(&kept);
			return -1;
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	carnet_buf__free(out);
	*out = kept;
	return 0;
}

int carnet_registry__visibility_apply(carnet_registry *r, carnet_doc *d,
				      carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = carnet_registry__select(r, &st,
					 "SELECT code, hidden FROM visibility WHERE id = ? ORDER BY code",
					 d->id, err);
	if (rc)
		return rc;
	carnet_buf out = CARNET_BUF_INIT;
	if (d->confidentiality && carnet_buf__puts(&out, d->confidentiality) != 0)
		goto nomem;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *code = (const char *)sqlite3_column_text(st, 0);
		int hidden = sqlite3_column_int(st, 1);
		if (!code)
			continue;
		if (hidden && !has_code(out.data, code)) {
			if ((out.len && carnet_buf__putc(&out, ' ') != 0) ||
			    carnet_buf__puts(&out, code) != 0)
				goto nomem;
		} else if (!hidden && has_code(out.data, code)) {
			if (drop_code(&out, code) != 0)
				goto nomem;
		}
	}
	carnet_registry__release(r, st);
	if (s != SQLITE_DONE) {
		carnet_buf__free(&out);
		return carnet_registry__fail(r, err, s, "read visibility");
	}
	rc = carnet_doc__set(&d->confidentiality, out.len ? out.data : NULL, out.len) == 0
		     ? CARNET_OK
		     : carnet_error__nomem(err, NULL);
	carnet_buf__free(&out);
	return rc;
nomem:
	carnet_registry__release(r, st);
	carnet_buf__free(&out);
	return carnet_error__nomem(err, NULL);
}

int carnet_registry__doc_set_confidentiality(carnet_registry *r, const char *id,
					     const char *codes, carnet_error *err)
{
	return carnet_registry__write(r, "UPDATE documents SET confidentiality = ? WHERE id = ?",
				      "record confidentiality", err, 2, codes, id);
}

int carnet_registry__copy_visibility(carnet_registry *r, const char *from_path,
				     carnet_error *err)
{
	int rc = carnet_registry__write(r, "ATTACH DATABASE ? AS previous",
				       "open the previous registry", err, 1, from_path);
	if (rc)
		return rc;
	rc = carnet_registry__exec(r, "INSERT OR REPLACE INTO main.visibility SELECT id, code,"
				   " hidden, changed_at FROM previous.visibility",
				   "copy visibility changes", err);
	sqlite3_exec(r->db, "DETACH DATABASE previous", NULL, NULL, NULL);
	return rc;
}

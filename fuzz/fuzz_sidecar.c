/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_sidecar.c - libFuzzer harness for sidecars (FILE.meta.json): the
 * bytes are parsed as a sidecar and, when accepted, applied to a document.
 * A refused sidecar must say which file it was; anything else aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char name[] = "fuzz/p1/compte-rendu.txt.meta.json";
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	buf[size] = '\0';
	carnet_doc meta, doc;
	carnet_doc__init(&meta);
	carnet_doc__init(&doc);
	meta.version = 0;
	carnet_error err;
	int rc = carnet_sidecar__parse(&meta, name, buf, size, &err);
	if (rc != CARNET_OK && rc != CARNET_E_NOMEM &&
	    (rc != CARNET_E_INVALID || strncmp(err.message, name, sizeof name - 1) != 0))
		abort(); /* a reject names the sidecar */
	if (rc == CARNET_OK && carnet_sidecar__apply(&doc, &meta) == 0 &&
	    meta.patient_id && (!doc.patient_id || strcmp(doc.patient_id, meta.patient_id) != 0))
		abort(); /* what the sidecar says wins */
	carnet_doc__clear(&doc);
	carnet_doc__clear(&meta);
	free(buf);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* patient.h - who a document belongs to: a patient is a (system, id) pair,
 * turned into one key, here and nowhere else. The indexer keys documents
 * with it and the query side keys requests with it, so that a request can
 * only ever name the record the documents were filed in. */
#ifndef CARNET_CORE_PATIENT_H
#define CARNET_CORE_PATIENT_H

#include <stddef.h>

#include "schema.h"

/* The INS (identifiant national de santé) systems. */
#define CARNET_INS_NIR "1.2.250.1.213.1.4.8"       /* production, NIR */
#define CARNET_INS_NIA "1.2.250.1.213.1.4.9"       /* production, NIA */
#define CARNET_INS_NIR_TEST "1.2.250.1.213.1.4.10" /* test ranges */
#define CARNET_INS_NIA_TEST "1.2.250.1.213.1.4.11"

/* The separator between a system and an id in a key ("1.2.3^X"). Neither
 * a system nor an id may hold it. */
#define CARNET_PATIENT_SEP '^'

/* What kind of system oid is: 0 not an INS, 1 a production INS (NIR or
 * NIA), 2 a test INS. "urn:oid:" before the OID is allowed. */
int carnet_patient__ins_kind(const char *oid);

/* Is id shaped like an INS: 15 characters, digits except the department
 * (characters 6-7), which may be 2A or 2B (Corsica)? */
int carnet_patient__ins_shaped(const char *id);

/* The check key an INS of shaped id should end with (1..97): 97 minus its
 * first 13 characters mod 97, 2A counted as 19 and 2B as 18. */
int carnet_patient__ins_check(const char *id);

/* The key of patient (system, id), into key (CARNET_ID_MAX + 1 bytes):
 * - a production INS (NIR or NIA: one person's numbers, issued from one
 *   numbering, so one key space): the 15-character number, 2A/2B upper
 *   case;
 * - a test INS: "OID^number", which no production key can equal;
 * - an id without a system: an id shaped like an INS is taken as a
 *   production INS; any other is its own key (a local id, "P1");
 * - an id of any other system: "OID^id" ("urn:oid:" dropped).
 * An INS must be shaped like one and carry the right check key. An id or
 * system holding the separator, spaces or control characters, or a key
 * longer than CARNET_ID_MAX, is refused. Returns 0, or -1 with the reason
 * (never the id itself) in why[0..why_size). */
int carnet_patient__key(char *key, const char *system, const char *id,
			char *why, size_t why_size);

/* The key of the patient a request names: as carnet_patient__key, except
 * that without a system an id "system^id" is taken as that pair (the
 * command line's short form), and goes through the same rules. */
int carnet_patient__request_key(char *key, const char *system, const char *id,
				char *why, size_t why_size);

/* The shard (0..count-1) of the patients whose id is id: XXH32 (seed 0)
 * of the id in ASCII upper case, modulo count; count 0 gives 0. The
 * system is left out: the NIR and the NIA of one number are one record
 * (carnet_patient__key) and must live on one shard. HAProxy computes the
 * same from a FHIR token "system|id" (README, "Past one machine"):
 * url_param(patient.identifier),url_dec,field(2,|),upper,xxh32(0),mod(N). */
unsigned carnet_patient__shard(const char *id, unsigned count);

#endif

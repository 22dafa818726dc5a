/* SPDX-License-Identifier: GPL-2.0-or-later */
/* patient.c - the patient key (see patient.h). */
#include "patient.h"

#include <stdio.h>
#include <string.h>

#include <xxhash.h>

#include "carnet.h"
#include "doc.h"
#include "error.h"

static const char *strip_urn(const char *oid)
{
	if (oid && strncmp(oid, "urn:oid:", 8) == 0)
		return oid + 8;
	return oid;
}

int carnet_patient__ins_kind(const char *oid)
{
	oid = strip_urn(oid);
	if (!oid)
		return 0;
	if (strcmp(oid, CARNET_INS_NIR) == 0 || strcmp(oid, CARNET_INS_NIA) == 0)
		return 1;
	if (strcmp(oid, CARNET_INS_NIR_TEST) == 0 || strcmp(oid, CARNET_INS_NIA_TEST) == 0)
		return 2;
	return 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int carnet_patient__ins_shaped(const char *id)
{
	if (!id || strlen(id) != 15)
		return 0;
	for (int i = 0; i < 15; i++) {
		if (is_digit(id[i]))
			continue;
		/* Corsica: department 2A or 2B */
		if (i == 6 && id[5] == '2' && (id[6] == 'A' || id[6] == 'B' ||
					       id[6] == 'a' || id[6] == 'b'))
			continue;
		return 0;
	}
	return 1;
}

int carnet_patient__ins_check(const char *id)
{
	unsigned long long n = 0;
	for (int i = 0; i < 13; i++) {
		int d;
		if (i == 5 && (id[6] == 'A' || id[6] == 'a'))
			d = 1; /* 2A counts as 19 */
		else if (i == 6 && (id[6] == 'A' || id[6] == 'a'))
			d = 9;
		else if (i == 5 && (id[6] == 'B' || id[6] == 'b'))
			d = 1; /* 2B counts as 18 */
		else if (i == 6 && (id[6] == 'B' || id[6] == 'b'))
			d = 8;
		else
			d = id[i] - '0';
		n = n * 10 + (unsigned long long)d;
	}
	return (int)(97 - n % 97);
}

static int refuse(char *why, size_t why_size, const char *what)
{
	if (why && why_size)
		snprintf(why, why_size, "%s", what);
	return -1;
}

/* An INS number: shaped, and its check key right. */
static int check_ins(const char *id, char *why, size_t why_size)
{
	if (!carnet_patient__ins_shaped(id))
		return refuse(why, why_size,
			      "patient id is not an INS (15 characters: 13 digits, 2A or 2B "
			      "for Corsica, then a 2-digit check key)");
	int want = carnet_patient__ins_check(id);
	int got = (id[13] - '0') * 10 + (id[14] - '0');
	if (got != want) {
		if (why && why_size)
			snprintf(why, why_size,
				 "INS check key %02d is wrong (the number gives %02d)", got, want);
		return -1;
	}
	return 0;
}

int carnet_patient__key(char *key, const char *system, const char *id,
			char *why, size_t why_size)
{
	key[0] = '\0';
	if (!id || !*id)
		return refuse(why, why_size, "no patient id");
	if (!carnet_doc__valid_id(id))
		return refuse(why, why_size,
			      "patient id is not a printable code of at most 128 bytes "
			      "without spaces");
	if (strchr(id, CARNET_PATIENT_SEP))
		return refuse(why, why_size, "patient id holds '^', which separates a "
					     "system from an id");
	system = strip_urn(system);
	if (system && !*system)
		system = NULL;
	if (system && !carnet_doc__valid_id(system))
		return refuse(why, why_size,
			      "patient id system is not a printable code of at most 128 bytes "
			      "without spaces");
	if (system && strchr(system, CARNET_PATIENT_SEP))
		return refuse(why, why_size, "patient id system holds '^', which separates "
					     "a system from an id");
	int kind = carnet_patient__ins_kind(system);
	if (!system && carnet_patient__ins_shaped(id))
		kind = 1; /* an INS given without its system */
	char num[16];
	if (kind) {
		if (check_ins(id, why, why_size) != 0)
			return -1;
		memcpy(num, id, sizeof num);
		if (num[6] == 'a' || num[6] == 'b')
			num[6] = (char)(num[6] - 'a' + 'A');
		id = num;
	}
	if (kind == 1 || !system) {
		snprintf(key, CARNET_ID_MAX + 1, "%s", id);
		return 0;
	}
	size_t ns = strlen(system), ni = strlen(id);
	if (ns + 1 + ni > CARNET_ID_MAX)
		return refuse(why, why_size, "patient system and id together exceed 128 bytes");
	memcpy(key, system, ns);
	key[ns] = CARNET_PATIENT_SEP;
	memcpy(key + ns + 1, id, ni + 1);
	return 0;
}

int carnet_patient__request_key(char *key, const char *system, const char *id,
				char *why, size_t why_size)
{
	const char *sep = id && !(system && *system) ? strchr(id, CARNET_PATIENT_SEP) : NULL;
	if (!sep)
		return carnet_patient__key(key, system, id, why, why_size);
	char sys[CARNET_ID_MAX + 1];
	size_t n = (size_t)(sep - id);
	if (n == 0 || n > CARNET_ID_MAX)
		return refuse(why, why_size, "patient \"system^id\" has no system, or one "
					     "longer than 128 bytes");
	memcpy(sys, id, n);
	sys[n] = '\0';
	return carnet_patient__key(key, sys, sep + 1, why, why_size);
}

unsigned carnet_patient__shard(const char *id, unsigned count)
{
	char up[CARNET_ID_MAX + 1];
	size_t n = 0;
	for (; id[n] && n < CARNET_ID_MAX; n++)
		up[n] = id[n] >= 'a' && id[n] <= 'z' ? (char)(id[n] - 'a' + 'A') : id[n];
	return count ? (unsigned)(XXH32(up, n, 0) % count) : 0;
}

int carnet_shard_of(const char *patient_system, const char *patient_id, unsigned count,
		    unsigned *shard, carnet_error *err)
{
	char key[CARNET_ID_MAX + 1], why[160];
	if (shard)
		*shard = 0;
	if (!shard || count < 1 || count > CARNET_SHARD_COUNT_MAX)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "shard count must be 1 to %d", CARNET_SHARD_COUNT_MAX);
	if (carnet_patient__request_key(key, patient_system, patient_id, why, sizeof why) != 0)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0, "%s", why);
	const char *sep = !(patient_system && *patient_system)
		? strchr(patient_id, CARNET_PATIENT_SEP) : NULL;
	*shard = carnet_patient__shard(sep ? sep + 1 : patient_id, count);
	return CARNET_OK;
}

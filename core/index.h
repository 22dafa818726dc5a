/* SPDX-License-Identifier: GPL-2.0-or-later */
/* index.h - the index handle (carnet_index of the public API) as the
 * library sees it: what an open index holds, and the rule by which a
 * reader starts again when a writer gets in its way. Both sides use the
 * handle: the indexer's program for its statistics and rejects, the query
 * side for searching. */
#ifndef CARNET_CORE_INDEX_H
#define CARNET_CORE_INDEX_H

#include "access_log.h"
#include "analytes.h"
#include "carnet.h"
#include "home.h"
#include "policy.h"
#include "rank.h"
#include "registry.h"
#include "xapian_shim.h"

struct carnet_index {
	carnet_registry *reg;
	carnet_xreader *xr;
	carnet_policy *policy;
	carnet_ranking *rank;     /* ranking tables: defaults and the home's own */
	char *profile_codes;      /* the index's CARNET_PROFILES_KEY, as last read */
	unsigned long profile_codes_of; /* ... under this carnet_xap_reader_opened */
	carnet_alog *log;         /* the access log, opened at first use */
	carnet_analytes *analytes; /* analytes and panels, loaded at the first
				      request for results */
	char home[CARNET_PATH_MAX];
	char gen[CARNET_PATH_MAX];   /* the generation the handle has open */
	unsigned long long stamp;    /* CURRENT's fingerprint when opened */
	unsigned shard, shards;      /* the shard the generation holds (shards 0: all) */
};

/* Does the generation idx has open hold the record of the patient a
 * request names (req's patient_system and patient_id)? CARNET_OK, or
 * CARNET_E_INVALID naming both shards: a request sent to the wrong shard
 * (a router's mistake) must not look like an empty record. */
int carnet_index__holds_patient(const carnet_index *idx, const carnet_request *req,
				carnet_error *err);

/* Run attempt(payload, err) on the latest committed state of the index,
 * and again, from the start, while a writer gets in its way (a commit
 * discarded the revision being read, or a rebuild took the generation
 * away; see retryable in index.c), for a few seconds at most. attempt
 * must leave nothing of a failed try behind that the next one would
 * see. Returns the last attempt's status (or the refresh's, when the
 * index could not be brought up to date). */
int carnet_index__with_retries(carnet_index *idx,
			       int (*attempt)(void *payload, carnet_error *err),
			       void *payload, carnet_error *err);

#endif

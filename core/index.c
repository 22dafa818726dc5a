/* SPDX-License-Identifier: GPL-2.0-or-later */
/* index.c - the index handle: opening an index home's live generation
 * (registry, Xapian database, matrix and ranking tables), following it to
 * the latest committed state and to a new generation, starting a read
 * again when a writer gets in its way, and the index's statistics and
 * rejects. Below both sides: the indexer's program and the query side
 * use it. */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "index.h"
#include "schema.h"

/* Open the registry and the Xapian database of generation directory gen. */
static int open_generation(carnet_registry **reg_out, carnet_xreader **xr_out,
			   const char *gen, carnet_error *err)
{
	char db[CARNET_PATH_MAX], reg[CARNET_PATH_MAX];
	int rc;
	*reg_out = NULL;
	*xr_out = NULL;
	if ((rc = carnet_home__path(db, sizeof db, gen, CARNET_XAPIAN_DIR, err)) ||
	    (rc = carnet_home__path(reg, sizeof reg, gen, CARNET_REGISTRY_FILE, err)) ||
	    (rc = carnet_registry__open(reg_out, reg, 0, err)))
		return rc;
	if ((rc = carnet_xap_reader_open(xr_out, db, err))) {
		carnet_registry__close(*reg_out);
		*reg_out = NULL;
	}
	return rc;
}

/* The shard the registry of the open generation says it holds
 * (carnet_writer_set_shard; none: all patients). */
static int read_shard(carnet_index *idx, carnet_error *err)
{
	char spec[32];
	idx->shard = idx->shards = 0;
	int rc = carnet_registry__meta_get(idx->reg, "shard", spec, sizeof spec, err);
	if (rc == CARNET_OK && spec[0] && sscanf(spec, "%u/%u", &idx->shard, &idx->shards) != 2)
		idx->shard = idx->shards = 0;
	return rc;
}

int carnet_index__holds_patient(const carnet_index *idx, const carnet_request *req,
				carnet_error *err)
{
	if (!idx->shards)
		return CARNET_OK;
	unsigned shard;
	int rc = carnet_shard_of(req->version >= 3 ? req->patient_system : NULL,
				 req->patient_id, idx->shards, &shard, err);
	if (rc == CARNET_OK && shard != idx->shard)
		rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
				       "the patient's record is on shard %u/%u, this index "
				       "holds shard %u/%u: the request went to the wrong shard",
				       shard, idx->shards, idx->shard, idx->shards);
	return rc;
}

/* glibc's malloc gives the top of its heap back to the system when a free
 * leaves more than its trim threshold there (128 KB at first), and takes
 * it again at the next large allocation: a search allocates and frees a
 * few hundred KB (sqlite's statements, a page of stored texts, the
 * panel's values), so that each search could pay brk calls and the page
 * faults of memory it had already (a third of a search's time, measured
 * on the bench). glibc raises the threshold to twice the largest block it
 * gave by mmap and got back (mallopt(3), M_MMAP_THRESHOLD, "dynamic"):
 * one such block of 4 MB, once per process, puts it at 8 MB, as any
 * program that once freed such a block has it. A program that set its
 * thresholds itself keeps them (glibc then no longer moves them). */
static void settle_heap(void)
{
	void *volatile block = malloc((size_t)4 << 20);
	free(block);
}

int carnet_index_open(carnet_index **out, const char *home, carnet_error *err)
{
	static pthread_once_t heap_once = PTHREAD_ONCE_INIT;
	pthread_once(&heap_once, settle_heap);
	*out = NULL;
	home = carnet_home__resolve(home);
	carnet_index *idx = calloc(1, sizeof *idx);
	if (!idx)
		return carnet_error__nomem(err, "opening index");
	snprintf(idx->home, sizeof idx->home, "%s", home);
	int rc;
	struct stat st;
	if (stat(home, &st) != 0 || !S_ISDIR(st.st_mode)) {
		rc = carnet_error__set(err, CARNET_E_NOTFOUND, CARNET_ORIGIN_CARNET,
				       0, "no carnet index at %s", home);
		goto fail;
	}
	idx->stamp = carnet_home__stamp(home);
	if ((rc = carnet_home__current(idx->gen, sizeof idx->gen, home, err)) ||
	    (rc = carnet_policy__load(&idx->policy, home, err)) ||
	    (rc = carnet_rank__load(&idx->rank, home, err)) ||
	    (rc = open_generation(&idx->reg, &idx->xr, idx->gen, err)) ||
	    (rc = read_shard(idx, err)))
		goto fail;
	*out = idx;
	return CARNET_OK;
fail:
	carnet_index_close(idx);
	return rc;
}

void carnet_index_close(carnet_index *idx)
{
	if (!idx)
		return;
	carnet_xap_reader_free(idx->xr);
	carnet_registry__close(idx->reg);
	carnet_alog__close(idx->log);
	carnet_policy__free(idx->policy);
	carnet_rank__free(idx->rank);
	carnet_analytes__free(idx->analytes);
	free(idx->profile_codes);
	free(idx);
}

/* Move the handle to the latest committed state of the live generation,
 * once. */
static int refresh_once(carnet_index *idx, unsigned long long stamp, carnet_error *err)
{
	char gen[CARNET_PATH_MAX];
	int rc = carnet_home__current(gen, sizeof gen, idx->home, err);
	if (rc)
		return rc;
	if (strcmp(gen, idx->gen) == 0) {
		idx->stamp = stamp;
		return carnet_xap_reader_reopen(idx->xr, err);
	}
	/* a new generation went live: open it, then let the old one go */
	carnet_registry *reg;
	carnet_xreader *xr;
	if ((rc = open_generation(&reg, &xr, gen, err)))
		return rc;
	carnet_xap_reader_free(idx->xr);
	carnet_registry__close(idx->reg);
	idx->xr = xr;
	idx->reg = reg;
	idx->stamp = stamp;
	snprintf(idx->gen, sizeof idx->gen, "%s", gen);
	return read_shard(idx, err);
}

/* Monotonic seconds. */
static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A writer can get in the way of a reader: a commit discards the revision
 * being read (MODIFIED; or, when Xapian meets a block the writer has
 * already reused, CORRUPT), and a rebuild can remove the generation being
 * opened or read once a newer one is live (then CURRENT has changed).
 * These pass: the reader starts again on the latest state, after a pause
 * that grows (1 ms doubling up to 64 ms), for RETRY_SECONDS at most. A
 * CORRUPT that comes back CORRUPT_TRIES times in a row is real. */
#define RETRY_SECONDS 5.0
#define RETRY_MAX 200
#define CORRUPT_TRIES 4

/* Should an attempt that began when CURRENT's fingerprint was `seen` and
 * ended with rc be made again? *corrupt counts the CORRUPT answers in a
 * row. */
static int retryable(const carnet_index *idx, int rc, unsigned long long seen, int *corrupt)
{
	*corrupt = rc == CARNET_E_CORRUPT ? *corrupt + 1 : 0;
	return rc == CARNET_E_MODIFIED ||
	       (rc == CARNET_E_CORRUPT && *corrupt < CORRUPT_TRIES) ||
	       (rc != CARNET_OK && rc != CARNET_E_NOMEM &&
		carnet_home__stamp(idx->home) != seen);
}

static void retry_pause(int retry)
{
	long ms = retry < 6 ? 1L << retry : 64;
	struct timespec ts = { 0, ms * 1000000L };
	nanosleep(&ts, NULL);
}

int carnet_index_refresh(carnet_index *idx, carnet_error *err)
{
	double start = seconds_now();
	int rc = CARNET_OK, corrupt = 0;
	for (int retry = 0; retry < RETRY_MAX; retry++) {
		if (retry)
			retry_pause(retry - 1);
		unsigned long long stamp = carnet_home__stamp(idx->home);
		rc = refresh_once(idx, stamp, err);
		/* the generation went away while it was being opened: a
		 * newer one is live, open that */
		if (!retryable(idx, rc, stamp, &corrupt) || seconds_now() - start > RETRY_SECONDS)
			break;
	}
	return rc;
}

/* An attempt, MODIFIED when a compaction replaced a shard while it ran
 * (a table Xapian opened only then may have been the old shard's, gone). */
static int checked(carnet_index *idx, int (*attempt)(void *payload, carnet_error *err),
		   void *payload, carnet_error *err)
{
	int rc = attempt(payload, err);
	if (rc == CARNET_OK && carnet_xap_reader_replaced(idx->xr))
		rc = carnet_error__set(err, CARNET_E_MODIFIED, CARNET_ORIGIN_CARNET, 0,
				       "the index was compacted during the search");
	return rc;
}

int carnet_index__with_retries(carnet_index *idx,
			       int (*attempt)(void *payload, carnet_error *err),
			       void *payload, carnet_error *err)
{
	/* see the latest committed state, and a new generation if one went
	 * live since the last search */
	unsigned long long seen = carnet_home__stamp(idx->home);
	int rc;
	if (seen != idx->stamp)
		rc = carnet_index_refresh(idx, err);
	else
		rc = carnet_xap_reader_reopen(idx->xr, err);
	if (rc == CARNET_OK)
		rc = checked(idx, attempt, payload, err);
	/* a writer committed under us (between choosing the hits and reading
	 * them, too), or a rebuild took the generation away: the whole
	 * request starts again on the latest state, nothing of the first
	 * attempt kept (see retryable) */
	double start = seconds_now();
	int corrupt = 0;
	for (int retry = 0; retryable(idx, rc, seen, &corrupt) && retry < RETRY_MAX &&
			    seconds_now() - start < RETRY_SECONDS; retry++) {
		if (retry)
			retry_pause(retry - 1);
		seen = carnet_home__stamp(idx->home);
		if ((rc = carnet_index_refresh(idx, err)) == CARNET_OK)
			rc = checked(idx, attempt, payload, err);
	}
	return rc;
}

/* Bytes used by the files under dir (not following links). */
static uint64_t dir_bytes(const char *dir, int depth)
{
	uint64_t total = 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char p[CARNET_PATH_MAX];
		if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
			continue;
		struct stat st;
		if (lstat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < 4)
			total += dir_bytes(p, depth + 1);
		else if (S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

int carnet_index_stat(carnet_index *idx, carnet_stat which, uint64_t *value_out,
		      carnet_error *err)
{
	*value_out = 0;
	switch (which) {
	case CARNET_STAT_DOCUMENTS: {
		unsigned long n;
		int rc = carnet_xap_reader_doccount(idx->xr, &n, err);
		*value_out = n;
		return rc;
	}
	case CARNET_STAT_REGISTERED:
		return carnet_registry__count(idx->reg, CARNET_COUNT_DOCUMENTS, value_out, err);
	case CARNET_STAT_PATIENTS:
		return carnet_registry__count(idx->reg, CARNET_COUNT_PATIENTS, value_out, err);
	case CARNET_STAT_SETS:
		return carnet_registry__count(idx->reg, CARNET_COUNT_SETS, value_out, err);
	case CARNET_STAT_REJECTS:
		return carnet_registry__count(idx->reg, CARNET_COUNT_REJECTS, value_out, err);
	case CARNET_STAT_SIZE_BYTES:
		*value_out = dir_bytes(idx->home, 0);
		return CARNET_OK;
	case CARNET_STAT_GENERATION: {
		const char *dash = strrchr(idx->gen, '-');
		*value_out = dash ? strtoull(dash + 1, NULL, 10) : 0;
		return CARNET_OK;
	}
	}
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
				 "unknown statistic %d", (int)which);
}

int carnet_index_rejects(carnet_index *idx, carnet_reject_cb cb, void *payload,
			 carnet_error *err)
{
	return carnet_registry__rejects(idx->reg, cb, payload, err);
}

int carnet_index_set_ranking(carnet_index *idx, const char *config, carnet_error *err)
{
	if (!config)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "no ranking configuration");
	return carnet_rank__configure(idx->rank, "ranking configuration", config,
				      strlen(config), err);
}

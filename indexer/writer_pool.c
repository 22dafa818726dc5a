/* SPDX-License-Identifier: GPL-2.0-or-later */
/* writer_pool.c - adding many inputs (carnet_writer_add_files): worker
 * threads read and prepare them while the writer applies them in order. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "writer.h"

/* Parallel extraction: worker threads prepare inputs into a ring of slots,
 * each with its own registry connection; the calling thread applies them
 * in input order, so the result is the same as one by one. The ring
 * bounds the memory in flight whatever the number of inputs. The threads
 * (and the PDF extractor each keeps) live as long as the writer: a
 * nightly job calls add_files once per batch, and starting them again
 * for each batch cost a fork of the grown indexer per thread and batch.
 *
 * The threads may be jobs inputs ahead of the writer whatever their size,
 * and up to POOL_AHEAD more while the inputs prepared and waiting hold
 * less than POOL_AHEAD_TEXT bytes of text (their Xapian documents, about
 * ten times that): enough to keep them busy while the writer waits for
 * a slow input, or commits the last batch (add_parallel). */
#define POOL_AHEAD 64
#define POOL_AHEAD_TEXT (1024 * 1024)

struct carnet_pool {
	pthread_mutex_t mu;
	pthread_cond_t work;       /* a batch began, a slot was freed, or stop */
	pthread_cond_t done;       /* a slot was prepared */
	const char *const *paths;  /* the batch being added */
	size_t count;              /* inputs workers may claim (0 between batches) */
	size_t claimed;            /* next input a worker takes */
	size_t applied;            /* inputs the writer has finished with */
	unsigned busy;             /* workers preparing an input */
	carnet_prepared *slots;
	int *ready;
	size_t *held;              /* the text a prepared slot holds */
	size_t held_total;         /* of every slot prepared and not applied */
	size_t nslots;
	int stop;
	unsigned jobs;
	pthread_t threads[64];
	unsigned started;
	carnet_writer *w;
};

/* Is there an input of the batch a thread may take now (see above)? */
static int may_claim(const carnet_pool *pl)
{
	size_t ahead = pl->claimed - pl->applied;
	return pl->claimed < pl->count && ahead < pl->nslots &&
	       (ahead < pl->jobs || pl->held_total < POOL_AHEAD_TEXT);
}

/* Wait for work: an input of the batch to claim whose slot is free. */
static int claim(carnet_pool *pl, size_t *i)
{
	pthread_mutex_lock(&pl->mu);
	while (!pl->stop && !may_claim(pl))
		pthread_cond_wait(&pl->work, &pl->mu);
	int got = !pl->stop;
	if (got) {
		*i = pl->claimed++;
		pl->busy++;
	}
	pthread_mutex_unlock(&pl->mu);
	return got;
}

/* The text of job's documents (what its memory follows). */
static size_t text_of(const carnet_prepared *job)
{
	size_t n = 0;
	for (size_t d = 0; d < job->count; d++)
		for (size_t k = 0; k < job->docs[d].sections_count; k++)
			n += job->docs[d].sections[k].len;
	return n;
}

static void *worker(void *arg)
{
	carnet_pool *pl = arg;
	carnet_registry *reg = NULL;
	carnet_error err;
	int open_rc = carnet_registry__open(&reg, pl->w->registry_path, 0, &err);
	size_t i;
	while (claim(pl, &i)) {
		carnet_prepared *job = &pl->slots[i % pl->nslots];
		if (open_rc == CARNET_OK) {
			carnet_prepare__input(job, pl->paths[i], reg, &pl->w->limits, pl->w->rank,
					      &pl->w->shard);
		} else {
			memset(job, 0, sizeof *job);
			job->kind = CARNET_PREP_FATAL;
			job->reason = err;
		}
		size_t text = text_of(job);
		pthread_mutex_lock(&pl->mu);
		pl->ready[i % pl->nslots] = 1;
		pl->held[i % pl->nslots] = text;
		pl->held_total += text;
		pl->busy--;
		pthread_cond_broadcast(&pl->done);
		pthread_mutex_unlock(&pl->mu);
	}
	carnet_registry__close(reg);
	carnet_pdf__stop_extractor();
	return NULL;
}

void carnet_writer__pool_free(carnet_pool *pl)
{
	if (!pl)
		return;
	pthread_mutex_lock(&pl->mu);
	pl->stop = 1;
	pthread_cond_broadcast(&pl->work);
	pthread_mutex_unlock(&pl->mu);
	for (unsigned t = 0; t < pl->started; t++)
		pthread_join(pl->threads[t], NULL);
	pthread_cond_destroy(&pl->done);
	pthread_cond_destroy(&pl->work);
	pthread_mutex_destroy(&pl->mu);
	free(pl->slots);
	free(pl->ready);
	free(pl->held);
	free(pl);
}

/* The writer's pool of jobs threads, started on first use. */
static int pool_get(carnet_writer *w, unsigned jobs, carnet_pool **out, carnet_error *err)
{
	if (w->pool && w->pool->jobs == jobs) {
		*out = w->pool;
		return CARNET_OK;
	}
	carnet_writer__pool_free(w->pool);
	w->pool = NULL;
	carnet_pool *pl = calloc(1, sizeof *pl);
	if (pl) {
		pl->nslots = jobs + (size_t)POOL_AHEAD;
		pl->slots = calloc(pl->nslots, sizeof *pl->slots);
		pl->ready = calloc(pl->nslots, sizeof *pl->ready);
		pl->held = calloc(pl->nslots, sizeof *pl->held);
	}
	if (!pl || !pl->slots || !pl->ready || !pl->held) {
		if (pl) {
			free(pl->slots);
			free(pl->ready);
			free(pl->held);
		}
		free(pl);
		return carnet_error__nomem(err, "starting extraction threads");
	}
	pl->jobs = jobs;
	pl->w = w;
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->work, NULL);
	pthread_cond_init(&pl->done, NULL);
	for (unsigned t = 0; t < jobs; t++)
		if (pthread_create(&pl->threads[pl->started], NULL, worker, pl) == 0)
			pl->started++;
	if (!pl->started) {
		carnet_writer__pool_free(pl);
		return carnet_error__set(err, CARNET_E_INTERNAL, CARNET_ORIGIN_OS, 0,
					 "cannot start extraction threads");
	}
	w->pool = pl;
	*out = pl;
	return CARNET_OK;
}

/* End a batch: no more claims, wait for the workers still preparing, and
 * clear the slots prepared but not applied (after a failure). */
static void end_batch(carnet_pool *pl)
{
	pthread_mutex_lock(&pl->mu);
	pl->count = 0;
	while (pl->busy)
		pthread_cond_wait(&pl->done, &pl->mu);
	for (size_t k = 0; k < pl->nslots; k++) {
		if (pl->ready[k])
			carnet_prepare__clear(&pl->slots[k]);
		pl->ready[k] = 0;
		pl->held[k] = 0;
	}
	pl->held_total = 0;
	pl->claimed = pl->applied = 0;
	pl->paths = NULL;
	pthread_mutex_unlock(&pl->mu);
}

static int add_serial(carnet_writer *w, const char *const *paths, size_t count,
		      carnet_outcome_cb cb, void *payload, carnet_error *err)
{
	for (size_t i = 0; i < count; i++) {
		carnet_outcome o;
		carnet_error reason;
		carnet_error__clear(&reason);
		int rc = carnet_writer_add_file(w, paths[i], &o, &reason);
		if (rc) {
			if (err)
				*err = reason;
			return rc;
		}
		if (cb)
			cb(paths[i], o, o == CARNET_OUTCOME_REJECTED ? &reason : NULL, payload);
	}
	return CARNET_OK;
}

/* Hand paths[0..count) to the pool's threads. */
static void start_batch(carnet_pool *pl, const char *const *paths, size_t count)
{
	pthread_mutex_lock(&pl->mu);
	pl->paths = paths;
	pl->count = count;
	pthread_cond_broadcast(&pl->work);
	pthread_mutex_unlock(&pl->mu);
}

/* Apply the batch's count inputs in order, each once a thread has
 * prepared it, and free its slot for the next. */
static int apply_batch(carnet_writer *w, carnet_pool *pl, const char *const *paths,
		       size_t count, carnet_outcome_cb cb, void *payload, carnet_error *err)
{
	int rc = CARNET_OK;
	for (size_t i = 0; i < count && rc == CARNET_OK; i++) {
		pthread_mutex_lock(&pl->mu);
		while (!pl->ready[i % pl->nslots])
			pthread_cond_wait(&pl->done, &pl->mu);
		pthread_mutex_unlock(&pl->mu);
		carnet_prepared *job = &pl->slots[i % pl->nslots];
		/* the thread read its source's row on its own connection, which
		 * does not see what the writer applied and has not committed
		 * (this batch's inputs before it, the last batch's while its
		 * commit ran): decided again when that row changed since */
		carnet_prepare__recheck(job, w->reg, &w->limits, w->rank, &w->shard);
		carnet_outcome o;
		carnet_error reason;
		carnet_error__clear(&reason);
		rc = carnet_writer__apply(w, job, &o, &reason);
		if (rc && err)
			*err = reason;
		if (rc == CARNET_OK && cb)
			cb(paths[i], o, o == CARNET_OUTCOME_REJECTED ? &reason : NULL, payload);
		carnet_prepare__clear(job);
		pthread_mutex_lock(&pl->mu);
		pl->ready[i % pl->nslots] = 0;
		pl->held_total -= pl->held[i % pl->nslots];
		pl->held[i % pl->nslots] = 0;
		pl->applied = i + 1;
		pthread_cond_broadcast(&pl->work);
		pthread_mutex_unlock(&pl->mu);
	}
	return rc;
}

/* Commit what is pending; a failure says it was the commit. */
static int commit_pending(carnet_writer *w, carnet_error *err)
{
	int rc = carnet_writer_commit(w, err);
	if (rc && err) {
		char why[CARNET_ERROR_MESSAGE_SIZE];
		snprintf(why, sizeof why, "%s", err->message);
		snprintf(err->message, sizeof err->message, "commit failed: %.480s", why);
	}
	return rc;
}

/* Add paths[0..count) with jobs threads (above 1). */
static int add_parallel(carnet_writer *w, const char *const *paths, size_t count,
			unsigned jobs, carnet_outcome_cb cb, void *payload, carnet_error *err)
{
	/* What is pending is committed before the threads read the registry,
	 * or, when it is only what the last call applied, while they start
	 * on these inputs: a thread then does not see that call's changes,
	 * as it does not see those of this batch's inputs before its own,
	 * and apply_batch rechecks what it read. Anything else pending (a
	 * mask, a rebuild's copied masks, a shard) is what every thread
	 * must see, and is committed first. */
	int pending = carnet_registry__in_txn(w->reg);
	int overlap = pending && count > 1 &&
		      carnet_registry__changes(w->reg) == w->added_changes;
	int rc = CARNET_OK;
	if (pending && !overlap && (rc = commit_pending(w, err)))
		return rc;
	if (count <= 1)
		return add_serial(w, paths, count, cb, payload, err);
	carnet_reader__init_threads();
	carnet_pool *pl = NULL;
	if ((rc = pool_get(w, jobs, &pl, err)) != CARNET_OK)
		return rc;
	start_batch(pl, paths, count);
	if (overlap)
		rc = commit_pending(w, err);
	if (rc == CARNET_OK)
		rc = apply_batch(w, pl, paths, count, cb, payload, err);
	end_batch(pl);
	return rc;
}

int carnet_writer_add_files(carnet_writer *w, const char *const *paths,
			    size_t count, unsigned jobs, carnet_outcome_cb cb,
			    void *payload, carnet_error *err)
{
	/* with several jobs, the shards are also written (and committed)
	 * in parallel, until the writer closes; one job is one thread */
	int rc = carnet_xap_writer_threads(w->xw, jobs > 1, err);
	if (rc)
		return rc;
	if (jobs <= 1)
		return add_serial(w, paths, count, cb, payload, err);
	rc = add_parallel(w, paths, count, jobs > 64 ? 64 : jobs, cb, payload, err);
	/* what the next call may commit while its threads start */
	w->added_changes = rc == CARNET_OK ? carnet_registry__changes(w->reg)
					   : CARNET_WRITER_NOT_ADDED;
	return rc;
}

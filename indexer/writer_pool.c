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
 * bounds the memory in flight whatever the number of inputs. */
typedef struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work;       /* a slot was freed, or stop */
	pthread_cond_t done;       /* a slot was prepared */
	const char *const *paths;
	size_t count;
	size_t claimed;            /* next input a worker takes */
	size_t applied;            /* inputs the writer has finished with */
	carnet_prepared *slots;
	int *ready;
	size_t nslots;
	int stop;
	const carnet_limits *limits;
	char registry[CARNET_PATH_MAX];
	carnet_writer *w;
} pool;

static void *worker(void *arg)
{
	pool *pl = arg;
	carnet_registry *reg = NULL;
	carnet_error err;
	int open_rc = carnet_registry__open(&reg, pl->registry, 0, &err);
	for (;;) {
		pthread_mutex_lock(&pl->mu);
		while (!pl->stop && pl->claimed < pl->count &&
		       pl->claimed - pl->applied >= pl->nslots)
			pthread_cond_wait(&pl->work, &pl->mu);
		if (pl->stop || pl->claimed >= pl->count) {
			pthread_mutex_unlock(&pl->mu);
			break;
		}
		size_t i = pl->claimed++;
		pthread_mutex_unlock(&pl->mu);
		carnet_prepared *job = &pl->slots[i % pl->nslots];
		if (open_rc == CARNET_OK) {
			carnet_prepare__input(job, pl->paths[i], reg, pl->limits, pl->w->rank);
		} else {
			memset(job, 0, sizeof *job);
			job->kind = CARNET_PREP_FATAL;
			job->reason = err;
		}
		pthread_mutex_lock(&pl->mu);
		pl->ready[i % pl->nslots] = 1;
		pthread_cond_broadcast(&pl->done);
		pthread_mutex_unlock(&pl->mu);
	}
	carnet_registry__close(reg);
	carnet_pdf__stop_extractor();
	return NULL;
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
	if (jobs <= 1 || count <= 1) {
		for (size_t i = 0; i < count; i++) {
			carnet_outcome o;
			carnet_error reason;
			carnet_error__clear(&reason);
			rc = carnet_writer_add_file(w, paths[i], &o, &reason);
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
	if (jobs > 64)
		jobs = 64;
	carnet_reader__init_threads();
	/* uncommitted registry changes must be visible to the workers'
	 * connections: commit them first */
	rc = carnet_registry__in_txn(w->reg) ? carnet_writer_commit(w, err) : CARNET_OK;
	if (rc)
		return rc;
	pool pl;
	memset(&pl, 0, sizeof pl);
	pl.paths = paths;
	pl.count = count;
	pl.nslots = 2 * (size_t)jobs;
	pl.limits = &w->limits;
	pl.w = w;
	snprintf(pl.registry, sizeof pl.registry, "%s", w->registry_path);
	pl.slots = calloc(pl.nslots, sizeof *pl.slots);
	pl.ready = calloc(pl.nslots, sizeof *pl.ready);
	pthread_t threads[64];
	unsigned started = 0;
	if (!pl.slots || !pl.ready) {
		free(pl.slots);
		free(pl.ready);
		return carnet_error__nomem(err, "starting extraction threads");
	}
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.work, NULL);
	pthread_cond_init(&pl.done, NULL);
	for (unsigned t = 0; t < jobs; t++)
		if (pthread_create(&threads[started], NULL, worker, &pl) == 0)
			started++;
	if (!started) {
		rc = carnet_error__set(err, CARNET_E_INTERNAL, CARNET_ORIGIN_OS, 0,
				       "cannot start extraction threads");
		goto done;
	}
	for (size_t i = 0; i < count && rc == CARNET_OK; i++) {
		pthread_mutex_lock(&pl.mu);
		while (!pl.ready[i % pl.nslots])
			pthread_cond_wait(&pl.done, &pl.mu);
		pthread_mutex_unlock(&pl.mu);
		carnet_prepared *job = &pl.slots[i % pl.nslots];
		carnet_outcome o;
		carnet_error reason;
		carnet_error__clear(&reason);
		rc = carnet_writer__apply(w, job, &o, &reason);
		if (rc && err)
			*err = reason;
		if (rc == CARNET_OK && cb)
			cb(paths[i], o, o == CARNET_OUTCOME_REJECTED ? &reason : NULL, payload);
		carnet_prepare__clear(job);
		pthread_mutex_lock(&pl.mu);
		pl.ready[i % pl.nslots] = 0;
		pl.applied = i + 1;
		pthread_cond_broadcast(&pl.work);
		pthread_mutex_unlock(&pl.mu);
	}
done:
	pthread_mutex_lock(&pl.mu);
	pl.stop = 1;
	pthread_cond_broadcast(&pl.work);
	pthread_mutex_unlock(&pl.mu);
	for (unsigned t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	/* slots prepared but not applied (after a failure) */
	for (size_t k = 0; k < pl.nslots; k++)
		carnet_prepare__clear(&pl.slots[k]);
	pthread_cond_destroy(&pl.done);
	pthread_cond_destroy(&pl.work);
	pthread_mutex_destroy(&pl.mu);
	free(pl.slots);
	free(pl.ready);
	return rc;
}

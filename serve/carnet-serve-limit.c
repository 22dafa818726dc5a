/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-serve-limit.c - how many refusals of unidentified requests get a
 * row of their own in the access log.
 *
 * A refusal made before the token is verified (no token, a bad one, no
 * client certificate) costs an access-log row, written in turn with every
 * search (core/access_log.c): anyone who reaches the port could fill the
 * log and slow every search with rows that name nobody. So those rows go
 * through a token bucket: --refusal-log-rate N a second, bursts of 10 N.
 * The refusals over it are counted, and the next row written (or the
 * service's stop) is preceded by one row saying how many were not
 * written one by one and between which times: every refusal is still
 * accounted for in the log. Refusals of a verified viewer (a bad
 * parameter, another patient's record) always get their own row. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "serve.h"

static pthread_mutex_t bucket_lock = PTHREAD_MUTEX_INITIALIZER;
static double bucket = -1; /* rows that may be written now; -1: not started */
static double bucket_at;   /* seconds (monotonic) when it was last filled */
static serve_held held;    /* refusals counted since the last row */
static atomic_ulong held_total;

static double monotonic_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void utc_now(char out[32])
{
	struct timespec t;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &t);
	gmtime_r(&t.tv_sec, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int serve_refusal_admit(unsigned rate, serve_held *before)
{
	before->count = 0;
	if (rate == 0)
		return 1;
	pthread_mutex_lock(&bucket_lock);
	double now = monotonic_s(), burst = 10.0 * rate;
	if (bucket < 0)
		bucket = burst;
	else if ((bucket += (now - bucket_at) * rate) > burst)
		bucket = burst;
	bucket_at = now;
	int admit = bucket >= 1.0;
	if (admit) {
		bucket -= 1.0;
		*before = held;
		held.count = 0;
	} else {
		if (held.count == 0)
			utc_now(held.from);
		utc_now(held.to);
		held.count++;
		atomic_fetch_add(&held_total, 1);
	}
	pthread_mutex_unlock(&bucket_lock);
	return admit;
}

void serve_refusal_take_held(serve_held *out)
{
	pthread_mutex_lock(&bucket_lock);
	*out = held;
	held.count = 0;
	pthread_mutex_unlock(&bucket_lock);
}

unsigned long serve_refusals_held_total(void)
{
	return atomic_load(&held_total);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_cluster.c - a cluster on one machine (make cluster-test): 3 shards
 * x 2 replicas of the real carnet-serve on loopback ports behind one real
 * HAProxy configured by carnet-serve --haproxy-config, each replica an
 * index home synced on its own from one generated store; answers through
 * the router against a single index of the whole store, a replica killed
 * under load, a shard down and back, a nightly sync under load, and the
 * access log merged across a shard's replicas. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <cjose/cjose.h>
#include <curl/curl.h>
#include <jansson.h>

#include "carnet.h"
#include "helpers.h"

#define SHARDS 3
#define REPLICAS 2
#define DOCS "600"
#define INS_NIR "1.2.250.1.213.1.4.8"
#define ISS "https://auth.carnet.example"
#define AUD "carnet-cluster-test"
#define PATIENTS_MAX 128

typedef struct proc {
	pid_t pid; /* 0 when not running */
	int port;
	char home[4200];
	char err[4300];
} proc;

static char dir[4096], docs[4200];
static proc replica[SHARDS][REPLICAS], whole;
static pid_t haproxy;
static int router_port;
static char token[4096];
static char patients[PATIENTS_MAX][32];
static unsigned shard_of[PATIENTS_MAX];
static size_t npatients;

/* ---- processes: each in its own group, killed with the test ---- */

static pid_t spawn(const char *const argv[], int out_fd, const char *err_path)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		setpgid(0, 0);
		/* whatever ends the test (a timeout's SIGKILL included) ends it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		int e = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int in = open("/dev/null", O_RDONLY);
		dup2(in, 0);
		dup2(out_fd >= 0 ? out_fd : e, 1);
		dup2(e, 2);
		execv(argv[0], (char *const *)argv);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	setpgid(pid, pid);
	return pid;
}

static void reap(pid_t *pid, int sig)
{
	if (*pid <= 0)
		return;
	kill(-*pid, sig);
	kill(*pid, sig);
	for (int i = 0; i < 100; i++) { /* 10 s, then SIGKILL */
		if (waitpid(*pid, NULL, WNOHANG) == *pid) {
			*pid = 0;
			return;
		}
		struct timespec ts = { 0, 100000000 };
		nanosleep(&ts, NULL);
	}
	kill(-*pid, SIGKILL);
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = 0;
}

/* carnet-serve on home, on p->port or, when 0, a free port picked here,
 * with the router's URL as its public base URL. 0 once it listens; -1
 * when it exited first. */
static int serve_try(proc *p)
{
	char listen[64], base[64];
	snprintf(listen, sizeof listen, "127.0.0.1:%d", p->port);
	snprintf(base, sizeof base, "http://127.0.0.1:%d", router_port);
	const char *argv[] = { th_path("%s/carnet-serve", th_build()), "--index", p->home,
			       "--listen", listen, "--insecure-loopback", "--jwks",
			       th_path("%s/jwks.json", dir), "--issuer", ISS, "--audience", AUD,
			       "--threads", "2", "--timeout", "5", "--base-url", base, NULL };
	char *copy[20];
	size_t n = 0;
	for (; argv[n]; n++)
		copy[n] = strdup(argv[n]);
	copy[n] = NULL;
	snprintf(p->err, sizeof p->err, "%s.err", p->home);
	int out[2];
	cr_assert_eq(pipe(out), 0);
	p->pid = spawn((const char *const *)copy, out[1], p->err);
	close(out[1]);
	for (size_t i = 0; i < n; i++)
		free(copy[i]);
	struct pollfd pf = { out[0], POLLIN, 0 };
	char line[256] = "";
	ssize_t got = poll(&pf, 1, 30000) == 1 ? read(out[0], line, sizeof line - 1) : -1;
	close(out[0]);
	if (got <= 0)
		return -1;
	line[got] = '\0';
	cr_assert_not_null(strstr(line, "listening on"), "%s", line);
	/* the bound address and port, beside the public base URL given */
	cr_assert_not_null(strstr(line, listen), "carnet-serve names %s: %s", listen, line);
	cr_assert_not_null(strstr(line, base), "carnet-serve names %s: %s", base, line);
	return 0;
}

/* serve_try; a port picked here and taken meanwhile by another process
 * is picked again (other tests run on this machine). */
static void serve_start(proc *p)
{
	int picked = !p->port;
	for (int attempt = 0; attempt < 3; attempt++) {
		if (picked)
			p->port = th_free_port();
		if (serve_try(p) == 0)
			return;
		reap(&p->pid, SIGKILL);
		if (!picked)
			break;
	}
	cr_assert_fail("carnet-serve on %s did not start (see %s)", p->home, p->err);
}

/* Stopped by SIGTERM: exits 0, without a sanitizer report. */
static void serve_stop(proc *p)
{
	pid_t pid = p->pid;
	cr_assert_eq(kill(pid, SIGTERM), 0);
	int status = 0;
	for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) != pid; i++) {
		struct timespec ts = { 0, 50000000 };
		nanosleep(&ts, NULL);
	}
	p->pid = 0;
	size_t len;
	char *err = th_slurp(p->err, &len);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: status %d: %s", p->home,
		  status, err);
	cr_assert_null(strstr(err, "Sanitizer"), "%s", err);
	cr_assert_null(strstr(err, "runtime error"), "%s", err);
	free(err);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- HTTP ---- */

typedef struct reply {
	long status; /* 0: no answer */
	char *body;
	size_t len;
} reply;

static size_t take(char *p, size_t size, size_t n, void *payload)
{
	reply *r = payload;
	char *b = realloc(r->body, r->len + size * n + 1);
	if (!b)
		return 0;
	memcpy(b + r->len, p, size * n);
	r->len += size * n;
	b[r->len] = '\0';
	r->body = b;
	return size * n;
}

/* GET path on port with the viewer's token (on curl handle h, kept). */
static reply get(CURL *h, int port, const char *path)
{
	reply r = { 0, NULL, 0 };
	char url[1024], auth[4200];
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	struct curl_slist *hd = curl_slist_append(NULL, auth);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, take);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
	curl_slist_free_all(hd);
	return r;
}

static const char *search_path(size_t patient, const char *extra)
{
	return th_path("/fhir/DocumentReference?patient.identifier=urn:oid:%s%%7C%s&_count=1000%s",
		       INS_NIR, patients[patient], extra);
}

/* The ids of a searchset Bundle, in order, space-separated (malloc'd). */
static char *bundle_ids(const reply *r)
{
	json_t *o = json_loads(r->body ? r->body : "", 0, NULL);
	json_t *entries = json_object_get(o, "entry"), *e;
	size_t i;
	char *ids = calloc(1, 1);
	size_t len = 0;
	cr_assert_not_null(o, "not JSON: %.300s", r->body ? r->body : "");
	json_array_foreach(entries, i, e) {
		json_t *res = json_object_get(e, "resource");
		const char *id = json_string_value(
			json_object_get(json_object_get(res, "masterIdentifier"), "value"));
		cr_assert_not_null(id);
		ids = realloc(ids, len + strlen(id) + 2);
		len += (size_t)sprintf(ids + len, "%s ", id);
	}
	json_decref(o);
	return ids;
}

/* (a) and (d): every patient's answer through the router is the single
 * index's, id for id, in order. */
static void every_patient_as_whole(CURL *h, const char *extra, const char *step)
{
	for (size_t p = 0; p < npatients; p++) {
		reply a = get(h, router_port, search_path(p, extra));
		reply b = get(h, whole.port, search_path(p, extra));
		cr_assert_eq(a.status, 200, "%s: patient %s through the router: %ld %.300s", step,
			     patients[p], a.status, a.body ? a.body : "");
		cr_assert_eq(b.status, 200, "%s: patient %s, whole index: %ld", step, patients[p],
			     b.status);
		char *x = bundle_ids(&a), *y = bundle_ids(&b);
		cr_assert(*y || *extra, "%s: patient %s has no document in the whole index", step,
			  patients[p]);
		cr_assert_str_eq(x, y, "%s: patient %s (shard %u): router and whole index differ",
				 step, patients[p], shard_of[p]);
		free(x);
		free(y);
		free(a.body);
		free(b.body);
	}
}

/* ---- load: threads asking the router for every patient in turn ---- */

typedef struct load {
	pthread_t t[2];
	atomic_int stop;
	atomic_long ok, failed;
	char why[512];
} load;

static void *load_thread(void *payload)
{
	load *l = payload;
	CURL *h = curl_easy_init();
	double end = now_s() + 60;
	for (long n = 0; n < 20000 && !atomic_load(&l->stop) && now_s() < end; n++) {
		size_t p = (size_t)n % npatients;
		reply r = get(h, router_port, search_path(p, "&_count=20"));
		if (r.status == 200 && r.body && strstr(r.body, "\"searchset\"")) {
			atomic_fetch_add(&l->ok, 1);
		} else {
			if (atomic_fetch_add(&l->failed, 1) == 0)
				snprintf(l->why, sizeof l->why, "patient %s: %ld %.300s", patients[p],
					 r.status, r.body ? r.body : "(no answer)");
		}
		free(r.body);
	}
	curl_easy_cleanup(h);
	return NULL;
}

static void load_start(load *l)
{
	memset(l, 0, sizeof *l);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&l->t[i], NULL, load_thread, l), 0);
}

/* Wait until the load has made n more answers (at most 30 s). */
static void load_wait(load *l, long n)
{
	long want = atomic_load(&l->ok) + n;
	for (int i = 0; i < 3000 && atomic_load(&l->ok) < want; i++)
		sleep_ms(10);
}

static void load_stop(load *l, const char *step)
{
	atomic_store(&l->stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(l->t[i], NULL);
	fprintf(stderr, "%s: %ld answers, %ld failed\n", step, atomic_load(&l->ok),
		atomic_load(&l->failed));
	cr_assert_eq(atomic_load(&l->failed), 0, "%s: %ld failed requests of %ld; first: %s",
		     step, atomic_load(&l->failed),
		     atomic_load(&l->failed) + atomic_load(&l->ok), l->why);
	cr_assert_gt(atomic_load(&l->ok), 50, "%s: only %ld answers", step, atomic_load(&l->ok));
}

/* ---- the cluster ---- */

static void run_ok(const char *const argv[], const char *what)
{
	char *out, *err;
	int rc = th_run(&out, &err, argv);
	cr_assert(rc == 0, "%s: exit %d: %s", what, rc, err);
	free(out);
	free(err);
}

/* A viewer's token, ES256, with a key of the JWKS written here. */
static void keys_and_token(void)
{
	cjose_err e;
	cjose_jwk_t *k = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &e);
	cr_assert_not_null(k);
	cr_assert(cjose_jwk_set_kid(k, "ec-1", 4, &e));
	char *pub = cjose_jwk_to_json(k, false, &e);
	th_write_str(th_path("%s/jwks.json", dir), th_path("{\"keys\": [%s]}", pub));
	free(pub);
	time_t now = time(NULL);
	json_t *claims = json_pack("{s:s, s:s, s:I, s:I, s:s, s:{s:[{s:s, s:s}]}}", "iss", ISS,
				   "aud", AUD, "exp", (json_int_t)now + 3600, "nbf",
				   (json_int_t)now - 10, "SubjectNameID", "810000000001",
				   "SubjectRefPro", "exercices", "codeProfession", "10",
				   "codeSavoirFaire", "SM04");
	char *payload = json_dumps(claims, JSON_COMPACT);
	json_decref(claims);
	cjose_header_t *hdr = cjose_header_new(&e);
	cjose_header_set(hdr, CJOSE_HDR_ALG, "ES256", &e);
	cjose_header_set(hdr, CJOSE_HDR_KID, "ec-1", &e);
	cjose_jws_t *jws = cjose_jws_sign(k, hdr, (const uint8_t *)payload, strlen(payload), &e);
	cr_assert_not_null(jws, "%s", e.message);
	const char *ser;
	cr_assert(cjose_jws_export(jws, &ser, &e));
	snprintf(token, sizeof token, "%s", ser);
	cjose_jws_release(jws);
	cjose_header_release(hdr);
	cjose_jwk_release(k);
	free(payload);
}

/* The store: gencorpus's documents; its patients and their shards. */
static void corpus(void)
{
	const char *gen[] = { "bench/gencorpus", "--queries", "10",
			      th_path("%s/gen", dir), DOCS, NULL };
	char *out, *err;
	cr_assert_eq(th_run(&out, &err, gen), 0,
		     "gencorpus (make bench-progs): %s", err);
	free(out);
	free(err);
	snprintf(docs, sizeof docs, "%s/gen/docs", dir);
	size_t len;
	char *tsv = th_slurp(th_path("%s/gen/corpus.tsv", dir), &len);
	for (char *line = tsv; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0)) {
		size_t n = strcspn(line, "\t\n");
		if (n == 0 || n >= sizeof patients[0])
			continue;
		size_t i = 0;
		while (i < npatients && (strncmp(patients[i], line, n) || patients[i][n]))
			i++;
		if (i == npatients && npatients < PATIENTS_MAX) {
			memcpy(patients[npatients], line, n);
			patients[npatients][n] = '\0';
			carnet_error e;
			cr_assert_eq(carnet_shard_of(INS_NIR, patients[npatients], SHARDS,
						     &shard_of[npatients], &e), CARNET_OK);
			npatients++;
		}
	}
	free(tsv);
	cr_assert_gt(npatients, 20, "gencorpus gave %zu patients", npatients);
}

static void sync_shard(unsigned s, unsigned r)
{
	char shard[16];
	snprintf(shard, sizeof shard, "%u/%d", s, SHARDS);
	const char *argv[] = { "carnet-index", "--index", replica[s][r].home, "--shard", shard,
			       "--quiet", "sync", "--jobs", "1", docs, NULL };
	run_ok(argv, replica[s][r].home);
}

/* The router on router_port: 0 once it answers /healthz, -1 when it
 * exited first (its port taken). */
static int router_try(void)
{
	char listen[64];
	snprintf(listen, sizeof listen, "127.0.0.1:%d", router_port);
	const char *argv[16 + SHARDS] = { "carnet-serve", "--haproxy-config", "3", "--listen",
					   listen, "--insecure-loopback", "--check-interval",
					   "200" };
	size_t n = 8;
	for (unsigned s = 0; s < SHARDS; s++)
		argv[n++] = strdup(th_path("--shard-server=%u=127.0.0.1:%d,127.0.0.1:%d", s,
					   replica[s][0].port, replica[s][1].port));
	char *cfg, *err;
	cr_assert_eq(th_run(&cfg, &err, argv), 0, "--haproxy-config: %s", err);
	for (size_t i = 8; i < n; i++)
		free((char *)argv[i]);
	const char *path = th_path("%s/haproxy.cfg", dir);
	th_write_str(path, cfg);
	free(cfg);
	free(err);
	const char *hp[] = { "/usr/sbin/haproxy", "-db", "-f", path, NULL };
	if (access(hp[0], X_OK) != 0)
		hp[0] = "haproxy";
	haproxy = spawn(hp, -1, th_path("%s/haproxy.err", dir));
	CURL *h = curl_easy_init();
	long st = 0;
	for (int i = 0; i < 200 && st != 200; i++) { /* 10 s */
		if (waitpid(haproxy, NULL, WNOHANG) == haproxy) {
			haproxy = 0;
			break;
		}
		reply r = get(h, router_port, "/healthz");
		free(r.body);
		if ((st = r.status) != 200)
			sleep_ms(50);
	}
	curl_easy_cleanup(h);
	return st == 200 ? 0 : -1;
}

static void router_start(void)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		if (router_try() == 0)
			return;
		reap(&haproxy, SIGKILL);
		router_port = th_free_port();
	}
	cr_assert_fail("haproxy did not start (installed by tools/deps.sh?): see %s/haproxy.err",
		       dir);
}

static void setup(void)
{
	snprintf(dir, sizeof dir, "%s", th_tmpdir());
	curl_global_init(CURL_GLOBAL_DEFAULT);
	keys_and_token();
	corpus();
	snprintf(whole.home, sizeof whole.home, "%s/whole", dir);
	const char *all[] = { "carnet-index", "--index", whole.home, "--quiet", "sync", "--jobs",
			      "1", docs, NULL };
	run_ok(all, "the whole index");
	router_port = th_free_port();
	for (unsigned s = 0; s < SHARDS; s++)
		for (unsigned r = 0; r < REPLICAS; r++) {
			snprintf(replica[s][r].home, sizeof replica[s][r].home, "%s/s%ur%u", dir, s,
				 r);
			sync_shard(s, r);
			serve_start(&replica[s][r]);
		}
	serve_start(&whole);
	router_start();
}

static void teardown(void)
{
	for (unsigned s = 0; s < SHARDS; s++)
		for (unsigned r = 0; r < REPLICAS; r++)
			reap(&replica[s][r].pid, SIGKILL);
	reap(&whole.pid, SIGKILL);
	reap(&haproxy, SIGKILL);
	curl_global_cleanup();
	th_cleanup();
}

/* ---- the steps ---- */

static void kill_replica(unsigned s, unsigned r)
{
	cr_assert_gt(replica[s][r].pid, 0);
	kill(replica[s][r].pid, SIGKILL);
	waitpid(replica[s][r].pid, NULL, 0);
	replica[s][r].pid = 0;
}

/* New documents in the store for patient p (a sidecar with the INS). */
static void new_documents(size_t p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const char *path = th_path("%s/new/%s-%u.txt", docs, patients[p], i);
		th_write_str(path, "Compte rendu de consultation ajouté pendant la nuit: "
				   "douleur thoracique, suivi.");
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "patient_id", patients[p],
				      "patient_id_system", INS_NIR, "id",
				      th_path("NIGHT-%s-%u", patients[p], i), "date", "2026-11-30",
				      "type", "11488-4", "author_specialty", "SM04");
		char *s = json_dumps(o, 0);
		th_write_str(th_path("%s.meta.json", path), s);
		free(s);
		json_decref(o);
	}
}

/* (c) only the shard down answers 503, with an OperationOutcome naming it. */
static void only_shard_down(CURL *h, unsigned down)
{
	char cause[64];
	snprintf(cause, sizeof cause, "shard %u of %d", down, SHARDS);
	for (size_t p = 0; p < npatients; p++) {
		reply r = get(h, router_port, search_path(p, "&_count=5"));
		if (shard_of[p] == down) {
			cr_assert_eq(r.status, 503, "(c) patient %s of the shard down: %ld",
				     patients[p], r.status);
			cr_assert(r.body && strstr(r.body, "\"OperationOutcome\"") &&
				  strstr(r.body, cause), "(c) %s", r.body ? r.body : "");
			json_t *o = json_loads(r.body, 0, NULL);
			cr_assert_not_null(o, "(c) not JSON: %s", r.body);
			json_decref(o);
		} else {
			cr_assert_eq(r.status, 200, "(c) patient %s of shard %u: %ld", patients[p],
				     shard_of[p], r.status);
		}
		free(r.body);
	}
}

/* The first patient of shard s. */
static size_t patient_of(unsigned s)
{
	for (size_t p = 0; p < npatients; p++)
		if (shard_of[p] == s)
			return p;
	cr_assert_fail("no patient in shard %u", s);
	return 0;
}

/* Requests with words w0..w5 for patient p are each in the log merged from
 * shard s's replicas once, newest first, saying which replica. */
static void access_log_merged(CURL *h, unsigned s)
{
	size_t p = patient_of(s);
	for (int i = 0; i < 6; i++) {
		reply r = get(h, router_port, search_path(p, th_path("&_text=zqkw%d", i)));
		cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
		free(r.body);
	}
	const char *argv[] = { "carnet-query", "--index", replica[s][0].home, "--replica",
			       replica[s][1].home, "--access-log", "--patient", patients[p],
			       "--patient-system", INS_NIR, "--json", NULL };
	char *out, *err;
	cr_assert_eq(th_run(&out, &err, argv), 0, "%s", err);
	int seen[6] = { 0 }, from[REPLICAS] = { 0 };
	char last[40] = "9999";
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		json_t *o = json_loads(line, 0, NULL);
		cr_assert_not_null(o, "%s", line);
		const char *at = json_string_value(json_object_get(o, "at"));
		const char *rep = json_string_value(json_object_get(o, "replica"));
		const char *words = json_string_value(json_object_get(o, "words"));
		cr_assert(at && rep && words, "%s", line);
		cr_assert_leq(strcmp(at, last), 0, "not newest first: %s after %s", at, last);
		snprintf(last, sizeof last, "%s", at);
		int r = !strcmp(rep, replica[s][0].home) ? 0 : !strcmp(rep, replica[s][1].home) ? 1 : -1;
		cr_assert_geq(r, 0, "replica %s", rep);
		int w;
		if (sscanf(words, "zqkw%d", &w) == 1 && w >= 0 && w < 6) {
			seen[w]++;
			from[r]++;
		}
		json_decref(o);
	}
	for (int i = 0; i < 6; i++)
		cr_assert_eq(seen[i], 1, "the search zqkw%d is in the merged log %d times", i,
			     seen[i]);
	cr_assert(from[0] && from[1], "round robin: %d rows from one replica, %d from the other",
		  from[0], from[1]);
	free(out);
	free(err);
}

Test(cluster, three_shards_of_two_replicas_behind_haproxy, .init = setup, .fini = teardown,
     .timeout = 170)
{
	CURL *h = curl_easy_init();
	unsigned per[SHARDS] = { 0 };
	for (size_t p = 0; p < npatients; p++)
		per[shard_of[p]]++;
	for (unsigned s = 0; s < SHARDS; s++)
		cr_assert_gt(per[s], 0, "shard %u holds no patient of the corpus", s);

	every_patient_as_whole(h, "", "(a) browse");
	every_patient_as_whole(h, "&_text=douleur", "(a) words");
	reply m = get(h, router_port, "/fhir/metadata");
	cr_assert(m.status == 200 && strstr(m.body, "CapabilityStatement"), "metadata: %ld",
		  m.status);
	free(m.body);
	static const char *const bad[] = { "/fhir/DocumentReference",
		"/fhir/DocumentReference?patient.identifier=urn:oid:1.2.250.1.213.1.4.8%7C",
		"/fhir/Binary/BENCH-00000001", "/fhir/Observation/$lastn?patient.identifier=" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		reply r = get(h, router_port, bad[i]);
		cr_assert(r.status == 400 && strstr(r.body, "OperationOutcome") &&
			  strstr(r.body, "patient.identifier (urn:oid:OID|ID) is required: it "
				 "names the shard"), "the router: %s: %ld %s", bad[i], r.status,
			  r.body ? r.body : "");
		free(r.body);
	}

	/* ITI-68 and $lastn reach the patient's shard too (another shard
	 * would refuse the patient) */
	for (unsigned sh = 0; sh < SHARDS; sh++) {
		size_t p = patient_of(sh);
		reply b = get(h, router_port, search_path(p, "&_count=1"));
		char *ids = bundle_ids(&b);
		ids[strcspn(ids, " ")] = '\0';
		const char *pat = th_path("patient.identifier=urn:oid:%s%%7C%s", INS_NIR, patients[p]);
		char path[600];
		snprintf(path, sizeof path, "/fhir/Binary/%s?%s", ids, pat);
		reply d = get(h, router_port, path);
		cr_assert_eq(d.status, 200, "ITI-68 %s: %ld %s", path, d.status, d.body);
		snprintf(path, sizeof path, "/fhir/Observation/$lastn?%s", pat);
		reply o = get(h, router_port, path);
		cr_assert(o.status == 200 && strstr(o.body, "\"searchset\""), "$lastn %s: %ld %s",
			  path, o.status, o.body);
		free(ids);
		free(b.body);
		free(d.body);
		free(o.body);
	}

	load l; /* (b) one replica killed under load */
	load_start(&l);
	load_wait(&l, 100);
	kill_replica(0, 0);
	load_wait(&l, 300);
	load_stop(&l, "(b) a replica killed");
	serve_start(&replica[0][0]);

	kill_replica(1, 0); /* (c) a whole shard down */
	kill_replica(1, 1);
	only_shard_down(h, 1); /* before the health checks saw it: retries fail */
	sleep_ms(1000);	       /* 2 failed checks 200 ms apart: marked down */
	only_shard_down(h, 1);

	double back = now_s();
	serve_start(&replica[1][0]); /* (d) back */
	serve_start(&replica[1][1]);
	size_t p1 = patient_of(1);
	long st = 0;
	for (int i = 0; i < 200 && st != 200; i++) {
		reply r = get(h, router_port, search_path(p1, ""));
		st = r.status;
		free(r.body);
		if (st != 200)
			sleep_ms(50);
	}
	cr_assert_eq(st, 200, "(d) shard 1 not served again within 10 s");
	fprintf(stderr, "(d) shard 1 served again %.2f s after its replicas were started\n",
		now_s() - back);
	every_patient_as_whole(h, "", "(d) shard 1 back");

	size_t p2 = patient_of(2); /* (e) a nightly sync of shard 2 under load */
	new_documents(p2, 3);
	load_start(&l);
	load_wait(&l, 50);
	sync_shard(2, 0);
	sync_shard(2, 1);
	load_wait(&l, 50);
	load_stop(&l, "(e) a nightly sync");
	const char *all[] = { "carnet-index", "--index", whole.home, "--quiet", "sync", "--jobs",
			      "1", docs, NULL };
	run_ok(all, "the whole index");
	every_patient_as_whole(h, "", "(e) after the sync");
	reply r = get(h, router_port, search_path(p2, ""));
	cr_assert(strstr(r.body, th_path("NIGHT-%s-2", patients[p2])), "(e) new documents not served");
	free(r.body);

	access_log_merged(h, 0);
	curl_easy_cleanup(h);
	reap(&haproxy, SIGTERM); /* first: its connections to the replicas close */
	for (unsigned s = 0; s < SHARDS; s++)
		for (unsigned rr = 0; rr < REPLICAS; rr++)
			serve_stop(&replica[s][rr]);
	serve_stop(&whole);
}

/* The configuration's options: what is refused, and HTTPS on both sides
 * as HAProxy itself checks it. */
Test(cluster, haproxy_config_refuses_what_it_cannot_route_and_writes_https, .timeout = 60)
{
	snprintf(dir, sizeof dir, "%s", th_tmpdir());
	static const struct {
		const char *args[8];
		const char *why;
	} bad[] = {
		{ { "--haproxy-config", "2", "--shard-server", "0=127.0.0.1:1", "--insecure-loopback" },
		  "--listen ADDR:PORT is required" },
		{ { "--haproxy-config", "2", "--listen", "127.0.0.1:2", "--shard-server",
		    "0=127.0.0.1:1", "--insecure-loopback" }, "shard 1 has no replica" },
		{ { "--haproxy-config", "2", "--listen", "127.0.0.1:2", "--shard-server",
		    "2=127.0.0.1:1", "--insecure-loopback" }, "shard 2 of 2 does not exist" },
		{ { "--haproxy-config", "1", "--listen", "127.0.0.1:2", "--shard-server",
		    "0=127.0.0.1:1" }, "refusing plain HTTP" },
		{ { "--haproxy-config", "1", "--listen", "10.0.0.1:2", "--shard-server",
		    "0=127.0.0.1:1", "--insecure-loopback" }, "every address must be a loopback" },
		{ { "--haproxy-config", "1", "--listen", "127.0.0.1:2", "--shard-server",
		    "0=127.0.0.1:99999", "--insecure-loopback" }, "is not HOST:PORT" },
		{ { "--haproxy-config", "1", "--listen", "127.0.0.1:2", "--shard-server",
		    "0=127.0.0.1:1 #", "--insecure-loopback" }, "is not HOST:PORT" },
		{ { "--haproxy-config", "0" }, "from 1 to 4096" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *argv[10] = { "carnet-serve" };
		for (size_t k = 0; bad[i].args[k]; k++)
			argv[k + 1] = bad[i].args[k];
		char *out, *err;
		cr_assert_eq(th_run(&out, &err, argv), 2, "case %zu: %s", i, err);
		cr_assert(strstr(err, bad[i].why) && !*out, "case %zu: %s", i, err);
		free(out);
		free(err);
	}
	cr_assert_eq(system(th_path("cd %s && openssl req -x509 -newkey ec -pkeyopt "
				    "ec_paramgen_curve:prime256v1 -nodes -keyout k.pem -out c.pem "
				    "-subj /CN=carnet.example -days 2 >/dev/null 2>&1 && "
				    "cat c.pem k.pem > router.pem", dir)), 0);
	const char *argv[] = { "carnet-serve", "--haproxy-config", "2", "--listen", "0.0.0.0:8443",
			       "--shard-server", "0=shard0-a.carnet.example:8443,[::1]:8443",
			       "--shard-server", "1=192.0.2.10:8443,192.0.2.11:8443",
			       "--tls-cert", th_path("%s/router.pem", dir), "--backend-ca",
			       th_path("%s/c.pem", dir), NULL };
	char *out, *err;
	cr_assert_eq(th_run(&out, &err, argv), 0, "%s", err);
	cr_assert(strstr(out, "bind 0.0.0.0:8443 ssl crt ") &&
		  strstr(out, "server r1 192.0.2.11:8443 check ssl verify required ca-file "),
		  "%s", out);
	th_write_str(th_path("%s/https.cfg", dir), out);
	free(out);
	free(err);
	/* haproxy -c resolves the names: keep to addresses in the check */
	cr_assert_eq(system(th_path("sed -i 's/shard0-a.carnet.example/127.0.0.1/' %s/https.cfg && "
				    "{ /usr/sbin/haproxy -c -f %s/https.cfg || haproxy -c -f "
				    "%s/https.cfg; } >%s/c.out 2>&1", dir, dir, dir, dir)), 0,
		     "haproxy -c: %s", th_slurp(th_path("%s/c.out", dir), &(size_t){ 0 }));
	th_cleanup();
}

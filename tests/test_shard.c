/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_shard.c - patients split between shards: carnet_shard_of against
 * what a real HAProxy computes from the same requests, and nightly jobs
 * that each index one shard of the same document store. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "carnet.h"
#include "helpers.h"

#define INS_NIR "1.2.250.1.213.1.4.8"
#define INS_NIA "1.2.250.1.213.1.4.9"

/* A production INS shaped id (sex, year, month, department, commune,
 * order) with its check key; dept may be "2A"/"2b" (Corsica). */
static void make_ins(char out[16], unsigned n, const char *dept)
{
	char base[14];
	snprintf(base, sizeof base, "%u%02u%02u%s%03u%03u", 1 + n % 2, 40 + n % 60, 1 + n % 12,
		 dept, n % 1000, (n / 7) % 1000);
	/* the check key: 97 - (the 13 digits mod 97), 2A as 19, 2B as 18 */
	char digits[14];
	memcpy(digits, base, 14);
	if (digits[5] == '2' && (digits[6] == 'A' || digits[6] == 'a'))
		digits[5] = '1', digits[6] = '9';
	if (digits[5] == '2' && (digits[6] == 'B' || digits[6] == 'b'))
		digits[5] = '1', digits[6] = '8';
	unsigned long long v = strtoull(digits, NULL, 10);
	snprintf(out, 16, "%s%02llu", base, 97 - v % 97);
}

/* The ids of the check: INS (with lower-case Corsican departments too),
 * local ids of several shapes. */
static size_t test_ids(char ids[][2][64], size_t max)
{
	static const char *const depts[] = { "75", "13", "2A", "2b", "69", "33" };
	size_t n = 0;
	for (unsigned i = 0; n < max && i < 600; i++) {
		char ins[16];
		make_ins(ins, i * 7919u + 11, depts[i % 6]);
		snprintf(ids[n][0], 64, "%s", i % 3 ? INS_NIR : INS_NIA);
		snprintf(ids[n++][1], 64, "%s", ins);
	}
	for (unsigned i = 0; n < max && i < 400; i++) {
		snprintf(ids[n][0], 64, "1.2.250.1.999.%u", 1 + i % 4);
		snprintf(ids[n++][1], 64, i % 2 ? "IPP-%06u" : "p%u-x.%u", i * 31u, i);
	}
	return n;
}

static int connect_to(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Start haproxy on port with a frontend that answers each request with
 * the shard its patient.identifier maps to, for several shard counts:
 * the converters the README gives for routing. */
static pid_t start_haproxy(int port)
{
	const char *cfg = th_path("%s/haproxy.cfg", th_tmpdir());
	char text[2048];
	const char *expr = "url_param(patient.identifier),url_dec,field(2,|),upper,xxh32(0)";
	snprintf(text, sizeof text,
		 "global\n\tmaxconn 64\ndefaults\n\tmode http\n\ttimeout connect 2s\n"
		 "\ttimeout client 10s\n\ttimeout server 10s\n"
		 "frontend shards\n\tbind 127.0.0.1:%d\n"
		 "\thttp-request return status 200 content-type text/plain lf-string "
		 "\"%%[%s,mod(1)] %%[%s,mod(2)] %%[%s,mod(3)] %%[%s,mod(7)] %%[%s,mod(64)]\"\n",
		 port, expr, expr, expr, expr, expr);
	th_write_str(cfg, text);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", 1);
		dup2(null, 1);
		execlp("haproxy", "haproxy", "-db", "-f", cfg, (char *)NULL);
		execl("/usr/sbin/haproxy", "haproxy", "-db", "-f", cfg, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) { /* up to 5 s */
		int fd = connect_to(port);
		if (fd >= 0) {
			close(fd);
			return pid;
		}
		int status;
		cr_assert_eq(waitpid(pid, &status, WNOHANG), 0,
			     "haproxy did not start (installed by tools/deps.sh?)");
		struct timespec ts = { 0, 50000000 };
		nanosleep(&ts, NULL);
	}
	cr_assert_fail("haproxy did not listen on port %d within 5 s", port);
	return -1;
}

/* Percent-encode s for a query string (RFC 3986 unreserved kept). */
static void url_encode(char *out, size_t size, const char *s)
{
	size_t n = 0;
	for (; *s && n + 4 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, size - n, "%%%02X", c);
	}
	out[n] = '\0';
}

/* One request on the kept-alive connection fd; the body into body. */
static void ask(int fd, const char *system, const char *id, char *body, size_t size)
{
	char token[256], enc[600], req[900];
	snprintf(token, sizeof token, "urn:oid:%.100s|%.100s", system, id);
	url_encode(enc, sizeof enc, token);
	int n = snprintf(req, sizeof req,
			 "GET /fhir/DocumentReference?_count=5&patient.identifier=%s HTTP/1.1\r\n"
			 "Host: carnet\r\n\r\n", enc);
	cr_assert_eq(write(fd, req, (size_t)n), n);
	char buf[4096];
	size_t got = 0;
	for (;;) { /* headers, then Content-Length bytes */
		ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
		cr_assert_gt(r, 0, "haproxy closed the connection");
		got += (size_t)r;
		buf[got] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		char *cl = NULL;
		for (char *h = buf; !cl && (h = strchr(h, '\n')) != NULL; h++)
			if (strncasecmp(h + 1, "content-length:", 15) == 0)
				cl = h + 1;
		if (end && cl) {
			size_t want = strtoul(cl + 15, NULL, 10);
			if (got >= (size_t)(end + 4 - buf) + want) {
				snprintf(body, size, "%.*s", (int)want, end + 4);
				return;
			}
		}
	}
}

Test(shard, carnet_shard_of_is_what_haproxy_computes_from_the_request, .timeout = 60)
{
	static char ids[1000][2][64];
	size_t n = test_ids(ids, 1000);
	int port = th_free_port();
	pid_t hp = start_haproxy(port);
	int fd = connect_to(port);
	cr_assert(fd >= 0);
	static const unsigned counts[] = { 1, 2, 3, 7, 64 };
	unsigned seen[64] = { 0 };
	for (size_t i = 0; i < n; i++) {
		char body[128];
		ask(fd, ids[i][0], ids[i][1], body, sizeof body);
		unsigned want[5];
		cr_assert_eq(sscanf(body, "%u %u %u %u %u", &want[0], &want[1], &want[2], &want[3],
				    &want[4]), 5, "haproxy answered \"%s\"", body);
		for (int k = 0; k < 5; k++) {
			unsigned got;
			carnet_error err;
			cr_assert_eq(carnet_shard_of(ids[i][0], ids[i][1], counts[k], &got, &err),
				     CARNET_OK, "%s|%s: %s", ids[i][0], ids[i][1], err.message);
			cr_assert_eq(got, want[k], "%s|%s of %u shards: carnet %u, haproxy %u",
				     ids[i][0], ids[i][1], counts[k], got, want[k]);
		}
		seen[want[4]]++;
	}
	close(fd);
	kill(hp, SIGTERM);
	waitpid(hp, NULL, 0);
	/* spread: every one of 64 shards gets some of the 1000 ids */
	for (int s = 0; s < 64; s++)
		cr_assert_gt(seen[s], 0, "shard %d of 64 got none of %zu ids", s, n);
	th_cleanup();
}

Test(shard, one_record_one_shard_whatever_names_the_patient)
{
	char ins[16];
	make_ins(ins, 4242, "2A");
	char lower[16];
	snprintf(lower, sizeof lower, "%s", ins);
	lower[6] = 'a';
	unsigned a, b, c, d;
	cr_assert_eq(carnet_shard_of(INS_NIR, ins, 16, &a, NULL), CARNET_OK);
	cr_assert_eq(carnet_shard_of(INS_NIA, ins, 16, &b, NULL), CARNET_OK);
	cr_assert_eq(carnet_shard_of(NULL, lower, 16, &c, NULL), CARNET_OK);
	cr_assert_eq(carnet_shard_of(NULL, th_path("%s^%s", INS_NIR, ins), 16, &d, NULL),
		     CARNET_OK);
	cr_assert(a == b && b == c && c == d, "NIR %u, NIA %u, no system %u, system^id %u", a,
		  b, c, d);
	carnet_error err;
	cr_assert_eq(carnet_shard_of(NULL, "P1", 0, &a, &err), CARNET_E_INVALID);
	cr_assert_eq(carnet_shard_of(NULL, "P1", CARNET_SHARD_COUNT_MAX + 1, &a, &err),
		     CARNET_E_INVALID);
	cr_assert_eq(carnet_shard_of(INS_NIR, "157037511209899", 4, &a, &err), CARNET_E_INVALID,
		     "an INS with a wrong key names no patient");
}

/* --- nightly jobs, one per shard, over one store --- */

static char store[4096];

static void write_store(void)
{
	snprintf(store, sizeof store, "%s/store", th_tmpdir());
	for (int p = 0; p < 24; p++)
		for (int d = 0; d < 3; d++)
			th_write_doc(th_path("%s/p%02d/d%d.txt", store, p, d), th_path("P%02d", p),
				     th_path("P%02d-D%d", p, d), "2025-03-01",
				     "Consultation de suivi, tension normale.\n");
}

static int run_index(char **err, const char *home, const char *shard, const char *cmd)
{
	char *out;
	const char *argv[] = { "carnet-index", "--index", home, "--shard", shard, cmd, store, NULL };
	int rc = th_run(&out, err, argv);
	free(out);
	return rc;
}

/* How many of patient's documents the index home holds (as a GP). */
static int docs_of(const char *home, const char *patient, int *refused)
{
	carnet_index *idx;
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = patient;
	req.profession = "10";
	carnet_results *res;
	int rc = carnet_index_search(&res, idx, &req, &err);
	*refused = rc == CARNET_E_INVALID && strstr(err.message, "wrong shard") != NULL;
	int n = rc == CARNET_OK ? (int)carnet_results_count(res) : -1;
	carnet_results_free(res);
	carnet_index_close(idx);
	return n;
}

Test(shard, each_shard_indexes_its_patients_and_counts_the_others, .timeout = 120)
{
	write_store();
	const char *homes[3];
	for (int s = 0; s < 3; s++) {
		homes[s] = strdup(th_path("%s/shard-%d", th_tmpdir(), s));
		char *err;
		cr_assert_eq(run_index(&err, homes[s], th_path("%d/3", s), "sync"), 0, "%s", err);
		cr_assert(strstr(err, "72 files") && strstr(err, "other shard"), "%s", err);
		free(err);
	}
	for (int p = 0; p < 24; p++) {
		char id[16];
		snprintf(id, sizeof id, "P%02d", p);
		unsigned want;
		cr_assert_eq(carnet_shard_of(NULL, id, 3, &want, NULL), CARNET_OK);
		for (int s = 0; s < 3; s++) {
			int refused;
			int n = docs_of(homes[s], id, &refused);
			if ((unsigned)s == want)
				cr_assert_eq(n, 3, "%s on its shard %d: %d documents", id, s, n);
			else
				cr_assert(n == -1 && refused,
					  "%s asked of shard %d (not its own, %u): refused", id, s,
					  want);
		}
	}
	/* the next night: nothing read again, the others still counted */
	char *err;
	cr_assert_eq(run_index(&err, homes[0], "0/3", "sync"), 0, "%s", err);
	cr_assert(strstr(err, "the index did not change") && !strstr(err, " 0 other shard"),
		  "%s", err);
	free(err);
	/* an index keeps its shard; a rebuild may change it */
	cr_assert_eq(run_index(&err, homes[0], "1/3", "sync"), 3, "%s", err);
	cr_assert(strstr(err, "holds shard 0/3, not shard 1/3"), "%s", err);
	free(err);
	cr_assert_eq(run_index(&err, homes[0], "1/3", "rebuild"), 0, "%s", err);
	free(err);
	unsigned s1 = 0;
	char moved_id[16] = "";
	for (int p = 0; p < 24 && !moved_id[0]; p++) {
		snprintf(moved_id, sizeof moved_id, "P%02d", p);
		cr_assert_eq(carnet_shard_of(NULL, moved_id, 3, &s1, NULL), CARNET_OK);
		if (s1 != 1)
			moved_id[0] = '\0';
	}
	int refused;
	cr_assert_eq(docs_of(homes[0], moved_id, &refused), 3, "rebuilt as shard 1/3");
	for (int s = 0; s < 3; s++)
		free((void *)homes[s]);
	th_cleanup();
}

Test(shard, a_document_whose_patient_moves_to_another_shard_leaves_the_old_one, .timeout = 60)
{
	write_store();
	/* two patients of different shards of 2 */
	char a[16] = "", b[16] = "";
	unsigned sa = 0, sb;
	for (int p = 0; p < 24 && !b[0]; p++) {
		char id[16];
		snprintf(id, sizeof id, "P%02d", p);
		unsigned s;
		cr_assert_eq(carnet_shard_of(NULL, id, 2, &s, NULL), CARNET_OK);
		if (!a[0]) {
			snprintf(a, sizeof a, "%s", id);
			sa = s;
		} else if (s != sa) {
			snprintf(b, sizeof b, "%s", id);
		}
	}
	cr_assert(b[0]);
	cr_assert_eq(carnet_shard_of(NULL, b, 2, &sb, NULL), CARNET_OK);
	const char *home_a = strdup(th_path("%s/a", th_tmpdir()));
	const char *home_b = strdup(th_path("%s/b", th_tmpdir()));
	char *err;
	cr_assert_eq(run_index(&err, home_a, th_path("%u/2", sa), "sync"), 0, "%s", err);
	free(err);
	cr_assert_eq(run_index(&err, home_b, th_path("%u/2", sb), "sync"), 0, "%s", err);
	free(err);
	/* a's first document was filed under the wrong patient: corrected to b */
	int pa = atoi(a + 1);
	th_write_str(th_path("%s/p%02d/d0.txt.meta.json", store, pa),
		     th_path("{\"patient_id\":\"%s\",\"id\":\"%s-D0\",\"date\":\"2025-03-01\","
			     "\"patient_correction\":true}", b, a));
	cr_assert_eq(run_index(&err, home_a, th_path("%u/2", sa), "sync"), 0, "%s", err);
	cr_assert(strstr(err, "(1 of them left this shard)") &&
		  !strstr(err, "the index did not change"), "%s", err);
	free(err);
	cr_assert_eq(run_index(&err, home_b, th_path("%u/2", sb), "sync"), 0, "%s", err);
	free(err);
	int refused;
	cr_assert_eq(docs_of(home_a, a, &refused), 2, "the document left %s's shard", a);
	cr_assert_eq(docs_of(home_b, b, &refused), 4, "and joined %s's record on its shard", b);
	free((void *)home_a);
	free((void *)home_b);
	th_cleanup();
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_serve.c - libFuzzer harness for what carnet-serve reads from the
 * network before the library: the first line of the input is an
 * Authorization header, checked against a JWKS of two keys this harness
 * made (no input can carry a valid signature: a token accepted aborts);
 * the rest is a query string read as ITI-67 parameters (a request read
 * whose limits, dates or code counts are out of range aborts). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjose/cjose.h>

#include "rmtree.h"
#include "serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static serve_keys *keys;
static char dir[] = "/tmp/carnet-fuzz-XXXXXX";
static serve_config cfg = {
	.issuer = "https://auth.carnet.example", .audience = "carnet",
	.claims = { "SubjectNameID", "SubjectRefPro.exercices[0].codeProfession",
		    "SubjectRefPro.exercices[0].codeSavoirFaire", "role", "patient_identifier" },
};

static void teardown(void)
{
	serve_keys_free(keys);
	fuzz_rmtree(dir);
}

static char *public_jwk(cjose_jwk_t *k, const char *kid)
{
	cjose_err e;
	if (!k || !cjose_jwk_set_kid(k, kid, strlen(kid), &e))
		abort();
	char *s = cjose_jwk_to_json(k, false, &e);
	cjose_jwk_release(k);
	return s;
}

/* A JWKS of an RSA and an EC key, their private halves thrown away. */
static void setup(void)
{
	static const uint8_t f4[] = { 1, 0, 1 };
	cjose_err e;
	char path[64], why[300];
	if (!mkdtemp(dir))
		abort();
	atexit(teardown);
	char *r = public_jwk(cjose_jwk_create_RSA_random(2048, f4, 3, &e), "rsa-1");
	char *c = public_jwk(cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &e), "ec-1");
	snprintf(path, sizeof path, "%s/jwks.json", dir);
	FILE *f = fopen(path, "w");
	if (!f || !r || !c)
		abort();
	fprintf(f, "{\"keys\": [%s, %s]}", r, c);
	fclose(f);
	free(r);
	free(c);
	if (serve_keys_load(&keys, path, why, sizeof why))
		abort();
}

/* Split "k=v&k=v" in place into parameters (no percent-decoding: the
 * parser sees what libmicrohttpd would hand it, any bytes). */
static size_t split(char *q, serve_param *p, size_t max)
{
	size_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(q, "&", &save); t && n < max; t = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(t, '=');
		if (eq)
			*eq = '\0';
		p[n].key = t;
		p[n].value = eq ? eq + 1 : NULL;
		n++;
	}
	return n;
}

static void check_request(const serve_search *s)
{
	const carnet_request *r = &s->req;
	if (r->limit < 1 || r->limit > CARNET_HITS_MAX || r->offset > CARNET_OFFSET_MAX ||
	    r->types_count > CARNET_CODES_MAX || r->classes_count > CARNET_CODES_MAX ||
	    r->author_specialties_count > CARNET_CODES_MAX || !r->patient_id || !*r->patient_id ||
	    (r->since && strlen(r->since) != 10) || (r->until && strlen(r->until) != 10))
		abort();
	for (size_t i = 0; i < r->types_count; i++)
		if (!*r->types[i])
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!keys)
		setup();
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *nl = strchr(buf, '\n');
	char *query = nl ? nl + 1 : buf + size;
	if (nl)
		*nl = '\0';
	serve_identity id;
	char why[200];
	if (serve_token_check(keys, &cfg, buf, 1800000000, &id, why, sizeof why) == 0)
		abort();
	serve_param p[SERVE_PARAMS_MAX + 2];
	size_t n = split(query, p, SERVE_PARAMS_MAX + 2);
	for (int mode = 0; mode < 3; mode++) {
		serve_search s;
		serve_answer a = { .body = NULL };
		unsigned st = serve_search_parse(&s, p, n, mode == 1, mode == 2, &a);
		if (st == 0)
			check_request(&s);
		else if (st != 400 && st != 500)
			abort();
		else if (!a.body || a.status != st)
			abort();
		free(a.body);
		serve_search_clear(&s);
	}
	free(buf);
	return 0;
}

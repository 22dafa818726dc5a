/* SPDX-License-Identifier: GPL-2.0-or-later */
/* demo-token.c - carnet-demo-token: a signing key and its JWKS for a demo
 * or a test of carnet-serve, and tokens signed with it, shaped as Pro Santé
 * Connect's. Never for production: the key sits in a file beside the JWKS.
 * usage: carnet-demo-token DIR [--profession CODE] [--specialty CODE]
 *            [--rpps ID] [--patient urn:oid:OID|ID] [--ttl SECONDS]
 * Creates DIR/demo-key.jwk (private, 0600) and DIR/jwks.json once, then
 * prints one token (issuer carnet-demo, audience carnet). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjose/cjose.h>
#include <jansson.h>

#define DEMO_ISSUER "carnet-demo"
#define DEMO_AUDIENCE "carnet"
#define DEMO_KID "carnet-demo-1"

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "carnet-demo-token: %s: %s\n", what, why);
	return 3;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	size_t n = strlen(text);
	int ok = write(fd, text, n) == (ssize_t)n && write(fd, "\n", 1) == 1;
	return close(fd) == 0 && ok ? 0 : -1;
}

/* The demo key of dir: read, or made with its JWKS the first time. */
static cjose_jwk_t *demo_key(const char *dir)
{
	char key_path[4096], jwks_path[4096];
	snprintf(key_path, sizeof key_path, "%s/demo-key.jwk", dir);
	snprintf(jwks_path, sizeof jwks_path, "%s/jwks.json", dir);
	cjose_err e;
	json_error_t je;
	json_t *saved = json_load_file(key_path, 0, &je);
	if (saved) {
		char *text = json_dumps(saved, JSON_COMPACT);
		json_decref(saved);
		cjose_jwk_t *k = text ? cjose_jwk_import(text, strlen(text), &e) : NULL;
		free(text);
		return k;
	}
	cjose_jwk_t *k = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &e);
	if (!k || !cjose_jwk_set_kid(k, DEMO_KID, strlen(DEMO_KID), &e))
		return NULL;
	char *priv = cjose_jwk_to_json(k, true, &e), *pub = cjose_jwk_to_json(k, false, &e);
	char *jwks = pub ? malloc(strlen(pub) + 16) : NULL;
	if (jwks)
		sprintf(jwks, "{\"keys\":[%s]}", pub);
	int ok = priv && jwks && (mkdir(dir, 0700) == 0 || errno == EEXIST) &&
		 write_file(key_path, priv, 0600) == 0 && write_file(jwks_path, jwks, 0644) == 0;
	free(priv);
	free(pub);
	free(jwks);
	if (!ok) {
		cjose_jwk_release(k);
		return NULL;
	}
	return k;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argv[1][0] == '-') {
		fputs("usage: carnet-demo-token DIR [--profession CODE] [--specialty CODE] "
		      "[--rpps ID] [--patient urn:oid:OID|ID] [--ttl SECONDS]\n", stderr);
		return 2;
	}
	const char *dir = argv[1], *profession = "10", *specialty = "SM54",
		   *rpps = "10009999999", *patient = NULL;
	long ttl = 8 * 3600;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--profession"))
			profession = argv[i + 1];
		else if (!strcmp(argv[i], "--specialty"))
			specialty = argv[i + 1];
		else if (!strcmp(argv[i], "--rpps"))
			rpps = argv[i + 1];
		else if (!strcmp(argv[i], "--patient"))
			patient = argv[i + 1];
		else if (!strcmp(argv[i], "--ttl"))
			ttl = strtol(argv[i + 1], NULL, 10);
		else
			return fail(argv[i], "unknown option");
	}
	if ((argc % 2) != 0 || ttl <= 0 || ttl > 7 * 86400)
		return fail("options", "each takes one value; --ttl is 1 s to a week");
	cjose_jwk_t *key = demo_key(dir);
	if (!key)
		return fail(dir, "cannot make or read the demo key");
	time_t now = time(NULL);
	json_t *claims = json_pack("{s:s, s:s, s:I, s:I, s:I}", "iss", DEMO_ISSUER, "aud",
				   DEMO_AUDIENCE, "iat", (json_int_t)now, "nbf", (json_int_t)now,
				   "exp", (json_int_t)(now + ttl));
	if (patient) {
		json_object_set_new(claims, "role", json_string("patient"));
		json_object_set_new(claims, "patient_identifier", json_string(patient));
	} else {
		json_object_set_new(claims, "SubjectNameID", json_string(rpps));
		json_object_set_new(claims, "SubjectRefPro",
				    json_pack("{s:[{s:s, s:s}]}", "exercices", "codeProfession",
					      profession, "codeSavoirFaire", specialty));
	}
	char *payload = json_dumps(claims, JSON_COMPACT);
	json_decref(claims);
	cjose_err e;
	cjose_header_t *h = cjose_header_new(&e);
	cjose_jws_t *jws = NULL;
	const char *token = NULL;
	if (h && payload && cjose_header_set(h, CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &e) &&
	    cjose_header_set(h, CJOSE_HDR_KID, DEMO_KID, &e))
		jws = cjose_jws_sign(key, h, (const uint8_t *)payload, strlen(payload), &e);
	int rc = jws && cjose_jws_export(jws, &token, &e) ? 0 : fail("signing", e.message);
	if (!rc)
		puts(token);
	cjose_jws_release(jws);
	cjose_header_release(h);
	cjose_jwk_release(key);
	free(payload);
	return rc;
}

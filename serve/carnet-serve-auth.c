/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-serve-auth.c - who is asking: the bearer token, a JWS signed RS256
 * or ES256 by a key of the configured JWKS (libcjose), its issuer,
 * audience and times checked, and the viewer read from its claims. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjose/cjose.h>

#include "serve.h"

#define KEYS_MAX 32

typedef struct jwk_entry {
	char kid[128];
	cjose_jwk_kty_t kty;
	cjose_jwk_t *jwk;
} jwk_entry;

struct serve_keys {
	jwk_entry k[KEYS_MAX];
	size_t n;
};

void serve_keys_free(serve_keys *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		cjose_jwk_release(k->k[i].jwk);
	free(k);
}

/* One key of the set: kept when it is a public RSA or EC P-256 signing
 * key with a kid (a key for encryption, or of another kind, is skipped). */
static int add_key(serve_keys *k, json_t *jk, const char *path, char *why, size_t whysz)
{
	const char *kid = json_string_value(json_object_get(jk, "kid"));
	const char *use = json_string_value(json_object_get(jk, "use"));
	const char *kty = json_string_value(json_object_get(jk, "kty"));
	if (!kid || !kty || (use && strcmp(use, "sig") != 0) ||
	    (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0))
		return 0;
	if (strlen(kid) >= sizeof k->k[0].kid || k->n == KEYS_MAX) {
		snprintf(why, whysz, "%s: key %.40s: kid too long, or more than %d keys",
			 path, kid, KEYS_MAX);
		return -1;
	}
	char *text = json_dumps(jk, JSON_COMPACT);
	cjose_err cerr;
	cjose_jwk_t *jwk = text ? cjose_jwk_import(text, strlen(text), &cerr) : NULL;
	free(text);
	if (!jwk) {
		snprintf(why, whysz, "%s: key %s cannot be read as a JWK", path, kid);
		return -1;
	}
	cjose_jwk_kty_t t = cjose_jwk_get_kty(jwk, &cerr);
	if (t == CJOSE_JWK_KTY_EC && cjose_jwk_EC_get_curve(jwk, &cerr) != CJOSE_JWK_EC_P_256) {
		cjose_jwk_release(jwk);
		snprintf(why, whysz, "%s: key %s: only the P-256 curve is used (ES256)", path, kid);
		return -1;
	}
	jwk_entry *e = &k->k[k->n++];
	snprintf(e->kid, sizeof e->kid, "%s", kid);
	e->kty = t;
	e->jwk = jwk;
	return 0;
}

int serve_keys_load(serve_keys **out, const char *path, char *why, size_t whysz)
{
	*out = NULL;
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	if (!root) {
		snprintf(why, whysz, "%s: cannot read the JWKS: %s (line %d)", path, jerr.text,
			 jerr.line);
		return -1;
	}
	json_t *keys = json_object_get(root, "keys");
	serve_keys *k = calloc(1, sizeof *k);
	int rc = 0;
	if (!k) {
		snprintf(why, whysz, "out of memory reading %s", path);
		rc = -1;
	} else if (!json_is_array(keys)) {
		snprintf(why, whysz, "%s: not a JWKS (no \"keys\" array)", path);
		rc = -1;
	}
	size_t i;
	json_t *jk;
	if (!rc)
		json_array_foreach(keys, i, jk)
			if ((rc = add_key(k, jk, path, why, whysz)))
				break;
	if (!rc && k->n == 0) {
		snprintf(why, whysz, "%s: no RSA or EC P-256 signing key with a kid", path);
		rc = -1;
	}
	json_decref(root);
	if (rc) {
		serve_keys_free(k);
		return -1;
	}
	*out = k;
	return 0;
}

/* The value at a claim path: "a.b[0].c". NULL when absent. */
static json_t *claim_at(json_t *o, const char *path)
{
	char seg[128];
	while (o && *path) {
		size_t n = strcspn(path, ".");
		if (n == 0 || n >= sizeof seg)
			return NULL;
		memcpy(seg, path, n);
		seg[n] = '\0';
		path += n + (path[n] == '.');
		char *br = strchr(seg, '[');
		long idx = -1;
		if (br) {
			char *end;
			idx = strtol(br + 1, &end, 10);
			if (idx < 0 || *end != ']' || end[1] != '\0')
				return NULL;
			*br = '\0';
		}
		o = json_object_get(o, seg);
		if (idx >= 0)
			o = json_array_get(o, (size_t)idx);
	}
	return o;
}

/* A claim as a string (a number is written out); "" when absent. Returns
 * -1 when it does not fit or is of another kind. */
static int claim_string(json_t *claims, const char *path, char *out, size_t outsz)
{
	out[0] = '\0';
	if (!path || !*path)
		return 0;
	json_t *v = claim_at(claims, path);
	if (!v || json_is_null(v))
		return 0;
	int n;
	if (json_is_string(v))
		n = snprintf(out, outsz, "%s", json_string_value(v));
	else if (json_is_integer(v))
		n = snprintf(out, outsz, "%lld", (long long)json_integer_value(v));
	else
		return -1;
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* Issuer, audience, expiry and not-before. */
static int check_times_and_names(json_t *c, const serve_config *cfg, time_t now,
				 char *why, size_t whysz)
{
	const char *iss = json_string_value(json_object_get(c, "iss"));
	if (!iss || strcmp(iss, cfg->issuer) != 0)
		return snprintf(why, whysz, "the token's issuer is not %s", cfg->issuer), -1;
	json_t *aud = json_object_get(c, "aud");
	int aud_ok = json_is_string(aud) && strcmp(json_string_value(aud), cfg->audience) == 0;
	size_t i;
	json_t *a;
	if (json_is_array(aud))
		json_array_foreach(aud, i, a)
			if (json_is_string(a) && strcmp(json_string_value(a), cfg->audience) == 0)
				aud_ok = 1;
	if (!aud_ok)
		return snprintf(why, whysz, "the token is not for audience %s", cfg->audience), -1;
	json_t *exp = json_object_get(c, "exp");
	if (!json_is_number(exp))
		return snprintf(why, whysz, "the token has no expiry (exp)"), -1;
	if (json_number_value(exp) + SERVE_LEEWAY_SECONDS < (double)now)
		return snprintf(why, whysz, "the token has expired"), -1;
	json_t *nbf = json_object_get(c, "nbf");
	if (nbf && !json_is_number(nbf))
		return snprintf(why, whysz, "the token's nbf is not a number"), -1;
	if (nbf && json_number_value(nbf) - SERVE_LEEWAY_SECONDS > (double)now)
		return snprintf(why, whysz, "the token is not valid yet (nbf)"), -1;
	return 0;
}

/* The viewer, from the claims at the configured paths. */
static int read_identity(json_t *c, const serve_claims *p, serve_identity *id,
			 char *why, size_t whysz)
{
	char role[40];
	memset(id, 0, sizeof *id);
	if (claim_string(c, p->role, role, sizeof role) ||
	    claim_string(c, p->viewer_id, id->viewer_id, sizeof id->viewer_id) ||
	    claim_string(c, p->profession, id->profession, sizeof id->profession) ||
	    claim_string(c, p->specialty, id->specialty, sizeof id->specialty) ||
	    claim_string(c, p->patient, id->patient, sizeof id->patient))
		return snprintf(why, whysz, "a claim of the token is too long or not a string"), -1;
	if (!role[0] || strcmp(role, "professional") == 0) {
		id->role = CARNET_ROLE_PROFESSIONAL;
		return 0;
	}
	if (strcmp(role, "patient") == 0)
		id->role = CARNET_ROLE_PATIENT;
	else if (strcmp(role, "legal-representative") == 0)
		id->role = CARNET_ROLE_LEGAL_REPRESENTATIVE;
	else
		return snprintf(why, whysz, "unknown role in the token"), -1;
	if (!id->patient[0])
		return snprintf(why, whysz, "a patient's token names no patient (%s)",
				p->patient), -1;
	return 0;
}

/* The key the header names, for an algorithm carnet accepts. */
static const jwk_entry *pick_key(const serve_keys *k, cjose_jws_t *jws, char *why, size_t whysz)
{
	cjose_err cerr;
	cjose_header_t *h = cjose_jws_get_protected(jws);
	const char *alg = h ? cjose_header_get(h, CJOSE_HDR_ALG, &cerr) : NULL;
	const char *kid = h ? cjose_header_get(h, CJOSE_HDR_KID, &cerr) : NULL;
	cjose_jwk_kty_t want;
	if (alg && strcmp(alg, CJOSE_HDR_ALG_RS256) == 0)
		want = CJOSE_JWK_KTY_RSA;
	else if (alg && strcmp(alg, CJOSE_HDR_ALG_ES256) == 0)
		want = CJOSE_JWK_KTY_EC;
	else
		return snprintf(why, whysz, "token algorithm not accepted (RS256 or ES256 only)"),
		       NULL;
	if (!kid)
		return snprintf(why, whysz, "the token names no key (kid)"), NULL;
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->k[i].kid, kid) == 0)
			return k->k[i].kty == want ? &k->k[i]
			       : (snprintf(why, whysz, "the token's algorithm does not "
							"match its key"), NULL);
	snprintf(why, whysz, "the token's key is unknown");
	return NULL;
}

/* ---- tokens already verified ----
 * A client sends the same token with every request of its session: its
 * signature (ES256: an elliptic-curve multiplication, half of the 9% of
 * the service's CPU spent on tokens under load) is verified once per
 * worker thread, and the token kept, by its exact text, with the viewer
 * it gave and its exp and nbf, which are checked again at each use. Only
 * tokens that verified are kept; the keys, issuer, audience and claim
 * paths do not change while the service runs. Each worker thread sees
 * every viewer's requests: with 8 tokens kept, 9 viewers taking turns
 * (make bench's) had one request in 8 verify its token again, 100,000
 * instructions a request on average; 32 are kept (about 85 KB a thread),
 * the least recently used one replaced. */
#define CACHED_TOKENS 32
#define CACHED_TOKEN_MAX 2048

typedef struct verified {
	char token[CACHED_TOKEN_MAX + 1];
	size_t len;
	double exp, nbf; /* nbf: -1e300 when absent */
	serve_identity id;
	unsigned long used;
} verified;

static _Thread_local verified cached[CACHED_TOKENS];
static _Thread_local unsigned long cache_clock;

/* The same checks of time as check_times_and_names. */
static int still_valid(const verified *v, time_t now, char *why, size_t whysz)
{
	if (v->exp + SERVE_LEEWAY_SECONDS < (double)now)
		return snprintf(why, whysz, "the token has expired"), -1;
	if (v->nbf - SERVE_LEEWAY_SECONDS > (double)now)
		return snprintf(why, whysz, "the token is not valid yet (nbf)"), -1;
	return 0;
}

/* 1: tok[0..n) verified before (its viewer in *id, or the refusal of its
 * time in why: *rc); 0: not kept. */
static int cache_find(const char *tok, size_t n, time_t now, serve_identity *id, int *rc,
		      char *why, size_t whysz)
{
	for (size_t i = 0; i < CACHED_TOKENS; i++) {
		verified *v = &cached[i];
		if (v->len != n || memcmp(v->token, tok, n) != 0)
			continue;
		if ((*rc = still_valid(v, now, why, whysz)) != 0) {
			v->len = 0;
			return 1;
		}
		*id = v->id;
		v->used = ++cache_clock;
		return 1;
	}
	return 0;
}

static void cache_keep(const char *tok, size_t n, json_t *claims, const serve_identity *id)
{
	json_t *nbf = json_object_get(claims, "nbf");
	if (n > CACHED_TOKEN_MAX)
		return;
	verified *v = &cached[0];
	for (size_t i = 1; i < CACHED_TOKENS; i++)
		if (cached[i].used < v->used)
			v = &cached[i];
	memcpy(v->token, tok, n);
	v->len = n;
	v->exp = json_number_value(json_object_get(claims, "exp"));
	v->nbf = nbf ? json_number_value(nbf) : -1e300;
	v->id = *id;
	v->used = ++cache_clock;
}

/* The value of a base64url character (the token's characters are checked
 * already). */
static unsigned b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (unsigned)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0' + 52);
	return c == '-' ? 62 : 63;
}

/* Three segments, each canonical base64url: no length that cannot be
 * (4k + 1), and the bits of the last character that hold no data at 0.
 * The decoder beneath ignores those bits, so without this a valid token
 * had 16 spellings (the signature's last character changed), each verified
 * and accepted as the same token. */
static int canonical_jws(const char *tok, size_t n)
{
	size_t dots = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && tok[i] != '.')
			continue;
		size_t len = i - start;
		if (len % 4 == 1 ||
		    (len % 4 == 2 && (b64url_value(tok[i - 1]) & 0x0f)) ||
		    (len % 4 == 3 && (b64url_value(tok[i - 1]) & 0x03)))
			return 0;
		dots += i < n;
		start = i + 1;
	}
	return dots == 2;
}

int serve_token_check(const serve_keys *k, const serve_config *cfg,
		      const char *authorization, time_t now, serve_identity *id,
		      char *why, size_t whysz)
{
	if (!authorization)
		return snprintf(why, whysz, "no bearer token"), -1;
	if (strncasecmp(authorization, "Bearer ", 7) != 0)
		return snprintf(why, whysz, "the Authorization header is not a bearer token"), -1;
	const char *tok = authorization + 7;
	while (*tok == ' ')
		tok++;
	size_t n = strlen(tok);
	if (n == 0 || n > 16384 || strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					      "0123456789-_.") != n)
		return snprintf(why, whysz, "the token is not a compact JWS"), -1;
	if (!canonical_jws(tok, n))
		return snprintf(why, whysz, "the token is not a compact JWS in canonical "
				"base64url"), -1;
	int cached_rc;
	if (cache_find(tok, n, now, id, &cached_rc, why, whysz))
		return cached_rc;
	cjose_err cerr;
	cjose_jws_t *jws = cjose_jws_import(tok, n, &cerr);
	if (!jws)
		return snprintf(why, whysz, "the token is not a compact JWS"), -1;
	int rc = -1;
	json_t *claims = NULL;
	uint8_t *plain = NULL;
	size_t plain_len = 0;
	const jwk_entry *key = pick_key(k, jws, why, whysz);
	if (!key)
		goto out;
	if (!cjose_jws_verify(jws, key->jwk, &cerr)) {
		snprintf(why, whysz, "the token's signature does not verify");
		goto out;
	}
	if (!cjose_jws_get_plaintext(jws, &plain, &plain_len, &cerr) ||
	    !(claims = json_loadb((const char *)plain, plain_len, JSON_REJECT_DUPLICATES, NULL)) ||
	    !json_is_object(claims)) {
		snprintf(why, whysz, "the token's claims are not a JSON object");
		goto out;
	}
	if (check_times_and_names(claims, cfg, now, why, whysz) ||
	    read_identity(claims, &cfg->claims, id, why, whysz))
		goto out;
	cache_keep(tok, n, claims, id);
	rc = 0;
out:
	json_decref(claims);
	cjose_jws_release(jws);
	return rc;
}

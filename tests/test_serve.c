/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_serve.c - carnet-serve as a client sees it: the real program on a
 * loopback port with TLS, a CA, server certificate and JWKS made here
 * (openssl, cjose), driven with libcurl: FHIR searches and documents,
 * every bad token, hostile HTTP, plain HTTP refused, the drain on SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
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
#include <cjose/cjose.h>
#include <curl/curl.h>
#include <jansson.h>

#include "carnet.h"
#include "helpers.h"

#define ISS "https://auth.carnet.example"
#define AUD "carnet-serve-test"
#define PA "urn:oid:1.2.250.1.999.1|PA-1"
#define PB "urn:oid:1.2.250.1.999.1|PB-2"
#define PC "urn:oid:1.2.250.1.999.1|PC-3"

/* A CDA document of patient C: sections, a table, a list, and hostile
 * markup in its narrative (escaped text, an XHTML script element, an
 * event attribute, a javascript: link). */
static const char cda_c[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<ClinicalDocument xmlns=\"urn:hl7-org:v3\">\n"
	"<typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>\n"
	"<id root=\"1.2.250.1.999.7.3\" extension=\"CDA-C1\"/>\n"
	"<code code=\"11490-0\" codeSystem=\"2.16.840.1.113883.6.1\" "
	"displayName=\"Lettre de liaison\"/>\n"
	"<title>Lettre de liaison &amp; sortie</title>\n"
	"<effectiveTime value=\"20250309170000+0100\"/>\n"
	"<confidentialityCode code=\"N\" codeSystem=\"2.16.840.1.113883.5.25\"/>\n"
	"<setId root=\"1.2.250.1.999.7.3\" extension=\"SET-C1\"/><versionNumber value=\"1\"/>\n"
	"<recordTarget><patientRole><id root=\"1.2.250.1.999.1\" extension=\"PC-3\"/>"
	"<patient><name><given>Odile</given><family>MERCIER-TEST</family></name>"
	"<birthTime value=\"19570521\"/></patient></patientRole></recordTarget>\n"
	"<author><time value=\"20250309\"/><assignedAuthor>"
	"<id root=\"1.2.250.1.71.4.2.1\" extension=\"810000000042\"/>"
	"<code code=\"G15_10/SM04\" displayName=\"Cardiologie\"/>"
	"<assignedPerson><name><prefix>Dr</prefix><given>Paul</given>"
	"<family>VERDIER-TEST</family></name></assignedPerson></assignedAuthor></author>\n"
	"<component><structuredBody>\n"
	"<component><section><title>Motif</title><text><paragraph>Décompensation cardiaque "
	"&lt;script&gt;alert(1)&lt;/script&gt;</paragraph>"
	"<paragraph><script xmlns=\"http://www.w3.org/1999/xhtml\">alert(2)</script>"
	"<content styleCode=\"Bold\" onclick=\"alert(3)\">fibrillation</content> "
	"<linkHtml href=\"javascript:alert(4)\">lien</linkHtml></paragraph>"
	"<list><item>Diurétiques</item><item>Bêtabloquant</item></list></text>\n"
	"<component><section><title>Synthèse du séjour</title><text>Perte de 4 kg.</text>"
	"</section></component></section></component>\n"
	"<component><section><title>Traitements à la sortie</title><text><table><thead><tr>"
	"<th>Médicament</th><th>Posologie</th></tr></thead><tbody><tr><td>Furosémide 40 mg</td>"
	"<td colspan=\"1\" style=\"x\">1 cp le matin</td></tr></tbody></table></text>"
	"</section></component>\n"
	"</structuredBody></component></ClinicalDocument>\n";

/* ---- the fixture: documents, keys, certificates, the server ---- */

typedef struct server {
	pid_t pid;
	int port;
	char url[128];    /* https://127.0.0.1:PORT/fhir */
	char err[4300];   /* its stderr file */
} server;

static char dir[4096], home[4200], ca[4200];
static cjose_jwk_t *rsa, *ec, *other;
static char rsa_pub[8192];

static void doc(const char *name, const char *patient, const char *id, const char *type,
		const char *date, const char *spec, const char *conf, const char *title,
		const char *text)
{
	const char *path = th_path("%s/docs/%s.txt", dir, name);
	th_write_str(path, text);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "patient_id",
			      patient, "patient_id_system", "1.2.250.1.999.1", "id", id,
			      "type", type, "date", date, "author_specialty", spec,
			      "author_id", "810000000042", "title", title, "confidentiality", conf);
	char *s = json_dumps(o, 0);
	th_write_str(th_path("%s.meta.json", path), s);
	free(s);
	json_decref(o);
}

static void sh(const char *cmd)
{
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

/* A CA and a server certificate for 127.0.0.1 signed by it. */
static void certificates(void)
{
	const char *d = dir;
	th_write_str(th_path("%s/ext.cnf", d), "subjectAltName=IP:127.0.0.1\n");
	sh(th_path("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		   "-nodes -keyout ca.key -out ca.pem -subj /CN=carnet-test-ca -days 2 "
		   ">/dev/null 2>&1", d));
	sh(th_path("cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		   "-keyout srv.key -out srv.csr -subj /CN=127.0.0.1 >/dev/null 2>&1 && "
		   "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		   "-out srv.pem -days 2 -extfile ext.cnf >/dev/null 2>&1", d));
	snprintf(ca, sizeof ca, "%s/ca.pem", d);
}

static cjose_jwk_t *named(cjose_jwk_t *k, const char *kid)
{
	cjose_err e;
	cr_assert_not_null(k);
	cr_assert(cjose_jwk_set_kid(k, kid, strlen(kid), &e));
	return k;
}

/* An RSA and an EC P-256 key in the JWKS; another RSA key outside it. */
static void keys(void)
{
	cjose_err e;
	static const uint8_t f4[] = { 1, 0, 1 };
	rsa = named(cjose_jwk_create_RSA_random(2048, f4, 3, &e), "rsa-1");
	ec = named(cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &e), "ec-1");
	other = named(cjose_jwk_create_RSA_random(2048, f4, 3, &e), "rsa-1");
	char *r = cjose_jwk_to_json(rsa, false, &e), *c = cjose_jwk_to_json(ec, false, &e);
	snprintf(rsa_pub, sizeof rsa_pub, "%s", r);
	th_write_str(th_path("%s/jwks.json", dir), th_path("{\"keys\": [%s, %s]}", r, c));
	free(r);
	free(c);
}

static void setup(void)
{
	snprintf(dir, sizeof dir, "%s", th_tmpdir());
	snprintf(home, sizeof home, "%s/idx", dir);
	doc("a1", "PA-1", "DOC-A1", "11488-4", "2024-01-10", "SM04", "N",
	    "Consultation de cardiologie", "Douleur thoracique, angor stable, traitement.");
	doc("a2", "PA-1", "DOC-A2", "18748-4", "2023-06-01", "SM44", "N",
	    "Radiographie du thorax", "Radiographie thoracique normale, pas d'angor visible.");
	doc("a3", "PA-1", "DOC-A3", "11488-4", "2022-03-03", "SM54", "N",
	    "Consultation de médecine générale", "Suivi de l'hypertension artérielle.");
	doc("a4", "PA-1", "DOC-A4", "11488-4", "2024-02-02", "SM54", "MASQUE_PS",
	    "Consultation masquée", "Un document masqué aux professionnels.");
	doc("a5", "PA-1", "DOC-A5", "34133-9", "2021-05-05", "SM04", "N",
	    "Synthèse", "Synthèse cardiologique ancienne, angor.");
	doc("b1", "PB-2", "DOC-B1", "11488-4", "2024-03-03", "SM04", "N",
	    "Consultation de B", "Le dossier d'un autre patient, angor aussi.");
	doc("b2", "PB-2", "1.2.250.1.999.7^B/2", "11488-4", "2024-04-04", "SM04", "N",
	    "Consultation de B, 2", "Un document dont l'id n'est pas un id FHIR.");
	th_write_str(th_path("%s/docs/c1.xml", dir), cda_c);
	cr_assert_eq(th_index_dir(home, th_path("%s/docs", dir)), 8);
	certificates();
	keys();
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void teardown(void)
{
	cjose_jwk_release(rsa);
	cjose_jwk_release(ec);
	cjose_jwk_release(other);
	curl_global_cleanup();
	th_cleanup();
}

/* Start carnet-serve with these extra arguments (NULL-terminated) and read
 * the port it prints. */
static void start_with(server *s, const char *const *extra)
{
	const char *argv[40];
	size_t n = 0;
	const char *base[] = { th_path("%s/carnet-serve", th_build()), "--index", home,
			       "--jwks", th_path("%s/jwks.json", dir), "--issuer", ISS,
			       "--audience", AUD, "--threads", "2", NULL };
	for (size_t i = 0; base[i]; i++)
		argv[n++] = strdup(base[i]);
	for (size_t i = 0; extra[i]; i++)
		argv[n++] = strdup(extra[i]);
	argv[n] = NULL;
	int out[2];
	cr_assert_eq(pipe(out), 0);
	snprintf(s->err, sizeof s->err, "%s/serve-%d.err", dir, (int)getpid());
	s->pid = fork();
	cr_assert_geq(s->pid, 0);
	if (s->pid == 0) {
		int e = open(s->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(out[1], 1);
		dup2(e, 2);
		close(out[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	char line[256] = "";
	FILE *f = fdopen(out[0], "r");
	cr_assert_not_null(fgets(line, sizeof line, f), "carnet-serve printed nothing");
	fclose(f);
	for (size_t i = 0; i < n; i++)
		free((char *)argv[i]);
	char *colon = strrchr(line, ':');
	cr_assert_not_null(colon, "%s", line);
	s->port = atoi(colon + 1);
	cr_assert_gt(s->port, 0, "%s", line);
	snprintf(s->url, sizeof s->url, "%s", strstr(line, "http"));
	s->url[strcspn(s->url, "\n")] = '\0';
}

static void start(server *s)
{
	const char *tls[] = { "--listen", "127.0.0.1:0", "--tls-cert",
			      th_path("%s/srv.pem", dir), "--tls-key",
			      th_path("%s/srv.key", dir), "--timeout", "2",
			      "--max-connections", "16", NULL };
	start_with(s, tls);
}

/* It exits 0, without a sanitizer report. */
static void exits_cleanly(server *s)
{
	int status;
	cr_assert_eq(waitpid(s->pid, &status, 0), s->pid);
	size_t len;
	char *err = th_slurp(s->err, &len);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d: %s", status, err);
	cr_assert_null(strstr(err, "Sanitizer"), "%s", err);
	cr_assert_null(strstr(err, "runtime error"), "%s", err);
	free(err);
}

static void stop(server *s)
{
	cr_assert_eq(kill(s->pid, SIGTERM), 0);
	exits_cleanly(s);
}

/* ---- tokens ---- */

static char *b64url(const char *s, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *o = malloc(n * 4 / 3 + 4), *p = o;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16 | (i + 1 < n ? (unsigned char)s[i + 1] << 8 : 0) |
			     (i + 2 < n ? (unsigned char)s[i + 2] : 0);
		*p++ = t[v >> 18];
		*p++ = t[(v >> 12) & 63];
		if (i + 1 < n)
			*p++ = t[(v >> 6) & 63];
		if (i + 2 < n)
			*p++ = t[v & 63];
	}
	*p = '\0';
	return o;
}

/* The claims of a professional: a cardiologist (médecin) by default. */
static json_t *professional(const char *profession)
{
	time_t now = time(NULL);
	return json_pack("{s:s, s:s, s:I, s:I, s:s, s:{s:[{s:s, s:s}]}}", "iss", ISS, "aud", AUD,
			 "exp", (json_int_t)now + 600, "nbf", (json_int_t)now - 10,
			 "SubjectNameID", "810000000001", "SubjectRefPro", "exercices",
			 "codeProfession", profession, "codeSavoirFaire", "SM04");
}

static json_t *patient_claims(const char *who)
{
	time_t now = time(NULL);
	return json_pack("{s:s, s:s, s:I, s:s, s:s}", "iss", ISS, "aud", AUD, "exp",
			 (json_int_t)now + 600, "role", "patient", "patient_identifier", who);
}

/* A signed token (the claims are taken). alg "none" is written by hand. */
static char *mint(const char *alg, const cjose_jwk_t *key, const char *kid, json_t *claims)
{
	char *payload = json_dumps(claims, JSON_COMPACT);
	json_decref(claims);
	char *tok;
	if (!key) {
		char hdr[200];
		snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg, kid);
		char *h = b64url(hdr, strlen(hdr)), *p = b64url(payload, strlen(payload));
		tok = strdup(th_path("%s.%s.", h, p));
		free(h);
		free(p);
	} else {
		cjose_err e;
		cjose_header_t *h = cjose_header_new(&e);
		cjose_header_set(h, CJOSE_HDR_ALG, alg, &e);
		cjose_header_set(h, CJOSE_HDR_KID, kid, &e);
		cjose_jws_t *jws = cjose_jws_sign(key, h, (const uint8_t *)payload,
						  strlen(payload), &e);
		cr_assert_not_null(jws, "sign %s: %s", alg, e.message);
		const char *ser;
		cr_assert(cjose_jws_export(jws, &ser, &e));
		tok = strdup(ser);
		cjose_jws_release(jws);
		cjose_header_release(h);
	}
	free(payload);
	return tok;
}

static char *doctor(void)
{
	return mint("RS256", rsa, "rsa-1", professional("10"));
}

/* ---- HTTP ---- */

typedef struct answer {
	long status;
	char *body;
	size_t len;
	char type[128];
	char www[256];
	char csp[256];
	CURLcode rc;
} answer;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	answer *a = ud;
	char *b = realloc(a->body, a->len + size * n + 1);
	cr_assert_not_null(b);
	memcpy(b + a->len, p, size * n);
	a->len += size * n;
	b[a->len] = '\0';
	a->body = b;
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	answer *a = ud;
	size_t len = size * n;
	if (len > 14 && !strncasecmp(p, "Content-Type: ", 14))
		snprintf(a->type, sizeof a->type, "%.*s", (int)(len - 16), p + 14);
	if (len > 18 && !strncasecmp(p, "WWW-Authenticate: ", 18))
		snprintf(a->www, sizeof a->www, "%.*s", (int)(len - 20), p + 18);
	if (len > 25 && !strncasecmp(p, "Content-Security-Policy: ", 25))
		snprintf(a->csp, sizeof a->csp, "%.*s", (int)(len - 27), p + 25);
	return len;
}

/* GET base + path with a bearer token (or none) and extra headers. */
static answer get(const server *s, const char *path, const char *token,
		  const char *const *headers)
{
	answer a = { 0 };
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	char auth[8192];
	if (token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		hl = curl_slist_append(hl, auth);
	}
	for (size_t i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	char *url = malloc(strlen(s->url) + strlen(path) + 1);
	sprintf(url, "%s%s", s->url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
	a.rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hl);
	free(url);
	if (!a.body)
		a.body = calloc(1, 1);
	return a;
}

static json_t *json_of(const answer *a)
{
	json_t *o = json_loadb(a->body, a->len, 0, NULL);
	cr_assert_not_null(o, "not JSON (%ld): %.300s", a->status, a->body);
	return o;
}

/* A 4xx/5xx answer is an OperationOutcome with an issue. */
static void assert_outcome(const answer *a, long status)
{
	cr_assert_eq(a->status, status, "status %ld, wanted %ld: %.400s", a->status, status,
		     a->body);
	json_t *o = json_of(a);
	cr_assert_str_eq(json_string_value(json_object_get(o, "resourceType")), "OperationOutcome");
	json_t *issue = json_array_get(json_object_get(o, "issue"), 0);
	cr_assert_not_null(json_object_get(issue, "severity"));
	cr_assert_not_null(json_object_get(issue, "code"));
	cr_assert(strstr(a->type, "application/fhir+json"), "%s", a->type);
	json_decref(o);
}

static void done(answer *a)
{
	free(a->body);
}

/* ---- searches ---- */

/* The ids of a searchset Bundle, in order, after checking its shape and
 * each DocumentReference's required fields and types. */
static size_t bundle_ids(const answer *a, char ids[][32], size_t max, uint64_t *total)
{
	cr_assert_eq(a->status, 200, "%ld: %.400s", a->status, a->body);
	cr_assert(strstr(a->type, "application/fhir+json"), "%s", a->type);
	json_t *b = json_of(a);
	cr_assert_str_eq(json_string_value(json_object_get(b, "resourceType")), "Bundle");
	cr_assert_str_eq(json_string_value(json_object_get(b, "type")), "searchset");
	cr_assert(json_is_integer(json_object_get(b, "total")));
	*total = (uint64_t)json_integer_value(json_object_get(b, "total"));
	json_t *entries = json_object_get(b, "entry"), *e;
	size_t i, n = 0;
	json_array_foreach(entries, i, e) {
		json_t *d = json_object_get(e, "resource");
		cr_assert_str_eq(json_string_value(json_object_get(d, "resourceType")),
				 "DocumentReference");
		cr_assert_str_eq(json_string_value(json_object_get(json_object_get(e, "search"),
								   "mode")), "match");
		cr_assert(json_is_number(json_object_get(json_object_get(e, "search"), "score")));
		cr_assert_str_eq(json_string_value(json_object_get(d, "status")), "current");
		/* the document id; the resource id when it is a FHIR id */
		const char *id = json_string_value(json_object_get(json_object_get(d,
				 "masterIdentifier"), "value"));
		cr_assert_not_null(id);
		const char *rid = json_string_value(json_object_get(d, "id"));
		if (strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.") ==
		    strlen(id)) {
			cr_assert_str_eq(rid, id);
			cr_assert(json_is_string(json_object_get(e, "fullUrl")));
		} else {
			cr_assert_null(rid, "%s is not a FHIR id", id);
		}
		cr_assert(json_is_string(json_object_get(json_array_get(json_object_get(
			json_object_get(d, "type"), "coding"), 0), "code")));
		cr_assert(json_is_array(json_object_get(d, "category")));
		cr_assert(json_is_array(json_object_get(d, "securityLabel")));
		cr_assert(json_is_string(json_object_get(d, "date")));
		cr_assert(json_is_string(json_object_get(d, "description")));
		cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(
			d, "author"), 0), "reference")), "#author");
		json_t *att = json_object_get(json_array_get(json_object_get(d, "content"), 0),
					      "attachment");
		cr_assert_str_eq(json_string_value(json_object_get(att, "contentType")),
				 "text/plain; charset=utf-8");
		cr_assert(strstr(json_string_value(json_object_get(att, "url")), "/fhir/Binary/"));
		cr_assert(json_is_array(json_object_get(d, "extension")));
		cr_assert_lt(n, max);
		snprintf(ids[n++], 32, "%s", id);
	}
	json_decref(b);
	return n;
}

/* The same request run in this process, through the library. */
static size_t library_ids(carnet_request *req, char ids[][32], size_t max)
{
	carnet_index *idx;
	carnet_results *res;
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
	req->patient_system = "1.2.250.1.999.1";
	req->profession = "10";
	req->specialty = "SM04";
	req->viewer_id = "810000000001";
	cr_assert_eq(carnet_index_search(&res, idx, req, &err), CARNET_OK, "%s", err.message);
	size_t n = carnet_results_count(res);
	cr_assert_leq(n, max);
	for (size_t i = 0; i < n; i++)
		snprintf(ids[i], 32, "%s", carnet_results_field(res, i, CARNET_FIELD_ID));
	carnet_results_free(res);
	carnet_index_close(idx);
	return n;
}

static void assert_same(char a[][32], size_t na, char b[][32], size_t nb)
{
	cr_assert_eq(na, nb, "%zu hits, the library %zu", na, nb);
	for (size_t i = 0; i < na; i++)
		cr_assert_str_eq(a[i], b[i], "hit %zu", i);
}

static int has(char ids[][32], size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ids[i], id))
			return 1;
	return 0;
}

TestSuite(serve, .init = setup, .fini = teardown, .timeout = 60);

Test(serve, a_search_answers_a_bundle_in_the_librarys_order_and_pages)
{
	server s;
	start(&s);
	char *tok = doctor();
	char got[16][32], want[16][32];
	uint64_t total;
	answer a = get(&s, "/DocumentReference?patient.identifier=" PA "&_text=angor", tok, NULL);
	size_t n = bundle_ids(&a, got, 16, &total);
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = "PA-1";
	req.words = "angor";
	assert_same(got, n, want, library_ids(&req, want, 16));
	cr_assert_eq(total, n);
	cr_assert(has(got, n, "DOC-A1") && !has(got, n, "DOC-B1") && !has(got, n, "DOC-A4"));
	cr_assert(strstr(a.body, "https://carnet.example/fhir/StructureDefinition/carnet-snippet"),
		  "%s", a.body);
	done(&a);

	/* browse mode, paged by two: the pages add up to the library's order */
	req.words = NULL;
	size_t all = library_ids(&req, want, 16);
	cr_assert_eq(all, 4, "A1, A2, A3, A5 (A4 is masked)");
	size_t seen = 0;
	for (unsigned off = 0; off < all; off += 2) {
		char path[200];
		snprintf(path, sizeof path, "/DocumentReference?patient.identifier=" PA
			 "&_count=2&_offset=%u", off);
		a = get(&s, path, tok, NULL);
		n = bundle_ids(&a, got, 16, &total);
		cr_assert_eq(total, all);
		for (size_t i = 0; i < n; i++)
			cr_assert_str_eq(got[i], want[seen + i]);
		seen += n;
		cr_assert_eq(strstr(a.body, "\"next\"") != NULL, off + 2 < all);
		cr_assert_eq(strstr(a.body, "\"previous\"") != NULL, off > 0);
		done(&a);
	}
	cr_assert_eq(seen, all);

	a = get(&s, "/DocumentReference?patient.identifier=" PA "&_summary=count", tok, NULL);
	n = bundle_ids(&a, got, 16, &total);
	cr_assert_eq(n, 0);
	cr_assert_eq(total, all);
	done(&a);
	free(tok);
	stop(&s);
}

Test(serve, lastn_answers_the_key_results_under_the_same_rules)
{
	server s;
	start(&s);
	char *tok = doctor();
	/* text documents carry no coded result: an empty searchset, not an error */
	answer a = get(&s, "/Observation/$lastn?patient.identifier=" PA "&max=3", tok, NULL);
	cr_assert_eq(a.status, 200, "%s", a.body);
	cr_assert(strstr(a.body, "\"searchset\"") && strstr(a.body, "\"total\":0"), "%s", a.body);
	done(&a);
	static const char *const bad_max[] = { "0", "101", "x", "-1" };
	for (size_t i = 0; i < 4; i++) {
		a = get(&s, th_path("/Observation/$lastn?patient.identifier=" PA "&max=%s", bad_max[i]),
			tok, NULL);
		cr_assert_eq(a.status, 400, "max=%s: %s", bad_max[i], a.body);
		done(&a);
	}
	a = get(&s, "/Observation/$lastn?patient.identifier=" PA, NULL, NULL);
	cr_assert_eq(a.status, 401, "no token: %s", a.body);
	done(&a);
	char *pat = mint("ES256", ec, "ec-1", patient_claims(PB));
	a = get(&s, "/Observation/$lastn?patient.identifier=" PA, pat, NULL);
	cr_assert_eq(a.status, 403, "a patient's token for another patient: %s", a.body);
	done(&a);
	free(pat);
	free(tok);
	stop(&s);
}

Test(serve, every_search_parameter_filters_as_the_library_does)
{
	server s;
	start(&s);
	char *tok = doctor();
	static const struct {
		const char *query;
		const char *want; /* the ids, in any order */
	} cases[] = {
		{ "&type=http://loinc.org|18748-4", "DOC-A2" },
		{ "&type=11488-4,34133-9", "DOC-A1 DOC-A3 DOC-A5" },
		{ "&category=urn:oid:1.2.250.1.213.1.1.4.1|31", "DOC-A2" },
		{ "&category=11", "DOC-A5" },
		{ "&date=ge2023-01-01", "DOC-A1 DOC-A2" },
		{ "&date=le2022-12-31", "DOC-A3 DOC-A5" },
		{ "&date=ge2022-01-01&date=le2023-12-31", "DOC-A2 DOC-A3" },
		{ "&author.specialty=SM04", "DOC-A1 DOC-A5" },
		{ "&status=current&_text=hypertension", "DOC-A3" },
		{ "&status=entered-in-error,current&_text=hypertension", "DOC-A3" },
		{ "&_emergency=true&type=11488-4", "DOC-A1 DOC-A3 DOC-A4" },
		{ "&unknown=1&_text=radiographie", "DOC-A2" },
	};
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		answer a = get(&s, th_path("/DocumentReference?patient.identifier=" PA "%s",
					   cases[c].query), tok, NULL);
		char got[16][32];
		uint64_t total;
		size_t n = bundle_ids(&a, got, 16, &total);
		size_t want = 0;
		char copy[128], *save = NULL;
		snprintf(copy, sizeof copy, "%s", cases[c].want);
		for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save), want++)
			cr_assert(has(got, n, t), "%s: %s missing: %s", cases[c].query, t, a.body);
		cr_assert_eq(n, want, "%s: %zu hits", cases[c].query, n);
		done(&a);
	}
	/* strict handling refuses what lenient handling ignores */
	const char *strict[] = { "Prefer: handling=strict", NULL };
	answer a = get(&s, "/DocumentReference?patient.identifier=" PA "&unknown=1", tok, strict);
	assert_outcome(&a, 400);
	done(&a);
	/* a name whose echo in the diagnostics is cut inside a character */
	char url[1024] = "/DocumentReference?patient.identifier=" PA "&x";
	for (int i = 0; i < 60; i++)
		strcat(url, "%C3%A9");
	strcat(url, "=1");
	a = get(&s, url, tok, strict);
	assert_outcome(&a, 400);
	cr_assert(strstr(a.body, "unknown parameter x"), "%s", a.body);
	done(&a);
	static const char *bad[] = {
		"", "&_count=0", "&_count=1001", "&_offset=-1", "&date=gt2020-01-01",
		"&date=ge2020", "&status=superseded", "&_summary=text",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *q = i ? th_path("/DocumentReference?patient.identifier=" PA "%s", bad[i])
				  : "/DocumentReference?_text=x";
		a = get(&s, q, tok, NULL);
		assert_outcome(&a, 400);
		done(&a);
	}
	free(tok);
	stop(&s);
}

/* ---- the access log ---- */

typedef struct refusal {
	int status;
	const char *profession;
	int found;
} refusal;

static int find_refusal(const carnet_access_entry *e, void *p)
{
	refusal *r = p;
	if (e->status == r->status && !strcmp(e->profession, r->profession) && *e->reason)
		r->found = 1;
	return 0;
}

/* The access log of patient A has a refusal with this status, written
 * for a viewer of this profession. */
static void logged_refusal(int status, const char *profession)
{
	carnet_index *idx;
	carnet_error err;
	refusal r = { status, profession, 0 };
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_index_access_log_entries(idx, "1.2.250.1.999.1^PA-1", find_refusal,
						     &r, &err), CARNET_OK, "%s", err.message);
	cr_assert(r.found, "no refusal %d for profession %s in the access log", status, profession);
	carnet_index_close(idx);
}

/* ---- documents (ITI-68) ---- */

/* Rows of the access log written for the test's cardiologist. */
static int count_row(const carnet_access_entry *e, void *p)
{
	size_t *rows = p;
	if (!strcmp(e->viewer_id, "810000000001") && !strcmp(e->profession, "10"))
		(*rows)++;
	return 0;
}

/* How many rows the access log of this patient (key) has for the test's
 * cardiologist. */
static size_t doctor_rows(const char *key)
{
	carnet_index *idx;
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK);
	size_t rows = 0;
	cr_assert_eq(carnet_index_access_log_entries(idx, key, count_row, &rows, &err),
		     CARNET_OK, "%s", err.message);
	carnet_index_close(idx);
	return rows;
}

Test(serve, a_document_is_its_files_bytes_and_only_for_who_may_see_it)
{
	server s;
	start(&s);
	char *tok = doctor();
	answer a = get(&s, "/DocumentReference?patient.identifier=" PA "&type=18748-4", tok, NULL);
	json_t *b = json_of(&a);
	const char *url = json_string_value(json_object_get(json_object_get(json_array_get(
		json_object_get(json_object_get(json_array_get(json_object_get(b, "entry"), 0),
						"resource"), "content"), 0), "attachment"), "url"));
	cr_assert_not_null(url);
	const char *path = strstr(url, "/Binary/");
	answer d = get(&s, path, tok, NULL);
	size_t len;
	char *bytes = th_slurp(th_path("%s/docs/a2.txt", dir), &len);
	cr_assert_eq(d.status, 200, "%ld %s", d.status, d.body);
	cr_assert_eq(d.len, len);
	cr_assert_eq(memcmp(d.body, bytes, len), 0);
	cr_assert(strstr(d.type, "text/plain"), "%s", d.type);
	free(bytes);
	done(&d);
	json_decref(b);
	done(&a);

	/* masked, another patient's under this patient, unknown: 404 */
	static const char *const missing[] = {
		"/Binary/DOC-A4?patient.identifier=" PA,
		"/Binary/DOC-B1?patient.identifier=" PA,
		"/Binary/NOPE?patient.identifier=" PA,
		"/Binary/..%2F..%2F..%2Fetc%2Fpasswd?patient.identifier=" PA,
		"/Binary/../../../../etc/passwd?patient.identifier=" PA,
		"/Binary/DOC-A1/../../../etc/passwd?patient.identifier=" PA,
	};
	for (size_t i = 0; i < sizeof missing / sizeof *missing; i++) {
		d = get(&s, missing[i], tok, NULL);
		cr_assert(d.status == 404 || d.status == 400, "%s: %ld", missing[i], d.status);
		cr_assert_null(strstr(d.body, "root:"), "%s", missing[i]);
		cr_assert_null(strstr(d.body, "Un document masqué"), "%s", missing[i]);
		done(&d);
	}
	/* emergency access opens the masked one; the library logs it */
	d = get(&s, "/Binary/DOC-A4?patient.identifier=" PA "&_emergency=true", tok, NULL);
	cr_assert_eq(d.status, 200);
	cr_assert(strstr(d.body, "Un document masqué"));
	done(&d);
	/* the patient B token reads B's documents, never A's; an id that is
	 * not a FHIR id (a CDA root^extension with a '/') opens from its URL */
	char *pb = mint("ES256", ec, "ec-1", patient_claims(PB));
	d = get(&s, "/Binary/DOC-B1?patient.identifier=" PB, pb, NULL);
	cr_assert_eq(d.status, 200);
	done(&d);
	a = get(&s, "/DocumentReference?patient.identifier=" PB "&_text=FHIR", pb, NULL);
	char ids[4][32];
	uint64_t total;
	cr_assert_eq(bundle_ids(&a, ids, 4, &total), 1);
	cr_assert_str_eq(ids[0], "1.2.250.1.999.7^B/2");
	b = json_of(&a);
	url = json_string_value(json_object_get(json_object_get(json_array_get(
		json_object_get(json_object_get(json_array_get(json_object_get(b, "entry"), 0),
						"resource"), "content"), 0), "attachment"), "url"));
	cr_assert(strstr(url, "/Binary/1.2.250.1.999.7%5EB%2F2?"), "%s", url);
	d = get(&s, strstr(url, "/Binary/"), pb, NULL);
	cr_assert_eq(d.status, 200, "%s", d.body);
	cr_assert(strstr(d.body, "pas un id FHIR"));
	done(&d);
	json_decref(b);
	done(&a);
	d = get(&s, "/Binary/DOC-A1?patient.identifier=" PA, pb, NULL);
	assert_outcome(&d, 403);
	done(&d);
	free(pb);
	free(tok);
	stop(&s);

	/* every opening was written to the access log, with the viewer */
	size_t rows = doctor_rows("1.2.250.1.999.1^PA-1");
	cr_assert_geq(rows, 5, "%zu rows", rows);
}

/* ---- tokens ---- */

/* tok (a valid token, malloc'd) spelt otherwise: the bits of its
 * signature's last character that hold no data (ES256 and RS256-2048
 * signatures leave four) set, so that it decodes to the same bytes. */
static char *respelt(char *tok)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *last = tok + strlen(tok) - 1;
	size_t v = (size_t)(strchr(b64, *last) - b64);
	cr_assert_eq((strlen(strrchr(tok, '.') + 1)) % 4, 2, "%s", tok);
	*last = b64[v | 0x0f];
	return tok;
}

Test(serve, every_bad_token_is_refused_with_401)
{
	server s;
	start(&s);
	time_t now = time(NULL);
	json_t *expired = professional("10"), *future = professional("10"),
	       *wrong_iss = professional("10"), *wrong_aud = professional("10"),
	       *no_exp = professional("10");
	json_object_set_new(expired, "exp", json_integer((json_int_t)now - 3600));
	json_object_set_new(future, "nbf", json_integer((json_int_t)now + 3600));
	json_object_set_new(wrong_iss, "iss", json_string("https://evil.example"));
	json_object_set_new(wrong_aud, "aud", json_string("someone-else"));
	json_object_del(no_exp, "exp");
	cjose_err e;
	cjose_jwk_t *hmac = cjose_jwk_create_oct_spec((const uint8_t *)rsa_pub,
						      strlen(rsa_pub), &e);
	char *bad[] = {
		mint("none", NULL, "rsa-1", professional("10")),
		mint("HS256", hmac, "rsa-1", professional("10")),
		mint("RS256", rsa, "rsa-9", professional("10")),
		mint("RS256", other, "rsa-1", professional("10")),
		mint("RS256", rsa, "rsa-1", expired),
		mint("ES256", ec, "ec-1", future),
		mint("RS256", rsa, "rsa-1", wrong_iss),
		mint("RS256", rsa, "rsa-1", wrong_aud),
		mint("RS256", rsa, "rsa-1", no_exp),
		strdup("garbage"),
		strdup("a.b.c"),
		/* a valid signature spelt with its unused bits set */
		respelt(mint("ES256", ec, "ec-1", professional("10"))),
		respelt(mint("RS256", rsa, "rsa-1", professional("10"))),
		NULL, /* no Authorization header */
	};
	const size_t nbad = sizeof bad / sizeof *bad;
	for (size_t i = 0; i < nbad; i++) {
		answer a = get(&s, "/DocumentReference?patient.identifier=" PA, bad[i], NULL);
		assert_outcome(&a, 401);
		cr_assert(strstr(a.www, "Bearer error=\"invalid_token\""), "%zu: %s", i, a.www);
		cr_assert_null(strstr(a.body, "DocumentReference\""), "%zu", i);
		done(&a);
		free(bad[i]);
	}
	cjose_jwk_release(hmac);

	/* good tokens: RS256 and ES256 */
	char *ok[] = { doctor(), mint("ES256", ec, "ec-1", professional("10")) };
	for (size_t i = 0; i < 2; i++) {
		answer a = get(&s, "/DocumentReference?patient.identifier=" PA, ok[i], NULL);
		cr_assert_eq(a.status, 200, "%s", a.body);
		done(&a);
		free(ok[i]);
	}
	/* a patient reads their own record only; a profession without a
	 * rule in the matrix is refused by the library */
	char *pa = mint("RS256", rsa, "rsa-1", patient_claims(PA));
	answer a = get(&s, "/DocumentReference?patient.identifier=" PA, pa, NULL);
	cr_assert_eq(a.status, 200, "%s", a.body);
	cr_assert(strstr(a.body, "DOC-A4"), "the patient sees a document masked from professionals");
	done(&a);
	a = get(&s, "/DocumentReference?patient.identifier=" PB, pa, NULL);
	assert_outcome(&a, 403);
	cr_assert_null(strstr(a.body, "DOC-B1"));
	done(&a);
	free(pa);
	char *audio = mint("RS256", rsa, "rsa-1", professional("26"));
	a = get(&s, "/DocumentReference?patient.identifier=" PA, audio, NULL);
	assert_outcome(&a, 403);
	done(&a);
	free(audio);
	/* metadata and the health check need no token */
	a = get(&s, "/metadata", NULL, NULL);
	cr_assert_eq(a.status, 200);
	cr_assert(strstr(a.body, "CapabilityStatement"));
	done(&a);
	stop(&s);
	logged_refusal(CARNET_E_DENIED, "26");
}

/* ---- hostile HTTP ---- */

static int tcp(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "%s", strerror(errno));
	return fd;
}

/* Wait (at most ms) until the server closes fd: 1 if it did. */
static int closed_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b[256];
	while (poll(&p, 1, ms) == 1) {
		ssize_t n = recv(fd, b, sizeof b, 0);
		if (n <= 0)
			return 1;
	}
	return 0;
}

static void still_answers(const server *s, const char *tok)
{
	answer a = get(s, "/DocumentReference?patient.identifier=" PA "&_count=1", tok, NULL);
	cr_assert_eq(a.status, 200, "the server no longer answers: %d %s", (int)a.rc, a.body);
	done(&a);
}

Test(serve, hostile_requests_are_refused_and_the_server_keeps_answering)
{
	server s;
	start(&s);
	char *tok = doctor();
	/* an URL over the memory limit, headers over it */
	size_t big = 100 * 1024;
	char *url = malloc(big + 100), *hdr = malloc(big + 100);
	strcpy(url, "/DocumentReference?patient.identifier=" PA "&_text=");
	memset(url + strlen(url), 'a', big);
	url[big + 40] = '\0';
	answer a = get(&s, url, tok, NULL);
	cr_assert_eq(a.status, 414, "long URL: %ld (curl %d)", a.status, (int)a.rc);
	done(&a);
	strcpy(hdr, "X-Big: ");
	memset(hdr + 7, 'b', big);
	hdr[big + 7] = '\0';
	const char *headers[] = { hdr, NULL };
	a = get(&s, "/DocumentReference?patient.identifier=" PA, tok, headers);
	cr_assert_eq(a.status, 431, "long header: %ld (curl %d)", a.status, (int)a.rc);
	done(&a);
	/* thousands of parameters: over the connection's memory, the
	 * connection is closed; within it, over SERVE_PARAMS_MAX (64), 400 */
	strcpy(url, "/DocumentReference?patient.identifier=" PA);
	for (int i = 0; i < 3000; i++)
		strcat(url, "&x=1");
	a = get(&s, url, tok, NULL);
	cr_assert(a.rc != CURLE_OK || a.status == 400 || a.status == 413 || a.status == 431,
		  "3000 parameters: %ld", a.status);
	done(&a);
	strcpy(url, "/DocumentReference?patient.identifier=" PA);
	for (int i = 0; i < 100; i++)
		strcat(url, "&x=1");
	a = get(&s, url, tok, NULL);
	assert_outcome(&a, 400);
	done(&a);
	free(url);
	free(hdr);
	/* bad percent-encoding, invalid UTF-8 */
	a = get(&s, "/DocumentReference?patient.identifier=" PA "&_text=%ZZ%", tok, NULL);
	cr_assert(a.status == 200 || a.status == 400, "%ld", a.status);
	done(&a);
	a = get(&s, "/DocumentReference?patient.identifier=" PA "&_text=%FF%FEangor", tok, NULL);
	assert_outcome(&a, 400);
	done(&a);
	/* a route that does not exist */
	a = get(&s, "/Patient", tok, NULL);
	assert_outcome(&a, 404);
	done(&a);
	/* a client that sends nothing is cut off after --timeout (2 s) */
	int slow = tcp(s.port);
	cr_assert(closed_within(slow, 8000), "a silent client was not cut off");
	close(slow);
	/* more connections than --max-connections (16, shared by the two
	 * workers): some are closed at once, the others wait in the kernel's
	 * listen backlog while the workers are at their limit (libmicrohttpd
	 * stops accepting); the server answers again once they are gone */
	int fds[40];
	for (int i = 0; i < 40; i++)
		fds[i] = tcp(s.port);
	int cut = 0;
	for (int i = 0; i < 40; i++)
		cut += closed_within(fds[i], i < 16 ? 0 : 500);
	cr_assert_gt(cut, 0, "40 connections, none refused");
	for (int i = 0; i < 40; i++)
		close(fds[i]);
	still_answers(&s, tok);
	free(tok);
	stop(&s);
	/* the words that were not UTF-8 were refused by the library, logged */
	logged_refusal(CARNET_E_QUERY, "10");
}

Test(serve, health_metrics_and_methods)
{
	server s;
	start(&s);
	char *tok = doctor();
	char root[128];
	snprintf(root, sizeof root, "%s", s.url);
	*strstr(root, "/fhir") = '\0';
	server bare = s;
	snprintf(bare.url, sizeof bare.url, "%s", root);
	answer a = get(&bare, "/healthz", NULL, NULL);
	cr_assert_eq(a.status, 200);
	cr_assert_str_eq(a.body, "ok\n");
	done(&a);
	still_answers(&s, tok);
	a = get(&s, "/DocumentReference?patient.identifier=" PA, NULL, NULL);
	done(&a);
	a = get(&bare, "/metrics", NULL, NULL);
	cr_assert_eq(a.status, 200);
	cr_assert(strstr(a.body, "carnet_serve_requests_total{route=\"DocumentReference\","
			 "status=\"200\"} 1"), "%s", a.body);
	cr_assert(strstr(a.body, "carnet_serve_requests_total{route=\"DocumentReference\","
			 "status=\"401\"} 1"), "%s", a.body);
	cr_assert(strstr(a.body, "carnet_serve_request_seconds_bucket{le=\"+Inf\"}"), "%s", a.body);
	cr_assert(strstr(a.body, "carnet_index_documents 8"), "%s", a.body);
	cr_assert(strstr(a.body, "carnet_index_generation "), "%s", a.body);
	cr_assert(strstr(a.body, "carnet_serve_access_log_failures_total 0"), "%s", a.body);
	done(&a);
	/* a POST is refused with 405 */
	CURL *c = curl_easy_init();
	long status = 0;
	curl_easy_setopt(c, CURLOPT_URL, th_path("%s/DocumentReference", s.url));
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
	FILE *null = fopen("/dev/null", "w");
	curl_easy_setopt(c, CURLOPT_WRITEDATA, null);
	cr_assert_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	cr_assert_eq(status, 405);
	curl_easy_cleanup(c);
	fclose(null);
	free(tok);
	stop(&s);
}

/* ---- plain HTTP, the drain ---- */

Test(serve, plain_http_is_refused_off_loopback)
{
	char *out, *err;
	const char *argv[] = { "carnet-serve", "--index", home, "--jwks",
			       th_path("%s/jwks.json", dir), "--issuer", ISS, "--audience", AUD,
			       "--listen", "0.0.0.0:0", "--insecure-loopback", NULL };
	cr_assert_eq(th_run(&out, &err, argv), 2, "%s", err);
	cr_assert(strstr(err, "refusing plain HTTP on 0.0.0.0:0"), "%s", err);
	free(out);
	free(err);
	const char *no_tls[] = { "carnet-serve", "--index", home, "--jwks",
				 th_path("%s/jwks.json", dir), "--issuer", ISS, "--audience", AUD,
				 "--listen", "127.0.0.1:0", NULL };
	cr_assert_eq(th_run(&out, &err, no_tls), 2, "%s", err);
	cr_assert(strstr(err, "refusing plain HTTP"), "%s", err);
	free(out);
	free(err);
}

Test(serve, sigterm_lets_the_request_in_flight_finish)
{
	server s;
	const char *plain[] = { "--listen", "127.0.0.1:0", "--insecure-loopback", NULL };
	start_with(&s, plain);
	cr_assert(strncmp(s.url, "http://127.0.0.1:", 17) == 0, "%s", s.url);
	char *tok = doctor();
	int fd = tcp(s.port);
	char req[8192];
	int n = snprintf(req, sizeof req, "GET /fhir/DocumentReference?patient.identifier=%s "
			 "HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n",
			 "urn:oid:1.2.250.1.999.1%7CPA-1", tok);
	cr_assert_eq(send(fd, req, (size_t)n, 0), n);
	/* the request is in flight: SIGTERM, then its last line */
	struct timespec t = { 0, 200 * 1000 * 1000 };
	nanosleep(&t, NULL);
	cr_assert_eq(kill(s.pid, SIGTERM), 0);
	nanosleep(&t, NULL);
	cr_assert_eq(send(fd, "\r\n", 2, 0), 2);
	char resp[65536];
	size_t got = 0;
	ssize_t r;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (got < sizeof resp - 1 && poll(&p, 1, 5000) == 1 &&
	       (r = recv(fd, resp + got, sizeof resp - 1 - got, 0)) > 0) {
		got += (size_t)r;
		resp[got] = '\0';
		if (strstr(resp, "\"searchset\""))
			break;
	}
	resp[got] = '\0';
	cr_assert(strncmp(resp, "HTTP/1.1 200", 12) == 0, "%s", resp);
	cr_assert(strstr(resp, "DOC-A1"), "%s", resp);
	close(fd);
	exits_cleanly(&s);
	free(tok);
}

Test(serve, a_client_certificate_is_required_when_a_ca_is_given)
{
	const char *d = dir;
	sh(th_path("cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		   "-keyout cli.key -out cli.csr -subj /CN=viewer-software >/dev/null 2>&1 && "
		   "openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		   "-out cli.pem -days 2 >/dev/null 2>&1", d));
	server s;
	const char *mtls[] = { "--listen", "127.0.0.1:0", "--tls-cert", th_path("%s/srv.pem", d),
			       "--tls-key", th_path("%s/srv.key", d), "--client-ca", ca, NULL };
	start_with(&s, mtls);
	char *tok = doctor();
	answer a = get(&s, "/DocumentReference?patient.identifier=" PA, tok, NULL);
	cr_assert(a.rc != CURLE_OK || a.status == 403, "without a client certificate: %ld",
		  a.status);
	cr_assert_null(strstr(a.body, "DOC-A1"));
	done(&a);
	CURL *c = curl_easy_init();
	answer b = { 0 };
	curl_easy_setopt(c, CURLOPT_URL, th_path("%s/DocumentReference?patient.identifier=%s",
						 s.url, "urn:oid:1.2.250.1.999.1%7CPA-1"));
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_SSLCERT, th_path("%s/cli.pem", d));
	curl_easy_setopt(c, CURLOPT_SSLKEY, th_path("%s/cli.key", d));
	struct curl_slist *hl = curl_slist_append(NULL, th_path("Authorization: Bearer %s", tok));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	cr_assert_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &b.status);
	cr_assert_eq(b.status, 200, "%s", b.body);
	cr_assert(strstr(b.body, "DOC-A1"));
	curl_easy_cleanup(c);
	curl_slist_free_all(hl);
	done(&b);
	free(tok);
	stop(&s);
}

Test(serve, a_rebuild_is_served_without_a_restart)
{
	server s;
	start(&s);
	char *tok = doctor();
	answer a = get(&s, "/DocumentReference?patient.identifier=" PA "&_summary=count", tok, NULL);
	char got[4][32];
	uint64_t before, after;
	bundle_ids(&a, got, 4, &before);
	done(&a);
	/* the nightly job rebuilds with one more document, and switches */
	doc("a6", "PA-1", "DOC-A6", "11488-4", "2025-01-01", "SM04", "N", "Nouvelle consultation",
	    "Consultation nouvelle.");
	carnet_writer *w;
	carnet_error err;
	cr_assert_eq(carnet_writer_open_rebuild(&w, home, &err), CARNET_OK, "%s", err.message);
	const char *names[] = { "a1.txt", "a2.txt", "a3.txt", "a4.txt", "a5.txt", "a6.txt",
				"b1.txt", "b2.txt", "c1.xml" };
	for (size_t i = 0; i < 9; i++)
		cr_assert_eq(carnet_writer_add_file(w, th_path("%s/docs/%s", dir, names[i]),
						    NULL, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_writer_publish(w, &err), CARNET_OK, "%s", err.message);
	carnet_writer_close(w);
	/* every worker follows (two threads: ask a few times) */
	for (int i = 0; i < 4; i++) {
		a = get(&s, "/DocumentReference?patient.identifier=" PA "&_summary=count", tok, NULL);
		bundle_ids(&a, got, 4, &after);
		cr_assert_eq(after, before + 1);
		done(&a);
	}
	server bare = s;
	*strstr(bare.url, "/fhir") = '\0';
	a = get(&bare, "/metrics", NULL, NULL);
	cr_assert(strstr(a.body, "carnet_index_documents 9"), "%s", a.body);
	done(&a);
	free(tok);
	stop(&s);
}

Test(serve, a_missing_index_or_bad_keys_stop_it_at_once)
{
	char *out, *err;
	const char *no_index[] = { "carnet-serve", "--index", th_path("%s/none", dir), "--jwks",
				   th_path("%s/jwks.json", dir), "--issuer", ISS, "--audience", AUD,
				   "--listen", "127.0.0.1:0", "--insecure-loopback", NULL };
	cr_assert_eq(th_run(&out, &err, no_index), 3, "%s", err);
	cr_assert(strstr(err, "none"), "%s", err);
	free(out);
	free(err);
	th_write_str(th_path("%s/bad.json", dir), "{\"keys\": [{\"kty\": \"oct\", \"k\": \"AAAA\", \"kid\": \"h\"}]}");
	const char *bad_keys[] = { "carnet-serve", "--index", home, "--jwks",
				   th_path("%s/bad.json", dir), "--issuer", ISS, "--audience", AUD,
				   "--listen", "127.0.0.1:0", "--insecure-loopback", NULL };
	cr_assert_eq(th_run(&out, &err, bad_keys), 3, "%s", err);
	cr_assert(strstr(err, "bad.json: no RSA or EC P-256 signing key"), "%s", err);
	free(out);
	free(err);
}

/* ---- $facets ---- */

/* The counts the documents themselves give: every hit of the request,
 * run through the library, its class, type, author specialty and year
 * counted one by one ("name|value" -> count). */
static json_t *counted_by_hand(carnet_request *req)
{
	carnet_index *idx;
	carnet_results *res;
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
	req->patient_system = "1.2.250.1.999.1";
	req->profession = "10";
	req->specialty = "SM04";
	req->viewer_id = "810000000001";
	req->limit = CARNET_HITS_MAX;
	cr_assert_eq(carnet_index_search(&res, idx, req, &err), CARNET_OK, "%s", err.message);
	json_t *want = json_object();
	static const struct { const char *name; carnet_field f; size_t len; } fields[] = {
		{ "category", CARNET_FIELD_CLASS, 64 }, { "type", CARNET_FIELD_TYPE, 64 },
		{ "author.specialty", CARNET_FIELD_AUTHOR_SPECIALTY, 64 },
		{ "year", CARNET_FIELD_DATE, 4 },
	};
	for (size_t i = 0; i < carnet_results_count(res); i++)
		for (size_t f = 0; f < 4; f++) {
			const char *v = carnet_results_field(res, i, fields[f].f);
			if (!*v)
				continue;
			char key[128];
			snprintf(key, sizeof key, "%s|%.*s", fields[f].name, (int)fields[f].len, v);
			json_int_t n = json_integer_value(json_object_get(want, key));
			json_object_set_new(want, key, json_integer(n + 1));
		}
	json_object_set_new(want, "total", json_integer((json_int_t)carnet_results_total(res)));
	carnet_results_free(res);
	carnet_index_close(idx);
	return want;
}

/* The service's Parameters in the same shape; the labels checked. */
static json_t *facets_answered(const answer *a)
{
	cr_assert_eq(a->status, 200, "%ld: %s", a->status, a->body);
	cr_assert(strstr(a->type, "application/fhir+json"), "%s", a->type);
	json_t *p = json_of(a), *got = json_object(), *e;
	cr_assert_str_eq(json_string_value(json_object_get(p, "resourceType")), "Parameters");
	size_t i;
	json_array_foreach(json_object_get(p, "parameter"), i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		if (!strcmp(name, "total")) {
			json_object_set(got, "total", json_object_get(e, "valueInteger"));
			continue;
		}
		json_t *value = json_array_get(json_object_get(e, "part"), 0);
		json_t *count = json_array_get(json_object_get(e, "part"), 1);
		cr_assert_str_eq(json_string_value(json_object_get(value, "name")), "value");
		cr_assert_str_eq(json_string_value(json_object_get(count, "name")), "count");
		json_t *coding = json_object_get(value, "valueCoding");
		const char *v = coding ? json_string_value(json_object_get(coding, "code"))
				       : json_string_value(json_object_get(value, "valueString"));
		cr_assert_not_null(v, "%s", a->body);
		char key[128];
		snprintf(key, sizeof key, "%s|%s", name, v);
		json_object_set(got, key, json_object_get(count, "valueInteger"));
	}
	json_decref(p);
	return got;
}

static void assert_same_counts(json_t *got, json_t *want, const char *body)
{
	char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);
	cr_assert(json_equal(got, want), "service %s\ndocuments %s\n%s", g, w, body);
	free(g);
	free(w);
	json_decref(got);
	json_decref(want);
}

Test(serve, facets_count_what_the_search_finds)
{
	server s;
	start(&s);
	char *tok = doctor();
	static const struct { const char *query; const char *words; } cases[] = {
		{ "", NULL }, { "&_text=angor", "angor" }, { "&_text=zzzzqqq", "zzzzqqq" },
	};
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		answer a = get(&s, th_path("/DocumentReference/$facets?patient.identifier=" PA "%s",
					   cases[c].query), tok, NULL);
		carnet_request req = CARNET_REQUEST_INIT;
		req.patient_id = "PA-1";
		req.words = cases[c].words;
		assert_same_counts(facets_answered(&a), counted_by_hand(&req), a.body);
		done(&a);
	}
	/* the filters of the search apply; the documents' own values, spelt out */
	answer a = get(&s, "/DocumentReference/$facets?patient.identifier=" PA
		       "&date=ge2022-01-01&category=10,31", tok, NULL);
	json_t *got = facets_answered(&a);
	json_t *want = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}",
				 "total", 3, "category|10", 2, "category|31", 1,
				 "type|11488-4", 2, "type|18748-4", 1, "author.specialty|SM04", 1,
				 "author.specialty|SM44", 1, "author.specialty|SM54", 1,
				 "year|2024", 1, "year|2023", 1, "year|2022", 1);
	cr_assert(strstr(a.body, "\"display\""), "labels: %s", a.body);
	assert_same_counts(got, want, a.body);
	done(&a);
	/* the same checks as a search: another patient's token, no token */
	char *pb = mint("ES256", ec, "ec-1", patient_claims(PB));
	a = get(&s, "/DocumentReference/$facets?patient.identifier=" PA, pb, NULL);
	assert_outcome(&a, 403);
	done(&a);
	a = get(&s, "/DocumentReference/$facets?patient.identifier=" PA, NULL, NULL);
	assert_outcome(&a, 401);
	done(&a);
	free(pb);
	/* in the CapabilityStatement */
	a = get(&s, "/metadata", NULL, NULL);
	cr_assert(strstr(a.body, "\"facets\""), "%s", a.body);
	done(&a);
	free(tok);
	stop(&s);
}

/* ---- a CDA document rendered ---- */

Test(serve, a_cda_document_is_rendered_as_a_readable_page)
{
	server s;
	start(&s);
	char *pc = mint("RS256", rsa, "rsa-1", patient_claims(PC));
	char *tok = doctor();
	answer a = get(&s, "/DocumentReference?patient.identifier=" PC, tok, NULL);
	json_t *b = json_of(&a);
	const char *url = json_string_value(json_object_get(json_object_get(json_array_get(
		json_object_get(json_object_get(json_array_get(json_object_get(b, "entry"), 0),
						"resource"), "content"), 0), "attachment"), "url"));
	cr_assert_not_null(url, "%s", a.body);
	char path[600];
	snprintf(path, sizeof path, "%s&_format=html", strstr(url, "/Binary/"));
	json_decref(b);
	done(&a);
	answer d = get(&s, path, tok, NULL);
	cr_assert_eq(d.status, 200, "%ld %s", d.status, d.body);
	cr_assert(strstr(d.type, "text/html"), "%s", d.type);
	cr_assert(strstr(d.csp, "sandbox") && strstr(d.csp, "default-src 'none'"), "%s", d.csp);
	static const char *const shown[] = {
		"<title>Lettre de liaison &amp; sortie</title>", "<h1>Lettre de liaison &amp; sortie",
		"Odile MERCIER-TEST", "21/05/1957", "Dr Paul VERDIER-TEST", "Cardiologie",
		"09/03/2025", "<h2>Motif</h2>", "<h3>Synthèse du séjour</h3>",
		"<h2>Traitements à la sortie</h2>", "<th>Médicament</th>",
		"<td>Furosémide 40 mg</td>", "<td colspan=\"1\">1 cp le matin</td>",
		"<ul><li>Diurétiques</li><li>Bêtabloquant</li></ul>",
		"&lt;script&gt;alert(1)&lt;/script&gt;", "<strong>fibrillation</strong>", "lien",
	};
	for (size_t i = 0; i < sizeof shown / sizeof *shown; i++)
		cr_assert(strstr(d.body, shown[i]), "%s missing:\n%s", shown[i], d.body);
	static const char *const never[] = { "<script", "alert(1)</", "onclick", "javascript:",
					     "style=", "href=", "src=", "<link", "<iframe" };
	for (size_t i = 0; i < sizeof never / sizeof *never; i++)
		cr_assert_null(strstr(d.body, never[i]), "%s in:\n%s", never[i], d.body);
	done(&d);
	/* without _format, the document's own bytes */
	*strstr(path, "&_format=html") = '\0';
	d = get(&s, path, tok, NULL);
	cr_assert_eq(d.status, 200);
	cr_assert_eq(d.len, strlen(cda_c));
	cr_assert(strstr(d.type, "application/xml"), "%s", d.type);
	done(&d);
	/* the same checks: patient C's own token opens it, patient B's and no
	 * token do not, another patient's parameter shows nothing */
	strcat(path, "&_format=html");
	d = get(&s, path, pc, NULL);
	cr_assert_eq(d.status, 200, "%s", d.body);
	done(&d);
	char *pb = mint("ES256", ec, "ec-1", patient_claims(PB));
	d = get(&s, path, pb, NULL);
	assert_outcome(&d, 403);
	cr_assert_null(strstr(d.body, "MERCIER"));
	done(&d);
	d = get(&s, path, NULL, NULL);
	assert_outcome(&d, 401);
	done(&d);
	free(pb);
	char elsewhere[600];
	snprintf(elsewhere, sizeof elsewhere, "%.*s?patient.identifier=%s&_format=html",
		 (int)(strchr(path, '?') - path), path, "urn:oid:1.2.250.1.999.1%7CPA-1");
	d = get(&s, elsewhere, tok, NULL);
	assert_outcome(&d, 404);
	done(&d);
	free(pc);
	free(tok);
	stop(&s);
	/* each opening is in patient C's access log, with its viewer: the
	 * doctor's search, the page, the bytes */
	size_t rows = doctor_rows("1.2.250.1.999.1^PC-3");
	cr_assert_eq(rows, 3, "%zu rows", rows);
}

/* ---- errors shaped by the service, refusals logged ---- */

typedef struct service_row {
	int status;
	const char *role;
	const char *viewer;
	const char *reason;
	int found;
} service_row;

static int find_service_row(const carnet_access_entry *e, void *p)
{
	service_row *r = p;
	if (e->status == r->status && !strcmp(e->role, r->role) &&
	    !strcmp(e->viewer_id, r->viewer) && strstr(e->reason, r->reason) && e->count == 0)
		r->found = 1;
	return 0;
}

/* Patient A's access log has a row the service wrote for a refusal. */
static void logged_by_service(int status, const char *role, const char *viewer,
			      const char *reason)
{
	carnet_index *idx;
	carnet_error err;
	service_row r = { status, role, viewer, reason, 0 };
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_index_access_log_entries(idx, "1.2.250.1.999.1^PA-1",
						     find_service_row, &r, &err), CARNET_OK,
		     "%s", err.message);
	cr_assert(r.found, "no row %d role '%s' viewer '%s' reason '%s'", status, role, viewer,
		  reason);
	carnet_index_close(idx);
}

Test(serve, oversized_requests_are_outcomes_and_refusals_are_logged)
{
	server s;
	start(&s);
	char *tok = doctor();
	/* within the connection's memory, over the service's limits */
	char *url = malloc(20000), *hdr = malloc(20000);
	strcpy(url, "/DocumentReference?patient.identifier=" PA "&_text=");
	size_t at = strlen(url);
	memset(url + at, 'a', 9000);
	url[at + 9000] = '\0';
	answer a = get(&s, url, tok, NULL);
	cr_assert_eq(a.rc, CURLE_OK, "curl: %s", curl_easy_strerror(a.rc));
	assert_outcome(&a, 414);
	done(&a);
	strcpy(hdr, "X-Big: ");
	memset(hdr + 7, 'b', 17000);
	hdr[17007] = '\0';
	const char *headers[] = { hdr, NULL };
	a = get(&s, "/DocumentReference?patient.identifier=" PA, tok, headers);
	cr_assert_eq(a.rc, CURLE_OK, "curl: %s", curl_easy_strerror(a.rc));
	assert_outcome(&a, 431);
	done(&a);
	free(url);
	free(hdr);
	/* refusals before the library, each with what is known of who asked */
	json_t *expired = professional("10");
	json_object_set_new(expired, "exp", json_integer((json_int_t)time(NULL) - 3600));
	char *old = mint("RS256", rsa, "rsa-1", expired);
	a = get(&s, "/DocumentReference?patient.identifier=" PA, old, NULL);
	assert_outcome(&a, 401);
	done(&a);
	a = get(&s, "/DocumentReference?patient.identifier=" PA "&_count=0", tok, NULL);
	assert_outcome(&a, 400);
	done(&a);
	char *pb = mint("ES256", ec, "ec-1", patient_claims(PB));
	a = get(&s, "/Binary/DOC-A1?patient.identifier=" PA, pb, NULL);
	assert_outcome(&a, 403);
	done(&a);
	free(pb);
	free(old);
	free(tok);
	stop(&s);
	logged_by_service(CARNET_E_DENIED, "", "", "carnet-serve 401");
	logged_by_service(CARNET_E_INVALID, "professional", "810000000001", "carnet-serve 400");
	logged_by_service(CARNET_E_DENIED, "patient", "", "carnet-serve 403");
}

/* Refusals before a token is verified name nobody and cost a row each:
 * over --refusal-log-rate (here 1 a second, bursts of 10) they are
 * counted, and one row says how many; every refusal is accounted for,
 * and a verified viewer's refusal always has its row. */
typedef struct refusal_rows {
	size_t own;         /* rows of a 401 before the token, patient A */
	unsigned long held; /* the count in the summary row */
	size_t summaries;
} refusal_rows;

static int count_refusals(const carnet_access_entry *e, void *p)
{
	refusal_rows *r = p;
	if (e->status == CARNET_E_DENIED && strstr(e->reason, "carnet-serve 401"))
		r->own++;
	return 0;
}

Test(serve, refusals_before_a_token_are_written_at_a_bounded_rate_and_counted)
{
	server s;
	const char *args[] = { "--listen", "127.0.0.1:0", "--tls-cert", th_path("%s/srv.pem", dir),
			       "--tls-key", th_path("%s/srv.key", dir), "--timeout", "2",
			       "--refusal-log-rate", "1", NULL };
	start_with(&s, args);
	enum { SENT = 40 };
	time_t began = time(NULL);
	for (int i = 0; i < SENT; i++) {
		answer a = get(&s, "/DocumentReference?patient.identifier=" PA, "not-a-jwt", NULL);
		assert_outcome(&a, 401);
		done(&a);
	}
	long took = (long)(time(NULL) - began) + 1;
	/* a verified viewer's refusal is written whatever the rate */
	char *tok = doctor();
	answer a = get(&s, "/DocumentReference?patient.identifier=" PA "&_count=0", tok, NULL);
	assert_outcome(&a, 400);
	done(&a);
	free(tok);
	char root[128];
	snprintf(root, sizeof root, "%s", s.url);
	*strstr(root, "/fhir") = '\0';
	server bare = s;
	snprintf(bare.url, sizeof bare.url, "%s", root);
	a = get(&bare, "/metrics", NULL, NULL);
	static const char metric[] = "\ncarnet_serve_refusals_unlogged_total ";
	const char *m = strstr(a.body, metric);
	cr_assert_not_null(m, "%s", a.body);
	unsigned long unlogged = strtoul(m + strlen(metric), NULL, 10);
	done(&a);
	stop(&s);
	logged_by_service(CARNET_E_INVALID, "professional", "810000000001", "carnet-serve 400");
	refusal_rows r = { 0 };
	carnet_index *idx;
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_index_access_log_entries(idx, "1.2.250.1.999.1^PA-1", count_refusals,
						     &r, &err), CARNET_OK, "%s", err.message);
	carnet_index_close(idx);
	/* the burst of 10, and one a second after it (however slow the
	 * machine: took counts the seconds the requests took) */
	cr_assert_geq(r.own, 10, "%zu rows", r.own);
	cr_assert_leq(r.own, (size_t)(10 + took), "%zu of %d refusals written one by one in %ld s",
		      r.own, SENT, took);
	cr_assert_lt(r.own, (size_t)SENT, "some refusals were counted, not written");
	cr_assert_eq(r.own + unlogged, SENT, "%zu rows + %lu counted", r.own, unlogged);
	/* the summary rows (no patient) say how many, in the exported log */
	char *out = NULL, *errout = NULL;
	const char *exp[] = { "carnet-index", "--index", home, "access-log",
			      "export", NULL };
	cr_assert_eq(th_run(&out, &errout, exp), 0, "%s", errout);
	unsigned long counted = 0;
	for (const char *p = out; (p = strstr(p, "carnet-serve: ")) != NULL; p++) {
		char *end;
		unsigned long n = strtoul(p + 14, &end, 10);
		if (end > p + 14 && !strncmp(end, " refusals before a token was verified", 37)) {
			counted += n;
			r.summaries++;
		}
	}
	cr_assert_geq(r.summaries, 1, "%s", out);
	cr_assert_eq(counted, unlogged, "the summary rows count %lu, the metrics %lu", counted,
		     unlogged);
	free(out);
	free(errout);
}

/* A token verified once is kept by the worker thread for the next
 * requests of its client; its time is checked at every use (a kept token
 * that expires is refused), and a token differing by one character of its
 * signature is verified, and refused, on its own. */
Test(serve, a_kept_token_still_expires_and_a_forged_one_is_refused)
{
	server s;
	const char *args[] = { "--listen", "127.0.0.1:0", "--insecure-loopback", "--threads", "1",
			       NULL };
	start_with(&s, args);
	json_t *claims = professional("10");
	/* expired 55 s ago: still inside the 60 s of leeway for 5 s */
	json_object_set_new(claims, "exp", json_integer((json_int_t)time(NULL) - 55));
	char *tok = mint("ES256", ec, "ec-1", claims);
	answer a = get(&s, "/DocumentReference?patient.identifier=" PA, tok, NULL);
	cr_assert_eq(a.status, 200, "%s", a.body);
	done(&a);
	a = get(&s, "/DocumentReference?patient.identifier=" PA, tok, NULL);
	cr_assert_eq(a.status, 200, "%s", a.body);
	done(&a);
	/* the same claims, a signature changed in its last character */
	char *forged = strdup(tok);
	char *last = forged + strlen(forged) - 2;
	*last = *last == 'A' ? 'B' : 'A';
	a = get(&s, "/DocumentReference?patient.identifier=" PA, forged, NULL);
	assert_outcome(&a, 401);
	done(&a);
	sleep(6);
	a = get(&s, "/DocumentReference?patient.identifier=" PA, tok, NULL);
	assert_outcome(&a, 401);
	cr_assert(strstr(a.body, "expired"), "%s", a.body);
	done(&a);
	free(forged);
	free(tok);
	stop(&s);
}

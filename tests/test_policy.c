/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_policy.c - who may see what, as core/policy.c decides it: the
 * filter of a request for every role, with and without emergency access
 * and a viewer id; the matrix's parsing and the default shipped; the
 * audiences' codes the writer stores and the filter hides. (What a viewer
 * then finds in an index is tested end to end in test_access.c.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "policy.h"
#include "schema.h"

TestSuite(policy, .fini = th_cleanup);

/* A small matrix: 10 reads everything, 21 a class and a type, 40 one
 * class with specialty SM26 only. */
static const char small[] =
	"# test matrix\n"
	"10\t*\t*\n"
	"21\t*\tclass:42\n"
	"21\t*\ttype:11502-2\n"
	"40\tSM26\tclass:10\n";

static carnet_policy *parse(const char *text)
{
	carnet_policy *p = NULL;
	carnet_error err;
	cr_assert_eq(carnet_policy__parse(&p, "test matrix", text, strlen(text), &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_not_null(p);
	return p;
}

/* The filter as one line a reader can check: "everything" or "grants
 * T1 T2" ("grants" alone: nothing is granted), then "hide T" and
 * "unhide T" when there are such terms. */
static const char *describe(const carnet_policy_filter *f)
{
	static char s[2048];
	size_t n = 0;
	if (f->everything) {
		cr_assert_eq(f->grants_count, 0);
		n += (size_t)snprintf(s + n, sizeof s - n, "everything");
	} else {
		cr_assert_not_null(f->grants);
		n += (size_t)snprintf(s + n, sizeof s - n, "grants");
		for (size_t i = 0; i < f->grants_count; i++)
			n += (size_t)snprintf(s + n, sizeof s - n, " %s", f->grants[i]);
	}
	cr_assert_leq(f->hide_count, 1);
	for (size_t i = 0; i < f->hide_count; i++)
		n += (size_t)snprintf(s + n, sizeof s - n, "; hide %s", f->hide[i]);
	if (f->unhide)
		snprintf(s + n, sizeof s - n, "; unhide %s", f->unhide);
	return s;
}

typedef struct want {
	carnet_role role;
	const char *profession, *specialty, *viewer_id;
	unsigned flags;
	int rc;            /* CARNET_OK, or the refusal */
	const char *seen;  /* describe() of the filter, or a part of the message */
} want;

#define EMERGENCY CARNET_REQUEST_EMERGENCY
#define PRO CARNET_ROLE_PROFESSIONAL
#define PATIENT CARNET_ROLE_PATIENT
#define LEGAL CARNET_ROLE_LEGAL_REPRESENTATIVE

static void check(const carnet_policy *p, const want *w)
{
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = "P";
	req.role = w->role;
	req.profession = w->profession;
	req.specialty = w->specialty;
	req.viewer_id = w->viewer_id;
	req.flags = w->flags;
	carnet_policy_filter f;
	carnet_error err;
	memset(&err, 0, sizeof err);
	int rc = carnet_policy__request(p, &req, &f, &err);
	const char *who = w->profession ? w->profession : "-";
	const char *viewer = w->viewer_id ? w->viewer_id : "-";
	cr_assert_eq(rc, w->rc, "role %d profession %s viewer %s flags %u: status %d (%s)",
		     (int)w->role, who, viewer, w->flags, rc, err.message);
	if (rc == CARNET_OK) {
		cr_assert_str_eq(describe(&f), w->seen,
				 "role %d profession %s viewer %s flags %u", (int)w->role,
				 who, viewer, w->flags);
	} else {
		/* refused: nothing granted, nothing to free */
		cr_assert(strstr(err.message, w->seen), "%s", err.message);
		cr_assert(!f.everything && !f.grants && !f.grants_count && !f.hide_count &&
			  !f.unhide && !f.storage);
	}
	carnet_policy__filter_clear(&f);
	carnet_policy__filter_clear(&f); /* clearing twice is harmless */
}

static void check_all(const carnet_policy *p, const want *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check(p, &w[i]);
}

Test(policy, a_professional_reads_the_matrix_hides_masked_documents_but_their_own)
{
	carnet_policy *p = parse(small);
	static const want w[] = {
		/* every document, no viewer id, a viewer id, an empty one */
		{ PRO, "10", NULL, NULL, 0, CARNET_OK, "everything; hide XC:MASQUE_PS" },
		{ PRO, "10", "SM54", "810001", 0, CARNET_OK,
		  "everything; hide XC:MASQUE_PS; unhide XA:810001" },
		{ PRO, "10", NULL, "", 0, CARNET_OK, "everything; hide XC:MASQUE_PS" },
		/* some types and classes, in the matrix's order */
		{ PRO, "21", NULL, NULL, 0, CARNET_OK,
		  "grants XK:42 XT:11502-2; hide XC:MASQUE_PS" },
		{ PRO, "21", NULL, "810002", 0, CARNET_OK,
		  "grants XK:42 XT:11502-2; hide XC:MASQUE_PS; unhide XA:810002" },
		/* a rule for one specialty: others of the profession get nothing */
		{ PRO, "40", "SM26", NULL, 0, CARNET_OK, "grants XK:10; hide XC:MASQUE_PS" },
		{ PRO, "40", "SM27", "810003", 0, CARNET_OK,
		  "grants; hide XC:MASQUE_PS; unhide XA:810003" },
		{ PRO, "40", NULL, NULL, 0, CARNET_OK, "grants; hide XC:MASQUE_PS" },
	};
	check_all(p, w, sizeof w / sizeof w[0]);
	carnet_policy__free(p);
}

Test(policy, emergency_access_lifts_the_mask_not_the_matrix)
{
	carnet_policy *p = parse(small);
	static const want w[] = {
		{ PRO, "10", NULL, NULL, EMERGENCY, CARNET_OK, "everything" },
		/* nothing is hidden: the author exception has nothing to undo */
		{ PRO, "10", NULL, "810001", EMERGENCY, CARNET_OK, "everything" },
		{ PRO, "21", NULL, NULL, EMERGENCY, CARNET_OK, "grants XK:42 XT:11502-2" },
		{ PRO, "21", NULL, "810002", EMERGENCY, CARNET_OK, "grants XK:42 XT:11502-2" },
		{ PRO, "40", "SM27", "810003", EMERGENCY, CARNET_OK, "grants" },
	};
	check_all(p, w, sizeof w / sizeof w[0]);
	carnet_policy__free(p);
}

Test(policy, a_profession_without_a_rule_is_refused_even_in_emergency)
{
	carnet_policy *p = parse(small);
	static const want w[] = {
		{ PRO, "60", NULL, NULL, 0, CARNET_E_DENIED,
		  "profession 60 is not in the authorisation matrix" },
		{ PRO, "60", NULL, "810004", EMERGENCY, CARNET_E_DENIED,
		  "profession 60 is not in the authorisation matrix" },
		{ PRO, NULL, NULL, "810004", 0, CARNET_E_DENIED, "needs a profession code" },
		{ PRO, "", NULL, NULL, EMERGENCY, CARNET_E_DENIED, "needs a profession code" },
	};
	check_all(p, w, sizeof w / sizeof w[0]);
	carnet_policy__free(p);
}

Test(policy, the_patient_and_legal_representatives_have_their_own_code_and_no_matrix)
{
	carnet_policy *p = parse(small);
	/* a profession, a viewer id or the emergency flag change nothing */
	static const want w[] = {
		{ PATIENT, NULL, NULL, NULL, 0, CARNET_OK, "everything; hide XC:INVISIBLE_PATIENT" },
		{ PATIENT, NULL, NULL, "P1", 0, CARNET_OK, "everything; hide XC:INVISIBLE_PATIENT" },
		{ PATIENT, "60", NULL, NULL, EMERGENCY, CARNET_OK,
		  "everything; hide XC:INVISIBLE_PATIENT" },
		{ PATIENT, NULL, NULL, "P1", EMERGENCY, CARNET_OK,
		  "everything; hide XC:INVISIBLE_PATIENT" },
		{ LEGAL, NULL, NULL, NULL, 0, CARNET_OK,
		  "everything; hide XC:INVISIBLE_REPRESENTANTS_LEGAUX" },
		{ LEGAL, NULL, NULL, "R1", 0, CARNET_OK,
		  "everything; hide XC:INVISIBLE_REPRESENTANTS_LEGAUX" },
		{ LEGAL, "21", NULL, NULL, EMERGENCY, CARNET_OK,
		  "everything; hide XC:INVISIBLE_REPRESENTANTS_LEGAUX" },
		{ LEGAL, NULL, NULL, "R1", EMERGENCY, CARNET_OK,
		  "everything; hide XC:INVISIBLE_REPRESENTANTS_LEGAUX" },
		/* fail closed on a role the policy does not know */
		{ (carnet_role)3, "10", NULL, NULL, 0, CARNET_E_INVALID, "unknown role" },
		{ (carnet_role)-1, NULL, NULL, NULL, EMERGENCY, CARNET_E_INVALID, "unknown role" },
	};
	check_all(p, w, sizeof w / sizeof w[0]);
	carnet_policy__free(p);
}

Test(policy, what_the_writer_stores_for_an_audience_is_what_the_filter_hides)
{
	static const struct {
		carnet_audience audience;
		carnet_role role;
		const char *code;
	} a[] = {
		{ CARNET_AUDIENCE_PROFESSIONALS, PRO, "MASQUE_PS" },
		{ CARNET_AUDIENCE_PATIENT, PATIENT, "INVISIBLE_PATIENT" },
		{ CARNET_AUDIENCE_LEGAL_REPRESENTATIVES, LEGAL, "INVISIBLE_REPRESENTANTS_LEGAUX" },
	};
	carnet_policy *p = parse(small);
	for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
		const char *code = carnet_policy__audience_code(a[i].audience);
		cr_assert_str_eq(code, a[i].code);
		carnet_request req = CARNET_REQUEST_INIT;
		req.patient_id = "P";
		req.role = a[i].role;
		req.profession = "10";
		carnet_policy_filter f;
		cr_assert_eq(carnet_policy__request(p, &req, &f, NULL), CARNET_OK);
		char term[64];
		snprintf(term, sizeof term, CARNET_PREFIX_CONF "%s", code);
		cr_assert_eq(f.hide_count, 1);
		cr_assert_str_eq(f.hide[0], term);
		carnet_policy__filter_clear(&f);
		/* the readers' check: the code in any case, and nothing else */
		char lower[64];
		size_t n = strlen(code);
		for (size_t j = 0; j <= n; j++)
			lower[j] = (char)(code[j] >= 'A' && code[j] <= 'Z' ? code[j] + 32 : code[j]);
		cr_assert(carnet_policy__is_audience_code(code, n));
		cr_assert(carnet_policy__is_audience_code(lower, n), "%s", lower);
		cr_assert(!carnet_policy__is_audience_code(code, n - 1));
		snprintf(term, sizeof term, "%sX", code);
		cr_assert(!carnet_policy__is_audience_code(term, n + 1));
	}
	cr_assert_null(carnet_policy__audience_code((carnet_audience)3));
	cr_assert_null(carnet_policy__audience_code((carnet_audience)-1));
	cr_assert(!carnet_policy__is_audience_code("N", 1));
	cr_assert(!carnet_policy__is_audience_code(NULL, 0));
	carnet_policy__free(p);
}

/* The filter of profession (no specialty, no viewer id) as describe()
 * says it, or "refused". */
static const char *profession_filter(const carnet_policy *p, const char *profession)
{
	static char s[2048];
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = "P";
	req.profession = profession;
	carnet_policy_filter f;
	if (carnet_policy__request(p, &req, &f, NULL) != CARNET_OK)
		return "refused";
	snprintf(s, sizeof s, "%s", describe(&f));
	carnet_policy__filter_clear(&f);
	return s;
}

Test(policy, the_default_matrix_is_the_shipped_file)
{
	/* an index home without authorisations.tsv */
	carnet_policy *def = NULL;
	carnet_error err;
	cr_assert_eq(carnet_policy__load(&def, th_tmpdir(), &err), CARNET_OK, "%s", err.message);
	size_t len;
	char *text = th_slurp(th_path("%s/core/data/authorisations.tsv", th_root()), &len);
	carnet_policy *shipped = NULL;
	cr_assert_eq(carnet_policy__parse(&shipped, "shipped", text, len, &err), CARNET_OK,
		     "%s", err.message);
	free(text);
	static const char *const professions[] = { "10", "21", "40", "50", "60", "70",
						   "80", "91", "92", "31", "86" };
	for (size_t i = 0; i < sizeof professions / sizeof professions[0]; i++) {
		char d[2048];
		snprintf(d, sizeof d, "%s", profession_filter(def, professions[i]));
		cr_assert_str_eq(d, profession_filter(shipped, professions[i]), "profession %s",
				 professions[i]);
	}
	/* what the README says of it */
	cr_assert_str_eq(profession_filter(def, "10"), "everything; hide XC:MASQUE_PS");
	cr_assert_str_eq(profession_filter(def, "50"), "everything; hide XC:MASQUE_PS");
	const char *pharma = profession_filter(def, "21");
	static const char first[] = "grants XK:11 XK:42 XK:43 XK:45 XT:11502-2 ";
	cr_assert(strncmp(pharma, first, sizeof first - 1) == 0, "%s", pharma);
	cr_assert_null(strstr(pharma, "XK:31"), "%s", pharma);
	cr_assert_str_eq(profession_filter(def, "31"), "refused");
	carnet_policy__free(def);
	carnet_policy__free(shipped);
}

Test(policy, an_index_homes_matrix_replaces_the_default)
{
	const char *home = th_tmpdir();
	th_write_str(th_path("%s/authorisations.tsv", home), "21\t*\ttype:11488-4\n");
	carnet_policy *p = NULL;
	carnet_error err;
	cr_assert_eq(carnet_policy__load(&p, home, &err), CARNET_OK, "%s", err.message);
	cr_assert_str_eq(profession_filter(p, "21"), "grants XT:11488-4; hide XC:MASQUE_PS");
	cr_assert_str_eq(profession_filter(p, "10"), "refused");
	carnet_policy__free(p);
}

static void refused_n(const char *text, size_t len, const char *why)
{
	static char sentinel;
	carnet_policy *p = (carnet_policy *)&sentinel;
	carnet_error err;
	cr_assert_eq(carnet_policy__parse(&p, "m.tsv", text, len, &err),
		     CARNET_E_INVALID, "%s", text);
	cr_assert_null(p);
	cr_assert(strstr(err.message, why), "%s: %s", text, err.message);
}

static void refused(const char *text, const char *why)
{
	refused_n(text, strlen(text), why);
}

Test(policy, a_malformed_rule_is_named_by_its_line)
{
	refused("10\t*\t*\n21 * everything\n", "m.tsv line 2: a rule has three tab-separated fields");
	refused("# c\n\n21\t*\tclass:42\textra\n", "m.tsv line 3: a rule has three");
	refused("21\t*\n", "m.tsv line 1: a rule has three");
	refused("21\t\t*\n", "line 1: bad profession or specialty code");
	refused("01234567890123456789\t*\t*\n", "line 1: bad profession or specialty code");
	refused("21\t*\tclass:\n", "line 1: documents must be *, type:CODE or class:CODE");
	refused("21\t*\tkind:42\n", "line 1: documents must be *, type:CODE or class:CODE");
	refused("21\t*\t**\n", "line 1: documents must be *, type:CODE or class:CODE");
	static const char nul[] = "10\t*\t*\n21\t*\tclass:4\0002\n";
	refused_n(nul, sizeof nul - 1, "m.tsv:2: a NUL byte");
}

Test(policy, comments_and_blanks_are_not_rules)
{
	/* '#' starts a comment anywhere on a line (core/util.h) */
	static const char text[] =
		"  # indented comment\r\n"
		"\n"
		"21\t*\tclass:42\t# prescriptions\r\n"
		"\t\n"
		"21\t*\ttype:11502-2\n";
	carnet_policy *p = parse(text);
	cr_assert_str_eq(profession_filter(p, "21"),
			 "grants XK:42 XT:11502-2; hide XC:MASQUE_PS");
	carnet_policy__free(p);
	/* an empty matrix: every profession is refused */
	p = parse("# nothing\n");
	cr_assert_str_eq(profession_filter(p, "10"), "refused");
	carnet_policy__free(p);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_terms.c - the terms carnet makes of a text (its own tokenizer for
 * ASCII, core/xapian_terms.cc) are exactly those Xapian's TermGenerator
 * makes: every term, wdf and position, on hand-written cases, every short
 * string of an alphabet of separators, the fixtures and a generated corpus;
 * and queries are split into the same words. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "buf.h"
#include "helpers.h"
#include "terms_compare.h"
#include "text.h"

TestSuite(terms, .fini = th_cleanup);

static const char *const LANGS[] = { "french", "english", "none" };

/* text[0..len) compared in each language, as the default field (weight 1)
 * and as a prefixed field of weight 3 followed by a second field. */
static void same_terms_len(const char *text, size_t len)
{
	char why[512];
	for (size_t l = 0; l < sizeof LANGS / sizeof LANGS[0]; l++) {
		carnet_xtext one[] = { { text, len, 1, "" } };
		int rc = terms_compare(one, 1, LANGS[l], why, sizeof why);
		cr_assert_eq(rc, 0, "%s, \"%.*s\": %s", LANGS[l], (int)(len < 200 ? len : 200),
			     text, why);
		carnet_xtext two[] = { { text, len, 3, "S" }, { text, len, 1, "" } };
		rc = terms_compare(two, 2, LANGS[l], why, sizeof why);
		cr_assert_eq(rc, 0, "%s, prefix S weight 3 then again, \"%.*s\": %s", LANGS[l],
			     (int)(len < 200 ? len : 200), text, why);
	}
}

static void same_terms(const char *text)
{
	same_terms_len(text, strlen(text));
}

static int collect(const char *word, size_t len, void *payload)
{
	carnet_buf *b = payload;
	return carnet_buf__printf(b, "%s%.*s", b->len ? "|" : "", (int)len, word);
}

/* The words carnet_xap_words gives, joined by '|'. */
static const char *words_of(const char *text)
{
	static carnet_buf b;
	carnet_buf__free(&b);
	carnet_error err;
	cr_assert_eq(carnet_xap_words(text, strlen(text), collect, &b, &err), CARNET_OK, "%s",
		     err.message);
	return b.data ? b.data : "";
}

Test(terms, words_a_user_types)
{
	cr_assert_str_eq(words_of("c++ at&t l'apparition a_b 3,5 12.7 mg/l"),
			 "c++|at&t|l'apparition|a_b|3,5|12.7|mg|l");
	cr_assert_str_eq(words_of("fish+chips c++++ x## it' 'tis U.N.O. A.b"),
			 "fish|chips|c|x##|it|tis|uno|a|b");
	char longw[70];
	memset(longw, 'a', 65);
	longw[65] = '\0';
	cr_assert_str_eq(words_of(longw), "", "a 65-byte word is dropped");
	longw[64] = '\0';
	cr_assert_str_eq(words_of(longw), longw, "a 64-byte word is kept");
	cr_assert_str_eq(words_of("hémoglobine 12 é"), "hémoglobine|12|é",
			 "other text goes to Xapian");
}

Test(terms, hand_written_cases)
{
	static const char *const cases[] = {
		"", " ", "   \t\n", "...", "+++", "&&", "''", "-_-", "_", "__init__",
		"a", "A", "word", "Word", "WORD", "two words", "  spaced   out  ",
		"c++", "c++ ", "c+++", "c++++", "c++++x", "c#", "c#+#", "x+", "fish+chips",
		"fish+ chips", "a+b", "1+", "_+",
		"at&t", "AT&T", "at&", "&t", "at&&t", "at&t&x", "m&s", "M&S",
		"l'apparition", "l'", "'l", "l''a", "aujourd'hui", "it's", "trailing'",
		"'quoted'", "o'neil's",
		"a_b", "a__b", "_a", "a_", "3_4",
		"3,5", "3.5", "3;5", "3:5", "3,", ",5", "3,,5", "3.5.6", "1,000,000.25",
		"a.b", "a,b", "3.a", "a.3", "3a.5", "3.5a", "12,7 g/dl", "v1.2.3", "3'5", "3&5",
		"P.T.O.", "U.N.C.L.E", "U.N.", "U.S.A.b", "A.B.c", "A.", "A.B", "A.b.C",
		"I.B.M x", "a.B.C.", "X.Y.Z.1", "Ab.C", "UN", "U.n",
		"hba1c", "4e", "1er", "2eme", "x86_64", "t4", "17-oh", "0", "007", "_1",
		"mg/dl", "n=12", "e-mail", "co2", "pco2/po2", "(12,0 - 17,0)", "[a]", "a\"b",
		"a\tb\nc\rd", "a\x01b", "a\x7f" "b", "tab\tsep", "x\0y",
		"compte rendu d'examens biologiques hematologie hemoglobine : 12,7 g/dl",
		"patients patient patiente analyses analyse", "running runs ran easily",
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		same_terms(cases[i]);
	same_terms_len("x\0y z", 5);
	char w[200];
	for (size_t n = 60; n <= 70; n++) { // words around the 64-byte maximum
		memset(w, 'e', n);
		memcpy(w + n, " ab", 4);
		same_terms(w);
		memset(w, '9', n);
		w[n] = '\0';
		same_terms(w);
		memset(w, 'a', n);
		memcpy(w + n, "++ b", 5);
		same_terms(w);
		memset(w, 'A', n); // initials: "A.A.A..." shortened to n / 2 letters
		for (size_t k = 1; k < n; k += 2)
			w[k] = '.';
		w[n] = '\0';
		same_terms(w);
	}
}

/* Every string of up to four characters of an alphabet of word characters,
 * infixes, suffixes, separators and upper case. */
Test(terms, every_short_string)
{
	static const char abc[] = "aZ1.,;'&+#_ ";
	const size_t k = sizeof abc - 1;
	char s[5];
	for (size_t len = 0; len <= 4; len++) {
		size_t total = 1;
		for (size_t i = 0; i < len; i++)
			total *= k;
		for (size_t code = 0; code < total; code++) {
			size_t c = code;
			for (size_t i = 0; i < len; i++, c /= k)
				s[i] = abc[c % k];
			s[len] = '\0';
			char why[512];
			carnet_xtext one[] = { { s, len, 1, "" } };
			int rc = terms_compare(one, 1, "french", why, sizeof why);
			cr_assert_eq(rc, 0, "\"%s\": %s", s, why);
		}
	}
}

/* Long random strings of the same alphabet and some text. */
Test(terms, random_strings)
{
	static const char *const bits[] = { "a", "Z", "1", ".", ",", ";", "'", "&", "+", "#",
					    "_", " ", "e", "9", "-", "hemoglobine", "C.R.P.", "\t" };
	unsigned long long x = 88172645463325252ull;
	char s[256];
	for (int n = 0; n < 3000; n++) {
		size_t len = 0;
		for (;;) {
			x ^= x >> 12;
			x ^= x << 25;
			x ^= x >> 27;
			const char *b = bits[(x * 2685821657736338717ull >> 33) %
					     (sizeof bits / sizeof bits[0])];
			if (len + strlen(b) >= sizeof s || (x & 63) == 0)
				break;
			memcpy(s + len, b, strlen(b));
			len += strlen(b);
		}
		s[len] = '\0';
		char why[512];
		carnet_xtext one[] = { { s, len, 2, "S" } };
		int rc = terms_compare(one, 1, LANGS[n % 3], why, sizeof why);
		cr_assert_eq(rc, 0, "\"%s\": %s", s, why);
	}
}

/* A file's bytes compared as they are and folded, as the indexer folds. */
static void same_file(const char *path)
{
	size_t len;
	char *data = th_slurp(path, &len);
	cr_assert_not_null(data, "%s", path);
	char why[512];
	carnet_xtext raw[] = { { data, len, 1, "" } };
	cr_assert_eq(terms_compare(raw, 1, "french", why, sizeof why), 0, "%s: %s", path, why);
	carnet_buf folded = { 0 };
	carnet_error err;
	cr_assert_eq(carnet_text__fold(&folded, data, len, &err), CARNET_OK, "%s: %s", path,
		     err.message);
	carnet_xtext f[] = { { folded.data ? folded.data : "", folded.len, 1, "" } };
	cr_assert_eq(terms_compare(f, 1, "french", why, sizeof why), 0, "%s folded: %s", path,
		     why);
	carnet_buf__free(&folded);
	free(data);
}

static size_t same_tree(const char *dir)
{
	struct dirent **names;
	int count = scandir(dir, &names, NULL, alphasort);
	cr_assert_geq(count, 0, "%s", dir);
	size_t files = 0;
	for (int i = 0; i < count; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		struct stat st;
		if (names[i]->d_name[0] != '.' && stat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				files += same_tree(path);
			} else if (st.st_size < 4 * 1024 * 1024) {
				same_file(path);
				files++;
			}
		}
		free(names[i]);
	}
	free(names);
	return files;
}

Test(terms, fixtures, .timeout = 600)
{
	size_t n = same_tree(th_path("%s/tests/data", th_root()));
	n += same_tree(th_sample());
	n += same_tree(th_corpus("hl7-C-CDA-Examples"));
	cr_assert_gt(n, 100, "only %zu fixture files", n);
}

/* gencorpus's documents (the bench's corpus): each text folded, with its
 * title as carnet indexes it (twice: weight 3, then prefix S). */
Test(terms, generated_corpus, .timeout = 600)
{
	const char *dir = th_tmpdir();
	const char *gen[] = { "bench/gencorpus", "--seed", "7", "--queries", "10",
			      th_path("%s/gen", dir), "300", NULL };
	char *out, *errout;
	cr_assert_eq(th_run(&out, &errout, gen), 0, "gencorpus: %s", errout);
	free(out);
	free(errout);
	size_t len;
	char *tsv = th_slurp(th_path("%s/gen/corpus.tsv", dir), &len);
	cr_assert_not_null(tsv);
	size_t docs = 0;
	for (char *line = tsv, *end; *line; line = end + (*end != '\0')) {
		end = line + strcspn(line, "\n");
		char *f[7];
		size_t nf = 0;
		for (char *p = line; nf < 7 && p <= end; p += strcspn(p, "\t\n") + 1)
			f[nf++] = p;
		if (nf < 7)
			continue;
		size_t tlen = (size_t)(f[6] - f[5]) - 1;
		carnet_buf title = { 0 }, text = { 0 };
		carnet_error err;
		cr_assert_eq(carnet_text__fold(&title, f[5], tlen, &err), CARNET_OK);
		cr_assert_eq(carnet_text__fold(&text, f[6], (size_t)(end - f[6]), &err), CARNET_OK);
		carnet_xtext t[] = { { title.data, title.len, 3, "" },
				     { title.data, title.len, 1, "S" },
				     { text.data, text.len, 1, "" } };
		char why[512];
		cr_assert_eq(terms_compare(t, 3, "french", why, sizeof why), 0, "line %zu: %s",
			     docs + 1, why);
		carnet_buf__free(&title);
		carnet_buf__free(&text);
		docs++;
	}
	free(tsv);
	cr_assert_eq(docs, 300);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_util.c - the library's small shared helpers (core/util.h): array
 * growth, hashing, reading a table's lines, the out-of-memory error; and
 * the walk of a source (indexer/walk.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "util.h"
#include "walk.h"

Test(util, grow_keeps_the_elements_and_doubles)
{
	int *a = NULL;
	size_t cap = 0;
	for (int i = 0; i < 1000; i++) {
		cr_assert_eq(CARNET_GROW(a, cap, (size_t)i + 1), 0);
		cr_assert_geq(cap, (size_t)i + 1);
		a[i] = i * 3;
	}
	cr_assert_eq(cap, 1024);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(a[i], i * 3);
	free(a);
}

Test(util, grow_refuses_an_overflowing_size_and_keeps_the_array)
{
	long *a = NULL;
	size_t cap = 0;
	cr_assert_eq(CARNET_GROW(a, cap, 3), 0);
	a[0] = 42;
	long *before = a;
	cr_assert_eq(CARNET_GROW(a, cap, SIZE_MAX / 4), -1);
	cr_assert_eq(a, before);
	cr_assert_eq(cap, 8);
	cr_assert_eq(a[0], 42);
	free(a);
}

Test(util, hash_is_fnv1a_64)
{
	/* the published FNV-1a test vectors */
	cr_assert_eq(carnet__hash_str(""), 0xcbf29ce484222325ull);
	cr_assert_eq(carnet__hash_str("a"), 0xaf63dc4c8601ec8cull);
	cr_assert_eq(carnet__hash_str("foobar"), 0x85944171f73967e8ull);
	cr_assert_eq(carnet__hash("foobar", 6), carnet__hash_str("foobar"));
}

Test(util, lines_skip_comments_and_blanks_and_trim)
{
	const char text[] = "# a table\n\n  one\ttwo  # note\r\n\t\r\nthree\n  #\nfour";
	carnet_lines it;
	carnet_error err;
	carnet_lines__start(&it, "t.tsv", text, sizeof text - 1);
	cr_assert_eq(carnet_lines__next(&it, &err), 1);
	cr_assert_str_eq(it.line, "one\ttwo");
	cr_assert_eq(it.number, 3);
	cr_assert_eq(carnet_lines__next(&it, &err), 1);
	cr_assert_str_eq(it.line, "three");
	cr_assert_eq(it.number, 5);
	cr_assert_eq(carnet_lines__next(&it, &err), 1);
	cr_assert_str_eq(it.line, "four");
	cr_assert_eq(it.number, 7);
	cr_assert_eq(carnet_lines__next(&it, &err), 0);
}

Test(util, lines_reject_nul_and_long_lines_naming_the_line)
{
	const char text[] = "ok\nbad\0line\n";
	carnet_lines it;
	carnet_error err;
	carnet_lines__start(&it, "t.tsv", text, sizeof text - 1);
	cr_assert_eq(carnet_lines__next(&it, &err), 1);
	cr_assert_eq(carnet_lines__next(&it, &err), CARNET_E_INVALID);
	cr_assert_str_eq(err.message, "t.tsv:2: a NUL byte");

	char *big = malloc(CARNET_LINE_MAX + 10);
	memset(big, 'x', CARNET_LINE_MAX + 9);
	big[CARNET_LINE_MAX + 9] = '\n';
	carnet_lines__start(&it, "big.tsv", big, CARNET_LINE_MAX + 10);
	cr_assert_eq(carnet_lines__next(&it, &err), CARNET_E_INVALID);
	cr_assert(strstr(err.message, "big.tsv:1: line longer than"), "%s", err.message);
	free(big);
}

Test(util, nomem_says_what_ran_out)
{
	carnet_error err;
	cr_assert_eq(carnet_error__nomem(&err, "reading the registry"), CARNET_E_NOMEM);
	cr_assert_str_eq(err.message, "out of memory reading the registry");
	cr_assert_eq(carnet_error__nomem(&err, NULL), CARNET_E_NOMEM);
	cr_assert_str_eq(err.message, "out of memory");
	cr_assert_eq(carnet_error__nomem(NULL, "x"), CARNET_E_NOMEM);
}

/* The walk of a source holds no memory per file: a tree without links
 * or hard links leaves nothing remembered (a store of millions of files
 * is walked in constant memory), and what links lead to is remembered
 * so that it is returned once. */
Test(util, the_walk_remembers_only_what_links_lead_to)
{
	const char *dir = th_tmpdir();
	for (int d = 0; d < 30; d++)
		for (int f = 0; f < 10; f++)
			th_write_str(th_path("%s/src/p%02d/doc%d.txt", dir, d, f), "texte\n");
	th_write_str(th_path("%s/src/.hidden/h.txt", dir), "caché\n");
	carnet_walk w = CARNET_WALK_INIT;
	carnet_error err;
	cr_assert_eq(carnet_walk__run(&w, th_path("%s/src", dir), NULL, NULL, &err), CARNET_OK);
	cr_assert_eq(w.total, 300);
	cr_assert_eq(w.nseen, 0, "nothing remembered per file or directory: %zu", w.nseen);
	carnet_walk__free(&w);

	cr_assert_eq(symlink("../.hidden/h.txt", th_path("%s/src/p00/h1.txt", dir)), 0);
	cr_assert_eq(symlink(".hidden/h.txt", th_path("%s/src/h2.txt", dir)), 0);
	cr_assert_eq(symlink("p01", th_path("%s/src/also-p01", dir)), 0);
	cr_assert_eq(link(th_path("%s/src/p02/doc0.txt", dir), th_path("%s/src/p02/hard.txt", dir)),
		     0);
	cr_assert_eq(carnet_walk__run(&w, th_path("%s/src", dir), NULL, NULL, &err), CARNET_OK);
	cr_assert_eq(w.total, 301, "the hidden file once, the rest once: %zu", w.total);
	cr_assert_eq(w.nseen, 2, "the linked file and the hard-linked one: %zu", w.nseen);
	carnet_walk__free(&w);
	th_cleanup();
}

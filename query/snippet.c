/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snippet.c - choosing and marking the best passage of a hit. */
#include "snippet.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "util.h"
#include "xapian_shim.h"

#define TOKENS_MAX 20000 /* tokens of a text looked at */
#define SEEN_MAX 1024    /* distinct tokens remembered over one request */
#define SEEN_TOKEN 32    /* longest token remembered */

/* A token already matched in this request (texts repeat their words). */
struct carnet_mark_seen {
	char token[SEEN_TOKEN];
	size_t mark;
	unsigned char used;
};
#define MARKS_MAX 64     /* distinct marked words counted */

/* ASCII letters and digits as carnet_text__fold leaves them (lower
 * case); 0 for the other ASCII characters, which separate words. */
static const unsigned char ascii_fold[128] = {
	['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
	['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
	['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f',
	['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l',
	['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r',
	['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x',
	['Y'] = 'y', ['Z'] = 'z',
	['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f',
	['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l',
	['m'] = 'm', ['n'] = 'n', ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r',
	['s'] = 's', ['t'] = 't', ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x',
	['y'] = 'y', ['z'] = 'z',
};

/* The character at t[0..n) (n > 0) as folding leaves it when that is one
 * ASCII letter or digit: into *c, its length in bytes returned; an ASCII
 * separator: *c = 0, length 1; anything else (cannot be told without
 * folding): 0. Latin-1 letters with a diacritic fold to their base
 * letter, as carnet_text__fold does. */
static inline size_t fold_start(const unsigned char *t, size_t n, unsigned char *c)
{
	/* U+00C0..U+00FF, by their second byte after 0xC3 (0: not a letter
	 * with a plain base letter, such as Æ, Ø, ß or ×) */
	static const char latin1[64] = "aaaaaa\0ceeeeiiii\0nooooo\0\0uuuuy\0\0"
				       "aaaaaa\0ceeeeiiii\0nooooo\0\0uuuuy\0y";
	if (t[0] < 0x80) {
		*c = ascii_fold[t[0]];
		return 1;
	}
	if (t[0] == 0xC3 && n >= 2 && t[1] >= 0x80 && t[1] <= 0xBF && latin1[t[1] - 0x80]) {
		*c = (unsigned char)latin1[t[1] - 0x80];
		return 2;
	}
	return 0;
}

/* Remember that a marked word or stem starts with w's first two
 * characters. */
static void note_start(carnet_marks *m, const char *w)
{
	unsigned char a = (unsigned char)w[0], b = a ? (unsigned char)w[1] : 0;
	if (a == 0)
		return;
	if (a >= 0x80 || b >= 0x80) {
		m->any_start = 1;
		return;
	}
	m->pairs[a][b >> 3] |= (unsigned char)(1u << (b & 7));
}

int carnet_snippet__marks(carnet_marks *m, const char *const *words, size_t count,
			  size_t typed, carnet_error *err)
{
	m->need_count = 0;
	for (size_t i = 0; i < typed && i < count; i++) {
		size_t j = 0;
		while (j < i && strcmp(words[j], words[i]) != 0)
			j++;
		if (j < i)
			continue; /* typed twice: its first place stands for it */
		if (m->need_count == sizeof m->need / sizeof m->need[0]) {
			m->need_count = 0; /* too many to wait for: read it all */
			break;
		}
		m->need[m->need_count++] = i + 1;
	}
	m->words = words;
	m->count = count;
	memset(m->pairs, 0, sizeof m->pairs);
	m->any_start = 0;
	m->seen = NULL;
	m->seen_cap = m->seen_count = 0;
	m->stems = calloc(count ? count : 1, sizeof *m->stems);
	if (!m->stems)
		return carnet_error__nomem(err, NULL);
	for (size_t i = 0; i < count; i++) {
		int rc;
		if ((rc = carnet_xap_stem("french", words[i], m->stems[i][0],
					  sizeof m->stems[i][0], err)) ||
		    (rc = carnet_xap_stem("english", words[i], m->stems[i][1],
					  sizeof m->stems[i][1], err))) {
			carnet_snippet__marks_free(m);
			return rc;
		}
		note_start(m, words[i]);
		note_start(m, m->stems[i][0]);
		note_start(m, m->stems[i][1]);
	}
	return CARNET_OK;
}

void carnet_snippet__marks_free(carnet_marks *m)
{
	free(m->stems);
	free(m->seen);
	m->stems = NULL;
	m->seen = NULL;
	m->seen_cap = m->seen_count = 0;
}

/* The slot of token t[0..n) in m's memory: found (*found = 1), or free for
 * it; NULL when the token is too long or the memory is full. */
static struct carnet_mark_seen *seen_slot(carnet_marks *m, const char *t, size_t n, int *found)
{
	*found = 0;
	if (n >= SEEN_TOKEN)
		return NULL;
	if (m->seen_count * 2 >= m->seen_cap && m->seen_cap < SEEN_MAX * 2) {
		/* grow (from a small table: most requests remember few) */
		size_t cap = m->seen_cap ? m->seen_cap * 2 : 128;
		struct carnet_mark_seen *seen = calloc(cap, sizeof *seen);
		if (!seen)
			return NULL;
		for (size_t i = 0; i < m->seen_cap; i++) {
			if (!m->seen[i].used)
				continue;
			size_t j = carnet__hash(m->seen[i].token, strlen(m->seen[i].token)) % cap;
			while (seen[j].used)
				j = (j + 1) % cap;
			seen[j] = m->seen[i];
		}
		free(m->seen);
		m->seen = seen;
		m->seen_cap = cap;
	}
	for (size_t i = carnet__hash(t, n) % m->seen_cap;; i = (i + 1) % m->seen_cap) {
		struct carnet_mark_seen *s = &m->seen[i];
		if (!s->used)
			return m->seen_count < SEEN_MAX ? s : NULL;
		if (strncmp(s->token, t, n) == 0 && s->token[n] == '\0') {
			*found = 1;
			return s;
		}
	}
}

/* The whitespace that separates tokens, by byte (one load per byte: every
 * byte of a hit's text goes through it). */
static const unsigned char space[256] = {
	[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, ['\f'] = 1, ['\v'] = 1,
};

static inline int is_space(unsigned char c)
{
	return space[c];
}

/* Which marked word (index + 1) the folded word w[0..n) is, or 0. */
static size_t match_word(const carnet_marks *m, const char *w, size_t n)
{
	char word[64];
	if (n == 0 || n >= sizeof word)
		return 0;
	memcpy(word, w, n);
	word[n] = '\0';
	for (size_t i = 0; i < m->count; i++)
		if (strcmp(m->words[i], word) == 0)
			return i + 1;
	/* stem only words that could share a stem with a marked word */
	for (size_t i = 0; i < m->count; i++) {
		for (int l = 0; l < 2; l++) {
			const char *st = m->stems[i][l];
			size_t k = strlen(st) < 3 ? strlen(st) : 3;
			if (k == 0 || strncmp(st, word, k) != 0)
				continue;
			char s[64];
			if (carnet_xap_stem(l ? "english" : "french", word, s, sizeof s, NULL) == CARNET_OK &&
			    (strcmp(s, m->stems[i][0]) == 0 || strcmp(s, m->stems[i][1]) == 0))
				return i + 1;
		}
	}
	return 0;
}

/* Could the token t[0..n) hold a marked word? A marked word is the folded
 * word or starts with the first characters of a marked word's stem (see
 * match_word), so each word of the token (a run of letters and digits) is
 * looked at by its first two characters; a character that cannot be told
 * without folding always earns a closer look. */
static int may_match(const carnet_marks *m, const char *text, size_t n)
{
	const unsigned char *t = (const unsigned char *)text;
	if (m->any_start)
		return 1;
	for (size_t i = 0; i < n;) {
		unsigned char a, b = 0;
		size_t k = fold_start(t + i, n - i, &a);
		if (k == 0)
			return 1; /* not told without folding */
		i += k;
		if (a == 0)
			continue; /* a separator */
		if (i < n) {
			if ((k = fold_start(t + i, n - i, &b)) == 0)
				return 1;
		}
		/* b = 0: a word of one character */
		if (m->pairs[a][0] & 1 || m->pairs[a][b >> 3] & (1u << (b & 7)))
			return 1;
		/* past the rest of this word */
		while (i < n && b) {
			if ((k = fold_start(t + i, n - i, &b)) == 0)
				return 1;
			i += k;
		}
	}
	return 0;
}

/* Which marked word the token t[0..n) holds (index + 1), or 0; for a
 * token may_match let through. */
static size_t match_token(const carnet_marks *m, const char *t, size_t n,
			  carnet_buf *scratch, carnet_error *err, int *rc)
{
	int plain = 1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] >= 0x80 || t[i] == '\'' || (t[i] >= 'A' && t[i] <= 'Z'))
			plain = 0;
	const char *f = t;
	size_t fn = n;
	if (!plain) {
		carnet_buf__reset(scratch);
		if ((*rc = carnet_text__fold(scratch, t, n, err)) != CARNET_OK)
			return 0;
		f = scratch->data ? scratch->data : "";
		fn = scratch->len;
	}
	/* the words of the token: runs of letters and digits */
	for (size_t i = 0; i < fn;) {
		while (i < fn && !(((unsigned char)f[i] >= 0x80) ||
				   (f[i] >= 'a' && f[i] <= 'z') || (f[i] >= '0' && f[i] <= '9')))
			i++;
		size_t s = i;
		while (i < fn && (((unsigned char)f[i] >= 0x80) ||
				  (f[i] >= 'a' && f[i] <= 'z') || (f[i] >= '0' && f[i] <= '9')))
			i++;
		if (i > s) {
			size_t w = match_word(m, f + s, i - s);
			if (w)
				return w;
		}
	}
	return 0;
}

static int put_escaped(carnet_buf *out, const char *s, size_t n)
{
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		const char *e;
		switch (s[i]) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		default: continue;
		}
		if (carnet_buf__put(out, s + from, i - from) != 0 || carnet_buf__puts(out, e) != 0)
			return -1;
		from = i + 1;
	}
	return carnet_buf__put(out, s + from, n - from);
}

/* One whitespace-separated token of a text, and which marked word it
 * holds (index + 1, or 0). */
typedef struct tok {
	size_t start, len, mark;
} tok;

/* The tokens of text[0..len), each with its mark, into *out (*n of them):
 * TOKENS_MAX at most, and fewer once a passage of w tokens holds every
 * word typed. */
static int mark_tokens(tok **out, size_t *count, const char *text, size_t len,
		       carnet_marks *m, size_t w, carnet_error *err)
{
	tok *t = NULL;
	size_t cap = 0, n = 0;
	carnet_buf scratch = CARNET_BUF_INIT;
	int rc = CARNET_OK;
	size_t last[sizeof m->need / sizeof m->need[0]]; /* where each was last seen, + 1 */
	size_t stop = TOKENS_MAX;
	memset(last, 0, sizeof last);
	for (size_t i = 0; i < len && n < stop;) {
		while (i < len && is_space((unsigned char)text[i]))
			i++;
		if (i == len)
			break;
		size_t s = i;
		while (i < len && !is_space((unsigned char)text[i]))
			i++;
		if (n == cap && !t) {
			/* about one token in six bytes of text */
			cap = len / 6 + 16 < stop ? len / 6 + 16 : stop;
			t = malloc(cap * sizeof *t);
		}
		if (!t || (n == cap && CARNET_GROW(t, cap, n + 1))) {
			rc = carnet_error__nomem(err, "making a snippet");
			break;
		}
		t[n].start = s;
		t[n].len = i - s;
		int found = 0;
		struct carnet_mark_seen *seen = NULL;
		/* most tokens cannot hold a marked word: no need to remember them */
		if (!may_match(m, text + s, i - s))
			t[n].mark = 0;
		else if ((seen = seen_slot(m, text + s, i - s, &found)) && found) {
			t[n].mark = seen->mark;
		} else {
			t[n].mark = match_token(m, text + s, i - s, &scratch, err, &rc);
			if (rc)
				break;
			if (seen) {
				memcpy(seen->token, text + s, i - s);
				seen->token[i - s] = '\0';
				seen->mark = t[n].mark;
				seen->used = 1;
				m->seen_count++;
			}
		}
		n++;
		/* once a passage holds every word typed, read a little more for
		 * context and stop: no later window can hold more of them */
		if (t[n - 1].mark && m->need_count && stop == TOKENS_MAX) {
			int all = 1;
			for (size_t j = 0; j < m->need_count; j++) {
				if (m->need[j] == t[n - 1].mark)
					last[j] = n;
				all &= last[j] && last[j] + w > n;
			}
			if (all)
				stop = n + w / 2;
		}
	}
	carnet_buf__free(&scratch);
	*out = t;
	*count = n;
	return rc;
}

/* Where the best window of w tokens of t[0..n) starts: the one with the
 * most distinct marked words, then the most marks, begun a little before
 * its first mark for context. */
static size_t best_window(const tok *t, size_t n, size_t w)
{
	size_t best = 0, best_score = 0;
	unsigned seen[MARKS_MAX + 1];
	for (size_t s = 0; s < n && w; s++) {
		if (s && !t[s].mark)
			continue; /* a best window starts on a mark */
		memset(seen, 0, sizeof seen);
		size_t distinct = 0, marks = 0;
		for (size_t k = s; k < s + w && k < n; k++) {
			size_t mk = t[k].mark;
			if (!mk)
				continue;
			marks++;
			if (mk > MARKS_MAX)
				mk = MARKS_MAX;
			if (!seen[mk]++)
				distinct++;
		}
		size_t score = distinct * 1000 + marks;
		if (score > best_score) {
			best_score = score;
			best = s;
		}
	}
	/* start a little before the first mark, for context */
	if (best_score && best > 0) {
		size_t back = w / 4;
		best = best > back ? best - back : 0;
	}
	if (best + w > n)
		best = n > w ? n - w : 0;
	return best;
}

/* The tokens t[best .. best+w) of text, escaped, their marks in <b>..</b>,
 * with an ellipsis where text was left out. */
static int put_window(carnet_buf *out, const char *text, const tok *t, size_t n,
		      size_t best, size_t w)
{
	if (best > 0 && carnet_buf__puts(out, "… ") != 0)
		return -1;
	for (size_t k = best; k < best + w; k++) {
		if (k > best && carnet_buf__putc(out, ' ') != 0)
			return -1;
		const char *tk = text + t[k].start;
		size_t lead = 0, end = t[k].len;
		if (t[k].mark) {
			/* mark the word, not the punctuation around it */
			while (lead < end && strchr("([{\"'", tk[lead]))
				lead++;
			while (end > lead && strchr(",.;:!?)]}\"'", tk[end - 1]))
				end--;
		}
		if (put_escaped(out, tk, lead) != 0 ||
		    (t[k].mark && carnet_buf__puts(out, "<b>") != 0) ||
		    put_escaped(out, tk + lead, end - lead) != 0 ||
		    (t[k].mark && carnet_buf__puts(out, "</b>") != 0) ||
		    put_escaped(out, tk + end, t[k].len - end) != 0)
			return -1;
	}
	if (best + w < n && carnet_buf__puts(out, " …") != 0)
		return -1;
	return 0;
}

int carnet_snippet__make(carnet_buf *out, const char *text, size_t len,
			 carnet_marks *m, size_t words_max, carnet_error *err)
{
	tok *t;
	size_t n;
	int rc = mark_tokens(&t, &n, text, len, m, words_max, err);
	if (rc == CARNET_OK) {
		size_t w = words_max < n ? words_max : n;
		if (put_window(out, text, t, n, best_window(t, n, w), w) != 0)
			rc = carnet_error__nomem(err, "making a snippet");
	}
	free(t);
	return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snippet.c - choosing and marking the best passage of a hit. */
#include "snippet.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "text.h"
#include "textpack.h"
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
	m->first[a] = 1;
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
		if (m->need_count == CARNET_MARKS_NEED) {
			m->need_count = 0; /* too many to wait for: read it all */
			break;
		}
		m->need[m->need_count++] = i + 1;
	}
	m->words = words;
	m->count = count;
	memset(m->pairs, 0, sizeof m->pairs);
	memset(m->first, 0, sizeof m->first);
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
	m->firsts_count = 0;
	for (unsigned a = 0; a < 128; a++) {
		if (!m->first[a] || !ascii_fold[a])
			continue;
		if (m->firsts_count == sizeof m->firsts) {
			m->firsts_count = 0; /* too many to sift by */
			break;
		}
		m->firsts[m->firsts_count++] = (unsigned char)a;
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

/* ASCII letters and digits, by byte: the bytes a word's tail is made of. */
static const unsigned char word_byte[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
	['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
	['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
	['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
	['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

/* The end of the token that starts at t[i] (not a space; t[len] is '\0'),
 * and whether it may hold a marked word (*may): a marked word is the
 * folded word or starts with the first characters of a marked word's stem
 * (see match_word), so each word of the token (a run of letters and
 * digits) is looked at by its first two characters; a character that
 * cannot be told without folding always earns a closer look. One pass
 * over the bytes, which the text's every byte goes through. */
static size_t scan_token(const carnet_marks *m, const unsigned char *t, size_t len, size_t i,
			 int *may)
{
	*may = 1;
	if (m->any_start)
		goto rest;
	while (i < len) {
		unsigned char a, b = 0;
		size_t k;
		if (t[i] < 0x80) {
			if (!(a = ascii_fold[t[i]])) {
				if (space[t[i]])
					break;
				i++;
				continue; /* a separator */
			}
			i++;
		} else if ((k = fold_start(t + i, len - i, &a)) != 0) {
			i += k;
		} else {
			goto rest; /* not told without folding */
		}
		/* b = 0: a word of one character */
		if (m->first[a] && i < len && (k = fold_start(t + i, len - i, &b)) == 0)
			goto rest;
		if (m->first[a] && (m->pairs[a][0] & 1 || m->pairs[a][b >> 3] & (1u << (b & 7))))
			goto rest;
		/* past the rest of this word */
		for (;;) {
			while (word_byte[t[i]])
				i++;
			if (i >= len || t[i] < 0x80)
				break;
			if ((k = fold_start(t + i, len - i, &b)) == 0)
				goto rest;
			i += k;
		}
	}
	*may = 0;
	return i;
rest:
	while (i < len && !space[t[i]])
		i++;
	return i;
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

/* s[0..n) HTML-escaped at d, which has room for 6 bytes per byte of s;
 * returns the end of what was written. */
static char *put_escaped(char *d, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *e;
		switch (s[i]) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		default: *d++ = s[i]; continue;
		}
		size_t el = strlen(e);
		memcpy(d, e, el);
		d += el;
	}
	return d;
}

/* Token tk[0..tl) appended to out, escaped, a space before it when not
 * first; when marked, its word (not the punctuation around it) between
 * <b> and </b>. One write into room made once. */
static int put_token(carnet_buf *out, const char *tk, size_t tl, int first, int marked)
{
	size_t lead = 0, end = tl;
	if (marked) {
		while (lead < end && strchr("([{\"'", tk[lead]))
			lead++;
		while (end > lead && strchr(",.;:!?)]}\"'", tk[end - 1]))
			end--;
	}
	if (tl > ((size_t)-1 - 8) / 6 || carnet_buf__grow(out, 6 * tl + 8) != 0)
		return -1;
	char *d = out->data + out->len;
	if (!first)
		*d++ = ' ';
	d = put_escaped(d, tk, lead);
	if (marked) {
		memcpy(d, "<b>", 3);
		d += 3;
	}
	d = put_escaped(d, tk + lead, end - lead);
	if (marked) {
		memcpy(d, "</b>", 4);
		d += 4;
	}
	d = put_escaped(d, tk + end, tl - end);
	out->len = (size_t)(d - out->data);
	out->data[out->len] = '\0';
	return 0;
}

/* The whitespace-separated tokens of a text read for a snippet: how many
 * were read, which marked word (index + 1) the marked ones hold, in the
 * order of the text, and where the chunks of text looked at began (to
 * find a token's start again from its index). */
typedef struct tokens {
	size_t n;
	struct marked {
		size_t at, mark;
	} *marked;
	size_t marked_n, marked_cap;
	struct chunk {
		size_t pos, tokens; /* its first byte, the tokens begun before it */
	} *chunk;
	size_t chunk_n, chunk_cap;
} tokens;

static void tokens_free(tokens *t)
{
	free(t->marked);
	free(t->chunk);
}

/* Which marked word the token text[s..e) holds (index + 1), or 0: from
 * the request's memory of tokens, or matched and remembered. */
static size_t token_mark(carnet_marks *m, const char *text, size_t s, size_t e,
			 carnet_buf *scratch, carnet_error *err, int *rc)
{
	int found = 0;
	struct carnet_mark_seen *seen = seen_slot(m, text + s, e - s, &found);
	if (seen && found)
		return seen->mark;
	size_t mark = match_token(m, text + s, e - s, scratch, err, rc);
	if (seen && *rc == CARNET_OK) {
		memcpy(seen->token, text + s, e - s);
		seen->token[e - s] = '\0';
		seen->mark = mark;
		seen->used = 1;
		m->seen_count++;
	}
	return mark;
}

/* The text a snippet is made from: text[0..avail) of len bytes is there
 * (text[avail] is '\0'), the rest decoded block by block by r as the
 * tokens are read; a token that starts before lim ends by lim (a space,
 * or len once the text is all there). */
typedef struct source {
	const char *text;
	size_t len, avail, lim;
	carnet_textpack_reader *r;
} source;

/* One more block of src's text. */
static int more_text(source *src, carnet_error *err)
{
	int rc = carnet_textpack__more(src->r, err);
	if (rc != CARNET_OK)
		return rc;
	size_t a = src->r->avail;
	if (a == src->len)
		src->lim = a;
	for (size_t j = a; j > src->avail && src->lim < a; j--)
		if (space[(unsigned char)src->text[j - 1]]) {
			src->lim = j - 1;
			break;
		}
	src->avail = a;
	return CARNET_OK;
}

/* The marked words src's text is read until a passage holds them all
 * (their marks, index + 1, into need; their count returned): those the
 * document holds (held: bit i for m's i-th word, i < 64), each by its
 * first place among m's words (the mark a token gets); m's typed words
 * (m->need) when it holds none; none (read it all) when more than need
 * has room for. */
static size_t needed(const carnet_marks *m, uint64_t held, size_t *need)
{
	size_t n = 0;
	for (size_t i = 0; i < m->count && i < 64; i++) {
		if (!(held >> i & 1))
			continue;
		size_t j = 0;
		while (j < i && strcmp(m->words[j], m->words[i]) != 0)
			j++;
		size_t k = 0;
		while (k < n && need[k] != j + 1)
			k++;
		if (k < n)
			continue;
		if (n == CARNET_MARKS_NEED)
			return 0;
		need[n++] = j + 1;
	}
	if (n == 0) {
		memcpy(need, m->need, m->need_count * sizeof *need);
		n = m->need_count;
	}
	return n;
}

/* The bits of the n bytes at t (0 < n <= 64; t[0..64) readable when n is
 * 64), a bit each (byte i: bit i): whitespace (space[]), ASCII letters and
 * digits, and the first bytes of characters outside ASCII (0xC0..0xFF);
 * in *first, a bit set for each letter or digit some marked word or stem
 * of m starts with (folded), and maybe for others (every bit when m's
 * first letters are too many to sift by, or n < 64). */
static void map_chunk(const carnet_marks *m, const unsigned char *t, size_t n, uint64_t *sp,
		      uint64_t *al, uint64_t *lead, uint64_t *first)
{
	uint64_t s = 0, a = 0, l = 0, f = 0;
	*first = ~(uint64_t)0;
#if defined(__SSE2__)
	if (n == 64) {
		/* as signed bytes: ASCII is positive, 0xC0..0xFF is -64..-1 */
		const __m128i c8 = _mm_set1_epi8(8), c14 = _mm_set1_epi8(14);
		const __m128i blank = _mm_set1_epi8(' '), case_bit = _mm_set1_epi8(0x20);
		const __m128i d0 = _mm_set1_epi8('0' - 1), d9 = _mm_set1_epi8('9' + 1);
		const __m128i la = _mm_set1_epi8('a' - 1), lz = _mm_set1_epi8('z' + 1);
		const __m128i c0 = _mm_set1_epi8(-65), zero = _mm_setzero_si128();
		__m128i firsts[sizeof m->firsts];
		for (size_t i = 0; i < m->firsts_count; i++)
			firsts[i] = _mm_set1_epi8((char)m->firsts[i]);
		for (int k = 0; k < 4; k++) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(t + 16 * k));
			__m128i y = _mm_or_si128(x, case_bit);
			__m128i ws = _mm_or_si128(_mm_cmpeq_epi8(x, blank),
						  _mm_and_si128(_mm_cmpgt_epi8(x, c8),
								_mm_cmplt_epi8(x, c14)));
			__m128i an = _mm_or_si128(_mm_and_si128(_mm_cmpgt_epi8(x, d0),
								_mm_cmplt_epi8(x, d9)),
						  _mm_and_si128(_mm_cmpgt_epi8(y, la),
								_mm_cmplt_epi8(y, lz)));
			__m128i ld = _mm_and_si128(_mm_cmpgt_epi8(x, c0), _mm_cmplt_epi8(x, zero));
			s |= (uint64_t)(unsigned)_mm_movemask_epi8(ws) << (16 * k);
			a |= (uint64_t)(unsigned)_mm_movemask_epi8(an) << (16 * k);
			l |= (uint64_t)(unsigned)_mm_movemask_epi8(ld) << (16 * k);
			if (m->firsts_count) {
				/* a letter with the case bit set is lower case,
				 * a digit has it already */
				__m128i hit = zero;
				for (size_t i = 0; i < m->firsts_count; i++)
					hit = _mm_or_si128(hit, _mm_cmpeq_epi8(y, firsts[i]));
				f |= (uint64_t)(unsigned)_mm_movemask_epi8(hit) << (16 * k);
			}
		}
		*sp = s;
		*al = a;
		*lead = l;
		if (m->firsts_count)
			*first = f;
		return;
	}
#endif
	for (size_t j = 0; j < n; j++) {
		s |= (uint64_t)space[t[j]] << j;
		a |= (uint64_t)word_byte[t[j]] << j;
		l |= (uint64_t)(t[j] >= 0xC0) << j;
	}
	*sp = s;
	*al = a;
	*lead = l;
}

/* Reading src's text for marks: where it is, the tokens begun before,
 * the stop (in tokens), and what the last byte looked at was. */
typedef struct reading {
	size_t pos, tokens, stop;
	size_t looked;       /* the last token looked at, + 1 (0: none) */
	size_t open;         /* where the last token begun starts */
	uint64_t after_space, after_alnum; /* byte pos - 1 was (1) or not (0) */
	size_t need[CARNET_MARKS_NEED];
	size_t last[CARNET_MARKS_NEED];
	size_t need_count;   /* the marks waited for, where each was last seen + 1 */
	size_t w;
	carnet_buf scratch;
} reading;

/* Look at the token of index k that starts at u[s] (it ends by lim): its
 * mark recorded when it holds a marked word, and the stop brought
 * forward once a passage of w tokens holds every word waited for. */
static int look_at(tokens *t, reading *rd, carnet_marks *m, const char *text, size_t lim,
		   size_t k, size_t s, carnet_error *err)
{
	int may, rc = CARNET_OK;
	size_t e = scan_token(m, (const unsigned char *)text, lim, s, &may);
	size_t mark = may ? token_mark(m, text, s, e, &rd->scratch, err, &rc) : 0;
	if (rc || !mark)
		return rc;
	if (CARNET_GROW(t->marked, t->marked_cap, t->marked_n + 1))
		return carnet_error__nomem(err, "making a snippet");
	t->marked[t->marked_n].at = k;
	t->marked[t->marked_n++].mark = mark;
	/* once a passage holds every word waited for, read a little more
	 * for context and stop: no later window can hold more of them */
	if (rd->need_count && rd->stop == TOKENS_MAX) {
		int all = 1;
		for (size_t j = 0; j < rd->need_count; j++) {
			if (rd->need[j] == mark)
				rd->last[j] = k + 1;
			all &= rd->last[j] && rd->last[j] + rd->w > k + 1;
		}
		if (all)
			rd->stop = k + 1 + rd->w / 2;
	}
	return CARNET_OK;
}

/* Read the chunk of text at rd->pos (n bytes, before lim): its tokens
 * counted 64 bytes at a time, and only those that may hold a marked word
 * looked at: a word starting with an ASCII letter or digit some marked
 * word or stem starts with, or with a character outside ASCII (every
 * token when a marked word starts outside ASCII). */
static int read_chunk(tokens *t, reading *rd, carnet_marks *m, const char *text, size_t lim,
		      size_t n, carnet_error *err)
{
	const unsigned char *u = (const unsigned char *)text + rd->pos;
	uint64_t sp, al, lead, first, valid = n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
	map_chunk(m, u, n, &sp, &al, &lead, &first);
	uint64_t begins = ~sp & (sp << 1 | rd->after_space) & valid;
	uint64_t word = ~(al << 1 | rd->after_alnum) & valid;
	uint64_t look = m->any_start ? begins : ((al & first) | lead) & word;
	for (; look; look &= look - 1) {
		unsigned c = (unsigned)__builtin_ctzll(look);
		if (!m->any_start && !(lead >> c & 1)) {
			/* a word that starts as no marked word or stem does:
			 * its first two characters tell (the second is there:
			 * the next chunk's first byte, or at lim whitespace or
			 * the '\0' after what is decoded) */
			unsigned char a = ascii_fold[u[c]], b = u[c + 1];
			if (!m->first[a])
				continue;
			if (b < 0x80 && (b = ascii_fold[b], !(m->pairs[a][0] & 1)) &&
			    !(m->pairs[a][b >> 3] & (1u << (b & 7))))
				continue;
		}
		uint64_t before = begins & (((uint64_t)2 << c) - 1);
		size_t k = rd->tokens + (size_t)__builtin_popcountll(before);
		if (k == 0 || k - 1 >= rd->stop)
			break;
		if (k == rd->looked)
			continue; /* its token was looked at */
		rd->looked = k;
		size_t s = before ? rd->pos + 63 - (size_t)__builtin_clzll(before) : rd->open;
		int rc = look_at(t, rd, m, text, lim, k - 1, s, err);
		if (rc)
			return rc;
	}
	if (begins)
		rd->open = rd->pos + 63 - (size_t)__builtin_clzll(begins);
	rd->tokens += (size_t)__builtin_popcountll(begins);
	rd->after_space = sp >> (n - 1) & 1;
	rd->after_alnum = al >> (n - 1) & 1;
	rd->pos += n;
	return CARNET_OK;
}

/* The tokens of src's text, with their marks, into *t: TOKENS_MAX at
 * most, and fewer once a passage of w tokens holds every marked word the
 * document holds (held, see needed). The text is decoded no further
 * than the tokens read. */
static int mark_tokens(tokens *t, source *src, carnet_marks *m, uint64_t held, size_t w,
		       carnet_error *err)
{
	reading rd;
	memset(&rd, 0, sizeof rd);
	rd.stop = TOKENS_MAX;
	rd.after_space = 1;
	rd.w = w;
	rd.need_count = needed(m, held, rd.need);
	int rc = CARNET_OK;
again:
	while (rd.tokens < rd.stop) {
		if (rd.pos >= src->lim) { /* the end, or a token that may go on past what is there */
			if (src->lim == src->len || (rc = more_text(src, err)) != CARNET_OK)
				break;
			continue;
		}
		size_t n = src->lim - rd.pos < 64 ? src->lim - rd.pos : 64;
		if (CARNET_GROW(t->chunk, t->chunk_cap, t->chunk_n + 1)) {
			rc = carnet_error__nomem(err, "making a snippet");
			break;
		}
		t->chunk[t->chunk_n].pos = rd.pos;
		t->chunk[t->chunk_n++].tokens = rd.tokens;
		if ((rc = read_chunk(t, &rd, m, src->text, src->lim, n, err)) != CARNET_OK)
			break;
	}
	/* the last token read may go on past the chunks read: looked at
	 * whole (and when it brings the stop forward, read on) */
	if (rc == CARNET_OK && rd.tokens == rd.stop && rd.looked != rd.stop && !rd.after_space) {
		rd.looked = rd.stop;
		rc = look_at(t, &rd, m, src->text, src->lim, rd.stop - 1, rd.open, err);
		if (rc == CARNET_OK && rd.stop > rd.tokens)
			goto again;
	}
	t->n = rd.tokens < rd.stop ? rd.tokens : rd.stop;
	carnet_buf__free(&rd.scratch);
	return rc;
}

/* The starts of the tokens best .. best+w of t (all read) into start. */
static void token_starts(const tokens *t, const char *text, size_t best, size_t w,
			 size_t *start)
{
	size_t c = 0;
	while (c + 1 < t->chunk_n && t->chunk[c + 1].tokens <= best)
		c++;
	const unsigned char *u = (const unsigned char *)text;
	size_t k = t->chunk_n ? t->chunk[c].tokens : 0, got = 0;
	for (size_t i = t->chunk_n ? t->chunk[c].pos : 0; got < w; i++)
		if (!space[u[i]] && (i == 0 || space[u[i - 1]]) && k++ >= best)
			start[got++] = i;
}

/* Where the best window of w tokens of t starts: the one with the most
 * distinct marked words, then the most marks, begun a little before its
 * first mark for context. */
static size_t best_window(const tokens *t, size_t w)
{
	size_t n = t->n, best = 0, best_score = 0, best_last = 0;
	size_t seen[MARKS_MAX + 1]; /* the last window (round) a mark was in */
	memset(seen, 0, sizeof seen);
	/* a best window starts at the beginning or on a mark */
	for (size_t s = 0, f = 0, round = 1; w; round++) {
		size_t distinct = 0, marks = 0, last = s;
		for (size_t j = f; j < t->marked_n && t->marked[j].at < s + w; j++) {
			size_t mk = t->marked[j].mark;
			marks++;
			last = t->marked[j].at;
			if (mk > MARKS_MAX)
				mk = MARKS_MAX;
			if (seen[mk] != round) {
				seen[mk] = round;
				distinct++;
			}
		}
		size_t score = distinct * 1000 + marks;
		if (score > best_score) {
			best_score = score;
			best = s;
			best_last = last;
		}
		while (f < t->marked_n && t->marked[f].at <= s)
			f++;
		if (f == t->marked_n)
			break;
		s = t->marked[f].at;
	}
	/* start a little before the first mark, for context, as long as the
	 * window still holds its last mark */
	if (best_score && best > 0) {
		size_t back = w / 4, room = best + w - 1 - best_last;
		if (back > room)
			back = room;
		best = best > back ? best - back : 0;
	}
	if (best + w > n)
		best = n > w ? n - w : 0;
	return best;
}

/* The tokens best .. best+w of text, escaped, their marks in <b>..</b>,
 * with an ellipsis where text was left out. */
static int put_window(carnet_buf *out, const char *text, size_t len, const tokens *t,
		      size_t best, size_t w)
{
	if (best > 0 && carnet_buf__puts(out, "… ") != 0)
		return -1;
	size_t *start = malloc((w ? w : 1) * sizeof *start);
	if (!start)
		return -1;
	token_starts(t, text, best, w, start);
	size_t f = 0; /* the first marked token from best on */
	while (f < t->marked_n && t->marked[f].at < best)
		f++;
	for (size_t k = best; k < best + w; k++) {
		const char *tk = text + start[k - best];
		size_t tl = 0;
		while (start[k - best] + tl < len && !space[(unsigned char)tk[tl]])
			tl++;
		int marked = f < t->marked_n && t->marked[f].at == k;
		f += marked;
		if (put_token(out, tk, tl, k == best, marked) != 0) {
			free(start);
			return -1;
		}
	}
	free(start);
	if (best + w < t->n && carnet_buf__puts(out, " …") != 0)
		return -1;
	return 0;
}

static int make(carnet_buf *out, source *src, carnet_marks *m, uint64_t held,
		size_t words_max, carnet_error *err)
{
	tokens t;
	memset(&t, 0, sizeof t);
	int rc = mark_tokens(&t, src, m, held, words_max, err);
	if (rc == CARNET_OK) {
		size_t w = words_max < t.n ? words_max : t.n;
		if (put_window(out, src->text, src->len, &t, best_window(&t, w), w) != 0)
			rc = carnet_error__nomem(err, "making a snippet");
	}
	tokens_free(&t);
	return rc;
}

int carnet_snippet__make(carnet_buf *out, carnet_textpack_reader *r, carnet_marks *m,
			 uint64_t held, size_t words_max, carnet_error *err)
{
	source src = { r->text, r->size, r->avail, r->avail == r->size ? r->size : 0, r };
	return make(out, &src, m, held, words_max, err);
}

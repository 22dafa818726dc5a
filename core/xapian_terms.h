/* SPDX-License-Identifier: GPL-2.0-or-later */
// xapian_terms.h - the words and terms of ASCII text exactly as Xapian 1.4's
// TermGenerator makes them, without its UTF-8 decoding and Unicode look-ups
// (xapian_terms.cc); both the indexer and the query side split with it.
#ifndef CARNET_CORE_XAPIAN_TERMS_H
#define CARNET_CORE_XAPIAN_TERMS_H

#include <cstddef>
#include <cstdint>
#include <string>

#include <xapian.h>

namespace carnet_xap {

// TermGenerator's default maximum word length, in bytes: longer words are
// dropped without taking a position.
const size_t WORD_MAX = 64;

// Is c part of a word (Unicode word characters below 0x80: letters, digits,
// the underscore)?
inline bool ascii_word(unsigned char c)
{
	// one bit per byte, from 0x00 to 0x7f
	static const uint64_t bits[2] = { 0x03ff000000000000ull, 0x07fffffe87fffffeull };
	return c < 0x80 && (bits[c >> 6] >> (c & 63) & 1);
}

inline bool ascii_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

inline bool ascii_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

inline char ascii_lower(unsigned char c)
{
	return static_cast<char>(ascii_upper(c) ? c + ('a' - 'A') : c);
}

// Is every byte of s[0..n) ASCII (below 0x80)?
bool all_ascii(const char *s, size_t n);

// The length of the start of s[0..n) that is ASCII and ends at a word
// boundary: n when all of it is ASCII, else up to just after the last space
// before the first other byte (0 when there is none). A space never belongs
// to a word, nor joins two, so both sides split as the whole would.
size_t ascii_run(const char *s, size_t n);

// The length of the start of s[0..n) (which holds a byte >= 0x80 before its
// first space) up to that space, or n.
size_t other_run(const char *s, size_t n);

// Split ASCII text s[0..n) into words as TermGenerator::index_text does
// (Xapian 1.4, without CJK n-grams, which ASCII cannot hold): runs of
// letters, digits and '_', lower-cased; ' and & between two word
// characters, and . , ; between two digits, kept inside the word; initials
// such as "U.N.O." as one word ("uno") when no word character follows; up
// to three '+' or '#' after a word kept when no word character follows
// them ("c++", "c#"). Each word is written to buf after its first `keep`
// bytes (kept as they are) and emit(buf, length of the word) is called;
// words longer than WORD_MAX too (the caller drops them). Stops early when
// emit returns false.
template <class F>
void ascii_words(const char *text, size_t n, std::string &buf, size_t keep, F emit)
{
	const unsigned char *s = reinterpret_cast<const unsigned char *>(text);
	size_t i = 0;
	for (;;) {
		while (i < n && !ascii_word(s[i]))
			i++;
		if (i == n)
			return;
		buf.resize(keep);
		if (ascii_upper(s[i])) { // initials, "U.N.O."
			size_t p = i;
			do {
				buf += ascii_lower(s[p++]);
			} while (p < n && s[p] == '.' && ++p < n && ascii_upper(s[p]));
			if (buf.size() - keep > 1 && (p == n || !ascii_word(s[p]))) {
				i = p;
				if (!emit(buf, buf.size() - keep))
					return;
				continue;
			}
			buf.resize(keep);
		}
		size_t start = i;
		for (;;) {
			while (i < n && ascii_word(s[i]))
				i++;
			if (i >= n - 1 || !ascii_word(s[i + 1]))
				break;
			unsigned char c = s[i];
			bool infix = ascii_digit(s[i - 1]) && ascii_digit(s[i + 1])
					     ? c == '.' || c == ',' || c == ';'
					     : c == '\'' || c == '&';
			if (!infix)
				break;
			i++;
		}
		size_t at = buf.size();
		buf.append(text + start, i - start);
		for (size_t k = at; k < buf.size(); k++)
			buf[k] = ascii_lower(static_cast<unsigned char>(buf[k]));
		if (i < n) { // suffixes: "c++", "c#", not "fish+chips"
			size_t len = buf.size();
			unsigned count = 0;
			while (i < n && (s[i] == '+' || s[i] == '#')) {
				if (++count > 3) {
					buf.resize(len);
					break;
				}
				buf += static_cast<char>(s[i++]);
			}
			if (i < n && ascii_word(s[i]))
				buf.resize(len);
		}
		if (!emit(buf, buf.size() - keep))
			return;
	}
}

// Add the terms of ASCII text s[0..n) to doc exactly as
// TermGenerator::index_text(text, wdf, prefix) does with its defaults
// (STEM_SOME, no stopper, words of at most WORD_MAX bytes) and stemmer
// stem, from position *pos on: prefix + each word at ++*pos, and, unless
// stem is none, "Z" + prefix + the stem of each word that starts with a
// letter, without a position. Throws what Xapian throws.
void index_ascii(Xapian::Document &doc, const Xapian::Stem &stem, const char *s, size_t n,
		 Xapian::termcount wdf, const std::string &prefix, Xapian::termpos *pos);

// The same for any text s[0..n): its ASCII stretches (ascii_run) by
// index_ascii, the others (other_run) by tg.index_text, tg having stem as
// its stemmer and no document other than doc.
void index_text(Xapian::Document &doc, Xapian::TermGenerator &tg, const Xapian::Stem &stem,
		const char *s, size_t n, Xapian::termcount wdf, const std::string &prefix,
		Xapian::termpos *pos);

} // namespace carnet_xap

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
// xapian_terms.cc - a document's terms from ASCII text, as Xapian's
// TermGenerator makes them but without decoding UTF-8 (see xapian_terms.h);
// other text still goes to the TermGenerator.
#include "xapian_terms.h"

namespace carnet_xap {

bool all_ascii(const char *s, size_t n)
{
	unsigned char any = 0;
	for (size_t i = 0; i < n; i++)
		any |= static_cast<unsigned char>(s[i]);
	return any < 0x80;
}

size_t ascii_run(const char *s, size_t n)
{
	size_t j = 0;
	while (j < n && static_cast<unsigned char>(s[j]) < 0x80)
		j++;
	if (j == n)
		return n;
	while (j > 0 && s[j - 1] != ' ')
		j--;
	return j;
}

size_t other_run(const char *s, size_t n)
{
	size_t j = 0;
	while (j < n && s[j] != ' ')
		j++;
	return j;
}

void index_ascii(Xapian::Document &doc, const Xapian::Stem &stem, const char *s, size_t n,
		 Xapian::termcount wdf, const std::string &prefix, Xapian::termpos *pos)
{
	// kept between calls: no allocation per word once they have grown
	thread_local std::string term, word, zterm;
	const size_t keep = prefix.size();
	const bool stems = !stem.is_none();
	term = prefix;
	zterm.assign(1, 'Z');
	zterm += prefix;
	Xapian::termpos at = *pos;
	ascii_words(s, n, term, keep, [&](const std::string &t, size_t len) {
		if (len > WORD_MAX)
			return true;
		doc.add_posting(t, ++at, wdf);
		// STEM_SOME stems words that start with a letter (not a digit,
		// not '_'); words are lower case
		unsigned char first = static_cast<unsigned char>(t[keep]);
		if (!stems || first < 'a' || first > 'z')
			return true;
		const std::string *w = &t;
		if (keep) {
			word.assign(t, keep, len);
			w = &word;
		}
		const std::string st = stem(*w);
		if (st.empty())
			return true;
		zterm.resize(keep + 1);
		zterm += st;
		doc.add_term(zterm, wdf);
		return true;
	});
	*pos = at;
}

void index_text(Xapian::Document &doc, Xapian::TermGenerator &tg, const Xapian::Stem &stem,
		const char *s, size_t n, Xapian::termcount wdf, const std::string &prefix,
		Xapian::termpos *pos)
{
	size_t i = 0;
	while (i < n) {
		size_t a = ascii_run(s + i, n - i);
		index_ascii(doc, stem, s + i, a, wdf, prefix, pos);
		i += a;
		if (i == n)
			break;
		size_t b = other_run(s + i, n - i);
		tg.set_termpos(*pos);
		tg.index_text(std::string(s + i, b), wdf, prefix);
		*pos = tg.get_termpos();
		i += b;
	}
}

} // namespace carnet_xap

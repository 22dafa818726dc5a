/* SPDX-License-Identifier: GPL-2.0-or-later */
// xapian_terms.cc - a document's terms from ASCII text, as Xapian's
// TermGenerator makes them but without decoding UTF-8 (see xapian_terms.h);
// other text still goes to the TermGenerator.
#include "xapian_terms.h"

#include <cstdint>
#include <vector>

extern "C" {
#include "util.h"
}

namespace carnet_xap {

namespace {

// The words of one text to stem, each with its number of occurrences: the
// Z term of a word is added once, with its wdf times that number, which
// gives the document TermGenerator's one add_term per occurrence gives, for
// one stem and one look-up per distinct word. Kept by each thread: no
// allocation once grown.
class WordCounts {
	struct slot {
		uint64_t hash;
		uint32_t off, len, count; // the word: arena[off, off + len); count 0: empty
	};
	std::vector<slot> slots; // a power of two of them, open addressing
	std::vector<uint32_t> used;
	std::string arena;

	void grow()
	{
		std::vector<slot> old(slots.size() ? slots.size() * 2 : 1024);
		old.swap(slots);
		used.clear();
		for (const slot &o : old)
			if (o.count)
				place(o);
	}

	slot &find(uint64_t hash, const char *w, size_t len)
	{
		size_t mask = slots.size() - 1;
		for (size_t k = hash & mask;; k = (k + 1) & mask) {
			slot &sl = slots[k];
			if (!sl.count || (sl.hash == hash && sl.len == len &&
					  arena.compare(sl.off, len, w, len) == 0))
				return sl;
		}
	}

	void place(const slot &o)
	{
		slot &sl = find(o.hash, arena.data() + o.off, o.len);
		sl = o;
		used.push_back(static_cast<uint32_t>(&sl - slots.data()));
	}

public:
	// Forget the words counted (from a call that threw, too).
	void clear()
	{
		for (uint32_t k : used)
			slots[k].count = 0;
		used.clear();
		arena.clear();
	}

	void add(const char *w, size_t len)
	{
		if ((used.size() + 1) * 2 > slots.size())
			grow();
		uint64_t hash = carnet__hash(w, len);
		slot &sl = find(hash, w, len);
		if (sl.count) {
			sl.count++;
			return;
		}
		// what may throw first: a slot in use is always in `used`
		uint32_t off = static_cast<uint32_t>(arena.size());
		arena.append(w, len);
		used.push_back(static_cast<uint32_t>(&sl - slots.data()));
		sl = { hash, off, static_cast<uint32_t>(len), 1 };
	}

	// f(word, its count) for each word.
	template <class F> void each(std::string &word, F f) const
	{
		for (uint32_t k : used) {
			word.assign(arena, slots[k].off, slots[k].len);
			f(word, slots[k].count);
		}
	}
};

} // namespace

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
	thread_local WordCounts counts;
	const size_t keep = prefix.size();
	const bool stems = !stem.is_none();
	counts.clear();
	term = prefix;
	Xapian::termpos at = *pos;
	ascii_words(s, n, term, keep, [&](const std::string &t, size_t len) {
		if (len > WORD_MAX)
			return true;
		doc.add_posting(t, ++at, wdf);
		// STEM_SOME stems words that start with a letter (not a digit,
		// not '_'); words are lower case
		unsigned char first = static_cast<unsigned char>(t[keep]);
		if (stems && first >= 'a' && first <= 'z')
			counts.add(t.data() + keep, len);
		return true;
	});
	*pos = at;
	zterm.assign(1, 'Z');
	zterm += prefix;
	counts.each(word, [&](const std::string &w, uint32_t count) {
		const std::string st = stem(w);
		if (st.empty())
			return;
		zterm.resize(keep + 1);
		zterm += st;
		doc.add_term(zterm, wdf * count);
	});
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

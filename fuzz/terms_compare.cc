/* SPDX-License-Identifier: GPL-2.0-or-later */
// terms_compare.cc - a document's terms and a query's words made by carnet
// and by Xapian's TermGenerator, compared (see terms_compare.h).
#include "terms_compare.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "xapian_common.h"

namespace {

typedef std::vector<std::pair<Xapian::termpos, std::string>> words_t;

std::string shown(const std::string &s)
{
	std::string out;
	char hex[8];
	for (unsigned char c : s) {
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out += static_cast<char>(c);
		} else {
			std::snprintf(hex, sizeof hex, "\\x%02x", c);
			out += hex;
		}
	}
	return out;
}

// The terms of a as b's: the first difference, or "" when none.
std::string diff_docs(const Xapian::Document &a, const Xapian::Document &b)
{
	Xapian::TermIterator i = a.termlist_begin(), j = b.termlist_begin();
	for (; i != a.termlist_end() && j != b.termlist_end(); ++i, ++j) {
		if (*i != *j)
			return "term '" + shown(*i) + "' (carnet) against '" + shown(*j) +
			       "' (xapian)";
		if (i.get_wdf() != j.get_wdf())
			return "term '" + shown(*i) + "': wdf " + std::to_string(i.get_wdf()) +
			       " (carnet) against " + std::to_string(j.get_wdf()) + " (xapian)";
		std::vector<Xapian::termpos> pa(i.positionlist_begin(), i.positionlist_end());
		std::vector<Xapian::termpos> pb(j.positionlist_begin(), j.positionlist_end());
		size_t k = 0;
		while (k < pa.size() && k < pb.size() && pa[k] == pb[k])
			k++;
		if (k < pa.size() || k < pb.size())
			return "term '" + shown(*i) + "': position " + std::to_string(k) + " is " +
			       (k < pa.size() ? std::to_string(pa[k]) : "none") + " (carnet) against " +
			       (k < pb.size() ? std::to_string(pb[k]) : "none") + " (xapian)";
	}
	if (i != a.termlist_end())
		return "term '" + shown(*i) + "' from carnet only";
	if (j != b.termlist_end())
		return "term '" + shown(*j) + "' from xapian only";
	return "";
}

int take_word(const char *word, size_t len, void *payload)
{
	static_cast<std::vector<std::string> *>(payload)->emplace_back(word, len);
	return 0;
}

// The words of text as carnet split queries before: a TermGenerator without
// stemming, its terms in position order.
std::vector<std::string> plain_words(const std::string &text)
{
	Xapian::TermGenerator tg;
	Xapian::Document doc;
	tg.set_stemming_strategy(Xapian::TermGenerator::STEM_NONE);
	tg.set_document(doc);
	tg.index_text(text);
	words_t at;
	for (Xapian::TermIterator t = doc.termlist_begin(); t != doc.termlist_end(); ++t)
		for (Xapian::PositionIterator p = t.positionlist_begin(); p != t.positionlist_end();
		     ++p)
			at.emplace_back(*p, *t);
	std::sort(at.begin(), at.end());
	std::vector<std::string> words;
	for (const auto &w : at)
		words.push_back(w.second);
	return words;
}

std::string diff_words(const carnet_xtext &t)
{
	std::vector<std::string> mine, theirs = plain_words(std::string(t.text, t.len));
	carnet_error err;
	if (carnet_xap_words(t.text, t.len, take_word, &mine, &err) != CARNET_OK)
		return std::string("carnet_xap_words: ") + err.message;
	for (size_t k = 0; k < mine.size() && k < theirs.size(); k++)
		if (mine[k] != theirs[k])
			return "word " + std::to_string(k) + ": '" + shown(mine[k]) +
			       "' (carnet) against '" + shown(theirs[k]) + "' (xapian)";
	if (mine.size() != theirs.size())
		return std::to_string(mine.size()) + " words (carnet) against " +
		       std::to_string(theirs.size()) + " (xapian)";
	return "";
}

} // namespace

extern "C" int terms_compare(const carnet_xtext *texts, size_t count, const char *lang,
			     char *why, size_t size)
{
	std::string what;
	int rc = 0;
	try {
		carnet_xdoc d = { "Qcompare", nullptr, 0, nullptr, 0, texts, count, "", 0, lang };
		carnet_xprepared *p = nullptr;
		carnet_error err;
		if (carnet_xap_prepare_until(&p, &d, nullptr, &err) != CARNET_OK) {
			std::snprintf(why, size, "carnet_xap_prepare_until: %s", err.message);
			return -1;
		}
		Xapian::Document plain;
		Xapian::TermGenerator tg;
		tg.set_stemmer(Xapian::Stem(lang));
		tg.set_document(plain);
		for (size_t i = 0; i < count; i++) {
			tg.index_text(std::string(texts[i].text, texts[i].len),
				      texts[i].weight ? texts[i].weight : 1,
				      texts[i].prefix ? texts[i].prefix : "");
			tg.increase_termpos(100);
		}
		plain.add_boolean_term("Qcompare");
		plain.set_data("");
		what = diff_docs(p->doc, plain);
		carnet_xap_prepared_free(p);
		for (size_t i = 0; i < count && what.empty(); i++) {
			what = diff_words(texts[i]);
			if (!what.empty())
				what = "text " + std::to_string(i) + " as a query: " + what;
		}
		rc = what.empty() ? 0 : 1;
	} catch (const Xapian::Error &e) {
		what = "xapian: " + e.get_description();
		rc = -1;
	} catch (const std::exception &e) {
		what = e.what();
		rc = -1;
	}
	std::snprintf(why, size, "%s", what.c_str());
	return rc;
}

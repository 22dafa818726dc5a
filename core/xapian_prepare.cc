/* SPDX-License-Identifier: GPL-2.0-or-later */
// xapian_prepare.cc - documents made ready for the index without a
// database (terms, values, text, record), and matched against keys.
#include "xapian_common.h"
#include "xapian_terms.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

using namespace carnet_xap;

namespace {

// Length of the next piece of text[0..len) to index: all of it when
// short, else up to a space (the same words and positions as in one
// piece), else up to a character boundary.
size_t text_piece(const char *text, size_t len)
{
	const size_t piece = 256 * 1024;
	if (len <= piece)
		return len;
	size_t n = piece;
	while (n > piece / 2 && text[n - 1] != ' ')
		n--;
	if (text[n - 1] == ' ')
		return n;
	n = piece;
	while (n > 1 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80)
		n--;
	return n;
}

} // namespace

// The keys a document is matched against, with their terms sorted for
// both languages.
struct carnet_xkeyset {
	struct want {
		std::string term;
		size_t key;
		bool word; // a single-word key (else one word of a phrase)
	};
	const carnet_xkey *keys;
	size_t n;
	std::vector<want> wants[2];        // French, English stems
	std::vector<unsigned char> needed; // distinct words of each phrase
};

extern "C" {

int carnet_xap_prepare_until(carnet_xprepared **out, const carnet_xdoc *d, int (*stop)(void),
			     carnet_error *err) CARNET_NOEXCEPT
{
	*out = nullptr;
	carnet_xprepared *p = nullptr;
	try {
		// one term generator per thread (for text other than ASCII),
		// its stemmer kept between calls
		thread_local Xapian::TermGenerator tg;
		thread_local Xapian::Stem stem;
		thread_local std::string stem_name;
		std::string lang = d->stem_language ? d->stem_language : "none";
		if (lang != stem_name) {
			// one cached stemmer per language and thread, kept
			thread_local std::unordered_map<std::string, Xapian::Stem> stems;
			auto it = stems.find(lang);
			if (it == stems.end())
				it = stems.emplace(lang, lang == "none"
						   ? Xapian::Stem(lang)
						   : Xapian::Stem(new CachedStem(lang))).first;
			stem = it->second;
			tg.set_stemmer(stem);
			stem_name = lang;
		}
		p = new carnet_xprepared;
		tg.set_document(p->doc);
		Xapian::termpos pos = 0;
		std::string prefix;
		for (size_t i = 0; i < d->texts_count; i++) {
			const carnet_xtext &t = d->texts[i];
			prefix = t.prefix ? t.prefix : "";
			for (size_t off = 0, n; off < t.len; off += n) {
				if (stop && stop()) {
					tg.set_document(Xapian::Document());
					delete p;
					return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET,
								 0, "stopped before its text was indexed");
				}
				n = text_piece(t.text + off, t.len - off);
				index_text(p->doc, tg, stem, t.text + off, n, t.weight ? t.weight : 1,
					   prefix, &pos);
			}
			pos += 100; // no phrase across fields
		}
		p->doc.add_boolean_term(d->id_term);
		for (size_t i = 0; i < d->terms_count; i++)
			p->doc.add_boolean_term(d->terms[i]);
		for (size_t i = 0; i < d->values_count; i++)
			p->doc.add_value(d->values[i].slot,
					 std::string(d->values[i].value, d->values[i].len));
		p->doc.set_data(std::string(d->data, d->data_len));
		tg.set_document(Xapian::Document()); // drop the reference
		*out = p;
		return CARNET_OK;
	} catch (...) {
		delete p;
		return classify(err);
	}
}

int carnet_xap_prepared_set_term(carnet_xprepared *p, const char *term, int on,
				 carnet_error *err) CARNET_NOEXCEPT
{
	try {
		if (on) {
			p->doc.add_boolean_term(term);
		} else {
			Xapian::TermIterator t = p->doc.termlist_begin();
			t.skip_to(term);
			if (t != p->doc.termlist_end() && *t == term)
				p->doc.remove_term(term);
		}
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_keyset_new(carnet_xkeyset **out, const carnet_xkey *keys, size_t n,
			  carnet_error *err) CARNET_NOEXCEPT
{
	*out = nullptr;
	carnet_xkeyset *ks = nullptr;
	try {
		ks = new carnet_xkeyset;
		ks->keys = keys;
		ks->n = n;
		ks->needed.assign(n, 0);
		for (int l = 0; l < 2; l++) {
			std::vector<carnet_xkeyset::want> &wants = ks->wants[l];
			for (size_t i = 0; i < n; i++) {
				const carnet_xkey &k = keys[i];
				if (k.count == 1) {
					if (k.zterm[l])
						wants.push_back({ k.zterm[l], i, true });
					wants.push_back({ k.words[0], i, true });
					continue;
				}
				for (size_t w = 0; w < k.count; w++) {
					size_t j = 0;
					while (j < w && std::strcmp(k.words[j], k.words[w]) != 0)
						j++;
					if (j < w)
						continue;
					wants.push_back({ k.words[w], i, false });
					if (l == 0)
						ks->needed[i]++;
				}
			}
			std::sort(wants.begin(), wants.end(),
				  [](const carnet_xkeyset::want &a, const carnet_xkeyset::want &b) {
					  return a.term < b.term;
				  });
		}
		*out = ks;
		return CARNET_OK;
	} catch (...) {
		delete ks;
		return classify(err);
	}
}

void carnet_xap_keyset_free(carnet_xkeyset *ks) CARNET_NOEXCEPT
{
	delete ks;
}

int carnet_xap_prepared_match(carnet_xprepared *p, const carnet_xkeyset *ks, int english,
			      unsigned char *hits, carnet_error *err) CARNET_NOEXCEPT
{
	try {
		// the document's termlist (sorted) merged with the keys' terms
		// (sorted once), rather than hashing every term of every document
		const carnet_xkey *keys = ks->keys;
		size_t n = ks->n;
		const std::vector<carnet_xkeyset::want> &wants = ks->wants[english ? 1 : 0];
		const std::vector<unsigned char> &needed = ks->needed;
		std::vector<unsigned char> present(n, 0);
		std::memset(hits, 0, n);
		size_t wi = 0;
		for (Xapian::TermIterator t = p->doc.termlist_begin();
		     t != p->doc.termlist_end() && wi < wants.size(); ++t) {
			const std::string &term = *t;
			while (wi < wants.size() && wants[wi].term < term)
				wi++;
			for (size_t j = wi; j < wants.size() && wants[j].term == term; j++) {
				if (wants[j].word)
					hits[wants[j].key] = 1;
				else
					present[wants[j].key]++;
			}
		}
		// the phrases whose words are all there: their words' positions,
		// read in one more pass over the termlist (a document's
		// termlist skips forward one term at a time)
		std::vector<size_t> phrases;
		std::vector<std::string> need;
		for (size_t i = 0; i < n; i++) {
			const carnet_xkey &k = keys[i];
			if (k.count < 2 || hits[i] || present[i] < needed[i] || needed[i] == 0)
				continue;
			phrases.push_back(i);
			for (size_t w = 0; w < k.count; w++)
				need.push_back(k.words[w]);
		}
		if (phrases.empty())
			return CARNET_OK;
		std::sort(need.begin(), need.end());
		need.erase(std::unique(need.begin(), need.end()), need.end());
		std::vector<std::vector<Xapian::termpos>> at(need.size());
		size_t ni = 0;
		for (Xapian::TermIterator t = p->doc.termlist_begin();
		     t != p->doc.termlist_end() && ni < need.size(); ++t) {
			const std::string &term = *t;
			while (ni < need.size() && need[ni] < term)
				ni++;
			if (ni < need.size() && need[ni] == term)
				for (Xapian::PositionIterator q = t.positionlist_begin();
				     q != t.positionlist_end(); ++q)
					at[ni].push_back(*q);
		}
		for (size_t i : phrases) {
			const carnet_xkey &k = keys[i];
			// the words in order, with at most two others in between,
			// as the query side's phrases allow
			std::vector<std::vector<Xapian::termpos>> pos(k.count);
			for (size_t w = 0; w < k.count; w++) {
				auto it = std::lower_bound(need.begin(), need.end(), k.words[w]);
				if (it != need.end() && *it == k.words[w])
					pos[w] = at[it - need.begin()];
			}
			if (phrase_at(pos, (Xapian::termcount)k.count + 2))
				hits[i] = 1;
		}
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_prepared_value(carnet_xprepared *p, unsigned slot, const char *value,
			      size_t len, carnet_error *err) CARNET_NOEXCEPT
{
	try {
		p->doc.add_value(slot, std::string(value, len));
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

void carnet_xap_prepared_free(carnet_xprepared *p) CARNET_NOEXCEPT
{
	delete p; // destructors do not throw
}

} // extern "C"

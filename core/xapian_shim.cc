/* SPDX-License-Identifier: GPL-2.0-or-later */
// xapian_shim.cc - the shim's common ground: Xapian's exceptions turned into
// carnet errors, the format stamp, and the tokenizer and stemmer both sides
// use. The shim (xapian_shim.h) is the only code that includes <xapian.h>:
// this file, xapian_terms.cc (terms of ASCII text), xapian_prepare.cc
// (documents), xapian_writer.cc (the writer and its shards) and
// xapian_reader.cc (filters, candidates, records).
#include "xapian_common.h"
#include "xapian_terms.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace carnet_xap {

namespace {

const char FORMAT_KEY[] = "carnet.format";

} // namespace

const char PLACEMENT_KEY[] = "carnet.placement";

// Turn the exception being handled into a carnet_error and return its code.
// Must be called from inside a catch block. The most specific classes come
// first; the description is copied, never referenced.
int classify(carnet_error *err)
{
	int code = CARNET_E_INTERNAL;
	int origin = CARNET_ORIGIN_XAPIAN;
	std::string what;
	try {
		throw;
	} catch (const Xapian::DatabaseModifiedError &e) {
		code = CARNET_E_MODIFIED; what = e.get_description();
	} catch (const Xapian::DatabaseLockError &e) {
		code = CARNET_E_LOCKED; what = e.get_description();
	} catch (const Xapian::DatabaseNotFoundError &e) {
		code = CARNET_E_NOTFOUND; what = e.get_description();
	} catch (const Xapian::DocNotFoundError &e) {
		code = CARNET_E_NOTFOUND; what = e.get_description();
	} catch (const Xapian::DatabaseVersionError &e) {
		code = CARNET_E_VERSION; what = e.get_description();
	} catch (const Xapian::DatabaseCorruptError &e) {
		code = CARNET_E_CORRUPT; what = e.get_description();
	} catch (const Xapian::DatabaseOpeningError &e) {
		code = CARNET_E_IO; what = e.get_description();
	} catch (const Xapian::QueryParserError &e) {
		code = CARNET_E_QUERY; what = e.get_description();
	} catch (const Xapian::WildcardError &e) {
		code = CARNET_E_QUERY; what = e.get_description();
	} catch (const Xapian::InvalidArgumentError &e) {
		code = CARNET_E_INVALID; what = e.get_description();
	} catch (const Xapian::RangeError &e) {
		code = CARNET_E_INVALID; what = e.get_description();
	} catch (const Xapian::Error &e) {
		code = CARNET_E_INTERNAL; what = e.get_description();
	} catch (const std::bad_alloc &) {
		code = CARNET_E_NOMEM; origin = CARNET_ORIGIN_CARNET;
		what = "out of memory";
	} catch (const std::exception &e) {
		code = CARNET_E_INTERNAL; origin = CARNET_ORIGIN_CARNET;
		what = e.what();
	} catch (...) {
		code = CARNET_E_INTERNAL; origin = CARNET_ORIGIN_CARNET;
		what = "unknown C++ exception";
	}
	if (err) {
		err->code = code;
		err->origin = origin;
		err->sys_code = 0;
		std::snprintf(err->message, sizeof err->message, "xapian: %s",
			      what.c_str());
		for (char *p = err->message; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
	}
	return code;
}

int fail(carnet_error *err, int code, const char *msg)
{
	return carnet_error__set(err, code, CARNET_ORIGIN_CARNET, 0, "%s", msg);
}

// The format stored in a database: OK if it is ours (or the database is
// new and empty, when write_if_new stamps it), VERSION otherwise.
int check_format(Xapian::Database &db, Xapian::WritableDatabase *w,
		 carnet_error *err)
{
	std::string fmt = db.get_metadata(FORMAT_KEY);
	std::string want = std::to_string(CARNET_INDEX_FORMAT);
	if (fmt.empty()) {
		if (db.get_doccount() == 0 && w) {
			w->set_metadata(FORMAT_KEY, want);
			// made by a writer that puts a record in its patient's
			// shard: readers may go straight to it (an index made
			// before has no such stamp, and is searched as it was)
			w->set_metadata(PLACEMENT_KEY, "patient");
			w->commit();
			return CARNET_OK;
		}
		if (db.get_doccount() == 0)
			return CARNET_OK; // created by a writer that has not committed yet
		return fail(err, CARNET_E_VERSION,
			    "xapian database has no carnet format stamp: not a carnet index");
	}
	if (fmt != want)
		return carnet_error__set(err, CARNET_E_VERSION, CARNET_ORIGIN_CARNET, 0,
					 "index format %s, this library reads format %s",
					 fmt.c_str(), want.c_str());
	return CARNET_OK;
}

// Do the position lists pos[0..n) hold the words in this order, the first
// and last at most window - 1 apart (Xapian's OP_PHRASE)?
bool phrase_at(const std::vector<std::vector<Xapian::termpos>> &pos, Xapian::termcount window)
{
	for (Xapian::termpos first : pos[0]) {
		Xapian::termpos at = first;
		bool ok = true;
		for (size_t k = 1; k < pos.size() && ok; k++) {
			auto next = std::upper_bound(pos[k].begin(), pos[k].end(), at);
			if (next == pos[k].end())
				return false; // no later start can do better
			at = *next;
			ok = at - first < window;
		}
		if (ok)
			return true;
	}
	return false;
}

std::string shard_path(const std::string &base, unsigned k)
{
	return k ? base + "." + std::to_string(k) : base;
}

// The bytes of v into a malloc'ed, NUL-terminated *out (its length in
// *len_out, if not NULL); what says what was being read, for the error.
int string_out(const std::string &v, char **out, size_t *len_out, carnet_error *err,
	       const char *what)
{
	char *p = static_cast<char *>(std::malloc(v.size() + 1));
	if (!p)
		return carnet_error__nomem(err, what);
	std::memcpy(p, v.data(), v.size());
	p[v.size()] = '\0';
	*out = p;
	if (len_out)
		*len_out = v.size();
	return CARNET_OK;
}

} // namespace carnet_xap

using namespace carnet_xap;

extern "C" {

int carnet_xap_words(const char *text, size_t len,
		     int (*cb)(const char *word, size_t len, void *payload),
		     void *payload, carnet_error *err) CARNET_NOEXCEPT
{
	try {
		// the indexer's own tokenizer, so that queries split words
		// exactly as documents were split
		if (all_ascii(text, len)) {
			thread_local std::string buf;
			int rc = CARNET_OK;
			ascii_words(text, len, buf, 0, [&](const std::string &w, size_t n) {
				if (n <= WORD_MAX)
					rc = cb(w.c_str(), n, payload);
				return rc == 0;
			});
			return rc;
		}
		thread_local Xapian::TermGenerator tg;
		Xapian::Document doc;
		tg.set_stemming_strategy(Xapian::TermGenerator::STEM_NONE);
		tg.set_document(doc);
		tg.set_termpos(0);
		tg.index_text(std::string(text, len));
		tg.set_document(Xapian::Document());
		std::vector<std::pair<Xapian::termpos, std::string>> words;
		for (Xapian::TermIterator t = doc.termlist_begin(); t != doc.termlist_end(); ++t)
			for (Xapian::PositionIterator p = t.positionlist_begin();
			     p != t.positionlist_end(); ++p)
				words.emplace_back(*p, *t);
		std::sort(words.begin(), words.end());
		for (const auto &w : words) {
			int rc = cb(w.second.c_str(), w.second.size(), payload);
			if (rc)
				return rc;
		}
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_stem(const char *language, const char *word, char *out,
		    size_t size, carnet_error *err) CARNET_NOEXCEPT
{
	try {
		if (size == 0)
			return fail(err, CARNET_E_INVALID, "no room for a stem");
		thread_local std::string name;
		thread_local Xapian::Stem stem;
		if (name != language) {
			stem = Xapian::Stem(language);
			name = language;
		}
		std::string st = stem(word);
		std::snprintf(out, size, "%s", st.c_str());
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

} // extern "C"

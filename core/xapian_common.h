/* SPDX-License-Identifier: GPL-2.0-or-later */
// xapian_common.h - what the shim's C++ files share (core/xapian_*.cc): the
// exception boundary, the format stamp, small helpers and the stemmer the
// indexer uses (which bench/xapian_plain.cc borrows, to index as carnet does).
#ifndef CARNET_CORE_XAPIAN_COMMON_H
#define CARNET_CORE_XAPIAN_COMMON_H

#include <string>
#include <unordered_map>
#include <vector>

#include <xapian.h>

#include "xapian_shim.h"

extern "C" {
#include "error.h"
#include "schema.h"
}

// A document made ready for the index (xapian_prepare.cc), put by the
// writer (xapian_writer.cc).
struct carnet_xprepared {
	Xapian::Document doc;
};

namespace carnet_xap {

// Turn the exception being handled into a carnet_error and return its code.
// Must be called from inside a catch block: every entry point of the shim
// ends with `catch (...) { return classify(err); }`.
int classify(carnet_error *err);

// A carnet error (origin carnet) with a fixed message.
int fail(carnet_error *err, int code, const char *msg);

// The format stored in a database: OK if it is ours (or the database is
// new and empty, when w stamps it), VERSION otherwise.
int check_format(Xapian::Database &db, Xapian::WritableDatabase *w, carnet_error *err);

// The metadata that says every document of a patient is in the shard the
// patient's id hashes to (carnet__hash_str(id) % shards): "patient" in
// an index made empty by a writer that places documents so (the stamp is
// set with the format's, in every shard, before any document).
extern const char PLACEMENT_KEY[];

// Shard k of the database at base: base itself, then base.1, base.2, ...
std::string shard_path(const std::string &base, unsigned k);

// The bytes of v into a malloc'ed, NUL-terminated *out (its length in
// *len_out, if not NULL); what says what was being read ("reading
// metadata"), for the out-of-memory error.
int string_out(const std::string &v, char **out, size_t *len_out, carnet_error *err,
	       const char *what);

// Do the position lists pos[0..n) hold the words in this order, the first
// and last at most window - 1 apart (Xapian's OP_PHRASE)?
bool phrase_at(const std::vector<std::vector<Xapian::termpos>> &pos, Xapian::termcount window);

// A stemmer that remembers its answers: the same words come back in every
// document, and a Snowball stem costs far more than a look-up. The stems
// are those of the wrapped stemmer; the memory is bounded (forgotten when
// full).
class CachedStem : public Xapian::StemImplementation {
	Xapian::Stem stem;
	std::unordered_map<std::string, std::string> memo;
	static const size_t MEMO_MAX = 20000;

public:
	explicit CachedStem(const std::string &lang) : stem(lang) {}

	std::string operator()(const std::string &word) override
	{
		auto it = memo.find(word);
		if (it != memo.end())
			return it->second;
		if (memo.size() >= MEMO_MAX)
			memo.clear();
		std::string s = stem(word);
		memo.emplace(word, s);
		return s;
	}

	std::string get_description() const override
	{
		return "cached " + stem.get_description();
	}
};

} // namespace carnet_xap

#endif

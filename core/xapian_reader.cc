/* SPDX-License-Identifier: GPL-2.0-or-later */
// xapian_reader.cc - the reader: a database (and its shards) searched as
// one, the filter of a request, the candidates with their BM25 weight
// within the record, stored records and values, the record's vocabulary.
#include "xapian_common.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <vector>

#include <sys/stat.h>

extern "C" {
#include "util.h"
}

using namespace carnet_xap;

// What a shard's version file (iamglass, which a commit replaces by
// renaming a new one over it) looked like when the reader last opened it.
struct version_seen {
	std::string dir;  // the shard's directory
	std::string path; // its version file
	dev_t dev = 0;
	ino_t ino = 0;
	ino_t dir_ino = 0; // the shard's directory (carnet_xap_compact replaces it)
	struct timespec mtime = { 0, 0 };
	off_t size = -1;
};

// The database searched as one (db), and each of its shards on its own
// (shards, empty when there is one): the same open databases, so that
// both see the same revision. Xapian numbers the documents of n shards
// in turn: shard k's document d is (d - 1) * n + k + 1 in db.
struct carnet_xreader {
	std::string path;
	Xapian::Database db;
	std::vector<Xapian::Database> shards;
	std::vector<version_seen> versions; // one per shard
	unsigned long opened = 0;           // see carnet_xap_reader_opened
	bool by_patient = false;            // PLACEMENT_KEY says "patient"
};

// The numbers carnet_xap_reader_opened gives: never the same twice in a
// process, whichever reader they go to.
static std::atomic<unsigned long> openings{ 0 };

namespace {

// The filter every hit must pass: all `must` terms, one of each `any`
// group, none of `hide` (unless `unhide`), the date range. It is applied
// to the whole query, so nothing in the words can widen it.
Xapian::Query build_filter(const carnet_xsearch *s)
{
	std::vector<Xapian::Query> must;
	for (size_t i = 0; i < s->must_count; i++)
		must.emplace_back(s->must[i]);
	Xapian::Query filter(Xapian::Query::OP_AND, must.begin(), must.end());
	for (size_t g = 0; g < s->any_count; g++) {
		std::vector<Xapian::Query> any;
		for (size_t i = 0; i < s->any[g].count; i++)
			any.emplace_back(s->any[g].terms[i]);
		// an empty group lets nothing through
		Xapian::Query group = any.empty()
			? Xapian::Query::MatchNothing
			: Xapian::Query(Xapian::Query::OP_OR, any.begin(), any.end());
		filter = Xapian::Query(Xapian::Query::OP_FILTER, filter, group);
	}
	if (s->hide_count) {
		std::vector<Xapian::Query> hide;
		for (size_t i = 0; i < s->hide_count; i++)
			hide.emplace_back(s->hide[i]);
		Xapian::Query hidden(Xapian::Query::OP_OR, hide.begin(), hide.end());
		if (s->unhide)
			hidden = Xapian::Query(Xapian::Query::OP_AND_NOT, hidden,
					       Xapian::Query(s->unhide));
		filter = Xapian::Query(Xapian::Query::OP_AND_NOT, filter, hidden);
	}
	if (s->date_from || s->date_to) {
		Xapian::Query range;
		if (s->date_from && s->date_to)
			range = Xapian::Query(Xapian::Query::OP_VALUE_RANGE,
					      CARNET_SLOT_DATE, s->date_from, s->date_to);
		else if (s->date_from)
			range = Xapian::Query(Xapian::Query::OP_VALUE_GE,
					      CARNET_SLOT_DATE, s->date_from);
		else
			range = Xapian::Query(Xapian::Query::OP_VALUE_LE,
					      CARNET_SLOT_DATE, s->date_to);
		filter = Xapian::Query(Xapian::Query::OP_FILTER, filter, range);
	}

	return filter;
}

// The documents of q, in docid order (at most cap).
std::vector<Xapian::docid> match_all(Xapian::Database &db, const Xapian::Query &q,
				     Xapian::doccount cap)
{
	Xapian::Enquire enq(db);
	enq.set_query(Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, q, 0.0));
	enq.set_weighting_scheme(Xapian::BoolWeight());
	enq.set_docid_order(Xapian::Enquire::ASCENDING);
	Xapian::MSet ms = enq.get_mset(0, cap);
	std::vector<Xapian::docid> ids;
	ids.reserve(ms.size());
	for (Xapian::MSetIterator it = ms.begin(); it != ms.end(); ++it)
		ids.push_back(*it);
	std::sort(ids.begin(), ids.end());
	return ids;
}

// The one shard of r that may hold documents of the record s asks for
// (the only shard where the first must term, the patient's, occurs), or
// -1 when there are several (or one database): a record is searched in
// the shard its documents went to, with half (a third...) the lookups of
// searching them all.
long record_shard(carnet_xreader *r, const carnet_xsearch *s)
{
	if (r->shards.empty() || s->must_count == 0)
		return -1;
	// an index that places records by patient: no lookup needed
	if (r->by_patient && s->shard_key)
		return (long)(carnet__hash_str(s->shard_key) % r->shards.size());
	long only = -1;
	for (size_t k = 0; k < r->shards.size(); k++) {
		if (!r->shards[k].term_exists(s->must[0]))
			continue;
		if (only >= 0)
			return -1;
		only = (long)k;
	}
	return only < 0 ? 0 : only; // in none: any shard answers nothing
}

// The filter of s with the whole-sets rule (see carnet_xsearch): the sets
// whose newest version the viewer may not see are taken away.
Xapian::Query record_filter(Xapian::Database &db, const carnet_xsearch *s)
{
	Xapian::Query filter = build_filter(s);
	if (!s->whole_sets || !s->latest)
		return filter;
	carnet_xsearch access = *s;
	access.any = s->any + (s->access_from < s->any_count ? s->access_from : s->any_count);
	access.any_count = s->access_from < s->any_count ? s->any_count - s->access_from : 0;
	access.date_from = access.date_to = nullptr;
	Xapian::Query latest(s->latest);
	std::vector<Xapian::Query> must;
	for (size_t i = 0; i < s->must_count; i++)
		must.emplace_back(s->must[i]);
	Xapian::Query newest(Xapian::Query::OP_FILTER,
			     Xapian::Query(Xapian::Query::OP_AND, must.begin(), must.end()),
			     latest);
	Xapian::Query hidden(Xapian::Query::OP_AND_NOT, newest,
			     Xapian::Query(Xapian::Query::OP_FILTER, build_filter(&access),
					   latest));
	std::vector<Xapian::Query> sets;
	for (Xapian::docid did : match_all(db, hidden, db.get_doccount())) {
		std::string set = db.get_document(did).get_value(CARNET_SLOT_SET);
		if (!set.empty())
			sets.emplace_back(CARNET_PREFIX_SET + set);
	}
	if (sets.empty())
		return filter;
	return Xapian::Query(Xapian::Query::OP_AND_NOT, filter,
			     Xapian::Query(Xapian::Query::OP_OR, sets.begin(), sets.end()));
}

// Set mark[i] to `to` for each ids[i] (in docid order) that term
// indexes, leapfrogging along its postings.
void mark_with(Xapian::Database &db, const std::string &term,
	       const std::vector<Xapian::docid> &ids, std::vector<unsigned char> &mark,
	       unsigned char to)
{
	Xapian::PostingIterator p = db.postlist_begin(term), end = db.postlist_end(term);
	for (size_t i = 0; i < ids.size() && p != end; i++) {
		if (*p < ids[i])
			p.skip_to(ids[i]);
		if (p != end && *p == ids[i])
			mark[i] = to;
	}
}

// Keep of ids those whose mark is want.
void keep_marked(std::vector<Xapian::docid> &ids, const std::vector<unsigned char> &mark,
		 unsigned char want)
{
	size_t out = 0;
	for (size_t i = 0; i < ids.size(); i++)
		if (mark[i] == want)
			ids[out++] = ids[i];
	ids.resize(out);
}

// The documents that pass build_filter(s), in docid order, at most cap:
// the same documents, found along the postings of its terms from the
// first must term's (the patient's: the record), without Xapian's
// matcher, which also looks up the statistics of every term.
std::vector<Xapian::docid> filter_docs(Xapian::Database &db, const carnet_xsearch *s,
				       Xapian::doccount cap)
{
	std::vector<Xapian::docid> ids;
	for (Xapian::PostingIterator p = db.postlist_begin(s->must[0]);
	     p != db.postlist_end(s->must[0]); ++p)
		ids.push_back(*p);
	std::vector<unsigned char> mark;
	// every must term
	for (size_t i = 1; i < s->must_count && !ids.empty(); i++) {
		mark.assign(ids.size(), 0);
		mark_with(db, s->must[i], ids, mark, 1);
		keep_marked(ids, mark, 1);
	}
	// one term of each group (an empty group lets nothing through)
	for (size_t g = 0; g < s->any_count && !ids.empty(); g++) {
		mark.assign(ids.size(), 0);
		for (size_t t = 0; t < s->any[g].count; t++)
			mark_with(db, s->any[g].terms[t], ids, mark, 1);
		keep_marked(ids, mark, 1);
	}
	// none of the hide terms, unless the unhide term
	if (s->hide_count && !ids.empty()) {
		mark.assign(ids.size(), 0);
		for (size_t t = 0; t < s->hide_count; t++)
			mark_with(db, s->hide[t], ids, mark, 1);
		if (s->unhide)
			mark_with(db, s->unhide, ids, mark, 0);
		keep_marked(ids, mark, 0);
	}
	// the dates, as OP_VALUE_RANGE (GE, LE): a document without one fails
	if ((s->date_from || s->date_to) && !ids.empty()) {
		Xapian::ValueIterator v = db.valuestream_begin(CARNET_SLOT_DATE);
		Xapian::ValueIterator vend = db.valuestream_end(CARNET_SLOT_DATE);
		mark.assign(ids.size(), 0);
		for (size_t i = 0; i < ids.size() && v != vend; i++) {
			if (v.get_docid() < ids[i])
				v.skip_to(ids[i]);
			if (v == vend || v.get_docid() != ids[i])
				continue;
			std::string date = *v;
			mark[i] = !(s->date_from && date < s->date_from) &&
				  !(s->date_to && date > s->date_to);
		}
		keep_marked(ids, mark, 1);
	}
	if (ids.size() > cap)
		ids.resize(cap);
	return ids;
}

// The record s asks for: the documents of filter_docs, or with the
// whole-sets rule, those of record_filter's query.
std::vector<Xapian::docid> record_docs(Xapian::Database &db, const carnet_xsearch *s,
				       Xapian::doccount cap)
{
	if (s->whole_sets && s->latest)
		return match_all(db, record_filter(db, s), cap);
	return filter_docs(db, s, cap);
}

// Add to wdf[i] the wdf of term in document rec[i] (rec in docid order),
// leapfrogging along the term's postings.
void add_postings(Xapian::Database &db, const std::string &term,
		  const std::vector<Xapian::docid> &rec, std::vector<Xapian::termcount> &wdf)
{
	Xapian::PostingIterator p = db.postlist_begin(term), end = db.postlist_end(term);
	size_t i = 0, n = rec.size();
	while (i < n && p != end) {
		Xapian::docid d = *p;
		if (d < rec[i]) {
			p.skip_to(rec[i]);
		} else if (d > rec[i]) {
			i = (size_t)(std::lower_bound(rec.begin() + (long)i, rec.end(), d) -
				     rec.begin());
		} else {
			wdf[i] += p.get_wdf();
			++i;
			++p;
		}
	}
}

// Add to wdf[i] how much way a of saying a clause occurs in document
// rec[i]: a word's wdf (its French and English stems, or the word itself
// when exact or when the record holds neither stem), a phrase's smallest
// word wdf where the phrase occurs (as Xapian's OP_SYNONYM counts it).
void add_alt(Xapian::Database &db, const carnet_xalt &a, bool exact,
	     const std::vector<Xapian::docid> &rec, std::vector<Xapian::termcount> &wdf)
{
	size_t n = rec.size();
	if (a.count == 0)
		return;
	if (a.count == 1) {
		std::string word = a.words[0];
		std::vector<Xapian::termcount> w(n, 0);
		if (!exact) {
			thread_local Xapian::Stem fr("french"), en("english");
			std::string zfr = "Z" + fr(word), zen = "Z" + en(word);
			add_postings(db, zfr, rec, w);
			if (zen != zfr)
				add_postings(db, zen, rec, w);
		}
		if (exact || std::all_of(w.begin(), w.end(),
					 [](Xapian::termcount c) { return c == 0; }))
			add_postings(db, word, rec, w); // maybe indexed unstemmed only
		for (size_t i = 0; i < n; i++)
			wdf[i] += w[i];
		return;
	}
	// a phrase: the documents with every word, then their positions
	std::vector<std::vector<Xapian::termcount>> w(a.count, std::vector<Xapian::termcount>(n, 0));
	for (size_t k = 0; k < a.count; k++)
		add_postings(db, a.words[k], rec, w[k]);
	Xapian::termcount window = (Xapian::termcount)(exact ? a.count : a.count + 2);
	std::vector<std::vector<Xapian::termpos>> pos(a.count);
	for (size_t i = 0; i < n; i++) {
		Xapian::termcount least = w[0][i];
		for (size_t k = 1; k < a.count; k++)
			least = std::min(least, w[k][i]);
		if (least == 0)
			continue;
		for (size_t k = 0; k < a.count; k++)
			pos[k].assign(db.positionlist_begin(rec[i], a.words[k]),
				      db.positionlist_end(rec[i], a.words[k]));
		if (phrase_at(pos, window))
			wdf[i] += least;
	}
}

// BM25 of the words of rk over the record rec, with N, the document
// frequencies and the average length counted within rec: score[i] for
// rec[i], or -1 when it does not match the words; found[i], which alts
// rec[i] holds (bit k: the k-th alt of rk in clause order, k < 64).
void record_bm25(Xapian::Database &db, const carnet_xrank *rk,
		 const std::vector<Xapian::docid> &rec, std::vector<double> &score,
		 std::vector<uint64_t> &found)
{
	size_t n = rec.size();
	score.assign(n, 0.0);
	found.assign(n, 0);
	bool positive = false;
	for (size_t c = 0; c < rk->clauses_count; c++)
		positive |= rk->clauses[c].mode != CARNET_XMUST_NOT;
	if (n == 0 || rk->clauses_count == 0)
		return;
	// document lengths, along the all-documents list
	std::vector<Xapian::termcount> len(n, 0);
	unsigned long long total = 0;
	{
		Xapian::PostingIterator p = db.postlist_begin("");
		for (size_t i = 0; positive && i < n; i++) {
			p.skip_to(rec[i]);
			if (p == db.postlist_end("") || *p != rec[i])
				continue;
			len[i] = p.get_doclength();
			total += len[i];
		}
	}
	double avg = total ? (double)total / (double)n : 1.0;
	double k1 = rk->bm25_k1, b = rk->bm25_b;
	std::vector<unsigned char> must(n, 1), should(n, 0), excluded(n, 0);
	bool any_must = false;
	std::vector<Xapian::termcount> wdf(n), aw(n);
	for (size_t c = 0, bit = 0; c < rk->clauses_count; c++) {
		const carnet_xclause &cl = rk->clauses[c];
		std::fill(wdf.begin(), wdf.end(), 0);
		for (size_t a = 0; a < cl.alts_count; a++, bit++) {
			std::fill(aw.begin(), aw.end(), 0);
			add_alt(db, cl.alts[a], cl.exact != 0, rec, aw);
			for (size_t i = 0; i < n; i++) {
				wdf[i] += aw[i];
				if (aw[i] && bit < 64)
					found[i] |= (uint64_t)1 << bit;
			}
		}
		if (cl.mode == CARNET_XMUST_NOT) {
			for (size_t i = 0; i < n; i++)
				excluded[i] |= wdf[i] != 0;
			continue;
		}
		if (cl.mode == CARNET_XMUST)
			any_must = true;
		size_t df = 0;
		for (size_t i = 0; i < n; i++)
			df += wdf[i] != 0;
		// Xapian's BM25 idf, with its floor for terms in most documents
		double tw = ((double)n - (double)df + 0.5) / ((double)df + 0.5);
		if (tw < 2)
			tw = tw * 0.5 + 1;
		double idf = std::log(tw);
		for (size_t i = 0; i < n; i++) {
			if (wdf[i] == 0) {
				if (cl.mode == CARNET_XMUST)
					must[i] = 0;
				continue;
			}
			should[i] = 1;
			double norm = std::max((double)len[i] / avg, 0.5);
			double f = (double)wdf[i];
			score[i] += idf * (k1 + 1) * f / (k1 * ((1 - b) + b * norm) + f);
		}
	}
	for (size_t i = 0; i < n; i++) {
		bool match = !positive || (any_must ? must[i] != 0 : should[i] != 0);
		if (!match || excluded[i])
			score[i] = -1;
	}
}

// How many documents carnet_xap_reader_page reads along value streams
// rather than one by one (measured on the 100,000-document bench: the
// medians of searches with 1 to 7 hits are 3-6% lower than with streams,
// the pages of 20 hits 7% lower with them).
const size_t STREAM_FROM = 8;

// Which shard of r holds document did of r->db (0 when r has one
// database), and its docid there (*in).
size_t sub_of(const carnet_xreader *r, Xapian::docid did, Xapian::docid *in)
{
	if (r->shards.empty()) {
		*in = did;
		return 0;
	}
	Xapian::docid n = (Xapian::docid)r->shards.size();
	*in = (did - 1) / n + 1;
	return (size_t)((did - 1) % n);
}

// Shard k of r (sub_of's numbering).
Xapian::Database &shard_db(carnet_xreader *r, size_t k)
{
	return r->shards.empty() ? r->db : r->shards[k];
}

} // namespace

extern "C" {

// Record what each version file looks like now: 0 when none differs from
// what was recorded before, 1 when one does (or could not be read), 2 when
// a shard's directory was replaced (the database must be opened again, not
// reopened). Called BEFORE opening or reopening: what is recorded is never
// newer than what is open, so a commit in between is seen at the next
// search.
static int versions_changed(carnet_xreader *r)
{
	int changed = 0;
	for (version_seen &v : r->versions) {
		struct stat st, dir;
		if (stat(v.dir.c_str(), &dir) == 0 && dir.st_ino != v.dir_ino) {
			changed = v.dir_ino ? 2 : changed;
			v.dir_ino = dir.st_ino;
		}
		if (stat(v.path.c_str(), &st) != 0) {
			v.size = -1;
			changed = std::max(changed, 1);
			continue;
		}
		if (st.st_dev != v.dev || st.st_ino != v.ino || st.st_size != v.size ||
		    st.st_mtim.tv_sec != v.mtime.tv_sec || st.st_mtim.tv_nsec != v.mtime.tv_nsec)
			changed = std::max(changed, 1);
		v.dev = st.st_dev;
		v.ino = st.st_ino;
		v.size = st.st_size;
		v.mtime = st.st_mtim;
	}
	return changed;
}

// Open r->path and its shards (PATH.1, PATH.2, ...) searched as one.
static void open_shards(carnet_xreader *r)
{
	struct stat st;
	std::vector<std::string> shards{ r->path };
	for (unsigned k = 1;; k++) {
		std::string shard = shard_path(r->path, k);
		if (stat(shard.c_str(), &st) != 0)
			break;
		shards.push_back(shard);
	}
	for (const std::string &shard : shards) {
		r->versions.emplace_back();
		r->versions.back().dir = shard;
		r->versions.back().path = shard + "/iamglass";
	}
	versions_changed(r);
	if (shards.size() == 1) {
		r->db = Xapian::Database(r->path);
		return;
	}
	for (const std::string &shard : shards) {
		r->shards.emplace_back(shard);
		r->db.add_database(r->shards.back());
	}
	r->by_patient = r->shards[0].get_metadata(PLACEMENT_KEY) == "patient";
}

int carnet_xap_reader_open(carnet_xreader **out, const char *path,
			   carnet_error *err) CARNET_NOEXCEPT
{
	*out = nullptr;
	carnet_xreader *r = nullptr;
	try {
		r = new carnet_xreader;
		r->path = path;
		open_shards(r);
		r->opened = ++openings;
		int rc = check_format(r->db, nullptr, err);
		if (rc != CARNET_OK) {
			delete r;
			return rc;
		}
		*out = r;
		return CARNET_OK;
	} catch (...) {
		delete r;
		return classify(err);
	}
}

int carnet_xap_reader_reopen(carnet_xreader *r, carnet_error *err) CARNET_NOEXCEPT
{
	try {
		// nothing committed since the last (re)open: a stat per shard
		// instead of Xapian opening and reading each version file
		int changed = versions_changed(r);
		if (changed == 2) {
			// compacted: Xapian cannot follow a database whose files
			// were replaced, so it is opened anew
			carnet_xreader fresh;
			fresh.path = r->path;
			open_shards(&fresh);
			int rc = check_format(fresh.db, nullptr, err);
			if (rc == CARNET_OK) {
				std::swap(*r, fresh);
				r->opened = ++openings;
			}
			return rc;
		}
		if (changed) {
			r->db.reopen();
			r->opened = ++openings;
		}
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

unsigned long carnet_xap_reader_opened(const carnet_xreader *r) CARNET_NOEXCEPT
{
	return r->opened;
}

int carnet_xap_reader_replaced(carnet_xreader *r) CARNET_NOEXCEPT
{
	for (const version_seen &v : r->versions) {
		struct stat dir;
		if (stat(v.dir.c_str(), &dir) == 0 && dir.st_ino != v.dir_ino)
			return 1;
	}
	return 0;
}

int carnet_xap_reader_doccount(carnet_xreader *r, unsigned long *out,
			       carnet_error *err) CARNET_NOEXCEPT
{
	try {
		*out = r->db.get_doccount();
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_reader_get_metadata(carnet_xreader *r, const char *key, char **out,
				   carnet_error *err) CARNET_NOEXCEPT
{
	*out = nullptr;
	try {
		return string_out(r->db.get_metadata(key), out, nullptr, err, "reading metadata");
	} catch (...) {
		return classify(err);
	}
}

void carnet_xap_reader_free(carnet_xreader *r) CARNET_NOEXCEPT
{
	delete r; // destructors do not throw
}

int carnet_xap_reader_candidates(carnet_xreader *r, const carnet_xsearch *s,
				 const carnet_xrank *rk, carnet_xcand_cb cb,
				 void *payload, carnet_error *err) CARNET_NOEXCEPT
{
	try {
		if (s->must_count == 0)
			return fail(err, CARNET_E_INVALID,
				    "a search needs at least one filter term");
		// the record's shard alone when only one holds it: its docids
		// are then mapped to db's (see carnet_xreader)
		long k = record_shard(r, s);
		Xapian::Database &db = k < 0 ? r->db : r->shards[(size_t)k];
		Xapian::docid n = k < 0 ? 1 : (Xapian::docid)r->shards.size();
		Xapian::doccount all = r->db.get_doccount();
		Xapian::doccount cap = rk->max_candidates ? (Xapian::doccount)rk->max_candidates : all;
		if (cap > all)
			cap = all;
		// the record: what passes the filter; the words are weighed
		// against it alone, so that no other record changes its scores
		std::vector<Xapian::docid> rec = record_docs(db, s, cap);
		std::vector<double> text;
		std::vector<uint64_t> found;
		record_bm25(db, rk, rec, text, found);
		bool browse = true;
		for (size_t c = 0; c < rk->clauses_count; c++)
			browse &= rk->clauses[c].mode == CARNET_XMUST_NOT;
		// the rank values, read in docid order along the value stream
		// (much cheaper than one random get_value per document)
		Xapian::ValueIterator v = db.valuestream_begin(CARNET_SLOT_RANK);
		Xapian::ValueIterator vend = db.valuestream_end(CARNET_SLOT_RANK);
		std::string packed;
		for (size_t i = 0; i < rec.size(); i++) {
			if (text[i] < 0)
				continue;
			if (v != vend && v.get_docid() < rec[i])
				v.skip_to(rec[i]);
			// every document of this format has its rank value
			if (v != vend && v.get_docid() == rec[i])
				packed = *v;
			else
				packed.clear();
			Xapian::docid did = k < 0 ? rec[i] : (rec[i] - 1) * n + (Xapian::docid)k + 1;
			int rc = cb(did, browse ? 0.0 : text[i], found[i], packed.c_str(),
				    packed.size(), payload);
			if (rc)
				return rc;
		}
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_reader_data(carnet_xreader *r, unsigned docid, int slot, char **out,
			   size_t *len_out, carnet_error *err) CARNET_NOEXCEPT
{
	return carnet_xap_reader_fields(r, docid, &slot, 1, out, len_out, err);
}

int carnet_xap_reader_fields(carnet_xreader *r, unsigned docid, const int *slots, size_t n,
			     char **out, size_t *lens, carnet_error *err) CARNET_NOEXCEPT
{
	return carnet_xap_reader_page(r, &docid, 1, slots, n, out, lens, err);
}

int carnet_xap_reader_page(carnet_xreader *r, const unsigned *docids, size_t n, const int *slots,
			   size_t k, char **out, size_t *lens, carnet_error *err) CARNET_NOEXCEPT
{
	for (size_t i = 0; i < n * k; i++) {
		out[i] = nullptr;
		lens[i] = 0;
	}
	int rc = CARNET_OK;
	try {
		// in docid order within each shard, slot by slot; from
		// STREAM_FROM documents, along the slot's value stream: a stream
		// keeps the chunk it decoded (the values of neighbouring
		// documents, a record's most often), where get_value finds the
		// chunk from its first block again for every document (two
		// reads when it spans two blocks). Starting a stream reads the
		// slot's first chunk: not worth it for a few documents.
		std::vector<size_t> order(n);
		std::vector<Xapian::docid> sub(n);
		std::vector<size_t> shard(n);
		for (size_t i = 0; i < n; i++) {
			order[i] = i;
			shard[i] = sub_of(r, docids[i], &sub[i]);
		}
		std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
			return shard[a] != shard[b] ? shard[a] < shard[b] : sub[a] < sub[b];
		});
		// each document opened: NOTFOUND when it is gone
		std::vector<Xapian::Document> docs(n);
		for (size_t i : order)
			docs[i] = r->db.get_document(docids[i]);
		for (size_t j = 0; j < k && rc == CARNET_OK; j++) {
			Xapian::ValueIterator v, vend;
			size_t in = SIZE_MAX; // the shard v walks
			for (size_t o = 0; o < n && rc == CARNET_OK; o++) {
				size_t i = order[o];
				std::string value;
				if (slots[j] < 0) {
					value = docs[i].get_data();
				} else if (n < STREAM_FROM) {
					value = docs[i].get_value((Xapian::valueno)slots[j]);
				} else {
					if (shard[i] != in) {
						Xapian::Database &db = shard_db(r, shard[i]);
						v = db.valuestream_begin((Xapian::valueno)slots[j]);
						vend = db.valuestream_end((Xapian::valueno)slots[j]);
						in = shard[i];
					}
					if (v != vend && v.get_docid() < sub[i])
						v.skip_to(sub[i]);
					if (v != vend && v.get_docid() == sub[i])
						value = *v;
				}
				rc = string_out(value, &out[i * k + j], &lens[i * k + j], err,
						"reading a document");
			}
		}
	} catch (...) {
		rc = classify(err);
	}
	if (rc != CARNET_OK)
		for (size_t i = 0; i < n * k; i++) {
			std::free(out[i]);
			out[i] = nullptr;
		}
	return rc;
}

int carnet_xap_reader_vocabulary(carnet_xreader *r, const carnet_xsearch *s,
				 size_t max_docs,
				 int (*cb)(const char *term, size_t len,
					   unsigned docs, void *payload),
				 void *payload, carnet_error *err) CARNET_NOEXCEPT
{
	try {
		long k = record_shard(r, s);
		Xapian::Database &db = k < 0 ? r->db : r->shards[(size_t)k];
		Xapian::Enquire enq(db);
		enq.set_query(Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT,
					    record_filter(db, s), 0.0));
		enq.set_weighting_scheme(Xapian::BoolWeight());
		enq.set_docid_order(Xapian::Enquire::ASCENDING);
		Xapian::MSet ms = enq.get_mset(0, (Xapian::doccount)max_docs);
		std::unordered_map<std::string, unsigned> vocab;
		for (Xapian::MSetIterator it = ms.begin(); it != ms.end(); ++it) {
			Xapian::Document doc = it.get_document();
			for (Xapian::TermIterator t = doc.termlist_begin();
			     t != doc.termlist_end(); ++t) {
				const std::string &term = *t;
				// prefixed terms start with an upper-case letter
				if (term.empty() || (term[0] >= 'A' && term[0] <= 'Z'))
					continue;
				vocab[term]++;
			}
		}
		for (const auto &v : vocab) {
			int rc = cb(v.first.c_str(), v.first.size(), v.second, payload);
			if (rc)
				return rc;
		}
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

} // extern "C"

/* SPDX-License-Identifier: GPL-2.0-or-later */
// xapian_shim.cc - the C API over Xapian. The only file that includes
// <xapian.h>; every entry point catches every exception (see classify()).
#include "xapian_shim.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <sys/stat.h>

#include <xapian.h>

extern "C" {
#include "error.h"
#include "schema.h"
}

namespace {

const char FORMAT_KEY[] = "carnet.format";

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

Xapian::docid find_doc(Xapian::Database &db, const std::string &id_term)
{
	Xapian::PostingIterator p = db.postlist_begin(id_term);
	return p == db.postlist_end(id_term) ? 0 : *p;
}

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
// rec[i], or -1 when it does not match the words.
void record_bm25(Xapian::Database &db, const carnet_xrank *rk,
		 const std::vector<Xapian::docid> &rec, std::vector<double> &score)
{
	size_t n = rec.size();
	score.assign(n, 0.0);
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
	std::vector<Xapian::termcount> wdf(n);
	for (size_t c = 0; c < rk->clauses_count; c++) {
		const carnet_xclause &cl = rk->clauses[c];
		std::fill(wdf.begin(), wdf.end(), 0);
		for (size_t a = 0; a < cl.alts_count; a++)
			add_alt(db, cl.alts[a], cl.exact != 0, rec, wdf);
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


// A metadata value into a malloc'ed C string.
int metadata_out(const std::string &v, char **out, carnet_error *err)
{
	char *p = static_cast<char *>(std::malloc(v.size() + 1));
	if (!p)
		return fail(err, CARNET_E_NOMEM, "out of memory reading metadata");
	std::memcpy(p, v.data(), v.size());
	p[v.size()] = '\0';
	*out = p;
	return CARNET_OK;
}

} // namespace

// One shard of a writer: a database, and the work queued for it when the
// writer runs a thread per shard.
struct xshard {
	Xapian::WritableDatabase db;
	bool in_txn = false;
	std::deque<std::function<void(xshard &)>> queue;
	bool running = false;      // its thread is doing a task
	std::condition_variable work; // a task was queued, or stop
	std::thread thread;

	void begin()
	{
		if (!in_txn) {
			db.begin_transaction(true);
			in_txn = true;
		}
	}
};

// A writer over one database or several shards (PATH, PATH.1, ...). A
// document goes to the shard its id term hashes to, so that replacing and
// deleting by id find it. With threads on, documents are put and shards
// committed on one thread per shard; every other call first waits for that
// work to finish. The first error a shard thread meets is kept and
// returned by the next call.
struct carnet_xwriter {
	std::vector<std::unique_ptr<xshard>> shards;
	std::mutex mu;
	std::condition_variable done;   // a task finished, and someone waits
	int waiting = 0;                // threads waiting on done
	bool threaded = false;
	bool stop = false;
	int failed = CARNET_OK;         // first error of a shard thread
	carnet_error failed_err;
	static const size_t QUEUE_MAX = 4; // tasks waiting per shard

	xshard &shard_of(const char *id_term)
	{
		// FNV-1a: stable across runs and machines
		uint32_t h = 2166136261u;
		for (const char *c = id_term; *c; c++)
			h = (h ^ (unsigned char)*c) * 16777619u;
		return *shards[h % shards.size()];
	}

	void loop(xshard &s)
	{
		std::unique_lock<std::mutex> lock(mu);
		for (;;) {
			s.work.wait(lock, [&] { return stop || !s.queue.empty(); });
			if (s.queue.empty())
				return;
			std::function<void(xshard &)> task = std::move(s.queue.front());
			s.queue.pop_front();
			s.running = true;
			bool skip = failed != CARNET_OK; // commit nothing after a failure
			lock.unlock();
			carnet_error e;
			int rc = CARNET_OK;
			try {
				if (!skip)
					task(s);
				task = nullptr;
			} catch (...) {
				rc = classify(&e);
			}
			lock.lock();
			if (rc && !failed) {
				failed = rc;
				failed_err = e;
			}
			s.running = false;
			if (waiting)
				done.notify_all();
		}
	}

	// Run task on shard s: queued for its thread, or now.
	void run(xshard &s, std::function<void(xshard &)> task)
	{
		if (!threaded) {
			task(s);
			return;
		}
		std::unique_lock<std::mutex> lock(mu);
		waiting++;
		done.wait(lock, [&] { return s.queue.size() < QUEUE_MAX; });
		waiting--;
		s.queue.push_back(std::move(task));
		if (s.queue.size() == 1)
			s.work.notify_one();
	}

	// Wait until the shard threads are idle; then report their error.
	int drain(carnet_error *err)
	{
		std::unique_lock<std::mutex> lock(mu);
		waiting++;
		done.wait(lock, [&] {
			for (auto &s : shards)
				if (!s->queue.empty() || s->running)
					return false;
			return true;
		});
		waiting--;
		if (failed && err)
			*err = failed_err;
		return failed;
	}

	void start()
	{
		if (threaded || shards.size() < 2)
			return;
		stop = false;
		threaded = true;
		for (auto &s : shards) {
			xshard *sp = s.get();
			sp->thread = std::thread([this, sp] { loop(*sp); });
		}
	}

	void finish()
	{
		if (!threaded)
			return;
		{
			std::lock_guard<std::mutex> lock(mu);
			stop = true;
			for (auto &s : shards)
				s->work.notify_one();
		}
		for (auto &s : shards)
			if (s->thread.joinable())
				s->thread.join();
		threaded = false;
	}

	~carnet_xwriter() { finish(); }
};

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

struct carnet_xprepared {
	Xapian::Document doc;
};

struct carnet_xreader {
	Xapian::Database db;
};

struct carnet_xhit {
	double score;
	std::string data;
};

struct carnet_xhits {
	std::vector<carnet_xhit> hits;
	unsigned long total = 0;
};

extern "C" {

int carnet_xap_writer_open(carnet_xwriter **out, const char *path,
			   carnet_error *err) CARNET_NOEXCEPT
{
	return carnet_xap_writer_open_shards(out, path, 1, err);
}

int carnet_xap_writer_open_shards(carnet_xwriter **out, const char *path,
				  unsigned shards, carnet_error *err) CARNET_NOEXCEPT
{
	*out = nullptr;
	carnet_xwriter *w = nullptr;
	try {
		w = new carnet_xwriter;
		std::string base(path);
		struct stat st;
		// shards already there: PATH.1, PATH.2, ... with no gap
		unsigned have = 1;
		while (stat((base + "." + std::to_string(have)).c_str(), &st) == 0)
			have++;
		// a new database gets the shards asked for; PATH itself is made
		// last, so that a reader that finds it finds them all
		bool fresh = stat((base + "/iamglass").c_str(), &st) != 0;
		unsigned count = fresh && shards > have ? shards : have;
		if (count > 64)
			count = 64;
		for (unsigned k = 0; k < count; k++)
			w->shards.emplace_back(new xshard);
		for (unsigned k = count; k-- > 0;) {
			std::string p = k ? base + "." + std::to_string(k) : base;
			Xapian::WritableDatabase &db = w->shards[k]->db;
			db = Xapian::WritableDatabase(p, Xapian::DB_CREATE_OR_OPEN);
			int rc = check_format(db, &db, err);
			if (rc != CARNET_OK) {
				delete w;
				return rc;
			}
		}
		*out = w;
		return CARNET_OK;
	} catch (...) {
		delete w;
		return classify(err);
	}
}

int carnet_xap_writer_threads(carnet_xwriter *w, int on, carnet_error *err) CARNET_NOEXCEPT
{
	try {
		int rc = w->drain(err);
		if (on)
			w->start();
		else
			w->finish();
		return rc;
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_prepare(carnet_xprepared **out, const carnet_xdoc *d,
		       carnet_error *err) CARNET_NOEXCEPT
{
	return carnet_xap_prepare_until(out, d, nullptr, err);
}

// Length of the next piece of text[0..len) to index: all of it when
// short, else up to a space (the same words and positions as in one
// piece), else up to a character boundary.
static size_t text_piece(const char *text, size_t len)
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

int carnet_xap_prepare_until(carnet_xprepared **out, const carnet_xdoc *d, int (*stop)(void),
			     carnet_error *err) CARNET_NOEXCEPT
{
	*out = nullptr;
	carnet_xprepared *p = nullptr;
	try {
		// one term generator per thread, its stemmer kept between calls
		thread_local Xapian::TermGenerator tg;
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
			tg.set_stemmer(it->second);
			stem_name = lang;
		}
		p = new carnet_xprepared;
		tg.set_document(p->doc);
		tg.set_termpos(0);
		for (size_t i = 0; i < d->texts_count; i++) {
			const carnet_xtext &t = d->texts[i];
			for (size_t off = 0, n; off < t.len; off += n) {
				if (stop && stop()) {
					tg.set_document(Xapian::Document());
					delete p;
					return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET,
								 0, "stopped before its text was indexed");
				}
				n = text_piece(t.text + off, t.len - off);
				tg.index_text(std::string(t.text + off, n), t.weight ? t.weight : 1,
					      t.prefix ? t.prefix : "");
			}
			tg.increase_termpos(100); // no phrase across fields
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
		for (size_t i = 0; i < n; i++) {
			const carnet_xkey &k = keys[i];
			if (k.count < 2 || hits[i] || present[i] < needed[i] || needed[i] == 0)
				continue;
			// the words in order, with at most two others in between,
			// as the query side's phrases allow
			std::vector<std::vector<Xapian::termpos>> pos(k.count);
			for (size_t w = 0; w < k.count; w++) {
				Xapian::TermIterator t = p->doc.termlist_begin();
				t.skip_to(k.words[w]);
				for (Xapian::PositionIterator q = t.positionlist_begin();
				     q != t.positionlist_end(); ++q)
					pos[w].push_back(*q);
			}
			Xapian::termpos window = (Xapian::termpos)k.count + 2;
			for (Xapian::termpos start : pos[0]) {
				Xapian::termpos at = start;
				bool ok = true;
				for (size_t w = 1; ok && w < k.count; w++) {
					auto next = std::upper_bound(pos[w].begin(), pos[w].end(), at);
					ok = next != pos[w].end() && *next < start + window;
					if (ok)
						at = *next;
				}
				if (ok) {
					hits[i] = 1;
					break;
				}
			}
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
	try {
		delete p;
	} catch (...) {
	}
}

int carnet_xap_writer_put_prepared(carnet_xwriter *w, const char *id_term,
				   carnet_xprepared *p, carnet_error *err) CARNET_NOEXCEPT
{
	try {
		if (w->threaded) {
			int rc;
			{
				std::lock_guard<std::mutex> lock(w->mu);
				rc = w->failed;
				if (rc && err)
					*err = w->failed_err;
			}
			if (rc) {
				delete p;
				return rc;
			}
		}
		std::shared_ptr<carnet_xprepared> doc(p);
		std::string term(id_term);
		w->run(w->shard_of(id_term), [doc, term](xshard &s) {
			s.begin();
			s.db.replace_document(term, doc->doc);
		});
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_writer_put(carnet_xwriter *w, const carnet_xdoc *d,
			  carnet_error *err) CARNET_NOEXCEPT
{
	carnet_xprepared *p;
	int rc = carnet_xap_prepare(&p, d, err);
	return rc ? rc : carnet_xap_writer_put_prepared(w, d->id_term, p, err);
}

int carnet_xap_writer_delete(carnet_xwriter *w, const char *id_term,
			     carnet_error *err) CARNET_NOEXCEPT
{
	try {
		int rc = w->drain(err);
		if (rc)
			return rc;
		xshard &s = w->shard_of(id_term);
		s.begin();
		s.db.delete_document(id_term);
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_writer_set_term(carnet_xwriter *w, const char *id_term,
			       const char *term, int on,
			       carnet_error *err) CARNET_NOEXCEPT
{
	try {
		int rc = w->drain(err);
		if (rc)
			return rc;
		xshard &s = w->shard_of(id_term);
		Xapian::docid did = find_doc(s.db, id_term);
		if (!did)
			return carnet_error__set(err, CARNET_E_NOTFOUND,
						 CARNET_ORIGIN_CARNET, 0,
						 "no document with term %s",
						 id_term);
		Xapian::Document doc = s.db.get_document(did);
		Xapian::TermIterator t = doc.termlist_begin();
		t.skip_to(term);
		bool has = t != doc.termlist_end() && *t == term;
		if (has == (on != 0))
			return CARNET_OK;
		if (on)
			doc.add_boolean_term(term);
		else
			doc.remove_term(term);
		s.begin();
		s.db.replace_document(did, doc);
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_writer_set_metadata(carnet_xwriter *w, const char *key,
				   const char *value, carnet_error *err) CARNET_NOEXCEPT
{
	try {
		int rc = w->drain(err);
		if (rc)
			return rc;
		for (auto &s : w->shards) {
			s->begin();
			s->db.set_metadata(key, value);
		}
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_writer_get_metadata(carnet_xwriter *w, const char *key, char **out,
				   carnet_error *err) CARNET_NOEXCEPT
{
	*out = nullptr;
	try {
		// every shard holds the same metadata (set_metadata writes all)
		int rc = w->drain(err);
		if (rc)
			return rc;
		return metadata_out(w->shards[0]->db.get_metadata(key), out, err);
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_reader_get_metadata(carnet_xreader *r, const char *key, char **out,
				   carnet_error *err) CARNET_NOEXCEPT
{
	*out = nullptr;
	try {
		return metadata_out(r->db.get_metadata(key), out, err);
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_writer_commit(carnet_xwriter *w, carnet_error *err) CARNET_NOEXCEPT
{
	try {
		// every shard, in parallel when threaded; a crash between two
		// shard commits leaves documents the registry does not know,
		// which the next writer's recovery removes
		for (auto &s : w->shards)
			w->run(*s, [](xshard &sh) {
				if (sh.in_txn) {
					sh.in_txn = false;
					sh.db.commit_transaction();
				} else {
					sh.db.commit();
				}
			});
		return w->drain(err);
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_writer_each_term(carnet_xwriter *w, const char *prefix,
				int (*cb)(const char *term, size_t len, void *payload),
				void *payload, carnet_error *err) CARNET_NOEXCEPT
{
	try {
		int rc = w->drain(err);
		if (rc)
			return rc;
		// collect first: the callback may change the database
		std::vector<std::string> terms;
		for (auto &s : w->shards)
			for (Xapian::TermIterator t = s->db.allterms_begin(prefix);
			     t != s->db.allterms_end(prefix); ++t)
				terms.push_back(*t);
		if (w->shards.size() > 1) {
			std::sort(terms.begin(), terms.end());
			terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
		}
		for (const std::string &t : terms) {
			rc = cb(t.c_str(), t.size(), payload);
			if (rc)
				return rc;
		}
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_writer_doccount(carnet_xwriter *w, unsigned long *out,
			       carnet_error *err) CARNET_NOEXCEPT
{
	try {
		int rc = w->drain(err);
		if (rc)
			return rc;
		unsigned long n = 0;
		for (auto &s : w->shards)
			n += s->db.get_doccount();
		*out = n;
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

void carnet_xap_writer_free(carnet_xwriter *w) CARNET_NOEXCEPT
{
	if (!w)
		return;
	try {
		w->drain(nullptr);
		w->finish();
	} catch (...) {
	}
	for (auto &s : w->shards) {
		try {
			if (s->in_txn)
				s->db.cancel_transaction();
			s->db.close();
		} catch (...) {
			// nothing useful to report from a destructor-like call
		}
	}
	try {
		delete w;
	} catch (...) {
	}
}

int carnet_xap_reader_open(carnet_xreader **out, const char *path,
			   carnet_error *err) CARNET_NOEXCEPT
{
	*out = nullptr;
	carnet_xreader *r = nullptr;
	try {
		r = new carnet_xreader;
		r->db = Xapian::Database(path);
		// a sharded index: PATH.1, PATH.2, ... searched as one
		struct stat st;
		for (unsigned k = 1;; k++) {
			std::string shard = std::string(path) + "." + std::to_string(k);
			if (stat(shard.c_str(), &st) != 0)
				break;
			r->db.add_database(Xapian::Database(shard));
		}
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
		r->db.reopen();
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
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

int carnet_xap_reader_search(carnet_xreader *r, const carnet_xsearch *s,
			     carnet_xhits **out, carnet_error *err) CARNET_NOEXCEPT
{
	*out = nullptr;
	carnet_xhits *h = nullptr;
	try {
		if (s->must_count == 0)
			return fail(err, CARNET_E_INVALID,
				    "a search needs at least one filter term");
		Xapian::Query filter = record_filter(r->db, s);

		bool browse = !s->words || !*s->words;
		Xapian::Query query;
		if (browse) {
			query = Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, filter, 0.0);
		} else {
			Xapian::QueryParser qp;
			qp.set_database(r->db);
			qp.set_stemmer(Xapian::Stem(s->stem_language ? s->stem_language : "none"));
			qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
			qp.set_default_op(Xapian::Query::OP_OR);
			// No boolean operators, no prefixes, no wildcards: words,
			// "phrases" and +/- only.
			unsigned flags = Xapian::QueryParser::FLAG_PHRASE |
					 Xapian::QueryParser::FLAG_LOVEHATE |
					 Xapian::QueryParser::FLAG_PURE_NOT;
			Xapian::Query words = qp.parse_query(s->words, flags);
			if (words.empty()) {
				h = new carnet_xhits;
				*out = h;
				return CARNET_OK;
			}
			query = Xapian::Query(Xapian::Query::OP_FILTER, words, filter);
		}

		Xapian::Enquire enq(r->db);
		enq.set_query(query);
		Xapian::MultiValueKeyMaker keys;
		keys.add_value(CARNET_SLOT_DATE, true); // newest first
		keys.add_value(CARNET_SLOT_ID);         // then id
		if (browse)
			enq.set_sort_by_key(&keys, false);
		else
			enq.set_sort_by_relevance_then_key(&keys, false);

		Xapian::MSet ms = enq.get_mset(s->offset, s->limit, s->offset + s->limit);
		h = new carnet_xhits;
		h->total = ms.get_matches_estimated();
		double top = browse ? 0.0 : ms.get_max_attained();
		h->hits.reserve(ms.size());
		for (Xapian::MSetIterator it = ms.begin(); it != ms.end(); ++it) {
			carnet_xhit hit;
			hit.score = top > 0 ? it.get_weight() / top : 0.0;
			hit.data = it.get_document().get_data();
			h->hits.push_back(std::move(hit));
		}
		*out = h;
		return CARNET_OK;
	} catch (...) {
		delete h;
		return classify(err);
	}
}

void carnet_xap_reader_free(carnet_xreader *r) CARNET_NOEXCEPT
{
	try {
		delete r;
	} catch (...) {
	}
}

int carnet_xap_reader_candidates(carnet_xreader *r, const carnet_xsearch *s,
				 const carnet_xrank *rk, carnet_xcand_cb cb,
				 void *payload, carnet_error *err) CARNET_NOEXCEPT
{
	try {
		if (s->must_count == 0)
			return fail(err, CARNET_E_INVALID,
				    "a search needs at least one filter term");
		Xapian::doccount all = r->db.get_doccount();
		Xapian::doccount cap = rk->max_candidates ? (Xapian::doccount)rk->max_candidates : all;
		if (cap > all)
			cap = all;
		// the record: what passes the filter; the words are weighed
		// against it alone, so that no other record changes its scores
		std::vector<Xapian::docid> rec = match_all(r->db, record_filter(r->db, s), cap);
		std::vector<double> text;
		record_bm25(r->db, rk, rec, text);
		bool browse = true;
		for (size_t c = 0; c < rk->clauses_count; c++)
			browse &= rk->clauses[c].mode == CARNET_XMUST_NOT;
		// the rank values, read in docid order along the value stream
		// (much cheaper than one random get_value per document)
		Xapian::ValueIterator v = r->db.valuestream_begin(CARNET_SLOT_RANK);
		Xapian::ValueIterator vend = r->db.valuestream_end(CARNET_SLOT_RANK);
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
			int rc = cb(rec[i], browse ? 0.0 : text[i], packed.c_str(), packed.size(),
				    payload);
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
	*out = nullptr;
	*len_out = 0;
	try {
		Xapian::Document doc = r->db.get_document(docid);
		std::string data = slot < 0 ? doc.get_data() : doc.get_value((Xapian::valueno)slot);
		char *p = static_cast<char *>(std::malloc(data.size() + 1));
		if (!p)
			return fail(err, CARNET_E_NOMEM, "out of memory reading a document");
		std::memcpy(p, data.data(), data.size());
		p[data.size()] = '\0';
		*out = p;
		*len_out = data.size();
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_reader_vocabulary(carnet_xreader *r, const carnet_xsearch *s,
				 size_t max_docs,
				 int (*cb)(const char *term, size_t len,
					   unsigned docs, void *payload),
				 void *payload, carnet_error *err) CARNET_NOEXCEPT
{
	try {
		Xapian::Enquire enq(r->db);
		enq.set_query(Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT,
					    record_filter(r->db, s), 0.0));
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

int carnet_xap_words(const char *text, size_t len,
		     int (*cb)(const char *word, size_t len, void *payload),
		     void *payload, carnet_error *err) CARNET_NOEXCEPT
{
	try {
		// the indexer's own tokenizer, so that queries split words
		// exactly as documents were split
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

size_t carnet_xap_hits_count(const carnet_xhits *h) CARNET_NOEXCEPT
{
	return h ? h->hits.size() : 0;
}

unsigned long carnet_xap_hits_total(const carnet_xhits *h) CARNET_NOEXCEPT
{
	return h ? h->total : 0;
}

double carnet_xap_hits_score(const carnet_xhits *h, size_t i) CARNET_NOEXCEPT
{
	return h && i < h->hits.size() ? h->hits[i].score : 0.0;
}

const char *carnet_xap_hits_data(const carnet_xhits *h, size_t i,
				 size_t *len_out) CARNET_NOEXCEPT
{
	if (!h || i >= h->hits.size()) {
		if (len_out)
			*len_out = 0;
		return nullptr;
	}
	if (len_out)
		*len_out = h->hits[i].data.size();
	return h->hits[i].data.c_str();
}

void carnet_xap_hits_free(carnet_xhits *h) CARNET_NOEXCEPT
{
	delete h;
}

} // extern "C"

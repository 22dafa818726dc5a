/* SPDX-License-Identifier: GPL-2.0-or-later */
// xapian_writer.cc - the writer: one database or several shards, documents
// put, replaced and deleted by id term, metadata, and the commit, on one
// thread per shard when asked.
#include "xapian_common.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <cstdio>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

extern "C" {
#include "util.h"
}

using namespace carnet_xap;

namespace {

// Where carnet_xap_compact writes a shard's compacted copy (PATH.compact,
// PATH.1.compact...: not a shard's name).
const char COMPACT_SUFFIX[] = ".compact";

Xapian::docid find_doc(Xapian::Database &db, const std::string &id_term)
{
	Xapian::PostingIterator p = db.postlist_begin(id_term);
	return p == db.postlist_end(id_term) ? 0 : *p;
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
// document goes to the shard its patient hashes to, so that a record is
// searched in one shard (the reader looks only in the shards that hold the
// patient); replacing, deleting and marking by id look in every shard,
// which also serves indexes whose shards were chosen by id. With threads
// on, documents are put and shards committed on one thread per shard;
// every other call first waits for that work to finish. The first error
// a shard thread meets is kept and returned by the next call.
struct carnet_xwriter {
	std::vector<std::unique_ptr<xshard>> shards;
	std::mutex mu;
	std::condition_variable done;   // a task finished, and someone waits
	int waiting = 0;                // threads waiting on done
	bool threaded = false;
	bool stop = false;
	int failed = CARNET_OK;         // first error of a shard thread
	carnet_error failed_err;
	// Tasks waiting per shard. A record arrives whole at its shard, so
	// while one shard works through a large record the writer queues
	// ahead for it and the other shard and the extraction threads go
	// on: 4 left the writer waiting, 16 took 7% off a --jobs 2 run of
	// 20,000 documents (64 no more), with the same peak memory (the
	// extraction ring, writer_pool.c, bounds what is prepared ahead).
	static const size_t QUEUE_MAX = 16;

	xshard &shard_of(const char *key)
	{
		// stable across runs and machines: the index keeps what it decides
		return *shards[carnet__hash_str(key) % shards.size()];
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

namespace {

// The exception boundary of the writer's calls that act once the shard
// threads are idle: their first error, if any, else what f returns.
template <typename F> int drained(carnet_xwriter *w, carnet_error *err, F f)
{
	try {
		int rc = w->drain(err);
		return rc ? rc : f();
	} catch (...) {
		return classify(err);
	}
}

} // namespace

extern "C" {

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
		while (stat(shard_path(base, have).c_str(), &st) == 0)
			have++;
		// a new database gets the shards asked for; PATH itself is made
		// last, so that a reader that finds it finds them all
		bool fresh = stat((base + "/iamglass").c_str(), &st) != 0;
		unsigned count = fresh && shards > have ? shards : have;
		if (count > CARNET_SHARDS_MAX)
			count = CARNET_SHARDS_MAX;
		for (unsigned k = 0; k < count; k++) // a compaction's crash left
			std::filesystem::remove_all(shard_path(base, k) + COMPACT_SUFFIX);
		for (unsigned k = 0; k < count; k++)
			w->shards.emplace_back(std::make_unique<xshard>());
		for (unsigned k = count; k-- > 0;) {
			Xapian::WritableDatabase &db = w->shards[k]->db;
			db = Xapian::WritableDatabase(shard_path(base, k), Xapian::DB_CREATE_OR_OPEN);
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

int carnet_xap_writer_put_prepared(carnet_xwriter *w, const char *id_term,
				   const char *shard_key, int elsewhere,
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
		xshard &home = w->shard_of(shard_key);
		// a document indexed before may be in another shard: its record
		// changed, or the shards were chosen by id
		for (auto &o : w->shards)
			if (o.get() != &home && elsewhere)
				w->run(*o, [term](xshard &s) {
					s.begin();
					s.db.delete_document(term);
				});
		w->run(home, [doc, term](xshard &s) {
			s.begin();
			s.db.replace_document(term, doc->doc);
		});
		return CARNET_OK;
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_writer_delete(carnet_xwriter *w, const char *id_term,
			     carnet_error *err) CARNET_NOEXCEPT
{
	return drained(w, err, [&] {
		for (auto &s : w->shards) {
			s->begin();
			s->db.delete_document(id_term);
		}
		return CARNET_OK;
	});
}

int carnet_xap_writer_set_term(carnet_xwriter *w, const char *id_term,
			       const char *term, int on,
			       carnet_error *err) CARNET_NOEXCEPT
{
	return drained(w, err, [&] {
		Xapian::docid did = 0;
		size_t k = 0;
		while (k < w->shards.size() && !(did = find_doc(w->shards[k]->db, id_term)))
			k++;
		if (!did)
			return carnet_error__set(err, CARNET_E_NOTFOUND,
						 CARNET_ORIGIN_CARNET, 0,
						 "no document with term %s",
						 id_term);
		xshard &s = *w->shards[k];
		Xapian::Document doc = s.db.get_document(did);
		Xapian::TermIterator t = doc.termlist_begin();
		t.skip_to(term);
		bool has = t != doc.termlist_end() && *t == term;
		if (has == (on != 0))
			return (int)CARNET_OK;
		if (on)
			doc.add_boolean_term(term);
		else
			doc.remove_term(term);
		s.begin();
		s.db.replace_document(did, doc);
		return (int)CARNET_OK;
	});
}

int carnet_xap_writer_set_metadata(carnet_xwriter *w, const char *key,
				   const char *value, carnet_error *err) CARNET_NOEXCEPT
{
	return drained(w, err, [&] {
		for (auto &s : w->shards) {
			s->begin();
			s->db.set_metadata(key, value);
		}
		return CARNET_OK;
	});
}

int carnet_xap_writer_get_metadata(carnet_xwriter *w, const char *key, char **out,
				   carnet_error *err) CARNET_NOEXCEPT
{
	*out = nullptr;
	// every shard holds the same metadata (set_metadata writes all)
	return drained(w, err, [&] {
		return string_out(w->shards[0]->db.get_metadata(key), out, nullptr, err,
				  "reading metadata");
	});
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
		int rc = w->drain(err);
#ifdef __GLIBC__
		// the batch's memory, freed on threads other than those that
		// allocated it, back to the system: without this the writer's
		// peak grew by a quarter (the arenas of the extraction and
		// shard threads each keeping what it once held). carnet-index
		// allocates with jemalloc, whose one arena does this itself
		// (indexer/carnet-index-alloc.c); this is for programs that
		// link the library with glibc's allocator
		malloc_trim(0);
#endif
		return rc;
	} catch (...) {
		return classify(err);
	}
}

int carnet_xap_writer_each_term(carnet_xwriter *w, const char *prefix,
				int (*cb)(const char *term, size_t len, void *payload),
				void *payload, carnet_error *err) CARNET_NOEXCEPT
{
	return drained(w, err, [&] {
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
			int rc = cb(t.c_str(), t.size(), payload);
			if (rc)
				return rc;
		}
		return (int)CARNET_OK;
	});
}

int carnet_xap_compact(const char *path, carnet_error *err) CARNET_NOEXCEPT
{
	try {
		std::string base(path);
		std::vector<std::string> shards, tmp;
		struct stat st;
		for (unsigned k = 0; stat(shard_path(base, k).c_str(), &st) == 0; k++) {
			shards.push_back(shard_path(base, k));
			tmp.push_back(shards.back() + COMPACT_SUFFIX);
			std::filesystem::remove_all(tmp.back()); // left by a crash
		}
		// each shard into a copy beside it, the shards in parallel
		std::vector<std::exception_ptr> failed(shards.size());
		std::vector<std::thread> threads;
		for (size_t k = 0; k < shards.size(); k++)
			threads.emplace_back([&, k] {
				try {
					Xapian::Database(shards[k]).compact(tmp[k]);
				} catch (...) {
					failed[k] = std::current_exception();
				}
			});
		for (std::thread &t : threads)
			t.join();
		for (std::exception_ptr &f : failed)
			if (f)
				std::rethrow_exception(f);
		// each copy takes its shard's place at once: whoever opens the
		// database finds old or compacted shards, holding the same
		// documents (a reader that has it open sees the directory
		// changed and opens it again)
		for (size_t k = 0; k < shards.size(); k++)
			if (renameat2(AT_FDCWD, tmp[k].c_str(), AT_FDCWD, shards[k].c_str(),
				      RENAME_EXCHANGE) != 0)
				return carnet_error__set(err, CARNET_E_IO, CARNET_ORIGIN_OS, errno,
							 "cannot put the compacted %s in place: %s",
							 shards[k].c_str(), strerror(errno));
		std::string parent = base.substr(0, base.find_last_of('/') + 1);
		int fd = open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY);
		if (fd >= 0) {
			fsync(fd); // the exchanges, durable
			close(fd);
		}
		// a search that began before an exchange and opens one of the
		// old shard's tables now (Xapian opens some only when first
		// needed) would find it gone: it is made again
		// (carnet_xap_reader_replaced)
		for (const std::string &old : tmp)
			std::filesystem::remove_all(old);
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

} // extern "C"

/* SPDX-License-Identifier: GPL-2.0-or-later */
// xapian_plain.cc - the plain Xapian baseline: Xapian alone, called
// directly, with no extraction, registry or policy. Indexes corpus.tsv
// (texts folded by carnet_text__fold, carnet's French stemmer, positions, a commit
// every 10,000 documents, one thread) and runs the query workload with
// BM25 and the patient term as the only filter.
// usage: xapian_plain index DIR TSV | xapian_plain query DIR QUERIES
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include <xapian.h>

#include "xapian_common.h" // the stemmer carnet indexes with

extern "C" {
#include "benchutil.h"
#include "buf.h"
#include "text.h"
}

namespace {

// This index's own value slots (it is not a carnet index).
const Xapian::valueno SLOT_DATE = 0, SLOT_ID = 1;

[[noreturn]] void fail(const char *what, const char *message)
{
	std::fprintf(stderr, "xapian_plain: %s: %s\n", what, message);
	std::exit(1);
}

// Text folded as carnet folds it, for the index and the queries alike.
std::string fold(const char *text)
{
	carnet_buf b = CARNET_BUF_INIT;
	carnet_error err;
	if (carnet_text__fold(&b, text, std::strlen(text), &err) != CARNET_OK)
		fail("fold", err.message);
	std::string s(b.data ? b.data : "", b.len);
	carnet_buf__free(&b);
	return s;
}

int cmd_index(const char *path, const char *tsv)
{
	Xapian::WritableDatabase db(path, Xapian::DB_CREATE_OR_OPEN);
	FILE *f = std::fopen(tsv, "r");
	if (!f) {
		std::perror(tsv);
		return 1;
	}
	Xapian::TermGenerator tg;
	tg.set_stemmer(Xapian::Stem(new carnet_xap::CachedStem("french")));
	char *line = nullptr;
	size_t cap = 0;
	ssize_t len;
	long rows = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		// patient, id, type, specialty, date, title, text
		char *c[7];
		int k = 0;
		c[k++] = line;
		for (char *p = line; *p && k < 7; p++)
			if (*p == '\t') {
				*p = '\0';
				c[k++] = p + 1;
			}
		if (k != 7)
			continue;
		Xapian::Document doc;
		tg.set_document(doc);
		tg.set_termpos(0);
		tg.index_text(fold(c[5]), 2); // the title, weighted
		tg.increase_termpos(100);     // no phrase across fields
		tg.index_text(fold(c[6]), 1);
		std::string id_term = std::string(CARNET_PREFIX_ID) + c[1];
		doc.add_boolean_term(id_term);
		doc.add_boolean_term(std::string(CARNET_PREFIX_PATIENT) + c[0]);
		doc.add_boolean_term(std::string(CARNET_PREFIX_TYPE) + c[2]);
		doc.add_boolean_term(std::string(CARNET_PREFIX_SPECIALTY) + c[3]);
		char ymd[9];
		std::snprintf(ymd, sizeof ymd, "%.4s%.2s%.2s", c[4], c[4] + 5, c[4] + 8);
		doc.add_value(SLOT_DATE, ymd);
		doc.add_value(SLOT_ID, c[1]);
		doc.set_data(c[1]);
		db.replace_document(id_term, doc);
		if (++rows % 10000 == 0)
			db.commit();
	}
	db.commit();
	unsigned long count = db.get_doccount();
	std::free(line);
	std::fclose(f);
	std::printf("rows=%ld count=%lu\n", rows, count);
	return (long)count == rows ? 0 : 1;
}

int cmd_query(const char *path, const char *qpath)
{
	size_t nq;
	bench_query *qs = bench_load_queries(qpath, &nq);
	Xapian::Database db(path);
	Xapian::QueryParser qp;
	qp.set_database(db);
	qp.set_stemmer(Xapian::Stem("french"));
	qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
	qp.set_default_op(Xapian::Query::OP_OR);
	// words, "phrases" and +/- only
	unsigned flags = Xapian::QueryParser::FLAG_PHRASE | Xapian::QueryParser::FLAG_LOVEHATE |
			 Xapian::QueryParser::FLAG_PURE_NOT;
	Xapian::MultiValueKeyMaker keys;
	keys.add_value(SLOT_DATE, true); // newest first
	keys.add_value(SLOT_ID);         // then id
	bench_stats st[3] = {};
	for (size_t i = 0; i < nq; i++) {
		const bench_query *q = &qs[i];
		int k = bench_kind(q->kind);
		double t0 = bench_now_ms();
		Xapian::Query patient(std::string(CARNET_PREFIX_PATIENT) + q->patient);
		Xapian::Enquire enq(db);
		size_t hits = 0;
		if (k == 0) {
			enq.set_query(Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, patient, 0.0));
			enq.set_sort_by_key(&keys, false);
			hits = enq.get_mset(0, 20, 20).size();
		} else {
			Xapian::Query words = qp.parse_query(fold(q->words), flags);
			if (!words.empty()) {
				enq.set_query(Xapian::Query(Xapian::Query::OP_FILTER, words, patient));
				enq.set_sort_by_relevance_then_key(&keys, false);
				hits = enq.get_mset(0, 20, 20).size();
			}
		}
		bench_stats_add(&st[k], bench_now_ms() - t0, hits);
	}
	for (int k = 0; k < 3; k++)
		bench_stats_print(&st[k], "xapian", bench_kinds[k]);
	std::free(qs);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	try {
		if (argc == 4 && std::strcmp(argv[1], "index") == 0)
			return cmd_index(argv[2], argv[3]);
		if (argc == 4 && std::strcmp(argv[1], "query") == 0)
			return cmd_query(argv[2], argv[3]);
	} catch (const Xapian::Error &e) {
		fail(argv[2], e.get_description().c_str());
	} catch (const std::exception &e) {
		fail(argv[2], e.what());
	}
	std::fputs("usage: xapian_plain index DIR TSV | xapian_plain query DIR QUERIES\n", stderr);
	return 2;
}

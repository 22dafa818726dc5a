# SPDX-License-Identifier: GPL-2.0-or-later
# bench.mk - make bench: the benchmark programs and their run (bench/bench.sh).
#   make bench                  BENCH_N=5000 documents (about 6 minutes on 2 cores)
#   make bench BENCH_N=100000   larger runs; BENCH_PEERS=1 adds omindex and recoll (installing xapian-omega and recollcmd if missing)
#   make bench BENCH_N=1000000  BENCH_MODE=big (the default above 200,000 documents): only carnet add
#                               --jobs 2 and SQLite FTS5 are indexed, then the queries run (carnet in
#                               process, FTS5, carnet-query and an FTS5 query as processes); add
#                               BENCH_STEPS="add1 xapian ..." or BENCH_PEERS=1 for more.
#                               About 60 GB of disk with the peers, 25 GB without.
# BENCH_MODE=full (the default up to 200,000) indexes with add and sync at --jobs 1 and 2, FTS5
# and plain Xapian (BENCH_STEPS, default "add1 add2 sync1 sync2 fts5 xapian"; add2 and fts5 always).
# BENCH_REPEAT=R runs each indexing step and query round R times and reports medians
# (default 3 up to 20,000 documents, 1 above). BENCH_COMPACT=1 also sizes the databases after
# xapian-compact (default in full mode). BENCH_TARGET_P99_W1, _P99_W3 (ms), _PROCESS (ms) and
# _RSS (MB) set the targets of the rows that have none by default.
# BENCH_SERVE=0 leaves out the service's load (carnet-serve over HTTPS on loopback, driven by
# bench/serveload at 1, 4 and 16 clients, each run at most BENCH_SERVE_SECONDS, default 60;
# and its baseline, the same queries in process on 4 threads at once).
# Work files go to BENCH_DIR (default $(BUILD)/bench-work), recreated per run; with BENCH_KEEP=1
# a corpus already there for the same N, seed and generator is reused (and kept).
# The table is printed and written to bench/RESULTS.md.
#   make profile                PROFILE_N=2000 documents: where the instructions go (valgrind's
#                               callgrind: counts that do not move with the machine's load), for
#                               carnet add --jobs 1 and plain Xapian over the same text, and for
#                               the word queries; a report in $(BUILD)/profile-work/profile.md.

BENCH_PROGS := gencorpus fts5 xapian_plain query benchrun
BENCH_BINS := $(BENCH_PROGS:%=$(BUILD)/bench/%)
BENCH_N ?= 5000
BENCH_DIR ?= $(BUILD)/bench-work
BENCH_PEERS ?= 0
BENCH_MODE ?=
BENCH_STEPS ?=
BENCH_REPEAT ?=
BENCH_KEEP ?= 0
BENCH_COMPACT ?=
BENCH_SERVE ?= 1
BENCH_SERVE_SECONDS ?= 60

$(BENCH_BINS): $(BUILD)/bench/%: $(BUILD)/bench/%.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS) -lm

# the service's load client: libcurl and threads, nothing of carnet
$(BUILD)/bench/serveload.o: EXTRA_INC := $(CURL_CFLAGS)
$(BUILD)/bench/serveload: $(BUILD)/bench/serveload.o
	$(SAY) LD $@
	$(Q)$(CC) $(FINAL_LDFLAGS) -pthread -o $@ $^ $(CURL_LIBS)

# built by make check too, so that they keep compiling
bench-progs: $(BENCH_BINS) $(BUILD)/bench/serveload

bench: all $(BENCH_BINS) $(BUILD)/bench/serveload $(BUILD)/carnet-demo-token
	@BUILD=$(BUILD) BENCH_N=$(BENCH_N) BENCH_DIR=$(BENCH_DIR) BENCH_PEERS=$(BENCH_PEERS) \
	  BENCH_MODE=$(BENCH_MODE) BENCH_STEPS="$(BENCH_STEPS)" BENCH_REPEAT=$(BENCH_REPEAT) \
	  BENCH_KEEP=$(BENCH_KEEP) BENCH_COMPACT=$(BENCH_COMPACT) BENCH_SERVE=$(BENCH_SERVE) \
	  BENCH_SERVE_SECONDS=$(BENCH_SERVE_SECONDS) sh bench/bench.sh

PROFILE_N ?= 2000

profile: all $(BENCH_BINS)
	@BUILD=$(BUILD) PROFILE_N=$(PROFILE_N) sh bench/profile.sh

.PHONY: bench bench-progs profile

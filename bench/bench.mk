# SPDX-License-Identifier: GPL-2.0-or-later
# bench.mk - make bench: the benchmark programs and their run (bench/bench.sh).
#   make bench                  BENCH_N=5000 documents (a few minutes on 2 cores)
#   make bench BENCH_N=100000   larger runs; BENCH_PEERS=1 adds omindex and recoll (installing xapian-omega and recollcmd if missing)
# Work files go to BENCH_DIR (default $(BUILD)/bench-work), recreated per run;
# the table is printed and written to bench/RESULTS.md.

BENCH_PROGS := gencorpus fts5 xapian_plain query benchrun
BENCH_BINS := $(BENCH_PROGS:%=$(BUILD)/bench/%)
BENCH_N ?= 5000
BENCH_DIR ?= $(BUILD)/bench-work
BENCH_PEERS ?= 0

$(BENCH_BINS): $(BUILD)/bench/%: $(BUILD)/bench/%.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS) -lm

# built by make check too, so that they keep compiling
bench-progs: $(BENCH_BINS)

bench: all $(BENCH_BINS)
	@BUILD=$(BUILD) BENCH_N=$(BENCH_N) BENCH_DIR=$(BENCH_DIR) BENCH_PEERS=$(BENCH_PEERS) \
	  sh bench/bench.sh

.PHONY: bench bench-progs

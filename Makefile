# carnet - one non-recursive Makefile.
#   make                 library and both CLIs (build/)
#   make check           headercheck, then every test (criterion)
#   make check SANITIZE=1  the same under AddressSanitizer + UBSan (build-san/),
#                        failing on any sanitizer report, leaks included
#   make demo            index corpora/sample and run ranked queries on it
#   make install         PREFIX=/usr/local DESTDIR=
# The user's CFLAGS/CXXFLAGS/LDFLAGS are appended, never replaced.

PKG_CONFIG ?= pkg-config
CC ?= cc
CXX ?= c++
PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
LIBEXECDIR ?= $(PREFIX)/libexec/carnet
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin

VERSION := 0.1.0
SOMAJOR := 0
PKGS := xapian-core icu-uc icu-i18n sqlite3 jansson libxxhash libxml-2.0 poppler-glib

ifeq ($(FUZZ),1)
BUILD ?= build-fuzz
OPTFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -g -O1
FUZZ_LINK := -fsanitize=fuzzer,address,undefined
else ifeq ($(SANITIZE),1)
BUILD ?= build-san
OPTFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer -g -O1
else
BUILD ?= build
OPTFLAGS := -O2 -g
endif

# make V=1 shows the commands
ifeq ($(V),1)
Q :=
SAY := @true
else
Q := @
SAY := @printf '  %-6s %s\n'
endif

WARNINGS := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wwrite-strings -Wformat=2 -Werror
CXXWARNINGS := -Wall -Wextra -Werror

DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
DEP_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS := $(shell $(PKG_CONFIG) --cflags criterion 2>/dev/null)
TEST_LIBS := $(shell $(PKG_CONFIG) --libs criterion 2>/dev/null)

FINAL_CFLAGS = -std=c11 -D_XOPEN_SOURCE=700 -pthread $(WARNINGS) $(OPTFLAGS) -fPIC \
               -fvisibility=hidden -Iinclude -Icore $(DEP_CFLAGS) -MMD -MP $(CFLAGS)
FINAL_CXXFLAGS = -std=c++17 -pthread $(CXXWARNINGS) $(OPTFLAGS) -fPIC -fvisibility=hidden \
                 -Iinclude -Icore $(DEP_CFLAGS) -MMD -MP $(CXXFLAGS)
FINAL_LDFLAGS = -pthread $(OPTFLAGS) $(LDFLAGS)

CORE_SRCS := core/error.c core/buf.c core/text.c core/doc.c core/patient.c core/codes.c \
             core/home.c core/registry.c core/base64.c core/rank.c
CORE_CXX_SRCS := core/xapian_shim.cc
INDEXER_SRCS := indexer/reader.c indexer/read_text.c indexer/read_html.c \
                indexer/read_pdf.c indexer/read_cda.c indexer/read_fhir.c \
                indexer/sidecar.c indexer/prepare.c indexer/writer.c
QUERY_SRCS := query/search.c query/policy.c query/words.c query/snippet.c
LIB_SRCS := $(CORE_SRCS) $(INDEXER_SRCS) $(QUERY_SRCS)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(CORE_CXX_SRCS:%.cc=$(BUILD)/%.o)

TOOLS := $(BUILD)/carnet-index $(BUILD)/carnet-query
PDFTEXT := $(BUILD)/carnet-pdftext
# the library runs the PDF extractor from the build tree in the tests
export CARNET_PDFTEXT := $(CURDIR)/$(PDFTEXT)
FUZZERS := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
# Where each harness finds inputs to replay in make check: its saved
# crashers and seeds (corpora/fuzz/NAME), test data, and the samples.
REPLAY_text := corpora/fuzz/text corpora/sample corpora/bad
REPLAY_cda := corpora/fuzz/cda tests/data/cda corpora/sample
REPLAY_fhir := corpora/fuzz/fhir tests/data/fhir corpora/sample \
               ../shared/corpora-public/ans-IG-FHIR-PDSM4DMP-EEDS/examples
REPLAY_pdf := corpora/fuzz/pdf tests/data/pdf
REPLAY_html := corpora/fuzz/html tests/data/html
REPLAY_query := corpora/fuzz/query
TEST_SRCS := $(wildcard tests/test_*.c)
TESTS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)

STATIC_LIB := $(BUILD)/libcarnet.a
SHARED_LIB := $(BUILD)/libcarnet.so.$(VERSION)

all: $(STATIC_LIB) $(SHARED_LIB) $(TOOLS) $(PDFTEXT)

# Indexer code sees indexer headers; query code never does.
$(BUILD)/indexer/%.o: EXTRA_INC := -Iindexer
$(BUILD)/query/%.o: EXTRA_INC := -Iquery -I$(BUILD)/gen

# The default authorisation matrix, compiled in from its data file.
$(BUILD)/gen/authorisations_default.h: query/authorisations.tsv
	@mkdir -p $(dir $@)
	$(SAY) GEN $@
	$(Q){ echo '/* generated from query/authorisations.tsv: do not edit */'; \
	  echo 'static const char carnet_default_authorisations[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@
$(BUILD)/query/policy.o: $(BUILD)/gen/authorisations_default.h

# The default ranking tables, compiled in as byte arrays (they are larger
# than the longest string literal ISO C promises).
RANKING_CONF ?= query/ranking.conf
AFFINITY_TSV ?= query/affinity.tsv
SYNONYMS_TSV ?= query/synonyms.tsv
embed = { echo 'static const unsigned char $(2)_bytes[] = {'; od -An -v -tx1 $(1) | \
	  sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; echo '0 };'; \
	  echo '\#define $(2) ((const char *)$(2)_bytes)'; }
$(BUILD)/gen/ranking_default.h: $(RANKING_CONF) $(AFFINITY_TSV) $(SYNONYMS_TSV)
	@mkdir -p $(dir $@)
	$(SAY) GEN $@
	$(Q){ echo '/* generated from $^: do not edit */'; \
	  $(call embed,$(RANKING_CONF),carnet_default_ranking); \
	  $(call embed,$(AFFINITY_TSV),carnet_default_affinity); \
	  $(call embed,$(SYNONYMS_TSV),carnet_default_synonyms); } > $@
$(BUILD)/core/rank.o: $(BUILD)/gen/ranking_default.h
$(BUILD)/core/rank.o: EXTRA_INC := -I$(BUILD)/gen
$(BUILD)/indexer/read_pdf.o: EXTRA_INC := -Iindexer -DCARNET_LIBEXECDIR='"$(LIBEXECDIR)"'

# The PDF extractor, run by the library in its own process.
$(PDFTEXT): $(BUILD)/indexer/carnet-pdftext.o
	$(SAY) LD $@
	$(Q)$(CC) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS)
$(BUILD)/tests/%.o: EXTRA_INC := -Iindexer -Iquery $(TEST_CFLAGS)
$(BUILD)/fuzz/%.o: EXTRA_INC := -Iindexer

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(SAY) CC $<
	$(Q)$(CC) $(FINAL_CFLAGS) $(EXTRA_INC) -c $< -o $@

$(BUILD)/%.o: %.cc
	@mkdir -p $(dir $@)
	$(SAY) CXX $<
	$(Q)$(CXX) $(FINAL_CXXFLAGS) -c $< -o $@

$(STATIC_LIB): $(LIB_OBJS)
	@rm -f $@
	$(SAY) AR $@
	$(Q)ar rcs $@ $^

# Linked with the C++ driver: the shim needs the C++ runtime.
$(SHARED_LIB): $(LIB_OBJS) carnet.sym
	$(SAY) LD $@
	$(Q)$(CXX) -shared -Wl,-soname,libcarnet.so.$(SOMAJOR) -Wl,--no-undefined \
		-Wl,--version-script=carnet.sym $(FINAL_LDFLAGS) -o $@ $(LIB_OBJS) $(DEP_LIBS)
	$(Q)ln -sf libcarnet.so.$(VERSION) $(BUILD)/libcarnet.so.$(SOMAJOR)
	$(Q)ln -sf libcarnet.so.$(SOMAJOR) $(BUILD)/libcarnet.so

$(BUILD)/carnet-index: $(BUILD)/indexer/carnet-index.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS)

$(BUILD)/carnet-query: $(BUILD)/query/carnet-query.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/helpers.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS) $(TEST_LIBS)

.SECONDARY:

# Replay drivers: each harness with fuzz/replay.c's main, built by the
# ordinary compiler (and sanitizers under SANITIZE=1).
$(BUILD)/fuzz/replay_%: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/replay.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS)

replay: $(FUZZERS:%=$(BUILD)/fuzz/replay_%)
	@$(foreach f,$(FUZZERS),printf 'replay %-6s ' $(f) && $(BUILD)/fuzz/replay_$(f) $(REPLAY_$(f)) &&) true

# libFuzzer binaries (clang): make fuzz, then e.g.
#   build-fuzz/fuzz/fuzz_cda corpora/fuzz/cda tests/data/cda -max_total_time=60
# and save any crasher under corpora/fuzz/NAME/ so make check replays it.
fuzz:
	$(MAKE) FUZZ=1 CC=clang CXX=clang++ fuzzers

fuzzers: $(FUZZERS:%=$(BUILD)/fuzz/fuzz_%)

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/fuzz_%.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) $(FUZZ_LINK) -o $@ $^ $(DEP_LIBS)

# The public header alone, as C99 and as C++.
headercheck:
	@mkdir -p $(BUILD)
	@printf '#include <carnet.h>\nint main(void) { return carnet_version(0, 0, 0) > 0 ? 0 : 1; }\n' > $(BUILD)/headercheck.c
	$(SAY) CHECK include/carnet.h
	$(Q)$(CC) -std=c99 -Wall -Wextra -pedantic -Werror -Iinclude -c $(BUILD)/headercheck.c -o $(BUILD)/headercheck-c.o
	@cp $(BUILD)/headercheck.c $(BUILD)/headercheck.cc
	$(Q)$(CXX) -std=c++11 -Wall -Wextra -pedantic -Werror -Iinclude -c $(BUILD)/headercheck.cc -o $(BUILD)/headercheck-cxx.o

check: all headercheck installcheck replay $(TESTS) bench-progs eval-progs
	@CARNET_BUILD=$(BUILD) CARNET_SANITIZE=$(SANITIZE) sh tests/run.sh $(TESTS)

# Install into a scratch DESTDIR, build tests/installcheck.c against it with
# pkg-config and the shared library, and run it on the sample corpus.
installcheck: all
	@rm -rf $(BUILD)/stage
	@$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/$(BUILD)/stage PREFIX=/usr/local >/dev/null
	@export PKG_CONFIG_SYSROOT_DIR=$(CURDIR)/$(BUILD)/stage \
	   PKG_CONFIG_PATH=$(CURDIR)/$(BUILD)/stage/usr/local/lib/pkgconfig; \
	 $(CC) -std=c11 -Wall -Wextra -Werror $(OPTFLAGS) tests/installcheck.c -o $(BUILD)/installcheck \
	   $$($(PKG_CONFIG) --cflags --libs carnet)
	@CARNET_PDFTEXT= LD_LIBRARY_PATH=$(CURDIR)/$(BUILD)/stage/usr/local/lib $(BUILD)/installcheck \
	   $(BUILD)/stage/usr/local/bin corpora/sample $(BUILD)/installcheck.idx

# The nightly-job tests at five times the size (kill -9 during a sync of
# about 9,000 files).
stress: all $(BUILD)/tests/test_nightly
	@CARNET_STRESS=1 CARNET_BUILD=$(BUILD) CARNET_SANITIZE=$(SANITIZE) sh tests/run.sh $(BUILD)/tests/test_nightly

demo: all
	@sh tools/demo.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 644 $(STATIC_LIB) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED_LIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libcarnet.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libcarnet.so.$(SOMAJOR)
	ln -sf libcarnet.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libcarnet.so
	install -m 644 include/carnet.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 755 $(TOOLS) $(DESTDIR)$(BINDIR)/
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 755 $(PDFTEXT) $(DESTDIR)$(LIBEXECDIR)/
	install -d $(DESTDIR)$(PREFIX)/share/carnet
	install -m 644 query/authorisations.tsv query/ranking.conf query/affinity.tsv \
		query/synonyms.tsv $(DESTDIR)$(PREFIX)/share/carnet/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@REQUIRES@|$(PKGS)|' carnet.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/carnet.pc

clean:
	rm -rf build build-san build-fuzz

.PHONY: all check demo install installcheck clean headercheck replay fuzz fuzzers stress

# Benchmarks (make bench) and the relevance evaluation (make eval) add
# their targets from fragments in bench/.
include $(wildcard bench/*.mk)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

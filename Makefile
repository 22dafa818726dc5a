# SPDX-License-Identifier: GPL-2.0-or-later
# carnet - one non-recursive Makefile.
#   make                 library, the CLIs and the service (build/)
#   make check           headercheck, then every test (criterion)
#   make check SANITIZE=1  the same under AddressSanitizer + UBSan (build-san/),
#                        failing on any sanitizer report, leaks included
#   make demo            index corpora/sample and run ranked queries on it
#   make install         PREFIX=/usr/local DESTDIR= (make uninstall: the same
#                        variables remove exactly what it installed)
#   make installcheck    install under build/stage with another PREFIX and test
#                        the installed library, pkg-config file, CLIs, man
#                        pages, example and uninstall
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
DATADIR ?= $(PREFIX)/share/carnet
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system

# The version is written once, in include/carnet.h (CARNET_VERSION_MAJOR,
# _MINOR, _PATCH): the shared library's name, its soname and carnet.pc
# follow it, as the CLIs' --version do.
carnet_version_part = $(shell sed -n 's/^.define CARNET_VERSION_$(1) \([0-9][0-9]*\)$$/\1/p' include/carnet.h)
SOMAJOR := $(call carnet_version_part,MAJOR)
VERSION := $(SOMAJOR).$(call carnet_version_part,MINOR).$(call carnet_version_part,PATCH)
ifneq ($(words $(subst ., ,$(VERSION))),3)
$(error include/carnet.h: no CARNET_VERSION_MAJOR, _MINOR and _PATCH found (got '$(VERSION)'))
endif
# What the library's objects use (carnet.pc's Requires.private), and what
# only the PDF extractor, a program of its own, uses.
LIB_PKGS := xapian-core icu-uc sqlite3 jansson libxxhash libxml-2.0 nettle libzstd
PDFTEXT_PKGS := poppler-glib
PKGS := $(LIB_PKGS) $(PDFTEXT_PKGS)

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

DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIB_PKGS) 2>/dev/null)
DEP_LIBS := $(shell $(PKG_CONFIG) --libs $(LIB_PKGS) 2>/dev/null)
PDFTEXT_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PDFTEXT_PKGS) 2>/dev/null)
PDFTEXT_LIBS := $(shell $(PKG_CONFIG) --libs $(PDFTEXT_PKGS) 2>/dev/null)
TEST_CFLAGS := $(shell $(PKG_CONFIG) --cflags criterion 2>/dev/null)
TEST_LIBS := $(shell $(PKG_CONFIG) --libs criterion 2>/dev/null)
# The service (serve/): an HTTP server with TLS, JOSE tokens, JSON; its
# tests drive it with libcurl.
SERVE_PKGS := libmicrohttpd cjose gnutls jansson libxml-2.0
SERVE_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(SERVE_PKGS) 2>/dev/null)
SERVE_LIBS := $(shell $(PKG_CONFIG) --libs $(SERVE_PKGS) 2>/dev/null)
# carnet-index allocates with jemalloc (indexer/carnet-index-alloc.c says
# why), except under the sanitizers and the fuzzer, which bring their own.
INDEX_ALLOC_LIBS := $(if $(filter 1,$(SANITIZE) $(FUZZ)),,$(or $(shell $(PKG_CONFIG) --libs jemalloc 2>/dev/null),-ljemalloc))
CURL_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
CURL_LIBS := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null)

FINAL_CFLAGS = -std=c11 -D_XOPEN_SOURCE=700 -pthread $(WARNINGS) $(OPTFLAGS) -fPIC \
               -fvisibility=hidden -Iinclude -Icore $(DEP_CFLAGS) -MMD -MP $(CFLAGS)
FINAL_CXXFLAGS = -std=c++17 -pthread $(CXXWARNINGS) $(OPTFLAGS) -fPIC -fvisibility=hidden \
                 -Iinclude -Icore $(DEP_CFLAGS) -MMD -MP $(CXXFLAGS)
FINAL_LDFLAGS = -pthread $(OPTFLAGS) $(LDFLAGS)

# Every source file of a folder is part of the library, but for the
# programs (carnet-*.c; a program may be split into carnet-NAME*.c files).
CORE_SRCS := $(sort $(wildcard core/*.c))
CORE_CXX_SRCS := $(sort $(wildcard core/*.cc))
INDEXER_SRCS := $(sort $(filter-out indexer/carnet-%,$(wildcard indexer/*.c)))
QUERY_SRCS := $(sort $(filter-out query/carnet-%,$(wildcard query/*.c)))
INDEX_PROG_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard indexer/carnet-index*.c)))
QUERY_PROG_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard query/carnet-query*.c)))
SERVE_PROG_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard serve/carnet-serve*.c)))
LIB_SRCS := $(CORE_SRCS) $(INDEXER_SRCS) $(QUERY_SRCS)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(CORE_CXX_SRCS:%.cc=$(BUILD)/%.o)

TOOLS := $(BUILD)/carnet-index $(BUILD)/carnet-query $(BUILD)/carnet-serve
# built, never installed: a demo key beside its JWKS is for demos and tests
DEMO_TOOLS := $(BUILD)/carnet-demo-token
PDFTEXT := $(BUILD)/carnet-pdftext
# the library runs the PDF extractor from the build tree in the tests
export CARNET_PDFTEXT := $(CURDIR)/$(PDFTEXT)
FUZZERS := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
# Where each harness finds inputs to replay in make check: its saved
# crashers and seeds (corpora/fuzz/NAME), test data, the samples and the
# vendored public examples, all in the repository; with
# CARNET_PUBLIC_CORPORA set, the ANS CI-SIS CDA examples there too.
REPLAY_text := corpora/fuzz/text corpora/sample corpora/bad
REPLAY_cda := corpora/fuzz/cda tests/data/cda corpora/sample corpora/hl7-C-CDA-Examples \
              $(if $(CARNET_PUBLIC_CORPORA),$(addprefix $(CARNET_PUBLIC_CORPORA)/,\
                ans-TestContenuCDA-3-0/ExemplesCDA ans-TestContenuCDA-2-41/ExemplesCDA))
REPLAY_fhir := corpora/fuzz/fhir tests/data/fhir corpora/sample \
               corpora/ans-IG-FHIR-PDSM4DMP-EEDS/examples corpora/ihe-ITI.MHD/examples
REPLAY_pdf := corpora/fuzz/pdf tests/data/pdf corpora/hl7-C-CDA-Examples/Unstructured
REPLAY_html := corpora/fuzz/html tests/data/html
REPLAY_query := corpora/fuzz/query
REPLAY_walk := corpora/fuzz/walk
REPLAY_sidecar := corpora/fuzz/sidecar
REPLAY_serve := corpora/fuzz/serve
REPLAY_json := corpora/fuzz/json
REPLAY_cdahtml := corpora/fuzz/cdahtml tests/data/cda corpora/sample corpora/hl7-C-CDA-Examples
REPLAY_tables := corpora/fuzz/tables core/data
REPLAY_textpack := corpora/fuzz/textpack corpora/sample
REPLAY_snippet := corpora/fuzz/snippet
REPLAY_terms := corpora/fuzz/terms
TEST_SRCS := $(wildcard tests/test_*.c)
TESTS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)

STATIC_LIB := $(BUILD)/libcarnet.a
SHARED_LIB := $(BUILD)/libcarnet.so.$(VERSION)

all: $(STATIC_LIB) $(SHARED_LIB) $(TOOLS) $(DEMO_TOOLS) $(PDFTEXT)

# Indexer code sees indexer headers; query code never does.
$(BUILD)/indexer/%.o: EXTRA_INC := -Iindexer
$(BUILD)/query/%.o: EXTRA_INC := -Iquery -I$(BUILD)/gen

# The default authorisation matrix, compiled in from its data file.
$(BUILD)/gen/authorisations_default.h: core/data/authorisations.tsv
	@mkdir -p $(dir $@)
	$(SAY) GEN $@
	$(Q){ echo '/* generated from core/data/authorisations.tsv: do not edit */'; \
	  echo 'static const char carnet_default_authorisations[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@
$(BUILD)/core/policy.o: $(BUILD)/gen/authorisations_default.h
$(BUILD)/core/policy.o: EXTRA_INC := -I$(BUILD)/gen

# The default ranking tables, compiled in as byte arrays (they are larger
# than the longest string literal ISO C promises).
# (A bad line in one is reported as FILE:LINE, FILE its path here.)
RANKING_CONF ?= core/data/ranking.conf
AFFINITY_TSV ?= core/data/affinity.tsv
SYNONYMS_TSV ?= core/data/synonyms.tsv
embed = { echo 'static const unsigned char $(2)_bytes[] = {'; od -An -v -tx1 $(1) | \
	  sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; echo '0 };'; \
	  echo '\#define $(2) ((const char *)$(2)_bytes)'; \
	  echo '\#define $(2)_file "$(1)"'; }
$(BUILD)/gen/ranking_default.h: $(RANKING_CONF) $(AFFINITY_TSV) $(SYNONYMS_TSV)
	@mkdir -p $(dir $@)
	$(SAY) GEN $@
	$(Q){ echo '/* generated from $^: do not edit */'; \
	  $(call embed,$(RANKING_CONF),carnet_default_ranking); \
	  $(call embed,$(AFFINITY_TSV),carnet_default_affinity); \
	  $(call embed,$(SYNONYMS_TSV),carnet_default_synonyms); } > $@
$(BUILD)/core/tables.o: $(BUILD)/gen/ranking_default.h $(BUILD)/gen/ranking_frozen.h
# The default analytes and panels (the key results panel), parsed at the
# first request for results.
ANALYTES_TSV ?= core/data/analytes.tsv
PANELS_TSV ?= core/data/panels.tsv
$(BUILD)/gen/analytes_default.h: $(ANALYTES_TSV) $(PANELS_TSV)
	@mkdir -p $(dir $@)
	$(SAY) GEN $@
	$(Q){ echo '/* generated from $^: do not edit */'; \
	  $(call embed,$(ANALYTES_TSV),carnet_default_analytes); \
	  $(call embed,$(PANELS_TSV),carnet_default_panels); } > $@
$(BUILD)/core/analytes.o: $(BUILD)/gen/analytes_default.h
$(BUILD)/core/analytes.o: EXTRA_INC := -I$(BUILD)/gen
$(BUILD)/core/tables.o: EXTRA_INC := -I$(BUILD)/gen

# And as they are once loaded: tools/gen-tables.c, linked with the library
# but for a tables.c built without this data (-DCARNET_TABLES_BOOT), loads
# them and prints what it built as C data, which tables.c uses as it is: a
# process does not parse the defaults (a home's own affinity or synonym
# table is parsed after their text, as before).
$(BUILD)/gen/tables-boot.o: core/tables.c $(BUILD)/gen/ranking_default.h
	$(SAY) CC "$< (boot)"
	$(Q)$(CC) $(FINAL_CFLAGS) -I$(BUILD)/gen -DCARNET_TABLES_BOOT -c $< -o $@
$(BUILD)/gen/gen-tables.o: tools/gen-tables.c
	@mkdir -p $(dir $@)
	$(SAY) CC $<
	$(Q)$(CC) $(FINAL_CFLAGS) -c $< -o $@
$(BUILD)/gen/gen-tables: $(BUILD)/gen/gen-tables.o $(BUILD)/gen/tables-boot.o \
			 $(filter-out $(BUILD)/core/tables.o,$(LIB_OBJS))
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS)
$(BUILD)/gen/ranking_frozen.h: $(BUILD)/gen/gen-tables
	$(SAY) GEN $@
	$(Q)$< $(RANKING_CONF) $(AFFINITY_TSV) $(SYNONYMS_TSV) > $@.tmp && mv -f $@.tmp $@

# Where the library looks for the PDF extractor: LIBEXECDIR, and the same
# place relative to LIBDIR (found from the library's own location at run
# time). Rewritten only when they change, so that a changed PREFIX
# rebuilds read_pdf.o and what links it, and nothing else.
LIBEXEC_FROM_LIBDIR = $(shell realpath -m --relative-to='$(LIBDIR)' '$(LIBEXECDIR)')
$(BUILD)/gen/carnet_paths.h: FORCE
	@mkdir -p $(dir $@)
	@printf '/* generated from LIBDIR and LIBEXECDIR: do not edit */\n#define CARNET_LIBEXECDIR "%s"\n#define CARNET_LIBEXEC_FROM_LIBDIR "%s"\n' \
	  '$(LIBEXECDIR)' '$(LIBEXEC_FROM_LIBDIR)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi
$(BUILD)/indexer/read_pdf.o: $(BUILD)/gen/carnet_paths.h
$(BUILD)/indexer/read_pdf.o: EXTRA_INC := -Iindexer -I$(BUILD)/gen
FORCE:

# The PDF extractor, run by the library in its own process: the only
# program that uses poppler (and, through it, glib and cairo).
$(BUILD)/indexer/carnet-pdftext.o: EXTRA_INC := -Iindexer $(PDFTEXT_CFLAGS)
$(PDFTEXT): $(BUILD)/indexer/carnet-pdftext.o
	$(SAY) LD $@
	$(Q)$(CC) $(FINAL_LDFLAGS) -o $@ $^ $(PDFTEXT_LIBS)
$(BUILD)/tests/%.o: EXTRA_INC := -Iindexer -Iquery $(TEST_CFLAGS)
$(BUILD)/tests/test_serve.o: EXTRA_INC := $(TEST_CFLAGS) $(CURL_CFLAGS) $(SERVE_CFLAGS)
$(BUILD)/tests/test_cluster.o: EXTRA_INC := $(TEST_CFLAGS) $(CURL_CFLAGS) $(SERVE_CFLAGS)

# Test hooks (CARNET_CRASH_AT in the writer, CARNET_PDF_TEST in the PDF
# extractor) exist only in code built with -DCARNET_TESTING: the objects
# that hold them are compiled a second time into $(BUILD)/testing/, and
# linked into testing copies of carnet-index and carnet-pdftext that the
# tests of the hooks run. make install installs the normal ones.
HOOK_OBJS := $(BUILD)/indexer/writer.o
TESTING_LIB := $(BUILD)/testing/libcarnet.a
TESTING_PROGS := $(BUILD)/testing/carnet-index $(BUILD)/testing/carnet-pdftext
$(BUILD)/testing/indexer/%.o: EXTRA_INC := -Iindexer
$(BUILD)/testing/indexer/carnet-pdftext.o: EXTRA_INC := -Iindexer $(PDFTEXT_CFLAGS)
$(BUILD)/testing/%.o: %.c
	@mkdir -p $(dir $@)
	$(SAY) CC "$< (testing)"
	$(Q)$(CC) $(FINAL_CFLAGS) $(EXTRA_INC) -DCARNET_TESTING -c $< -o $@
$(TESTING_LIB): $(filter-out $(HOOK_OBJS),$(LIB_OBJS)) $(HOOK_OBJS:$(BUILD)/%=$(BUILD)/testing/%)
	@rm -f $@
	$(SAY) AR $@
	$(Q)ar rcs $@ $^
$(BUILD)/testing/carnet-index: $(INDEX_PROG_OBJS) $(TESTING_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS) $(INDEX_ALLOC_LIBS)
$(BUILD)/testing/carnet-pdftext: $(BUILD)/testing/indexer/carnet-pdftext.o
	$(SAY) LD $@
	$(Q)$(CC) $(FINAL_LDFLAGS) -o $@ $^ $(PDFTEXT_LIBS)
testing: $(TESTING_PROGS)
# the suites that run them
$(BUILD)/tests/test_nightly $(BUILD)/tests/test_read_pdf: | $(TESTING_PROGS)
$(BUILD)/fuzz/%.o: EXTRA_INC := -Iindexer
$(BUILD)/fuzz/fuzz_snippet.o: EXTRA_INC := -Iquery

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

$(BUILD)/carnet-index: $(INDEX_PROG_OBJS) $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS) $(INDEX_ALLOC_LIBS)

$(BUILD)/carnet-query: $(QUERY_PROG_OBJS) $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS)

# The service sees the public header and its own folder only.
$(BUILD)/serve/%.o: EXTRA_INC := -Iserve $(SERVE_CFLAGS)
# The page (serve/page/), compiled in: the service serves no file from disk.
PAGE_FILES := serve/page/index.html serve/page/app.js serve/page/app.css
$(BUILD)/gen/page_assets.h: $(PAGE_FILES)
	$(SAY) GEN $@
	$(Q)mkdir -p $(@D) && { $(call embed,serve/page/index.html,page_index); \
	  $(call embed,serve/page/app.js,page_js); \
	  $(call embed,serve/page/app.css,page_css); } > $@
$(BUILD)/serve/carnet-serve-page.o: $(BUILD)/gen/page_assets.h
$(BUILD)/serve/carnet-serve-page.o: EXTRA_INC := -Iserve -I$(BUILD)/gen $(SERVE_CFLAGS)
# carnet-demo-token: a demo signing key, its JWKS and tokens (make demo, test_page)
$(BUILD)/carnet-demo-token: $(BUILD)/serve/demo-token.o
	$(SAY) LD $@
	$(Q)$(CC) $(FINAL_LDFLAGS) -o $@ $^ $(SERVE_LIBS)
$(BUILD)/carnet-serve: $(SERVE_PROG_OBJS) $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS) $(SERVE_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/helpers.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS) $(TEST_LIBS)

# The service's suite runs the real carnet-serve, with libcurl and cjose.
$(BUILD)/tests/test_serve: $(BUILD)/tests/test_serve.o $(BUILD)/tests/helpers.o $(STATIC_LIB) \
			   | $(BUILD)/carnet-serve
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $(filter-out |,$^) $(DEP_LIBS) $(TEST_LIBS) \
		$(CURL_LIBS) $(SERVE_LIBS)

# The cluster on one machine: 3 shards x 2 replicas of carnet-serve behind
# a real HAProxy (/usr/sbin/haproxy), over a corpus made by gencorpus.
$(BUILD)/tests/test_cluster: $(BUILD)/tests/test_cluster.o $(BUILD)/tests/helpers.o $(STATIC_LIB) \
			     | $(BUILD)/carnet-serve $(BUILD)/carnet-index $(BUILD)/carnet-query \
			       $(BUILD)/bench/gencorpus
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $(filter-out |,$^) $(DEP_LIBS) $(TEST_LIBS) \
		$(CURL_LIBS) $(SERVE_LIBS)
cluster-test: all $(BUILD)/tests/test_cluster
	@CARNET_BUILD=$(BUILD) CARNET_SANITIZE=$(SANITIZE) sh tests/run.sh $(BUILD)/tests/test_cluster

# carnet-serve built with ThreadSanitizer (in $(BUILD)-tsan) under a bounded
# load of searches and bad tokens (tests/tsan_serve.sh); part of make check,
# but not of make check SANITIZE=1 (TSan and ASan do not mix, and the
# service already runs under ASan in test_serve there).
TSAN_BUILD := $(BUILD)-tsan
tsan-serve: all bench-progs $(DEMO_TOOLS)
	$(SAY) TSAN "carnet-serve ($(TSAN_BUILD))"
	@$(MAKE) --no-print-directory BUILD=$(TSAN_BUILD) OPTFLAGS='-fsanitize=thread -g -O1' \
	   $(TSAN_BUILD)/carnet-serve > $(BUILD)/tsan-build.log 2>&1 || \
	   { cat $(BUILD)/tsan-build.log; exit 1; }
	@sh tests/tsan_serve.sh $(BUILD) $(TSAN_BUILD)

# The allocation-failure test: the allocator references of carnet's own
# objects (libcarnet.a, the shim's operator new) and of the test go through
# the test's wrappers; the libraries carnet uses keep their allocator.
NOMEM_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free \
	      -Wl,--wrap=strdup,--wrap=strndup,--wrap=_Znwm
$(BUILD)/tests/test_nomem: $(BUILD)/tests/test_nomem.o $(BUILD)/tests/nomem_new.o \
			   $(BUILD)/tests/helpers.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) $(NOMEM_WRAP) -o $@ $^ $(DEP_LIBS) $(TEST_LIBS)

.SECONDARY:

# Replay drivers: each harness with fuzz/replay.c's main, built by the
# ordinary compiler (and sanitizers under SANITIZE=1).
$(BUILD)/fuzz/replay_%: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/replay.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS)

# The terms' harness and suite compare carnet's terms with Xapian's
# TermGenerator (fuzz/terms_compare.cc).
$(BUILD)/fuzz/replay_terms: $(BUILD)/fuzz/fuzz_terms.o $(BUILD)/fuzz/replay.o \
			    $(BUILD)/fuzz/terms_compare.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS)
$(BUILD)/fuzz/fuzz_terms: $(BUILD)/fuzz/fuzz_terms.o $(BUILD)/fuzz/terms_compare.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) $(FUZZ_LINK) -o $@ $^ $(DEP_LIBS)
$(BUILD)/tests/test_terms.o: EXTRA_INC := -Ifuzz
$(BUILD)/tests/test_terms: $(BUILD)/tests/test_terms.o $(BUILD)/tests/helpers.o \
			   $(BUILD)/fuzz/terms_compare.o $(STATIC_LIB) | $(BUILD)/bench/gencorpus
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $(filter-out |,$^) $(DEP_LIBS) $(TEST_LIBS)

# The service's harness links the parts of carnet-serve that read the
# network (its token and parameter checks) and their libraries.
SERVE_FUZZ_OBJS := $(BUILD)/serve/carnet-serve-auth.o $(BUILD)/serve/carnet-serve-fhir.o
$(BUILD)/fuzz/fuzz_serve.o: EXTRA_INC := -Iserve $(SERVE_CFLAGS)
$(BUILD)/fuzz/replay_serve: $(BUILD)/fuzz/fuzz_serve.o $(BUILD)/fuzz/replay.o $(SERVE_FUZZ_OBJS) \
			    $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS) $(SERVE_LIBS)
$(BUILD)/fuzz/fuzz_serve: $(BUILD)/fuzz/fuzz_serve.o $(SERVE_FUZZ_OBJS) $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) $(FUZZ_LINK) -o $@ $^ $(DEP_LIBS) $(SERVE_LIBS)

# The JSON writer's harness links carnet-serve's writer, checked against
# jansson.
$(BUILD)/fuzz/fuzz_json.o: EXTRA_INC := -Iserve $(SERVE_CFLAGS)
$(BUILD)/fuzz/replay_json: $(BUILD)/fuzz/fuzz_json.o $(BUILD)/fuzz/replay.o $(SERVE_FUZZ_OBJS) \
			   $(BUILD)/serve/carnet-serve-json.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS) $(SERVE_LIBS)
$(BUILD)/fuzz/fuzz_json: $(BUILD)/fuzz/fuzz_json.o $(SERVE_FUZZ_OBJS) \
			 $(BUILD)/serve/carnet-serve-json.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) $(FUZZ_LINK) -o $@ $^ $(DEP_LIBS) $(SERVE_LIBS)

# The CDA rendering's harness links carnet-serve's renderer.
$(BUILD)/fuzz/fuzz_cdahtml.o: EXTRA_INC := -Iserve $(SERVE_CFLAGS)
$(BUILD)/fuzz/replay_cdahtml: $(BUILD)/fuzz/fuzz_cdahtml.o $(BUILD)/fuzz/replay.o \
			      $(BUILD)/serve/carnet-serve-cda.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS) $(SERVE_LIBS)
$(BUILD)/fuzz/fuzz_cdahtml: $(BUILD)/fuzz/fuzz_cdahtml.o $(BUILD)/serve/carnet-serve-cda.o \
			    $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) $(FUZZ_LINK) -o $@ $^ $(DEP_LIBS) $(SERVE_LIBS)

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

# The allocation-failure run fails every allocation in a plain build (about
# 13,500 runs, a few minutes); under the sanitizers, which make each run
# ten times slower, the first two and the last of each calling context.
NOMEM_EVERY := $(if $(filter 1,$(SANITIZE)),0,1)
check: all headercheck lint installcheck mancheck opscheck replay $(TESTS) $(TESTING_PROGS) \
	bench-progs eval-progs $(if $(filter 1,$(SANITIZE)),,tsan-serve)
	@CARNET_NOMEM_EVERY=$${CARNET_NOMEM_EVERY-$(NOMEM_EVERY)} CARNET_BUILD=$(BUILD) \
	  CARNET_SANITIZE=$(SANITIZE) sh tests/run.sh $(TESTS)
	@# the page in headless Chromium; screenshots stay in $(BUILD)/page-*.png
	@python3 tests/test_page.py $(BUILD)

# The house rules HACKING.md states: what may include what
# (tools/layers.sh), and the size of files and functions in the library
# (tools/shape.py).
lint:
	$(SAY) CHECK "include layers, file and function sizes"
	$(Q)sh tools/layers.sh
	$(Q)python3 tools/shape.py $(LIB_SRCS) $(CORE_CXX_SRCS) $(wildcard serve/*.c)
	$(SAY) CHECK "no functions that keep state between threads"
	$(Q)if grep -nE '\b(strtok|localtime|gmtime|asctime|ctime|rand|drand48|lgamma)\(' \
	   $(wildcard core/*.c core/*.cc indexer/*.c query/*.c serve/*.c bench/*.c bench/*.cc); then \
	   echo "lint: use the _r form (the library and its tools run in threads)"; exit 1; fi

# Install into a scratch DESTDIR with a PREFIX other than the default, in a
# build directory of its own (started from this build's objects: only what
# embeds the PREFIX is rebuilt), then build tests/installcheck.c and
# examples/viewer.c against it with pkg-config alone and run them, and
# uninstall (tests/installcheck.sh).
IC_PREFIX := /opt/carnet-installcheck
IC_BUILD := $(BUILD)/ic
IC_STAGE := $(CURDIR)/$(BUILD)/stage
installcheck: all man ops
	@rm -rf $(IC_STAGE) && mkdir -p $(IC_BUILD)
	@cp -pR $(BUILD)/core $(BUILD)/indexer $(BUILD)/query $(BUILD)/gen $(BUILD)/man \
	   $(IC_BUILD)/
	$(SAY) CHECK "install PREFIX=$(IC_PREFIX) DESTDIR=$(BUILD)/stage"
	@$(MAKE) --no-print-directory BUILD=$(IC_BUILD) PREFIX=$(IC_PREFIX) \
	   DESTDIR=$(IC_STAGE) install >$(BUILD)/installcheck.log 2>&1 || \
	   { cat $(BUILD)/installcheck.log; exit 1; }
	@env -u CARNET_PDFTEXT CC='$(CC)' CFLAGS='$(OPTFLAGS)' PKG_CONFIG='$(PKG_CONFIG)' \
	   MAKE='$(MAKE)' sh tests/installcheck.sh $(IC_STAGE) $(IC_PREFIX) \
	   $(CURDIR)/$(BUILD)/installcheck $(IC_BUILD)

# The nightly-job tests at five times the size (kill -9 during a sync of
# about 9,000 files).
stress: all $(BUILD)/tests/test_nightly
	@CARNET_STRESS=1 CARNET_BUILD=$(BUILD) CARNET_SANITIZE=$(SANITIZE) sh tests/run.sh $(BUILD)/tests/test_nightly

demo: all
	@sh tools/demo.sh $(BUILD)

# Man pages, from scdoc sources (man/*.scd).
MANPAGES := $(BUILD)/man/carnet-index.1 $(BUILD)/man/carnet-query.1 $(BUILD)/man/carnet-serve.1 \
	    $(BUILD)/man/carnet.3
man: $(MANPAGES)
$(BUILD)/man/%: man/%.scd include/carnet.h
	@mkdir -p $(dir $@)
	$(SAY) SCDOC $<
	$(Q)sed 's/@VERSION@/$(VERSION)/g' $< | scdoc > $@.tmp && mv -f $@.tmp $@

# Every page formats without a warning (groff), and passes mandoc's lint
# when mandoc is installed (tools/deps.sh installs it); scdoc starts every
# section with a paragraph macro, which mandoc says it skips: not a fault.
mancheck: man
	$(SAY) CHECK "$(MANPAGES)"
	$(Q)for m in $(MANPAGES); do \
	  out=$$(groff -man -ww -z -K utf8 $$m 2>&1) && [ -z "$$out" ] || \
	    { echo "$$m: groff: $$out"; exit 1; }; \
	  if command -v mandoc >/dev/null 2>&1; then \
	    out=$$(mandoc -T lint -W warning $$m 2>&1 | grep -v 'skipping paragraph macro') ; \
	    [ -z "$$out" ] || { echo "$$out"; exit 1; }; \
	  fi; \
	done
	$(Q)command -v mandoc >/dev/null 2>&1 || echo '  (mandoc not installed: lint skipped)'

# Operations files: the nightly job's systemd service and timer (ExecStart
# from BINDIR) and the logrotate file of its JSON log.
# The units of a cluster (README, "Shards"): a replica of shard I is
# carnet-serve@I, its nightly job carnet-sync@I (.service and .timer), the
# router carnet-router (HAProxy).
CLUSTER_UNITS := carnet-serve@.service carnet-sync@.service carnet-sync@.timer \
		 carnet-router.service
OPS := $(BUILD)/ops/carnet-sync.service $(BUILD)/ops/carnet-sync.timer $(BUILD)/ops/carnet.logrotate \
       $(BUILD)/ops/carnet-serve.service $(CLUSTER_UNITS:%=$(BUILD)/ops/%)
ops: $(OPS)
# (rewritten only when BINDIR changes, like carnet_paths.h)
$(BUILD)/ops/%: ops/%.in FORCE
	@mkdir -p $(dir $@)
	@sed -e 's|@BINDIR@|$(BINDIR)|g' $< > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi
$(BUILD)/ops/%: ops/%
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

# systemd-analyze verify and logrotate -d, where they are installed.
opscheck: ops $(BUILD)/carnet-index $(BUILD)/carnet-serve
	$(SAY) CHECK "$(OPS)"
	$(Q)sh tools/opscheck.sh $(BUILD)

# What make install puts, relative to DESTDIR: make uninstall removes these
# and nothing else (and the directories that are carnet's own, if empty).
DATAFILES := authorisations.tsv ranking.conf affinity.tsv synonyms.tsv analytes.tsv panels.tsv
INSTALLED := $(LIBDIR)/libcarnet.a $(LIBDIR)/libcarnet.so.$(VERSION) \
	$(LIBDIR)/libcarnet.so.$(SOMAJOR) $(LIBDIR)/libcarnet.so \
	$(LIBDIR)/pkgconfig/carnet.pc $(INCLUDEDIR)/carnet.h \
	$(BINDIR)/carnet-index $(BINDIR)/carnet-query $(BINDIR)/carnet-serve $(LIBEXECDIR)/carnet-pdftext \
	$(DATAFILES:%=$(DATADIR)/%) \
	$(MANDIR)/man1/carnet-index.1 $(MANDIR)/man1/carnet-query.1 $(MANDIR)/man1/carnet-serve.1 \
	$(MANDIR)/man3/carnet.3 \
	$(SYSTEMDUNITDIR)/carnet-sync.service $(SYSTEMDUNITDIR)/carnet-sync.timer \
	$(SYSTEMDUNITDIR)/carnet-serve.service $(CLUSTER_UNITS:%=$(SYSTEMDUNITDIR)/%) \
	$(SYSCONFDIR)/logrotate.d/carnet

install: all man ops
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 644 $(STATIC_LIB) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED_LIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libcarnet.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libcarnet.so.$(SOMAJOR)
	ln -sf libcarnet.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libcarnet.so
	install -m 644 include/carnet.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 755 $(TOOLS) $(DESTDIR)$(BINDIR)/
	install -m 755 $(PDFTEXT) $(DESTDIR)$(LIBEXECDIR)/
	install -m 644 $(DATAFILES:%=core/data/%) $(DESTDIR)$(DATADIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@REQUIRES@|$(LIB_PKGS)|' carnet.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/carnet.pc
	install -m 644 $(BUILD)/man/carnet-index.1 $(BUILD)/man/carnet-query.1 \
		$(BUILD)/man/carnet-serve.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(BUILD)/man/carnet.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 $(BUILD)/ops/carnet-sync.service $(BUILD)/ops/carnet-sync.timer \
		$(BUILD)/ops/carnet-serve.service $(CLUSTER_UNITS:%=$(BUILD)/ops/%) \
		$(DESTDIR)$(SYSTEMDUNITDIR)/
	install -m 644 $(BUILD)/ops/carnet.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/carnet

uninstall:
	rm -f $(INSTALLED:%=$(DESTDIR)%)
	rmdir $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR) 2>/dev/null || true

clean:
	rm -rf build build-san build-fuzz

.PHONY: all check lint demo install uninstall installcheck clean headercheck replay fuzz fuzzers \
	stress man mancheck ops opscheck testing cluster-test tsan-serve FORCE

# Benchmarks (make bench) and the relevance evaluation (make eval) add
# their targets from fragments in bench/.
include $(wildcard bench/*.mk)

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)

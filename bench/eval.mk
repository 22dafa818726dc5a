# SPDX-License-Identifier: GPL-2.0-or-later
# eval.mk - the relevance evaluation, `make eval` (included by the Makefile).
# Indexes the judged corpus corpora/eval into a fresh index, prints nDCG@5
# and nDCG@10 per context for carnet, newest-first and BM25 alone; then
# indexes the SciFact collection (corpora/ir/scifact) and prints carnet's text ranking
# alone beside the published BM25 figures.

EVAL_BIN := $(BUILD)/bench/eval
EVAL_PANEL_BIN := $(BUILD)/bench/eval_panel
SCIFACT_BIN := $(BUILD)/bench/scifact
EVAL_IDX := $(BUILD)/eval.idx
SCIFACT_DIR := $(BUILD)/scifact
SCIFACT_DATA := corpora/ir/scifact

$(EVAL_BIN): $(BUILD)/bench/eval.o $(BUILD)/bench/metrics.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS) -lm

$(EVAL_PANEL_BIN): $(BUILD)/bench/eval_panel.o $(BUILD)/bench/metrics.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS) -lm

$(SCIFACT_BIN): $(BUILD)/bench/scifact.o $(BUILD)/bench/metrics.o $(STATIC_LIB)
	$(SAY) LD $@
	$(Q)$(CXX) $(FINAL_LDFLAGS) -o $@ $^ $(DEP_LIBS) -lm

# built by make check too, so that they keep compiling
eval-progs: $(EVAL_BIN) $(EVAL_PANEL_BIN) $(SCIFACT_BIN)

eval: all $(EVAL_BIN) $(EVAL_PANEL_BIN) $(SCIFACT_BIN)
	@$(EVAL_BIN) --self-test
	@rm -rf $(EVAL_IDX)
	$(BUILD)/carnet-index --index $(EVAL_IDX) --quiet add $(wildcard corpora/eval/p*/)
	@echo
	@$(EVAL_BIN) $(EVAL_IDX) corpora/eval/judgments.tsv
	@echo
	@$(EVAL_PANEL_BIN) $(EVAL_IDX) corpora/eval/panels.tsv
	@rm -rf $(SCIFACT_DIR) && mkdir -p $(SCIFACT_DIR)/docs
	@gzip -dc $(SCIFACT_DATA)/corpus.jsonl.gz | $(SCIFACT_BIN) prepare - $(SCIFACT_DIR)/docs
	$(BUILD)/carnet-index --index $(SCIFACT_DIR)/idx --quiet add $(SCIFACT_DIR)/docs
	@$(SCIFACT_BIN) run $(SCIFACT_DIR)/idx $(SCIFACT_DATA)/queries.jsonl $(SCIFACT_DATA)/qrels/test.tsv

.PHONY: eval eval-progs

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# profile.sh - run by `make profile`: where carnet's instructions go,
# counted by valgrind's callgrind, so that the figures do not move with the
# machine's load as times do (bench.sh measures the times):
#   - `carnet-index add --jobs 1` and plain Xapian (bench/xapian_plain.cc)
#     over the same PROFILE_N generated documents (the bench's generator);
#   - the bench's word queries in process, counted inside
#     carnet_index_search only.
# Prints a report (markdown) and writes it to PROFILE_DIR/profile.md.
# Instructions are not time: a cache miss or a system call costs more than
# its count says (bench.sh's times say that part). PDF text is extracted by
# carnet-pdftext in a child process, which callgrind does not follow; plain
# Xapian reads the same text already extracted.
# Environment: BUILD, PROFILE_N (documents, default 2000), PROFILE_DIR
# (default $BUILD/profile-work, recreated), PROFILE_QUERIES (default 150).
set -eu

B=${BUILD:-build}
N=${PROFILE_N:-2000}
NQ=${PROFILE_QUERIES:-150}
W=${PROFILE_DIR:-$B/profile-work}
PDF=tests/data/pdf/echo.pdf

say() { printf 'profile: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
for v in "PROFILE_N:$N" "PROFILE_QUERIES:$NQ"; do
	case ${v#*:} in '' | *[!0-9]* | 0) die "${v%%:*}=${v#*:}: not a positive whole number" ;; esac
done
command -v valgrind > /dev/null || die "valgrind is missing (apt-get install valgrind)"
command -v callgrind_annotate > /dev/null || die "callgrind_annotate is missing (apt-get install valgrind)"
case $B in /*) absb=$B ;; *) absb=$(pwd)/$B ;; esac
export CARNET_PDFTEXT="${CARNET_PDFTEXT:-$absb/carnet-pdftext}"

rm -rf "$W"
mkdir -p "$W"
"$B/carnet-pdftext" < "$PDF" | tail -c +2 > "$W/pdf.txt"
say "generating $N documents"
"$B/bench/gencorpus" --seed 42 --queries "$NQ" --pdf "$PDF" --pdf-text "$W/pdf.txt" \
	--text-dir "$W/corpus" "$N" > "$W/gen.txt" || die "gencorpus failed"
grep -v '^browse' "$W/corpus/queries.tsv" > "$W/words.tsv" || die "no word queries"

cg() { # NAME COMMAND...: run COMMAND under callgrind into $W/cg.NAME
	name=$1
	shift
	valgrind --tool=callgrind --callgrind-out-file="$W/cg.$name" "$@" > "$W/$name.out" 2> "$W/$name.err" ||
		die "$name failed under callgrind (see $W/$name.err)"
	callgrind_annotate --inclusive=yes "$W/cg.$name" > "$W/$name.txt" 2> /dev/null ||
		die "callgrind_annotate failed on $W/cg.$name"
}
say "plain Xapian under callgrind"
cg plain "$B/bench/xapian_plain" index "$W/xapian" "$W/corpus/corpus.tsv"
say "carnet-index add --jobs 1 under callgrind"
cg carnet "$B/carnet-index" --index "$W/idx" --jobs 1 --quiet add "$W/corpus/docs"
say "carnet's word queries under callgrind"
cg query --toggle-collect=carnet_index_search "$B/bench/query" "$W/idx" "$W/words.tsv"

# instructions of a function, callers' share included (the largest line
# that names it: callgrind_annotate prints a function once per file)
ir() {
	awk -v f="$2" '
	{ n = $1; gsub(",", "", n); if (n !~ /^[0-9]+$/) next
	  if (index($0, ":" f "(") || index($0, ":" f " ") || index($0, ":" f "[")) if (n + 0 > best) best = n + 0 }
	END { printf "%.0f", best }' "$W/$1.txt"
}
total() { sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' "$W/$1.txt" | tr -d ,; }
pct() { awk "BEGIN { printf \"%.1f\", 100 * $1 / $2 }"; }
mi() { awk "BEGIN { printf \"%.0f\", $1 / 1e6 }"; }

tc=$(total carnet)
tp=$(total plain)
tq=$(total query)
nq=$(wc -l < "$W/words.tsv")
row() { # REPORT-NAME FUNCTION WHAT
	c=$(ir "$1" "$2")
	case $1 in carnet) t=$tc ;; plain) t=$tp ;; *) t=$tq ;; esac
	printf '| %s | `%s` | %s | %s%% |\n' "$3" "$2" "$(mi "$c")" "$(pct "$c" "$t")"
}
{
	echo "### Instructions by callgrind, $N documents, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
	echo
	echo "Indexing: carnet \`add --jobs 1\` $(mi "$tc") M instructions, plain Xapian $(mi "$tp") M" \
	     "over the same text: carnet / plain $(awk "BEGIN { printf \"%.2f\", $tc / $tp }")" \
	     "($(awk "BEGIN { printf \"%.0f\", $tc / $N }") and $(awk "BEGIN { printf \"%.0f\", $tp / $N }")" \
	     "per document). Each row counts a function with what it calls."
	echo
	echo "| carnet add --jobs 1: what | function | M instructions | share |"
	echo "|---|---|---:|---:|"
	row carnet carnet_prepare__input "read, fold and prepare a document"
	row carnet read_cda "of which: read a CDA document"
	row carnet carnet_text__fold "of which: fold the text"
	row carnet "carnet_xap::index_text" "of which: term generation (core/xapian_terms.cc)"
	row carnet "Xapian::Document::add_posting" "of which: Xapian: postings added"
	row carnet "Xapian::TermGenerator::Internal::index_text" "of which: Xapian's, for text other than ASCII"
	row carnet carnet_xap_prepared_match "of which: content vectors"
	row carnet carnet_textpack__pack "of which: pack the stored text"
	row carnet "Xapian::Database::Internal::replace_document" "Xapian: add the document"
	row carnet "Xapian::Database::Internal::commit_transaction" "Xapian: commits"
	row carnet sqlite3_step "sqlite (registry) statements"
	echo
	echo "| plain Xapian: what | function | M instructions | share |"
	echo "|---|---|---:|---:|"
	row plain carnet_text__fold "fold the text (as carnet does)"
	row plain "Xapian::TermGenerator::Internal::index_text" "Xapian's term generation"
	row plain "Xapian::Document::add_posting" "of which: postings added"
	row plain "Xapian::Database::Internal::replace_document" "Xapian: add the document"
	row plain "Xapian::WritableDatabase::commit" "Xapian: commits"
	echo
	echo "Queries: $nq word queries (1 and 3 words, 20 hits with snippets, every feature on)," \
	     "$(awk "BEGIN { printf \"%.0f\", $tq / $nq / 1000 }") thousand instructions each in carnet_index_search."
	echo
	echo "| a word query: what | function | M instructions | share |"
	echo "|---|---|---:|---:|"
	row query carnet_xap_reader_candidates "Xapian: match, candidates and their rank values"
	row query carnet_xap_reader_fields "read each hit's record, set and text"
	row query carnet_textpack__unpack "unpack each hit's text (Zstandard)"
	row query carnet_snippet__make "snippets"
	row query carnet_access__log_request "the access log (sqlite, SHA-256 chain)"
	row query carnet_rank__topic "what the words are about"
	row query carnet_words__parse "parse the words"
} > "$W/profile.md"
cat "$W/profile.md"

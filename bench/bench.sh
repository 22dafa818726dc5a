#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# bench.sh - run by `make bench`: generate a corpus, index it with carnet
# (add and sync, --jobs 1 and 2), SQLite FTS5 and plain Xapian, run the
# same queries on each, print one table and write it to bench/RESULTS.md.
# Environment: BUILD, BENCH_N (documents), BENCH_DIR (work directory,
# recreated), BENCH_PEERS=1 (also omindex and recoll), BENCH_SEED,
# BENCH_QUERIES (queries of each kind), BENCH_CALLS (carnet-query runs).
set -eu

B=${BUILD:-build}
N=${BENCH_N:-5000}
W=${BENCH_DIR:-$B/bench-work}
PEERS=${BENCH_PEERS:-0}
SEED=${BENCH_SEED:-42}
NQ=${BENCH_QUERIES:-2000}
CALLS=${BENCH_CALLS:-50}
BIN=$B/bench
RESULTS=bench/RESULTS.md
PDF=tests/data/pdf/echo.pdf
case $B in /*) absb=$B ;; *) absb=$(pwd)/$B ;; esac
export CARNET_PDFTEXT="${CARNET_PDFTEXT:-$absb/carnet-pdftext}"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
# value of KEY=... in the first line of FILE matching PATTERN
kv() { grep -e "$2" "$1" | head -n 1 | tr ' ' '\n' | sed -n "s/^$3=//p"; }
# value of "KEY":number in a JSON line
jv() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$1" | head -n 1; }
kb() { du -sk "$1" | cut -f1; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

problems=0
problem() { say "PROBLEM: $*"; problems=$((problems + 1)); echo "- $*" >> "$W/problems"; }

rm -rf "$W"
mkdir -p "$W"
W=$(cd "$W" && pwd)
: > "$W/problems"

# ---- corpus ----
"$B/carnet-pdftext" < "$PDF" > "$W/pdf.raw" || die "carnet-pdftext failed on $PDF"
[ "$(head -c 1 "$W/pdf.raw")" = T ] || die "$PDF: the extractor found no text"
tail -c +2 "$W/pdf.raw" > "$W/pdf.txt"
textdir=
[ "$PEERS" = 1 ] && textdir=--text-dir
say "generating $N documents"
# shellcheck disable=SC2086
"$BIN/gencorpus" --seed "$SEED" --queries "$NQ" --pdf "$PDF" --pdf-text "$W/pdf.txt" \
	$textdir "$W/corpus" "$N" > "$W/gen.txt"
cat "$W/gen.txt" >&2
TSV=$W/corpus/corpus.tsv
QUERIES=$W/corpus/queries.tsv
DOCS=$W/corpus/docs
text_bytes=$(kv "$W/gen.txt" docs= text_bytes)
patients=$(kv "$W/gen.txt" docs= patients)
maxdocs=$(kv "$W/gen.txt" docs= max_docs_per_patient)
file_bytes=$(kv "$W/gen.txt" docs= file_bytes)
text_mb=$(calc '%.1f' "$text_bytes / 1e6")
[ "$(wc -l < "$TSV")" -eq "$N" ] || problem "corpus.tsv does not have $N rows"

# ---- indexing ----
# carnet NAME JOBS COMMAND: index the corpus into a fresh home
carnet() {
	home=$W/idx-$1
	say "carnet-index $3 --jobs $2"
	rc=0
	"$BIN/benchrun" "$W/$1.time" "$B/carnet-index" --index "$home" --jobs "$2" --quiet --json \
		"$3" "$DOCS" > "$W/$1.json" || rc=$?
	[ "$rc" -le 1 ] || die "carnet-index $3 failed (status $rc)"
	"$B/carnet-index" --index "$home" --json stats > "$W/$1.stats"
	added=$(jv "$W/$1.json" added)
	docs=$(jv "$W/$1.stats" documents)
	rejected=$(jv "$W/$1.json" rejected)
	[ "$added" = "$N" ] || problem "carnet $3 --jobs $2 added $added of $N documents"
	[ "$docs" = "$N" ] || problem "carnet $3 --jobs $2 index holds $docs of $N documents"
	[ "$rejected" = 0 ] || problem "carnet $3 --jobs $2 rejected $rejected inputs"
	kb "$home" > "$W/$1.kb"
	# keep disk use bounded on large runs: only add2 is queried
	[ "$1" = add2 ] || rm -rf "$home"
}
carnet add1 1 add
carnet add2 2 add
carnet sync1 1 sync
carnet sync2 2 sync

say "fts5 index"
"$BIN/benchrun" "$W/fts5.time" "$BIN/fts5" index "$W/fts5.db" "$TSV" > "$W/fts5.out" ||
	die "fts5 index failed"
[ "$(kv "$W/fts5.out" rows= count)" = "$N" ] || problem "fts5 holds $(kv "$W/fts5.out" rows= count) of $N rows"
kb "$W/fts5.db" > "$W/fts5.kb"

say "plain xapian index"
"$BIN/benchrun" "$W/xapian.time" "$BIN/xapian_plain" index "$W/xapian" "$TSV" > "$W/xapian.out" ||
	die "xapian_plain index failed"
[ "$(kv "$W/xapian.out" rows= count)" = "$N" ] || problem "plain xapian holds $(kv "$W/xapian.out" rows= count) of $N documents"
kb "$W/xapian" > "$W/xapian.kb"

peers=
if [ "$PEERS" = 1 ]; then
	command -v omindex > /dev/null || apt-get install -y xapian-omega >&2 || problem "cannot install xapian-omega"
	command -v recollindex > /dev/null || apt-get install -y recollcmd >&2 || problem "cannot install recollcmd"
	command -v xapian-compact > /dev/null || apt-get install -y xapian-tools >&2 || problem "cannot install xapian-tools"
	if command -v omindex > /dev/null; then
		say "omindex"
		"$BIN/benchrun" "$W/omindex.time" omindex -v --db "$W/omega" --url / "$W/corpus/text" \
			> "$W/omindex.out" 2>&1 || problem "omindex failed"
		c=$(grep -c '\.\.\. added$' "$W/omindex.out" || true)
		[ "$c" = "$N" ] || problem "omindex added $c of $N documents"
		kb "$W/omega" > "$W/omindex.kb"
		peers="$peers omindex"
	fi
	if command -v recollindex > /dev/null; then
		say "recollindex"
		mkdir -p "$W/recoll"
		printf 'topdirs = %s\nloglevel = 1\nnoaspell = 1\n' "$W/corpus/text" > "$W/recoll/recoll.conf"
		"$BIN/benchrun" "$W/recoll.time" recollindex -c "$W/recoll" \
			> "$W/recoll.out" 2>&1 || problem "recollindex failed"
		kb "$W/recoll/xapiandb" > "$W/recoll.kb"
		c=$(recollq -c "$W/recoll" -Q -E ext:txt 2>&1 | sed -n 's/^\([0-9]*\) results.*/\1/p')
		[ "$c" = "$N" ] || problem "recoll holds $c of $N documents"
		peers="$peers recoll"
	fi
fi

compact=
if command -v xapian-compact > /dev/null; then
	# carnet's shards (gen-N/xapian, xapian.1, ...) are merged into one
	for x in add2:"$(echo "$W"/idx-add2/gen-*/xapian "$W"/idx-add2/gen-*/xapian.[0-9]*)" xapian:"$W/xapian"; do
		n=${x%%:*} d=${x#*:}
		# shellcheck disable=SC2086 # several source databases
		xapian-compact $d "$W/compact-$n" > /dev/null && kb "$W/compact-$n" > "$W/$n.ckb"
	done
	compact=1
fi

# ---- queries: a warm-up round, then the measured one ----
HOME_Q=$W/idx-add2
for round in 1 2; do
	say "queries, round $round"
	"$BIN/query" "$HOME_Q" "$QUERIES" > "$W/q-carnet.txt" || die "carnet queries failed"
	"$BIN/fts5" query "$W/fts5.db" "$QUERIES" > "$W/q-fts5.txt" || die "fts5 queries failed"
	"$BIN/xapian_plain" query "$W/xapian" "$QUERIES" > "$W/q-xapian.txt" || die "xapian queries failed"
done
say "carnet-query as a process, $CALLS calls"
"$BIN/query" --exec "$B/carnet-query" --calls "$CALLS" "$HOME_Q" "$QUERIES" > "$W/q-process.txt" ||
	problem "some carnet-query calls failed"

for e in carnet fts5 xapian; do
	for k in browse w1 w3; do
		hr=$(kv "$W/q-$e.txt" "kind=$k " hit_rate)
		awk "BEGIN { exit !($hr < 0.9) }" && problem "$e $k queries: hit rate $hr"
	done
done

# ---- the table ----
T=$W/table.md
wall() { kv "$W/$1.time" wall_s wall_s; }
rss() { calc '%.0f' "$(kv "$W/$1.time" wall_s maxrss_kb) / 1024"; }
size() { calc '%.1f' "$(cat "$W/$1.kb") / 1024"; }
ratio() { calc '%.2f' "$1 / $2"; }
fts_w=$(wall fts5)
xap_w=$(wall xapian)
add1_w=$(wall add1)
sync1_w=$(wall sync1)
{
	echo "Corpus: $N documents, $patients patients (1 to $maxdocs documents each), $text_mb MB of text" \
	     "($(calc '%.0f' "$file_bytes / 1e6") MB of files: CDA, text + sidecar, CDA with a PDF)."
	echo
	echo "| indexing | wall s | docs/s | MB/s of text | peak RSS MB | on-disk MB | time / FTS5 | time / plain Xapian | time / same at --jobs 1 |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for r in "add1:carnet add --jobs 1:$add1_w" "add2:carnet add --jobs 2:$add1_w" \
		 "sync1:carnet sync --jobs 1:$sync1_w" "sync2:carnet sync --jobs 2:$sync1_w" \
		 "fts5:SQLite FTS5:" "xapian:plain Xapian:"; do
		n=${r%%:*} rest=${r#*:} label=${rest%%:*} base=${rest#*:}
		w=$(wall "$n")
		j1=-
		case $n in add2|sync2) j1=$(ratio "$w" "$base") ;; esac
		printf '| %s | %.2f | %.0f | %.2f | %s | %s | %s | %s | %s |\n' "$label" "$w" \
			"$(calc '%f' "$N / $w")" "$(calc '%f' "$text_bytes / 1e6 / $w")" "$(rss "$n")" \
			"$(size "$n")" "$(ratio "$w" "$fts_w")" "$(ratio "$w" "$xap_w")" "$j1"
	done
	for p in $peers; do
		w=$(wall "$p")
		printf '| %s (peer) | %.2f | %.0f | %.2f | %s | %s | %s | %s | - |\n' "$p" "$w" \
			"$(calc '%f' "$N / $w")" "$(calc '%f' "$text_bytes / 1e6 / $w")" "$(rss "$p")" \
			"$(size "$p")" "$(ratio "$w" "$fts_w")" "$(ratio "$w" "$xap_w")"
	done
	echo
	if [ -n "$compact" ]; then
		echo "After xapian-compact: carnet's Xapian database $(calc '%.1f' "$(cat "$W/add2.ckb") / 1024") MB," \
		     "plain Xapian $(calc '%.1f' "$(cat "$W/xapian.ckb") / 1024") MB."
	else
		echo "On-disk sizes as written (xapian-compact is not installed); carnet's is the whole index home" \
		     "(Xapian database and registry)."
	fi
	echo
	echo "| queries ($NQ each, 20 hits) | carnet median / p99 / max ms | FTS5 median / p99 / max ms | plain Xapian median / p99 / max ms | carnet / FTS5 (median, p99) | carnet / plain Xapian (median, p99) | hit rate carnet / FTS5 / Xapian |"
	echo "|---|---|---|---|---|---|---|"
	for k in browse w1 w3; do
		case $k in browse) label="browse (no words)" ;; w1) label="1 word" ;; w3) label="3 words" ;; esac
		line=
		for e in carnet fts5 xapian; do
			eval "${e}_m=\$(kv \"\$W/q-$e.txt\" \"kind=$k \" median_ms)"
			eval "${e}_p=\$(kv \"\$W/q-$e.txt\" \"kind=$k \" p99_ms)"
			eval "${e}_x=\$(kv \"\$W/q-$e.txt\" \"kind=$k \" max_ms)"
			eval "${e}_h=\$(kv \"\$W/q-$e.txt\" \"kind=$k \" hit_rate)"
			eval "line=\"\$line | \$${e}_m / \$${e}_p / \$${e}_x\""
		done
		# shellcheck disable=SC2154
		printf '| %s%s | %s, %s | %s, %s | %s / %s / %s |\n' "$label" "$line" \
			"$(ratio "$carnet_m" "$fts5_m")" "$(ratio "$carnet_p" "$fts5_p")" \
			"$(ratio "$carnet_m" "$xapian_m")" "$(ratio "$carnet_p" "$xapian_p")" \
			"$carnet_h" "$fts5_h" "$xapian_h"
	done
	echo
	echo "carnet-query as a process (one word, $CALLS calls): median $(kv "$W/q-process.txt" process median_ms) ms," \
	     "max $(kv "$W/q-process.txt" process max_ms) ms; $(kv "$W/q-process.txt" process hit_rate) of the calls exited 0."
	if [ -s "$W/problems" ]; then
		echo
		echo "**Problems in this run:**"
		cat "$W/problems"
	fi
} > "$T"

# ---- machine, command, RESULTS.md ----
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
ram=$(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)
cmd="make bench BENCH_N=$N"
[ "$PEERS" = 1 ] && cmd="$cmd BENCH_PEERS=1"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
S=$W/section.md
{
	echo "## Latest run, BENCH_N=$N"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit; machine: $(nproc) cores, $cpu, $ram RAM."
	echo "Command: \`$cmd\`"
	echo
	cat "$T"
	echo
} > "$S"
cat "$S"

if [ ! -f "$RESULTS" ]; then
	printf '# Benchmarks\n\n' > "$RESULTS"
fi
# keep the header and the other sizes' sections; replace this size's section
awk -v n="$N" -v sect="$S" '
	/^## Latest run, BENCH_N=/ { skip = ($0 == "## Latest run, BENCH_N=" n); if (skip) next }
	/^## / && !/^## Latest run, BENCH_N=/ { skip = 0 }
	!skip { print }
	END { while ((getline l < sect) > 0) print l }
' "$RESULTS" > "$W/RESULTS.md"
cp "$W/RESULTS.md" "$RESULTS"
say "table written to $RESULTS"
[ "$problems" -eq 0 ] || die "$problems problem(s): see the table"

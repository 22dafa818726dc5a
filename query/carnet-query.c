/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-query.c - the query CLI: one patient's documents, ranked, as a
 * table on a terminal or JSON lines for scripts. Uses the public API only. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <jansson.h>

#include "carnet.h"
#include "carnet-query.h"

enum { EXIT_OK = 0, EXIT_USAGE = 2, EXIT_FAILURE_ = 3 };

/* The synopsis, after a usage error. */
static void short_usage(FILE *f)
{
	fputs("usage: carnet-query [--index DIR] --patient ID [--role ROLE] [--profession CODE]\n"
	      "                    [--specialty CODE] [OPTIONS] [WORDS...]\n"
	      "       carnet-query [--index DIR] --results --patient ID [VIEWER] [--json]\n"
	      "                    [ANALYTES...]\n"
	      "       carnet-query [--index DIR] --access-log --patient ID [--replica DIR]...\n"
	      "                    [--json]\n"
	      "       carnet-query --help | --version\n"
	      "Try 'carnet-query --help' for every option.\n",
	      f);
}

static void usage(FILE *f)
{
	fputs("usage: carnet-query [--index DIR] --patient ID [VIEWER] [FILTERS] [OUTPUT] [WORDS...]\n"
	      "  --index DIR  index home (default $CARNET_INDEX, else ./carnet.idx)\n"
	      "  --patient ID the patient whose record is searched (required): an INS\n"
	      "               (its system may be left out), or an id of system OID\n"
	      "  --patient-system OID  the system of --patient's id (or --patient OID^ID)\n"
	      "  VIEWER:  --role professional|patient|legal-representative (default professional)\n"
	      "           --profession CODE  TRE_G15 profession (10 médecin, 21 pharmacien,\n"
	      "                      60 infirmier, ...); required for a professional\n"
	      "           --specialty CODE   JDV_J01 specialty (SM54 médecine générale, SM04\n"
	      "                      cardiologie, G15_21 pharmacien, ...)\n"
	      "           --viewer-id ID  the professional's identifier (RPPS)\n"
	      "           --emergency     emergency access (\"bris de glace\"), logged\n"
	      "  FILTERS: --type CODE (repeatable)  --since YYYY-MM-DD  --until YYYY-MM-DD\n"
	      "           --author-specialty CODE (repeatable)  --all-versions\n"
	      "  RANKING: --as-of YYYY-MM-DD (recency counted from that day; default today)\n"
	      "           --ranking FILE (ranking.conf lines over the index's own)\n"
	      "  OUTPUT:  --limit N (default 20)  --offset N  --json  --explain  --facets\n"
	      "       carnet-query [--index DIR] --results --patient ID [VIEWER] [--since D]\n"
	      "                    [--until D] [--json] [ANALYTES...]\n"
	      "           key results at a glance: per analyte, the latest value, flag,\n"
	      "           date, range, previous values and trend, in the order of the\n"
	      "           viewer's panel (panels.tsv); ANALYTES: words of analytes.tsv\n"
	      "           (kaliémie, HbA1c, NFS, ...) or LOINC codes (2823-3)\n"
	      "       carnet-query [--index DIR] --access-log --patient ID [--replica DIR]...\n"
	      "                    [--json]\n"
	      "           who searched this patient's record, newest first; with\n"
	      "           --replica (repeatable), merged from --index and the other\n"
	      "           replicas of its shard, each row naming its replica\n"
	      "       carnet-query -h|--help     this help\n"
	      "       carnet-query -V|--version  the version\n"
	      "A professional gives --profession; what each profession may read is\n"
	      "set by the authorisation matrix (authorisations.tsv).\n"
	      "Hits are ranked by text relevance, affinity to the viewer's specialty\n"
	      "and recency; no WORDS: browse mode, by affinity and recency alone.\n"
	      "Words: plain words, \"a phrase\", -excluded, +required.\n"
	      "exit status: 0 success, 2 usage error (bad option, patient, profession,\n"
	      "specialty or query), 3 failure (no index, unreadable index, access\n"
	      "denied, access log not writable, ...)\n",
	      f);
}

/* A usage error: the reason on one line, then the synopsis. */
__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("carnet-query: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	short_usage(stderr);
	return EXIT_USAGE;
}

static int parse_count(const char *opt, const char *s, unsigned max, unsigned *out)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (!*s || *end || n < 0 || (unsigned long)n > max) {
		usage_error("%s needs a number from 0 to %u", opt, max);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

void put_cell(const char *s, size_t cols)
{
	if (cols == 0) {
		fputs(s, stdout);
		return;
	}
	size_t n = 0, i = 0, cut = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xC0) == 0x80)
			continue;
		if (n == cols - 1)
			cut = i;
		n++;
	}
	if (n > cols) {
		fwrite(s, 1, cut, stdout);
		fputs("…", stdout);
		n = cols;
	} else {
		fputs(s, stdout);
	}
	for (; n < cols; n++)
		putchar(' ');
}

/* A snippet for a terminal: <b>..</b> in bold (or *..* when not a TTY),
 * HTML entities back to characters. */
static void put_snippet(const char *s, int tty)
{
	const struct { const char *from, *to; } subst[] = {
		{ "<b>", tty ? "\033[1m" : "*" }, { "</b>", tty ? "\033[0m" : "*" },
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
	};
	size_t count = sizeof subst / sizeof subst[0];
	while (*s) {
		size_t k = 0;
		while (k < count && strncmp(s, subst[k].from, strlen(subst[k].from)) != 0)
			k++;
		if (k < count) {
			fputs(subst[k].to, stdout);
			s += strlen(subst[k].from);
		} else {
			putchar(*s++);
		}
	}
}

static const char *const facet_names[] = { "type", "author_specialty", "year" };

static void print_table(const carnet_results *res, const char *patient,
			unsigned offset, int tty, int explain, int facets, int words)
{
	size_t width = 0;
	if (tty) {
		struct winsize ws;
		width = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 100;
	}
	size_t n = carnet_results_count(res);
	/* rank, date, type, specialty, score, then the title */
	size_t fixed = 4 + 1 + 10 + 2 + 34 + 2 + 16 + 2 + 5 + 2 + (explain ? 18 : 0);
	size_t title_cols = width > fixed + 20 ? width - fixed : (tty ? 20 : 0);
	printf("%4s %-10s  ", "#", "date");
	put_cell("type", 34);
	printf("  ");
	put_cell("spécialité", 16);
	printf("  %5s  ", "score");
	if (explain)
		printf("%4s %4s %4s    ", "text", "spéc", "réc");
	printf("title\n");
	for (size_t i = 0; i < n; i++) {
		const char *label = carnet_results_field(res, i, CARNET_FIELD_TYPE_LABEL);
		if (!*label)
			label = carnet_results_field(res, i, CARNET_FIELD_TYPE);
		printf("%4zu %-10s  ", offset + i + 1,
		       carnet_results_field(res, i, CARNET_FIELD_DATE));
		put_cell(label, 34);
		printf("  ");
		const char *spec = carnet_results_field(res, i, CARNET_FIELD_AUTHOR_SPECIALTY_LABEL);
		if (!*spec)
			spec = carnet_results_field(res, i, CARNET_FIELD_AUTHOR_SPECIALTY);
		put_cell(spec, 16);
		printf("  %5.2f  ", carnet_results_score(res, i));
		if (explain)
			printf("%4.2f %4.2f %4.2f    ", carnet_results_part(res, i, CARNET_PART_TEXT),
			       carnet_results_part(res, i, CARNET_PART_SPECIALTY),
			       carnet_results_part(res, i, CARNET_PART_RECENCY));
		put_cell(carnet_results_field(res, i, CARNET_FIELD_TITLE), title_cols);
		putchar('\n');
		const char *snippet = carnet_results_snippet(res, i);
		if (snippet && *snippet) {
			printf("%16s", "");
			put_snippet(snippet, tty);
			putchar('\n');
		}
		if (explain) {
			double half = carnet_results_part(res, i, CARNET_PART_HALF_LIFE_DAYS);
			char hl[32];
			if (half > 0)
				snprintf(hl, sizeof hl, "%.0f d", half);
			else
				snprintf(hl, sizeof hl, "never fades");
			char topic[48] = "", results[64] = "";
			if (carnet_results_part(res, i, CARNET_PART_AFFINITY_TOPIC) > 0)
				snprintf(topic, sizeof topic, ", to the words' field %.2f",
					 carnet_results_part(res, i, CARNET_PART_AFFINITY_TOPIC));
			if (carnet_results_part(res, i, CARNET_PART_RESULTS) > 0)
				snprintf(results, sizeof results, words
					 ? "; in the series of the analytes named +%.2f"
					 : "; latest report of your panel's analytes +%.2f",
					 carnet_results_part(res, i, CARNET_PART_RESULTS));
			/* the weight of the date: weight.recency, more for a lab series */
			double raw = carnet_results_part(res, i, CARNET_PART_RECENCY_RAW);
			double weight = raw > 0 ? carnet_results_part(res, i, CARNET_PART_RECENCY) / raw : 0;
			printf("%16sbm25 %.2f; affinity %.2f (type %.2f, author %.2f, content %.2f%s); "
			       "recency %.2f x %.2f (age %.0f d, half-life %s)%s\n", "",
			       carnet_results_part(res, i, CARNET_PART_TEXT_RAW),
			       carnet_results_part(res, i, CARNET_PART_AFFINITY),
			       carnet_results_part(res, i, CARNET_PART_AFFINITY_TYPE),
			       carnet_results_part(res, i, CARNET_PART_AFFINITY_AUTHOR),
			       carnet_results_part(res, i, CARNET_PART_AFFINITY_CONTENT), topic,
			       raw, weight, carnet_results_part(res, i, CARNET_PART_AGE_DAYS), hl,
			       results);
		}
	}
	printf("%zu of %llu document(s) for patient %s\n", n,
	       (unsigned long long)carnet_results_total(res), patient);
	const char *suggestion = carnet_results_suggestion(res);
	if (*suggestion)
		printf("no document matches; did you mean: %s\n", suggestion);
	if (facets) {
		for (int f = 0; f < 3; f++) {
			printf("%s:", facet_names[f]);
			for (size_t j = 0; j < carnet_results_facet_count(res, (carnet_facet)f); j++) {
				uint64_t count;
				const char *v = carnet_results_facet(res, (carnet_facet)f, j, &count);
				printf("%s %s (%llu)", j ? "," : "", *v ? v : "-",
				       (unsigned long long)count);
			}
			putchar('\n');
		}
	}
}

static void print_json(const carnet_results *res, unsigned offset, int explain,
		       int facets)
{
	size_t n = carnet_results_count(res);
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		if (!o)
			return;
		json_object_set_new(o, "rank", json_integer((json_int_t)(offset + i + 1)));
		static const struct { const char *key; carnet_field f; } fields[] = {
			{ "id", CARNET_FIELD_ID }, { "set_id", CARNET_FIELD_SET_ID },
		};
		for (size_t k = 0; k < 2; k++)
			json_object_set_new(o, fields[k].key,
					    json_string(carnet_results_field(res, i, fields[k].f)));
		json_object_set_new(o, "version", json_integer(carnet_results_version(res, i)));
		static const struct { const char *key; carnet_field f; } more[] = {
			{ "patient", CARNET_FIELD_PATIENT },
			{ "type", CARNET_FIELD_TYPE },
			{ "type_label", CARNET_FIELD_TYPE_LABEL },
			{ "title", CARNET_FIELD_TITLE },
			{ "date", CARNET_FIELD_DATE },
			{ "author_specialty", CARNET_FIELD_AUTHOR_SPECIALTY },
		};
		for (size_t k = 0; k < sizeof more / sizeof more[0]; k++)
			json_object_set_new(o, more[k].key,
					    json_string(carnet_results_field(res, i, more[k].f)));
		json_object_set_new(o, "score", json_real(carnet_results_score(res, i)));
		if (explain) {
			json_object_set_new(o, "explain", json_pack(
				"{s:f, s:f, s:f, s:f}",
				"text", carnet_results_part(res, i, CARNET_PART_TEXT),
				"specialty", carnet_results_part(res, i, CARNET_PART_SPECIALTY),
				"recency", carnet_results_part(res, i, CARNET_PART_RECENCY),
				"results", carnet_results_part(res, i, CARNET_PART_RESULTS)));
			json_object_set_new(o, "why", json_pack(
				"{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
				"text_bm25", carnet_results_part(res, i, CARNET_PART_TEXT_RAW),
				"affinity", carnet_results_part(res, i, CARNET_PART_AFFINITY),
				"affinity_type", carnet_results_part(res, i, CARNET_PART_AFFINITY_TYPE),
				"affinity_author", carnet_results_part(res, i, CARNET_PART_AFFINITY_AUTHOR),
				"affinity_content", carnet_results_part(res, i, CARNET_PART_AFFINITY_CONTENT),
				"recency", carnet_results_part(res, i, CARNET_PART_RECENCY_RAW),
				"age_days", carnet_results_part(res, i, CARNET_PART_AGE_DAYS),
				"half_life_days", carnet_results_part(res, i, CARNET_PART_HALF_LIFE_DAYS),
				"affinity_topic", carnet_results_part(res, i, CARNET_PART_AFFINITY_TOPIC)));
		}
		const char *snippet = carnet_results_snippet(res, i);
		if (snippet && *snippet)
			json_object_set_new(o, "snippet", json_string(snippet));
		json_dumpf(o, stdout, JSON_COMPACT | JSON_REAL_PRECISION(4));
		putchar('\n');
		json_decref(o);
	}
	const char *suggestion = carnet_results_suggestion(res);
	if (*suggestion) {
		json_t *o = json_pack("{s:s}", "suggestion", suggestion);
		if (o) {
			json_dumpf(o, stdout, JSON_COMPACT);
			putchar('\n');
			json_decref(o);
		}
	}
	if (facets) {
		json_t *all = json_object();
		for (int f = 0; all && f < 3; f++) {
			json_t *counts = json_object();
			for (size_t j = 0; counts && j < carnet_results_facet_count(res, (carnet_facet)f); j++) {
				uint64_t count;
				const char *v = carnet_results_facet(res, (carnet_facet)f, j, &count);
				json_object_set_new(counts, v, json_integer((json_int_t)count));
			}
			json_object_set_new(all, facet_names[f], counts);
		}
		json_t *o = json_pack("{s:o}", "facets", all);
		if (o) {
			json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
			putchar('\n');
			json_decref(o);
		}
	}
}

/* --ranking FILE: read it and apply it to the handle. */
static int set_ranking(carnet_index *idx, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "carnet-query: cannot read %s\n", path);
		return -1;
	}
	char *text = malloc(1024 * 1024 + 1);
	size_t n = text ? fread(text, 1, 1024 * 1024, f) : 0;
	int bad = !text || ferror(f) || !feof(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "carnet-query: %s: unreadable or over 1 MiB\n", path);
		free(text);
		return -1;
	}
	text[n] = '\0';
	carnet_error err;
	int rc = carnet_index_set_ranking(idx, text, &err);
	free(text);
	if (rc != CARNET_OK) {
		fprintf(stderr, "carnet-query: %s: %s\n", path, err.message);
		return -1;
	}
	return 0;
}

/* Most --replica options (the replicas of one shard). */
#define REPLICAS_MAX 16

/* What the command line asks for. */
typedef struct options {
	carnet_request req;
	const char *home, *ranking;
	const char *types[CARNET_CODES_MAX], *specs[CARNET_CODES_MAX];
	const char *homes[REPLICAS_MAX + 1]; /* --index, then each --replica */
	size_t replicas;
	int json, access_log, explain, facets, results;
} options;

/* Add code to the list of a repeatable option (CARNET_CODES_MAX at most). */
static int add_code(const char **list, size_t *count, const char *code, const char *opt)
{
	if (*count == CARNET_CODES_MAX) {
		usage_error("at most %d %s", CARNET_CODES_MAX, opt);
		return -1;
	}
	list[(*count)++] = code;
	return 0;
}

/* Read the options into o (the words are what is left, from optind).
 * Returns -1 to go on, or the exit status (after --help, --version or a
 * usage error). */
static int parse_options(options *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "index", required_argument, NULL, 'i' },
		{ "patient", required_argument, NULL, 'p' },
		{ "patient-system", required_argument, NULL, 'y' },
		{ "role", required_argument, NULL, 'r' },
		{ "profession", required_argument, NULL, 'P' },
		{ "specialty", required_argument, NULL, 's' },
		{ "viewer-id", required_argument, NULL, 'v' },
		{ "emergency", no_argument, NULL, 'e' },
		{ "type", required_argument, NULL, 't' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "all-versions", no_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'l' },
		{ "offset", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "explain", no_argument, NULL, 'x' },
		{ "facets", no_argument, NULL, 'f' },
		{ "author-specialty", required_argument, NULL, 'A' },
		{ "as-of", required_argument, NULL, 'O' },
		{ "ranking", required_argument, NULL, 'R' },
		{ "access-log", no_argument, NULL, 'L' },
		{ "replica", required_argument, NULL, 'E' },
		{ "results", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	carnet_request *req = &o->req;
	int c;
	opterr = 0; /* the reasons are ours, with the synopsis */
	while ((c = getopt_long(argc, argv, ":hV", opts, NULL)) != -1) {
		switch (c) {
		case 'i': o->home = optarg; break;
		case 'p': req->patient_id = optarg; break;
		case 'y': req->patient_system = optarg; break;
		case 'r':
			if (strcmp(optarg, "professional") == 0)
				req->role = CARNET_ROLE_PROFESSIONAL;
			else if (strcmp(optarg, "patient") == 0)
				req->role = CARNET_ROLE_PATIENT;
			else if (strcmp(optarg, "legal-representative") == 0)
				req->role = CARNET_ROLE_LEGAL_REPRESENTATIVE;
			else
				return usage_error("unknown role '%s' (professional, patient or "
						   "legal-representative)", optarg);
			break;
		case 'P':
			if (!*optarg)
				return usage_error("--profession needs a TRE_G15 code");
			req->profession = optarg;
			break;
		case 's':
			if (!*optarg)
				return usage_error("--specialty needs a JDV_J01 code");
			req->specialty = optarg;
			break;
		case 'v': req->viewer_id = optarg; break;
		case 'e': req->flags |= CARNET_REQUEST_EMERGENCY; break;
		case 't':
			if (add_code(o->types, &req->types_count, optarg, "--type"))
				return EXIT_USAGE;
			break;
		case 'S': req->since = optarg; break;
		case 'U': req->until = optarg; break;
		case 'a': req->flags |= CARNET_REQUEST_ALL_VERSIONS; break;
		case 'l':
			if (parse_count("--limit", optarg, CARNET_HITS_MAX, &req->limit))
				return EXIT_USAGE;
			break;
		case 'o':
			if (parse_count("--offset", optarg, CARNET_OFFSET_MAX, &req->offset))
				return EXIT_USAGE;
			break;
		case 'j': o->json = 1; break;
		case 'x': o->explain = 1; break;
		case 'f': o->facets = 1; break;
		case 'A':
			if (add_code(o->specs, &req->author_specialties_count, optarg,
				     "--author-specialty"))
				return EXIT_USAGE;
			break;
		case 'O': req->as_of = optarg; break;
		case 'R': o->ranking = optarg; break;
		case 'L': o->access_log = 1; break;
		case 'E':
			if (o->replicas == REPLICAS_MAX)
				return usage_error("at most %d --replica", REPLICAS_MAX);
			o->homes[1 + o->replicas++] = optarg;
			break;
		case 'K': o->results = 1; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': {
			int major, minor, patch;
			carnet_version(&major, &minor, &patch);
			printf("carnet-query %d.%d.%d\n", major, minor, patch);
			return EXIT_OK;
		}
		case ':':
			return usage_error("option %s needs a value", argv[optind - 1]);
		default:
			if (optopt && strncmp(argv[optind - 1], "--", 2) == 0)
				return usage_error("option %.*s takes no value",
						   (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			if (optopt)
				return usage_error("unknown option -%c", optopt);
			return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	req->types = o->types;
	req->author_specialties = o->specs;
	return -1;
}

/* The words: every argument from first on, joined by spaces (malloc'd;
 * NULL when memory runs out). */
static char *join_words(int argc, char **argv, int first)
{
	size_t len = 1;
	for (int i = first; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *words = calloc(1, len);
	if (!words)
		return NULL;
	for (int i = first; i < argc; i++) {
		if (i > first)
			strcat(words, " ");
		strcat(words, argv[i]);
	}
	return words;
}

/* Open the index, run the search of o and print its results. */
static int run_search(const options *o)
{
	carnet_error err;
	carnet_index *idx;
	if (carnet_index_open(&idx, o->home, &err) != CARNET_OK) {
		fprintf(stderr, "carnet-query: %s%s\n", err.message,
			err.code == CARNET_E_NOTFOUND ? " (create it with: carnet-index add PATH)" : "");
		return EXIT_FAILURE_;
	}
	if (o->ranking && set_ranking(idx, o->ranking) != 0) {
		carnet_index_close(idx);
		return EXIT_USAGE;
	}
	carnet_results *res = NULL;
	int rc = o->results ? show_results(idx, &o->req, o->json, &err)
			    : carnet_index_search(&res, idx, &o->req, &err);
	if (rc != CARNET_OK) {
		carnet_index_close(idx);
		if (rc == CARNET_E_INVALID || rc == CARNET_E_QUERY)
			return usage_error("%s", err.message);
		fprintf(stderr, "carnet-query: %s\n", err.message);
		return EXIT_FAILURE_;
	}
	if (res && o->json)
		print_json(res, o->req.offset, o->explain, o->facets);
	else if (res)
		print_table(res, o->req.patient_id, o->req.offset, isatty(STDOUT_FILENO),
			    o->explain, o->facets, o->req.words && *o->req.words);
	carnet_results_free(res);
	carnet_index_close(idx);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	options o;
	memset(&o, 0, sizeof o);
	o.req = (carnet_request)CARNET_REQUEST_INIT;
	int rc = parse_options(&o, argc, argv);
	if (rc >= 0)
		return rc;
	carnet_request *req = &o.req;
	if (!req->patient_id)
		return usage_error("--patient ID is required");
	if (o.replicas && !o.access_log)
		return usage_error("--replica is for --access-log");
	if (o.access_log) {
		const char *env = getenv("CARNET_INDEX");
		/* with replicas, each row names its home: the default's too */
		o.homes[0] = o.home ? o.home : !o.replicas ? NULL : env && *env ? env : "carnet.idx";
		/* the log is read by key: "system^id" goes through the same rule */
		char both[512];
		snprintf(both, sizeof both, "%s^%s", req->patient_system ? req->patient_system : "",
			 req->patient_id);
		return show_access_log(o.homes, 1 + o.replicas,
				       req->patient_system ? both : req->patient_id, o.json);
	}
	if (req->role == CARNET_ROLE_PROFESSIONAL && !req->profession)
		return usage_error("a professional gives --profession CODE "
				   "(TRE_G15, e.g. 10 médecin, 21 pharmacien, 60 infirmier)");

	char *words = join_words(argc, argv, optind);
	if (!words) {
		fputs("carnet-query: out of memory\n", stderr);
		return EXIT_FAILURE_;
	}
	req->words = words;
	rc = run_search(&o);
	free(words);
	return rc;
}

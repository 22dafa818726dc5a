/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-index.c - the indexing CLI: add files and directories to an index
 * home, show its figures and its rejected inputs. Uses the public API, and
 * the library's directory walk (walk.h). This file: main, reading the
 * options, the help, and the commands dispatched (carnet-index.h lists
 * the files that do them). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "carnet-index.h"

cli_options cli = { .batch = 1000, .max_remove = 10, .max_remove_is_pct = 1 };

struct timespec started_at, started_mono;
char first_error[512];

__attribute__((format(printf, 1, 0)))
static void vcomplain(const char *fmt, va_list ap)
{
	char msg[sizeof first_error];
	vsnprintf(msg, sizeof msg, fmt, ap);
	fprintf(stderr, "carnet-index: %s\n", msg);
	if (!first_error[0])
		snprintf(first_error, sizeof first_error, "%s", msg);
}

void complain(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vcomplain(fmt, ap);
	va_end(ap);
}

/* The synopsis, after a usage error. */
static void short_usage(FILE *f)
{
	fputs("usage: carnet-index [OPTIONS] add PATH...\n"
	      "       carnet-index [OPTIONS] sync|rebuild SOURCE_DIR\n"
	      "       carnet-index [OPTIONS] mask|unmask ID --from AUDIENCE\n"
	      "       carnet-index [OPTIONS] stats|rejects\n"
	      "       carnet-index [OPTIONS] init [--group NAME]\n"
	      "       carnet-index [OPTIONS] access-log verify|archive ...\n"
	      "       carnet-index help [COMMAND] | --help | --version\n"
	      "Try 'carnet-index --help' for every option.\n",
	      f);
}

static void usage(FILE *f)
{
	fputs("usage: carnet-index [--index DIR] [OPTIONS] add PATH...\n"
	      "       carnet-index [--index DIR] [OPTIONS] sync|rebuild SOURCE_DIR\n"
	      "       carnet-index [--index DIR] mask|unmask ID --from AUDIENCE\n"
	      "       carnet-index [--index DIR] [--json] stats\n"
	      "       carnet-index [--index DIR] [--json] rejects\n"
	      "       carnet-index [--index DIR] init [--group NAME]\n"
	      "       carnet-index [--index DIR] [--json] access-log verify [--archive FILE]\n"
	      "       carnet-index [--index DIR] [--json] access-log archive --before DATE FILE\n"
	      "       carnet-index help [COMMAND]   (or COMMAND --help)\n"
	      "       carnet-index -h|--help | -V|--version\n"
	      "\n"
	      "  add PATH...    index files, or directories recursively; each input\n"
	      "                 may have its metadata in a sidecar FILE.meta.json\n"
	      "  sync DIR       make the index match DIR: add new files, replace changed\n"
	      "                 ones, remove the documents of files that are gone, skip\n"
	      "                 the rest\n"
	      "  rebuild DIR    build a new generation from DIR beside the live one, then\n"
	      "                 switch readers to it atomically\n"
	      "  mask ID --from professionals|patient|legal-representatives\n"
	      "  unmask ID --from ...   hide a document from an audience, or show it\n"
	      "                 again, without reading it again\n"
	      "  stats          documents, versions, patients, rejects, size, generation\n"
	      "  rejects        every rejected input: path, when first rejected, reason\n"
	      "  init [--group NAME]  create the index home and its access log; with\n"
	      "                 a group, shared: viewers in it read the index and\n"
	      "                 append to the access log, nobody else reads anything\n"
	      "  access-log verify   walk the access log's chain of hashes: the row count\n"
	      "                 and the head hash (keep it elsewhere as an anchor), or\n"
	      "                 the first broken row (exit 3); with --archive FILE,\n"
	      "                 check an archive file against its record in the log\n"
	      "  access-log archive --before DATE FILE   move the rows older than DATE\n"
	      "                 (YYYY-MM-DD) to FILE as JSON lines, then record the\n"
	      "                 archive in the log\n"
	      "  access-log export [--after SEQ]   the rows after row SEQ as JSON lines\n"
	      "                 on stdout (for a central store; nothing removed)\n"
	      "\n"
	      "  --index DIR    index home (default $CARNET_INDEX, else ./carnet.idx)\n"
	      "  --jobs N       extraction threads (default: all cores)\n"
	      "  --batch N      files per commit (default 1000): what a crash can cost\n"
	      "  --max-size N   reject inputs larger than N bytes (suffix K, M, G;\n"
	      "                 default 64M)\n"
	      "  --pdf-timeout S  seconds one PDF may take to extract (default 30)\n"
	      "  --doc-timeout S  seconds one other input may take to read (default 30)\n"
	      "  --max-remove N|N%  sync: stop before removing anything if more than N\n"
	      "                 documents (or N% of them; default 10%) would be removed\n"
	      "  --allow-empty  sync, rebuild: an empty source is intended (else it is\n"
	      "                 a failure and nothing changes)\n"
	      "  --dry-run      add, sync: print what would be added, replaced, moved,\n"
	      "                 removed (path and id) and change nothing\n"
	      "  --shard I/N    add, sync, rebuild: this index is shard I of N (0 to\n"
	      "                 N-1); other patients' documents are counted, not indexed\n"
	      "  --from AUDIENCE  for mask and unmask\n"
	      "  --json         add, sync, rebuild: one JSON record on stdout, always\n"
	      "                 (also when the run fails); stats, rejects: JSON\n"
	      "  --quiet        no summary or progress on stderr\n"
	      "  -h, --help     this help;  -V, --version  the version\n"
	      "\n"
	      "exit status: 0 success, 1 this run rejected inputs that were not\n"
	      "rejected before (old rejects on record do not count), 2 usage error,\n"
	      "3 failure (input path missing or unreadable, index locked, unreadable,\n"
	      "disk full, ...)\n",
	      f);
}

/* The help of one command; 0 if there is no such command. */
static int command_help(const char *cmd, FILE *f)
{
	static const char *const helps[][2] = {
		{ "add",
		  "usage: carnet-index [--index DIR] [OPTIONS] add PATH...\n"
		  "Index files, or directories recursively (hidden entries skipped); a\n"
		  "file F may have its metadata in F.meta.json. Every PATH must exist\n"
		  "and be readable, or nothing is done (exit 3). Inputs already indexed\n"
		  "with the same content and sidecar are skipped.\n" },
		{ "sync",
		  "usage: carnet-index [--index DIR] [OPTIONS] sync SOURCE_DIR\n"
		  "Make the index match SOURCE_DIR: add new files, replace changed ones,\n"
		  "remove the documents of files that are gone, skip the rest. The\n"
		  "nightly job: idempotent, and can be killed at any moment.\n" },
		{ "rebuild",
		  "usage: carnet-index [--index DIR] [OPTIONS] rebuild SOURCE_DIR\n"
		  "Build a new generation of the index from SOURCE_DIR beside the live\n"
		  "one, then switch readers to it atomically; an unfinished rebuild\n"
		  "leaves the live index untouched.\n" },
		{ "mask",
		  "usage: carnet-index [--index DIR] mask ID --from AUDIENCE\n"
		  "Hide document ID from an audience (professionals, patient or\n"
		  "legal-representatives), kept across re-reads of its file.\n" },
		{ "unmask",
		  "usage: carnet-index [--index DIR] unmask ID --from AUDIENCE\n"
		  "Show document ID again to an audience it was masked from.\n" },
		{ "stats",
		  "usage: carnet-index [--index DIR] [--json] stats\n"
		  "Documents, versions, patients, rejects, size and generation.\n" },
		{ "rejects",
		  "usage: carnet-index [--index DIR] [--json] rejects\n"
		  "Every rejected input on record: path, when it was first rejected\n"
		  "(for this content and reason), and why.\n" },
		{ "init",
		  "usage: carnet-index [--index DIR] init [--group NAME]\n"
		  "Create the index home and its access log. With a group, the home is\n"
		  "shared: viewers in the group read the index and append to the access\n"
		  "log; nobody else reads anything.\n" },
		{ "access-log",
		  "usage: carnet-index [--index DIR] [--json] access-log verify [--archive FILE]\n"
		  "       carnet-index [--index DIR] [--json] access-log archive --before DATE FILE\n"
		  "       carnet-index [--index DIR] access-log export [--after SEQ]\n"
		  "verify: walk the access log's chain of hashes; print the row count and\n"
		  "the head hash (keep it elsewhere as an anchor), or name the first broken\n"
		  "row (exit 3); with --archive FILE, check an archive file against its\n"
		  "record in the log. archive: write the rows older than DATE (YYYY-MM-DD)\n"
		  "to FILE as JSON lines (never overwritten, synced), then remove them and\n"
		  "record the archive in the log, so the chain stays verifiable. export:\n"
		  "the rows after row SEQ (default: all) as JSON lines on stdout, the log\n"
		  "verified first, nothing removed; stderr says the --after of the next\n"
		  "export (one central store fed by every replica of a shard).\n" },
		{ "help",
		  "usage: carnet-index help [COMMAND]\n"
		  "The help of carnet-index, or of one command.\n" },
	};
	static const char options[] =
		"\n"
		"  --index DIR    index home (default $CARNET_INDEX, else ./carnet.idx)\n"
		"  --jobs N       extraction threads (default: all cores)\n"
		"  --batch N      files per commit (default 1000)\n"
		"  --max-size N   reject inputs larger than N bytes (K, M, G; default 64M)\n"
		"  --pdf-timeout S  seconds one PDF may take to extract (default 30)\n"
		"  --doc-timeout S  seconds one other input may take to read (default 30)\n"
		"  --max-remove N|N%  sync: stop before removing anything if more than N\n"
		"                 documents (or N% of them; default 10%) would be removed\n"
		"  --allow-empty  sync, rebuild: an empty source is intended\n"
		"  --dry-run      add, sync: print what would change, change nothing\n"
		"  --shard I/N    this index is shard I of N: other shards' patients are\n"
		"                 counted as \"other shard\", not indexed\n"
		"  --json         one JSON record on stdout, always: status (ok, rejects,\n"
		"                 failed), error, started, duration_s, index, generation,\n"
		"                 version, command, the counts, new_rejects, rejects_total\n"
		"  --quiet        no summary or progress on stderr\n"
		"exit status: 0 done, 1 new rejects in this run, 2 usage error, 3 failure\n";
	for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
		if (strcmp(cmd, helps[i][0]) != 0)
			continue;
		fputs(helps[i][1], f);
		if (i < 3)
			fputs(options, f);
		return 1;
	}
	return 0;
}

int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vcomplain(fmt, ap);
	va_end(ap);
	short_usage(stderr);
	return EXIT_USAGE;
}

/* Parse "64M"-style sizes; 0 on error. */
static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long n = strtoull(s, &end, 10);
	if (end == s || n == 0)
		return 0;
	uint64_t mult = 1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1024; end++; break;
	case 'm': case 'M': mult = 1024 * 1024; end++; break;
	case 'g': case 'G': mult = 1024 * 1024 * 1024; end++; break;
	default: return 0;
	}
	if (*end || n > UINT64_MAX / mult)
		return 0;
	return n * mult;
}

/* Parse a whole number from lo to hi; -1 if s is not one. */
static long parse_number(const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	return !*s || *end || errno || n < lo || n > hi ? -1 : n;
}

/* The options of the command line that are not the commands' (cli). */
typedef struct main_options {
	const char *home;
	int json, quiet, help, version;
	char bad[256]; /* the first usage error: reported once the command is known */
} main_options;

/* Take the option c, of value arg (NULL if none); NULL, or why its value
 * is not one it takes. */
static const char *take_option(main_options *m, int c, const char *arg)
{
	/* the options whose value is a whole number in a range */
	static const struct { int c; long lo, hi; const char *why; } numbers[] = {
		{ 'J', 1, 1024, "--jobs needs a number from 1 to 1024" },
		{ 'T', 1, 86400, "--pdf-timeout needs seconds from 1 to 86400" },
		{ 'D', 1, 86400, "--doc-timeout needs seconds from 1 to 86400" },
		{ 'B', 1, 1000000, "--batch needs a number of files from 1 to 1000000" },
	};
	long n = 0;
	for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
		if (numbers[i].c == c && (n = parse_number(arg, numbers[i].lo, numbers[i].hi)) < 0)
			return numbers[i].why;
	switch (c) {
	case 'i': m->home = arg; break;
	case 'j': m->json = 1; break;
	case 'q': m->quiet = 1; break;
	case 'J': cli.jobs = (unsigned)n; break;
	case 'T': cli.pdf_timeout = (uint64_t)n; break;
	case 'D': cli.doc_timeout = (uint64_t)n; break;
	case 'B': cli.batch = (unsigned long)n; break;
	case 'M':
		if (!(cli.max_size = parse_size(arg)))
			return "--max-size needs a size such as 1048576, 512K or 64M";
		break;
	case 'G': cli.init_group = arg; break;
	case 'b': cli.log_before = arg; break;
	case 'a': cli.log_archive = arg; break;
	case 'E': cli.allow_empty = 1; break;
	case 'n': cli.dry_run = 1; break;
	case 'R': {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(arg, &end, 10);
		int pct = *end == '%';
		if (end == arg || arg[0] == '-' || errno ||
		    (pct ? end[1] != '\0' || v > 100 : *end != '\0'))
			return "--max-remove needs a number of documents or a percentage such as 10%";
		cli.max_remove = v;
		cli.max_remove_is_pct = pct;
		break;
	}
	case 'F': cli.from_audience = arg; break;
	case 'A': {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(arg, &end, 10);
		if (end == arg || *end || arg[0] == '-' || errno)
			return "--after needs the sequence number of an access-log row";
		cli.log_after = v;
		break;
	}
	case 'S': {
		unsigned index, count;
		char end;
		if (sscanf(arg, "%u/%u%c", &index, &count, &end) != 2 || count < 1 ||
		    count > CARNET_SHARD_COUNT_MAX || index >= count || arg[0] == '-')
			return "--shard needs I/N: shard I (0 to N-1) of N shards (1 to 4096)";
		cli.shard = index;
		cli.shards = count;
		break;
	}
	case 'h': m->help = 1; break;
	case 'V': m->version = 1; break;
	}
	return NULL;
}

/* The usage error of what getopt_long did not take (c is ':' for a
 * missing value, '?' for an unknown option or a value given to an option
 * that takes none), into bad. */
static void bad_option(char *bad, size_t size, int c, const char *arg)
{
	if (c == ':')
		snprintf(bad, size, "option %.200s needs a value", arg);
	else if (optopt && strncmp(arg, "--", 2) == 0)
		snprintf(bad, size, "option %.*s takes no value", (int)strcspn(arg, "="), arg);
	else if (optopt)
		snprintf(bad, size, "unknown option -%c", optopt);
	else
		snprintf(bad, size, "unknown option %.200s", arg);
}

/* Read the options, wherever they stand: getopt moves every option
 * before the command and its arguments, so that options may follow the
 * command. */
static void read_options(main_options *m, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "index", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "jobs", required_argument, NULL, 'J' },
		{ "max-size", required_argument, NULL, 'M' },
		{ "from", required_argument, NULL, 'F' },
		{ "group", required_argument, NULL, 'G' },
		{ "before", required_argument, NULL, 'b' },
		{ "archive", required_argument, NULL, 'a' },
		{ "batch", required_argument, NULL, 'B' },
		{ "pdf-timeout", required_argument, NULL, 'T' },
		{ "allow-empty", no_argument, NULL, 'E' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "max-remove", required_argument, NULL, 'R' },
		{ "doc-timeout", required_argument, NULL, 'D' },
		{ "shard", required_argument, NULL, 'S' },
		{ "after", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	memset(m, 0, sizeof *m);
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":hV", opts, NULL)) != -1) {
		if (c == ':' || c == '?') {
			if (!m->bad[0])
				bad_option(m->bad, sizeof m->bad, c, argv[optind - 1]);
			continue;
		}
		const char *why = take_option(m, c, optarg);
		if (why && !m->bad[0])
			snprintf(m->bad, sizeof m->bad, "%s", why);
	}
}

/* help [COMMAND] */
static int cmd_help(int nargs, char **args)
{
	if (nargs == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (nargs == 1 && command_help(args[0], stdout))
		return EXIT_OK;
	return usage_error("help: no command '%.100s' (add, sync, rebuild, mask, "
			   "unmask, stats, rejects, init, access-log)", args[0]);
}

/* Run command cmd with its nargs arguments args. */
static int dispatch(const main_options *m, const char *cmd, int nargs, char **args)
{
	int mode = strcmp(cmd, "add") == 0 ? MODE_ADD
		   : strcmp(cmd, "sync") == 0 ? MODE_SYNC
		   : strcmp(cmd, "rebuild") == 0 ? MODE_REBUILD : -1;
	if (m->bad[0]) {
		if (mode < 0)
			return usage_error("%s", m->bad);
		/* the nightly record is written even for a bad option */
		run r;
		run_init(&r, m->home, m->json, 0, mode);
		return stopped(&r, usage_error("%s", m->bad));
	}
	if (cli.jobs == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		cli.jobs = cores > 0 ? (unsigned)cores : 1;
	}
	if (mode >= 0)
		return cmd_add(m->home, m->json, m->quiet, nargs, args, mode);
	if (strcmp(cmd, "mask") == 0 || strcmp(cmd, "unmask") == 0) {
		if (nargs != 1)
			return usage_error("%s needs one document ID", cmd);
		return cmd_mask(m->home, args[0], cmd[0] == 'm');
	}
	if (strcmp(cmd, "access-log") == 0)
		return cmd_access_log(m->home, m->json, nargs, args);
	if (strcmp(cmd, "init") != 0 && strcmp(cmd, "stats") != 0 && strcmp(cmd, "rejects") != 0)
		return usage_error("unknown command '%.100s'", cmd);
	if (nargs > 0)
		return usage_error("%s takes no arguments", cmd);
	if (strcmp(cmd, "init") == 0)
		return cmd_init(m->home, cli.init_group);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(m->home, m->json);
	return cmd_rejects(m->home, m->json);
}

int main(int argc, char **argv)
{
	clock_gettime(CLOCK_REALTIME, &started_at);
	clock_gettime(CLOCK_MONOTONIC, &started_mono);
	main_options m;
	read_options(&m, argc, argv);
	if (m.version) {
		int major, minor, patch;
		carnet_version(&major, &minor, &patch);
		printf("carnet-index %d.%d.%d\n", major, minor, patch);
		return EXIT_OK;
	}
	const char *cmd = optind < argc ? argv[optind++] : NULL;
	int nargs = argc - optind;
	char **args = argv + optind;
	if (cmd && strcmp(cmd, "help") == 0)
		return cmd_help(nargs, args);
	if (m.help && !cmd) {
		usage(stdout);
		return EXIT_OK;
	}
	if (m.help && command_help(cmd, stdout))
		return EXIT_OK;
	if (!cmd)
		return usage_error("%s", m.bad[0] ? m.bad : "no command given");
	return dispatch(&m, cmd, nargs, args);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* budget.c - what one input may cost: the time budget of the document
 * being read (per extraction thread), and the structural limits of XML,
 * HTML and JSON checked on the bytes before a parser sees them. */
#include "reader.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "error.h"

/* The document being read by this thread. Each extraction thread reads
 * one input at a time, so a thread-local deadline is the input's own. */
static _Thread_local struct {
	int armed;
	int expired;
	uint64_t deadline_ns; /* CLOCK_MONOTONIC */
	uint64_t ms;          /* the budget, for the message */
	uint64_t max_nodes;   /* of one parse, from the input size limit */
	uint64_t paused_ns;   /* when paused, else 0 */
} budget;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void carnet_budget__start(const carnet_limits *limits)
{
	budget.armed = limits && limits->doc_ms;
	budget.expired = 0;
	budget.ms = budget.armed ? limits->doc_ms : 0;
	budget.deadline_ns = budget.armed ? now_ns() + budget.ms * 1000000u : 0;
	budget.max_nodes = carnet_budget__max_nodes(limits);
	budget.paused_ns = 0;
}

void carnet_budget__stop(void)
{
	budget.armed = 0;
	budget.expired = 0;
	budget.max_nodes = 0;
}

void carnet_budget__pause(void)
{
	if (budget.armed && !budget.paused_ns)
		budget.paused_ns = now_ns();
}

void carnet_budget__resume(void)
{
	if (budget.armed && budget.paused_ns)
		budget.deadline_ns += now_ns() - budget.paused_ns;
	budget.paused_ns = 0;
}

int carnet_budget__over(void)
{
	if (budget.expired)
		return 1;
	if (budget.armed && !budget.paused_ns && now_ns() > budget.deadline_ns)
		budget.expired = 1;
	return budget.expired;
}

int carnet_budget__expired(void)
{
	return budget.expired;
}

int carnet_budget__fail(carnet_error *err, const char *path)
{
	char span[32];
	if (budget.ms % 1000 == 0)
		snprintf(span, sizeof span, "%llu s", (unsigned long long)(budget.ms / 1000));
	else
		snprintf(span, sizeof span, "%llu ms", (unsigned long long)budget.ms);
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
				 "%s: took more than %s to read (the time limit of one document)",
				 path, span);
}

uint64_t carnet_budget__max_nodes(const carnet_limits *limits)
{
	if (!limits && budget.max_nodes)
		return budget.max_nodes; /* embedded content: its input's */
	uint64_t cap = limits && limits->input_bytes ? limits->input_bytes
						     : CARNET_DEFAULT_INPUT_BYTES;
	uint64_t n = cap / CARNET_BYTES_PER_NODE;
	return n < CARNET_MIN_NODES ? CARNET_MIN_NODES : n;
}

/* ---- markup -------------------------------------------------------------
 * A linear pass over the bytes that counts what libxml2 will meet, so
 * that what it does in more than linear time (it compares each attribute
 * of an element with every other one) never sees a large count. The
 * count errs on the side of more: every '<' that may open a start tag
 * (for HTML, '<' and an ASCII letter, as libxml2's HTML parser does) is
 * read as one up to its '>', and every blank-separated word in it is an
 * attribute. XML may be UTF-16 or UTF-32: the pass reads code units. */

typedef struct scan {
	const unsigned char *p;
	size_t n;  /* code units */
	int width; /* bytes per code unit: 1, 2 or 4 */
	int big;   /* big-endian units */
	int html;
	const char *path;
	carnet_error *err;
	uint64_t nodes, max_nodes;
	unsigned declared; /* attributes declared by ATTLIST */
	/* where a search for each closing string found none to the end: a
	 * later search from there on need not look again (else unclosed
	 * quotes or comments by the thousand would cost quadratic time) */
	size_t none_from[5];
} scan;

static const char *const closers[5] = { "\"", "'", "-->", "]]>", "?>" };

static uint32_t unit(const scan *s, size_t i)
{
	const unsigned char *q = s->p + i * (size_t)s->width;
	if (s->width == 1)
		return q[0];
	if (s->width == 2)
		return s->big ? (uint32_t)q[0] << 8 | q[1] : (uint32_t)q[1] << 8 | q[0];
	return s->big ? (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3]
		      : (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0];
}

static int blank(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Index of the first unit c at or after i, or s->n. */
static size_t find_unit(const scan *s, size_t i, uint32_t c)
{
	if (s->width == 1) {
		const unsigned char *f = i < s->n ? memchr(s->p + i, (int)c, s->n - i) : NULL;
		return f ? (size_t)(f - s->p) : s->n;
	}
	while (i < s->n && unit(s, i) != c)
		i++;
	return i;
}

/* Does the ASCII string lit start at unit i (case-insensitive if nocase)? */
static int at(const scan *s, size_t i, const char *lit, int nocase)
{
	for (size_t k = 0; lit[k]; k++) {
		if (i + k >= s->n)
			return 0;
		uint32_t c = unit(s, i + k), l = (unsigned char)lit[k];
		if (nocase && c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != l)
			return 0;
	}
	return 1;
}

/* Index of the first occurrence of lit at or after i, or s->n. */
static size_t find_lit(const scan *s, size_t i, const char *lit)
{
	for (;;) {
		i = find_unit(s, i, (unsigned char)lit[0]);
		if (i >= s->n || at(s, i, lit, 0))
			return i;
		i++;
	}
}

/* Index of the first closer k (closers[k]) at or after i, or s->n. */
static size_t find_closer(scan *s, size_t i, int k)
{
	if (i >= s->none_from[k])
		return s->n;
	size_t at_ = closers[k][1] ? find_lit(s, i, closers[k])
				   : find_unit(s, i, (unsigned char)closers[k][0]);
	if (at_ >= s->n && i < s->none_from[k])
		s->none_from[k] = i;
	return at_;
}

/* Is there a unit c in [i, end)? */
static int has_unit(const scan *s, size_t i, size_t end, uint32_t c)
{
	if (s->width == 1)
		return i < end && memchr(s->p + i, (int)c, end - i) != NULL;
	for (; i < end; i++)
		if (unit(s, i) == c)
			return 1;
	return 0;
}

/* The name at units [i, i+len) for a message: ASCII name characters, at
 * most 40 of them. */
static void show_name(char *out, size_t size, const scan *s, size_t i, size_t len)
{
	size_t k = 0;
	for (; k < len && k < 40 && k + 4 < size; k++) {
		uint32_t c = unit(s, i + k);
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == ':' || c == '_' || c == '-' || c == '.';
		out[k] = ok ? (char)c : '?';
	}
	if (k < len && k + 4 <= size) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
}

static int refuse(scan *s, const char *what)
{
	return carnet_error__set(s->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0, "%s: %s",
				 s->path, what);
}

static int count_nodes(scan *s, uint64_t n)
{
	s->nodes += n;
	if (s->nodes <= s->max_nodes)
		return 0;
	char why[120];
	snprintf(why, sizeof why, "more than %llu elements and attributes",
		 (unsigned long long)s->max_nodes);
	return refuse(s, why);
}

/* A start tag whose name starts at unit i (after '<'): its attributes
 * counted and measured. Returns the index after it, or SIZE_MAX with err
 * filled when over a limit. */
static size_t start_tag(scan *s, size_t i)
{
	char why[160], name[48];
	size_t name_at = i;
	while (i < s->n && !blank(unit(s, i)) && unit(s, i) != '>' && unit(s, i) != '/')
		i++;
	size_t name_len = i - name_at;
	show_name(name, sizeof name, s, name_at, name_len);
	if (name_len > CARNET_MAX_NAME_BYTES) {
		snprintf(why, sizeof why, "element <%s> has a name longer than %d bytes", name,
			 CARNET_MAX_NAME_BYTES);
		refuse(s, why);
		return SIZE_MAX;
	}
	unsigned attrs = 0;
	while (i < s->n) {
		uint32_t c = unit(s, i);
		if (blank(c) || c == '/' || c == '=') {
			i++;
			continue;
		}
		if (c == '>')
			return count_nodes(s, 1 + (uint64_t)attrs) ? SIZE_MAX : i + 1;
		if (c != '"' && c != '\'') {
			/* an attribute name, or a word the parser will try as one */
			size_t a = i;
			while (i < s->n && !blank(c = unit(s, i)) && c != '>' && c != '/' && c != '=')
				i++;
			if (++attrs > CARNET_MAX_ATTRIBUTES) {
				snprintf(why, sizeof why, "element <%s> has more than %d attributes",
					 name, CARNET_MAX_ATTRIBUTES);
				refuse(s, why);
				return SIZE_MAX;
			}
			if (i - a > CARNET_MAX_NAME_BYTES) {
				snprintf(why, sizeof why, "element <%s> has an attribute name longer "
					 "than %d bytes", name, CARNET_MAX_NAME_BYTES);
				refuse(s, why);
				return SIZE_MAX;
			}
			while (i < s->n && blank(unit(s, i)))
				i++;
			if (i >= s->n || unit(s, i) != '=')
				continue;
			i++;
			while (i < s->n && blank(unit(s, i)))
				i++;
			if (i >= s->n)
				break;
			c = unit(s, i);
		}
		size_t v = i, end;
		if (c == '"' || c == '\'') {
			end = find_closer(s, i + 1, c == '"' ? 0 : 1);
			/* no closing quote, or (XML) a '<' before it, which ends
			 * the value there for libxml2: read on as attributes */
			if (end >= s->n || (!s->html && has_unit(s, i + 1, end, '<'))) {
				i++;
				continue;
			}
			i = end + 1;
		} else {
			while (i < s->n && !blank(c = unit(s, i)) && c != '>')
				i++;
		}
		if (i - v > CARNET_MAX_VALUE_BYTES) {
			snprintf(why, sizeof why, "element <%s> has an attribute value larger than "
				 "%d bytes", name, CARNET_MAX_VALUE_BYTES);
			refuse(s, why);
			return SIZE_MAX;
		}
	}
	if (count_nodes(s, 1 + (uint64_t)attrs))
		return SIZE_MAX;
	return i;
}

/* An XML declaration <!...> at i (not a comment or CDATA): attributes
 * declared by ATTLIST are counted (libxml2 adds their defaults to each
 * element and compares them with its attributes one by one). Returns the
 * index after it or SIZE_MAX with err filled. */
static size_t declaration(scan *s, size_t i)
{
	int attlist = at(s, i, "<!ATTLIST", 0);
	for (i += 2; i < s->n; i++) {
		uint32_t c = unit(s, i);
		if (c == '>' || c == '[')
			return i + 1;
		if (c == '<')
			return i; /* read again from there */
		unsigned defs = 0;
		if (c == '"' || c == '\'') {
			size_t end = find_closer(s, i + 1, c == '"' ? 0 : 1);
			if (end < s->n && !has_unit(s, i + 1, end, '<'))
				i = end;
			defs = 1;
		} else if (at(s, i, "#REQUIRED", 0) || at(s, i, "#IMPLIED", 0)) {
			defs = 1;
		}
		if (attlist && defs && ++s->declared > CARNET_MAX_ATTRIBUTES) {
			char why[80];
			snprintf(why, sizeof why, "DOCTYPE declares more than %d attributes",
				 CARNET_MAX_ATTRIBUTES);
			refuse(s, why);
			return SIZE_MAX;
		}
	}
	return i;
}

/* Is the encoding name enc (ASCII, lower-cased) one whose markup bytes
 * the pass reads the way the parser does? */
static int known_encoding(const char *enc, int wide_ok)
{
	static const char *const ascii[] = { "utf-8", "utf8", "us-ascii", "ascii", "iso-8859-",
					     "iso8859-", "iso_8859-", "latin", "windows-125",
					     "cp125", NULL };
	static const char *const wide[] = { "utf-16", "utf16", "ucs-2", "ucs2", "utf-32",
					    "utf32", "ucs-4", "ucs4", "iso-10646-ucs-", NULL };
	for (size_t k = 0; ascii[k]; k++)
		if (strncmp(enc, ascii[k], strlen(ascii[k])) == 0)
			return 1;
	for (size_t k = 0; wide_ok && wide[k]; k++)
		if (strncmp(enc, wide[k], strlen(wide[k])) == 0)
			return 1;
	return 0;
}

/* The encoding the XML declaration at i names, lower-cased into out
 * (empty when none). */
static void declared_encoding(const scan *s, size_t i, char *out, size_t size)
{
	out[0] = '\0';
	size_t end = find_lit(s, i, "?>");
	for (; i < end; i++)
		if (at(s, i, "encoding", 0))
			break;
	if (i >= end)
		return;
	for (i += 8; i < end && (blank(unit(s, i)) || unit(s, i) == '='); i++)
		;
	if (i >= end || (unit(s, i) != '"' && unit(s, i) != '\''))
		return;
	uint32_t q = unit(s, i++);
	size_t k = 0;
	for (; i < end && unit(s, i) != q && k + 1 < size; i++) {
		uint32_t c = unit(s, i);
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		out[k++] = c >= 0x20 && c < 0x7F && c != '"' && c != '\\' ? (char)c : '?';
	}
	out[k] = '\0';
}

/* Code units of XML data as libxml2 detects them from the first bytes. */
static int xml_units(scan *s, size_t *start)
{
	const unsigned char *b = s->p;
	size_t len = s->n;
	*start = 0;
	s->width = 1;
	s->big = 0;
	if (len >= 4 && b[0] == 0x4C && b[1] == 0x6F && b[2] == 0xA7 && b[3] == 0x94)
		return refuse(s, "XML in EBCDIC, which is not read");
	if (len >= 4 && ((b[0] == 0 && b[1] == 0 && b[2] == 0xFE && b[3] == 0xFF) ||
			 (b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0x3C))) {
		s->width = 4, s->big = 1;
		*start = b[3] == 0xFF;
	} else if (len >= 4 && ((b[0] == 0xFF && b[1] == 0xFE && b[2] == 0 && b[3] == 0) ||
				(b[0] == 0x3C && b[1] == 0 && b[2] == 0 && b[3] == 0))) {
		s->width = 4;
		*start = b[0] == 0xFF;
	} else if (len >= 2 && ((b[0] == 0xFE && b[1] == 0xFF) ||
				(len >= 4 && b[0] == 0 && b[1] == 0x3C && b[2] == 0 && b[3] == 0x3F))) {
		s->width = 2, s->big = 1;
		*start = b[0] == 0xFE;
	} else if (len >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) ||
				(len >= 4 && b[0] == 0x3C && b[1] == 0 && b[2] == 0x3F && b[3] == 0))) {
		s->width = 2;
		*start = b[0] == 0xFF;
	} else if (len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
		*start = 3;
	}
	s->n = len / (size_t)s->width;
	return 0;
}

int carnet_markup__check(const char *path, const char *data, size_t len, int html,
			 const carnet_limits *limits, carnet_error *err)
{
	scan s = { (const unsigned char *)data, len, 1, 0, html, path, err, 0,
		   carnet_budget__max_nodes(limits), 0,
		   { SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX } };
	size_t i = 0;
	if (!html) {
		if (xml_units(&s, &i))
			return CARNET_E_INVALID;
		if (at(&s, i, "<?xml", 0)) {
			char enc[48], why[160];
			declared_encoding(&s, i, enc, sizeof enc);
			if (enc[0] && !known_encoding(enc, 1)) {
				snprintf(why, sizeof why, "XML in the encoding \"%.40s\", which is not "
					 "read (UTF-8, UTF-16, ISO-8859 and Windows code pages are)",
					 enc);
				return refuse(&s, why);
			}
		}
	}
	while (i < s.n) {
		if (carnet_budget__over())
			return carnet_budget__fail(err, path);
		i = find_unit(&s, i, '<');
		if (i >= s.n)
			break;
		uint32_t c = i + 1 < s.n ? unit(&s, i + 1) : 0;
		size_t next;
		if (c == '/' || (html && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))) {
			/* an end tag, or (HTML) text, a comment or a declaration
			 * whose content is read on as markup */
			next = i + 1;
		} else if (c == '!' || c == '?') {
			/* XML: comments, CDATA and processing instructions are
			 * skipped to their end; unfinished, read on as markup */
			int k = at(&s, i, "<!--", 0)	     ? 2
				: at(&s, i, "<![CDATA[", 0) ? 3
				: c == '?'		     ? 4
							     : -1;
			if (k >= 0) {
				size_t end = find_closer(&s, i + 2, k);
				next = end < s.n ? end + strlen(closers[k]) : i + 1;
			} else {
				next = declaration(&s, i);
			}
		} else {
			next = start_tag(&s, i + 1);
		}
		if (next == SIZE_MAX)
			return CARNET_E_INVALID;
		i = next;
	}
	return CARNET_OK;
}

/* ---- JSON --------------------------------------------------------------- */

int carnet_json__check(const char *path, const char *data, size_t len,
		       const carnet_limits *limits, carnet_error *err)
{
	uint64_t members[CARNET_MAX_JSON_DEPTH + 1];
	uint64_t nodes = 1, max_nodes = carnet_budget__max_nodes(limits);
	size_t depth = 0;
	char why[120];
	members[0] = 0;
	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		if (c == '"') {
			/* a string: skip it, escapes included */
			for (i++; i < len && data[i] != '"'; i++)
				if (data[i] == '\\')
					i++;
			continue;
		}
		if ((i & 0xFFFFF) == 0 && carnet_budget__over())
			return carnet_budget__fail(err, path);
		if (c == '[' || c == '{') {
			if (depth == CARNET_MAX_JSON_DEPTH) {
				snprintf(why, sizeof why, "JSON nested more than %d deep",
					 CARNET_MAX_JSON_DEPTH);
				goto refuse;
			}
			members[++depth] = 0;
			nodes++;
		} else if (c == ']' || c == '}') {
			if (depth)
				depth--;
		} else if (c == ',') {
			nodes++;
			if (++members[depth] >= CARNET_MAX_JSON_MEMBERS) {
				snprintf(why, sizeof why, "a JSON array or object has more than %d "
					 "members", CARNET_MAX_JSON_MEMBERS);
				goto refuse;
			}
		}
		if (nodes > max_nodes) {
			snprintf(why, sizeof why, "more than %llu JSON values",
				 (unsigned long long)max_nodes);
			goto refuse;
		}
	}
	return CARNET_OK;
refuse:
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0, "%s: %s", path,
				 why);
}

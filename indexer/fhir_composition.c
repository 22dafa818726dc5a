/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fhir_composition.c - a FHIR Composition: its metadata and its sections,
 * their XHTML narrative as text. */
#include "fhir.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SECTION_DEPTH 8

/* Append the text of XHTML narrative div[0..len) to out, through the HTML
 * extractor, or by dropping the tags when it cannot read it. */
static void narrative_text(carnet_fhir_ctx *c, carnet_buf *out, const char *div, size_t len)
{
	carnet_error e;
	carnet_error__clear(&e);
	size_t before = out->len;
	int rc = carnet_html__extract(out, NULL, c->in->path, div, len, &e);
	if (rc == CARNET_OK)
		return;
	if (carnet_fhir__content_error_is_fatal(rc)) {
		carnet_fhir__keep_fatal(c, rc, &e);
		return;
	}
	out->len = before;
	if (out->data)
		out->data[before] = '\0';
	static const struct {
		const char *name;
		const char *utf8;
	} ents[] = { { "amp;", "&" }, { "lt;", "<" }, { "gt;", ">" }, { "quot;", "\"" },
		     { "apos;", "'" }, { "nbsp;", " " } };
	int space = 1;
	for (size_t i = 0; i < len && !c->rc; i++) {
		char ch = div[i];
		if (ch == '<') {
			while (i < len && div[i] != '>')
				i++;
			ch = ' ';
		} else if (ch == '&') {
			size_t k;
			int done = 0;
			for (k = 0; k < sizeof ents / sizeof ents[0] && !done; k++) {
				size_t m = strlen(ents[k].name);
				if (len - i - 1 >= m && memcmp(div + i + 1, ents[k].name, m) == 0) {
					if (carnet_buf__puts(out, ents[k].utf8) != 0)
						carnet_fhir__nomem(c);
					i += m;
					done = 1;
				}
			}
			if (!done && i + 2 < len && div[i + 1] == '#') {
				unsigned long cp = 0;
				size_t j = i + 2;
				int hex = div[j] == 'x' || div[j] == 'X';
				j += (size_t)hex;
				char *end;
				char num[16];
				size_t m = 0;
				while (j + m < len && m < sizeof num - 1 && div[j + m] != ';')
					num[m] = div[j + m], m++;
				num[m] = '\0';
				cp = strtoul(num, &end, hex ? 16 : 10);
				if (m && *end == '\0' && j + m < len && cp > 0 && cp < 0x110000 &&
				    !(cp >= 0xD800 && cp < 0xE000)) {
					char u[4];
					size_t un;
					if (cp < 0x80)
						u[0] = (char)cp, un = 1;
					else if (cp < 0x800)
						u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F)), un = 2;
					else if (cp < 0x10000)
						u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
						u[2] = (char)(0x80 | (cp & 0x3F)), un = 3;
					else
						u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
						u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), un = 4;
					if (carnet_buf__put(out, u, un) != 0)
						carnet_fhir__nomem(c);
					i = j + m;
					done = 1;
				}
			}
			if (done) {
				space = 0;
				continue;
			}
		}
		int blank = ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
		if (blank && space)
			continue;
		if (carnet_buf__putc(out, blank ? ' ' : ch) != 0)
			carnet_fhir__nomem(c);
		space = blank;
	}
	while (out->len > before && out->data[out->len - 1] == ' ')
		out->data[--out->len] = '\0';
}

static void add_sections(carnet_fhir_ctx *c, carnet_doc *d, json_t *sections, unsigned depth)
{
	json_t *s;
	size_t i;
	if (depth > MAX_SECTION_DEPTH)
		return;
	json_array_foreach(sections, i, s) {
		if (c->rc)
			return;
		const char *title = carnet_fhir__str(s, "title");
		const char *code = carnet_fhir__str(carnet_fhir__coding(json_object_get(s, "code"),
									"http://loinc.org"),
						    "code");
		json_t *div = carnet_fhir__path(s, "text", "div");
		carnet_buf b = CARNET_BUF_INIT;
		if (title && carnet_buf__puts(&b, title) != 0)
			carnet_fhir__nomem(c);
		if (json_is_string(div) && json_string_length(div)) {
			if (b.len && carnet_buf__putc(&b, '\n') != 0)
				carnet_fhir__nomem(c);
			narrative_text(c, &b, json_string_value(div), json_string_length(div));
		}
		if (!c->rc && b.len &&
		    carnet_doc__add_section(d, carnet_doc__section_kind(code, title), b.data,
					    b.len) != 0)
			carnet_fhir__nomem(c);
		carnet_buf__free(&b);
		add_sections(c, d, json_object_get(s, "section"), depth + 1);
	}
}

void carnet_fhir__composition(carnet_fhir_ctx *c, carnet_doc *d, json_t *bundle, json_t *comp)
{
	json_t *type = json_object_get(comp, "type");
	json_t *coding = carnet_fhir__coding(type, "http://loinc.org");
	carnet_fhir__type_and_class(c, d, comp);
	carnet_fhir__patient(c, d, comp, bundle, "the Composition");
	carnet_fhir__fill_date(c, &d->date, carnet_fhir__str(comp, "date"));
	carnet_fhir__fill(c, &d->title, carnet_fhir__str(comp, "title"));
	carnet_fhir__fill(c, &d->title, carnet_fhir__str(coding, "display"));
	carnet_fhir__fill(c, &d->title, carnet_fhir__str(type, "text"));
	carnet_fhir__authors(c, d, comp, bundle);
	carnet_fhir__custodian(c, d, comp, bundle);
	if (!d->confidentiality) {
		carnet_buf b = CARNET_BUF_INIT;
		json_t *sec;
		size_t i;
		carnet_fhir__add_conf(c, &b, carnet_fhir__str(comp, "confidentiality"));
		json_array_foreach(carnet_fhir__path(comp, "meta", "security"), i, sec) {
			const char *sys = carnet_fhir__str(sec, "system");
			const char *code = carnet_fhir__str(sec, "code");
			if (carnet_fhir__system_ends(sys, "v3-Confidentiality") ||
			    carnet_fhir__system_ends(sys, "1.2.250.1.213.1.1.4.13") ||
			    (code && carnet_doc__is_visibility(code, strlen(code))))
				carnet_fhir__add_conf(c, &b, code);
		}
		if (b.len)
			carnet_fhir__fill_n(c, &d->confidentiality, b.data, b.len);
		carnet_buf__free(&b);
	}
	carnet_fhir__fill_language(c, &d->language, carnet_fhir__str(comp, "language"));
	carnet_fhir__fill_language(c, &d->language, carnet_fhir__str(bundle, "language"));
	json_t *period = json_object_get(carnet_fhir__first(comp, "event"), "period");
	carnet_fhir__fill_date(c, &d->service_start, carnet_fhir__str(period, "start"));
	carnet_fhir__fill_date(c, &d->service_end, carnet_fhir__str(period, "end"));
	add_sections(c, d, json_object_get(comp, "section"), 0);
}

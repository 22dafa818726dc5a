/* SPDX-License-Identifier: GPL-2.0-or-later */
/* codes.c - look-ups in the code tables derived from the ANS code lists. */
#include "codes.h"

#include <stddef.h>
#include <string.h>

struct carnet_code_type {
	const char *code;
	const char *label;
	const char *class_code;
};

struct carnet_code_label {
	const char *code;
	const char *label;
};

#include "codes_data.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct carnet_code_type *find_type(const char *type)
{
	if (!type)
		return NULL;
	for (size_t i = 0; i < COUNT(carnet_types); i++)
		if (strcmp(carnet_types[i].code, type) == 0)
			return &carnet_types[i];
	return NULL;
}

static const char *find_label(const struct carnet_code_label *t, size_t n,
			      const char *code)
{
	if (!code)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].code, code) == 0)
			return t[i].label;
	return NULL;
}

const char *carnet_codes__type_label(const char *type)
{
	const struct carnet_code_type *t = find_type(type);
	return t ? t->label : NULL;
}

const char *carnet_codes__type_class(const char *type)
{
	const struct carnet_code_type *t = find_type(type);
	return t && t->class_code[0] ? t->class_code : NULL;
}

const char *carnet_codes__class_label(const char *class_code)
{
	return find_label(carnet_classes, COUNT(carnet_classes), class_code);
}

const char *carnet_codes__specialty_label(const char *specialty)
{
	if (specialty && strncmp(specialty, "G15_10/", 7) == 0)
		specialty += 7;
	return find_label(carnet_specialties, COUNT(carnet_specialties),
			  specialty);
}

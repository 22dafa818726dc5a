/* SPDX-License-Identifier: GPL-2.0-or-later */
/* codes.h - the code systems carnet knows: document types (LOINC / DMP) with
 * their class, and author specialties, with their French labels. */
#ifndef CARNET_CORE_CODES_H
#define CARNET_CORE_CODES_H

/* Each returns a static string, or NULL for an unknown code. */
const char *carnet_codes__type_label(const char *type);
const char *carnet_codes__type_class(const char *type);
const char *carnet_codes__class_label(const char *class_code);
/* Accepts "SM04" or "G15_10/SM04". */
const char *carnet_codes__specialty_label(const char *specialty);

#endif

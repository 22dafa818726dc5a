/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_json.c - libFuzzer harness for carnet-serve's JSON writer
 * (serve/carnet-serve-json.c), checked against jansson, whose text it
 * replaces on the search path: any bytes (up to the first NUL) as a
 * string, and the first eight as a real when finite. The text must parse
 * back with jansson; when the bytes are UTF-8 it must be exactly what
 * json_dumps(JSON_COMPACT | JSON_ENSURE_ASCII) writes, and otherwise hold
 * a string all in ASCII (each byte that is not UTF-8 read as U+FFFD).
 * Any difference aborts. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	double d = 0;
	int real = size >= 8;
	if (real) {
		memcpy(&d, data, sizeof d);
		real = isfinite(d);
	}
	serve_json j = { 0 };
	serve_json_open(&j, '[');
	serve_json_str(&j, s);
	if (real)
		serve_json_real(&j, d);
	serve_json_close(&j, ']');
	if (j.failed || !j.b)
		abort();
	for (size_t i = 0; i < j.len; i++)
		if ((unsigned char)j.b[i] < 0x20 || (unsigned char)j.b[i] > 0x7F)
			abort(); /* ASCII, no raw control character but DEL, as jansson */
	json_error_t e;
	json_t *back = json_loads(j.b, 0, &e);
	if (!back || !json_is_string(json_array_get(back, 0)))
		abort();
	json_t *str = json_string(s); /* NULL when s is not UTF-8 */
	if (str) {
		json_t *arr = json_array();
		json_array_append_new(arr, str);
		if (real)
			json_array_append_new(arr, json_real(d));
		char *want = json_dumps(arr, JSON_COMPACT | JSON_ENSURE_ASCII);
		if (!want || strcmp(want, j.b) != 0)
			abort();
		if (strcmp(json_string_value(json_array_get(back, 0)), s) != 0)
			abort();
		free(want);
		json_decref(arr);
	}
	json_decref(back);
	free(j.b);
	free(s);
	return 0;
}

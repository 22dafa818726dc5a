/* read_html.c - PLACEHOLDER being replaced by the html reader. */
#include "reader.h"

static int sniff(const carnet_input *in)
{
	(void)in;
	return 0;
}

static int read_doc(const carnet_input *in, carnet_doc_sink sink, void *payload,
		    carnet_error *err)
{
	(void)sink;
	(void)payload;
	return carnet_error__set(err, CARNET_E_UNSUPPORTED_FORMAT, CARNET_ORIGIN_INPUT,
				 0, "%s: html reader not built yet", in->path);
}

const carnet_reader carnet_reader_html = { "html", 0, sniff, read_doc };

int carnet_html__extract(carnet_buf *out, carnet_buf *title, const char *path,
			 const char *data, size_t len, carnet_error *err)
{
	(void)out; (void)title; (void)data; (void)len;
	return carnet_error__set(err, CARNET_E_UNSUPPORTED_FORMAT, CARNET_ORIGIN_INPUT,
				 0, "%s: html not built yet", path);
}

/* read_pdf.c - PLACEHOLDER being replaced by the pdf reader. */
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
				 0, "%s: pdf reader not built yet", in->path);
}

const carnet_reader carnet_reader_pdf = { "pdf", 0, sniff, read_doc };

int carnet_pdf__extract(carnet_buf *out, const char *path, const char *data,
			size_t len, const carnet_limits *limits, carnet_error *err)
{
	(void)out; (void)data; (void)len; (void)limits;
	return carnet_error__set(err, CARNET_E_UNSUPPORTED_FORMAT, CARNET_ORIGIN_INPUT,
				 0, "%s: pdf not built yet", path);
}

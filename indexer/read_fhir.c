/* read_fhir.c - PLACEHOLDER being replaced by the fhir reader. */
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
				 0, "%s: fhir reader not built yet", in->path);
}

const carnet_reader carnet_reader_fhir = { "fhir", 0, sniff, read_doc };

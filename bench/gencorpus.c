/* gencorpus.c - write a synthetic French corpus for benchmarks: N text
 * documents with sidecars, spread over patients, about SIZE bytes each.
 * usage: gencorpus DIR N [SIZE] [PATIENTS] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const vocab[] = {
	"hémoglobine", "glyquée", "créatinine", "kaliémie", "natrémie", "œdème",
	"insuffisance", "cardiaque", "rénale", "chronique", "hypertension",
	"artérielle", "diabète", "échocardiographie", "électrocardiogramme",
	"ventriculaire", "gauche", "fraction", "d'éjection", "préservée",
	"l'examen", "clinique", "retrouve", "douleur", "thoracique", "dyspnée",
	"d'effort", "traitement", "poursuivi", "posologie", "inchangée",
	"conclusion", "surveillance", "biologique", "rétinopathie", "fond",
	"d'œil", "asthme", "allergique", "vaccination", "rappel", "grossesse",
	"échographie", "fœtale", "tension", "mmHg", "fréquence", "bpm",
	"patient", "patiente", "antécédents", "infarctus", "myocarde", "stent",
	"coronarien", "angioplastie", "statine", "anticoagulant", "apixaban",
	"furosémide", "ramipril", "bisoprolol", "metformine", "insuline",
};
static const char *const types[] = { "11502-2", "11488-4", "18748-4", "70004-7",
				     "11490-0", "57833-6", "60591-5", "78513-9" };

static unsigned long long rng = 88172645463325252ull;

static unsigned long long next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: gencorpus DIR N [SIZE] [PATIENTS]\n");
		return 2;
	}
	const char *dir = argv[1];
	long n = atol(argv[2]);
	long size = argc > 3 ? atol(argv[3]) : 7000;
	long patients = argc > 4 ? atol(argv[4]) : (n / 60 > 0 ? n / 60 : 1);
	size_t nv = sizeof vocab / sizeof vocab[0];
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	char path[4200], sub[4000];
	char *text = malloc((size_t)size + 64);
	if (!text)
		return 1;
	for (long i = 0; i < n; i++) {
		long p = i % patients;
		snprintf(sub, sizeof sub, "%s/%ld", dir, i / 1000);
		mkdir(sub, 0755);
		snprintf(path, sizeof path, "%s/d%07ld.txt", sub, i);
		long len = 0;
		len += snprintf(text, (size_t)size, "Compte rendu %ld\n", i);
		while (len < size - 20) {
			const char *w = vocab[next() % nv];
			size_t wl = strlen(w);
			memcpy(text + len, w, wl);
			len += (long)wl;
			text[len++] = next() % 12 == 0 ? '\n' : ' ';
		}
		FILE *f = fopen(path, "w");
		if (!f) {
			perror(path);
			return 1;
		}
		fwrite(text, 1, (size_t)len, f);
		fclose(f);
		snprintf(path + strlen(path), sizeof path - strlen(path), ".meta.json");
		f = fopen(path, "w");
		if (!f)
			return 1;
		fprintf(f, "{\"patient_id\":\"1%014ld\",\"id\":\"D%07ld\",\"type\":\"%s\","
			"\"date\":\"20%02ld-%02ld-%02ld\",\"author_specialty\":\"SM%02ld\"}\n",
			p, i, types[next() % 8], 15 + (long)(next() % 11), 1 + (long)(next() % 12),
			1 + (long)(next() % 28), 1 + (long)(next() % 60));
		fclose(f);
	}
	free(text);
	return 0;
}

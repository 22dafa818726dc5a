/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gencorpus.c - write a synthetic corpus of French health documents for the
 * benchmarks (CDA R2 with structured sections, text files with sidecars, a
 * few CDA carrying a PDF), the same text as one TSV for the baselines, and
 * a seeded query workload. Every person, id and place is fictitious. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(void)
{
	fputs("usage: gencorpus [--seed S] [--queries Q] [--pdf FILE --pdf-text FILE]\n"
	      "                 [--text-dir] OUT N\n"
	      "  writes OUT/docs/ (the documents), OUT/corpus.tsv (patient, id, type,\n"
	      "  specialty, date, title, text: the same text, for the baselines),\n"
	      "  OUT/queries.tsv (kind, patient, viewer specialty, words: Q of each\n"
	      "  kind, default 2000) and with --text-dir OUT/text/ (one text file per\n"
	      "  document, for peers that read files)\n", stderr);
}

/* ---- random numbers (xorshift64*, seeded: the corpus is reproducible) ---- */

static unsigned long long rng_state = 88172645463325252ull;

static unsigned long long rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static double unif(void) /* [0, 1) */
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static size_t pick(size_t n) /* uniform in [0, n) */
{
	return (size_t)(rnd() % n);
}

static size_t zipf(size_t n) /* skewed towards the first entries */
{
	double u = unif();
	return (size_t)((double)n * u * u);
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define ZPICK(a) ((a)[zipf(N_OF(a))])
#define UPICK(a) ((a)[pick(N_OF(a))])

/* ---- growable string ---- */

typedef struct sbuf {
	char *p;
	size_t len, cap;
} sbuf;

static void die(const char *what)
{
	fprintf(stderr, "gencorpus: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void sb_put(sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (b->len + n + 1 > cap)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			die("out of memory");
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
	char tmp[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void sb_reset(sbuf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

/* XML text: & < > " escaped */
static void sb_xml(sbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': sb_puts(b, "&amp;"); break;
		case '<': sb_puts(b, "&lt;"); break;
		case '>': sb_puts(b, "&gt;"); break;
		case '"': sb_puts(b, "&quot;"); break;
		default: sb_put(b, s, 1);
		}
	}
}

/* JSON string body: " and \ escaped (the vocabulary has no control characters) */
static void sb_json(sbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			sb_put(b, "\\", 1);
		sb_put(b, s, 1);
	}
}

/* TSV field: tabs and newlines become spaces */
static void put_tsv(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\t' || c == '\n' || c == '\r' || c == '\f')
			c = ' ';
		putc(c, f);
	}
}

/* ---- vocabulary ---- */

static const char *const symptoms[] = {
	"douleur thoracique", "dyspnée d'effort", "palpitations", "céphalées", "vertiges",
	"asthénie", "toux sèche", "fièvre", "œdèmes des membres inférieurs",
	"douleurs abdominales", "nausées", "lombalgies", "arthralgies", "perte de poids",
	"sueurs nocturnes", "syncope", "paresthésies", "troubles visuels", "prurit",
	"insomnie", "hémiparésie droite", "aphasie", "dysphagie", "hématurie",
	"brûlures mictionnelles", "expectorations purulentes", "douleur du genou",
	"hypoglycémies", "polyurie", "diarrhée", "constipation", "épistaxis", "acouphènes",
	"orthopnée", "claudication intermittente", "rectorragies", "ictère", "dysurie",
};
static const char *const pathos[] = {
	"hypertension artérielle", "diabète de type 2", "insuffisance cardiaque",
	"fibrillation atriale", "cardiopathie ischémique", "BPCO", "asthme",
	"insuffisance rénale chronique", "hypothyroïdie", "dyslipidémie", "obésité",
	"syndrome d'apnées obstructives du sommeil", "accident vasculaire cérébral ischémique",
	"épilepsie", "maladie de Parkinson", "polyarthrite rhumatoïde", "gonarthrose",
	"ostéoporose", "anémie ferriprive", "cancer du sein", "adénocarcinome prostatique",
	"hépatite C", "reflux gastro-œsophagien", "épisode dépressif", "glaucome",
	"cataracte", "DMLA", "infarctus du myocarde", "embolie pulmonaire",
	"thrombose veineuse profonde", "pneumopathie communautaire", "cystite", "angine",
	"grippe", "COVID-19", "migraine", "goutte", "psoriasis", "eczéma atopique",
	"rétrécissement aortique", "HTA", "IDM", "hypercholestérolémie", "néphropathie diabétique",
	"rétinopathie diabétique", "sclérose en plaques", "maladie de Crohn", "lymphome",
	"mélanome", "hypertrophie bénigne de la prostate", "lithiase biliaire", "pancréatite",
};
static const char *const drugs[] = {
	"ramipril 5 mg", "bisoprolol 2,5 mg", "amlodipine 5 mg", "atorvastatine 40 mg",
	"metformine 1000 mg", "apixaban 5 mg", "furosémide 40 mg", "lévothyroxine 75 µg",
	"paracétamol 1 g", "ibuprofène 400 mg", "amoxicilline 1 g", "oméprazole 20 mg",
	"salbutamol", "budésonide/formotérol", "insuline glargine", "sitagliptine 100 mg",
	"clopidogrel 75 mg", "acide acétylsalicylique 75 mg", "warfarine", "lévétiracétam 500 mg",
	"sertraline 50 mg", "zolpidem 10 mg", "prednisone 20 mg", "méthotrexate 15 mg",
	"tamoxifène 20 mg", "alendronate 70 mg", "allopurinol 100 mg", "colchicine 1 mg",
	"latanoprost collyre", "spironolactone 25 mg", "sacubitril/valsartan", "empagliflozine 10 mg",
	"rivaroxaban 20 mg", "tiotropium", "lercanidipine 10 mg", "rosuvastatine 10 mg",
	"dapagliflozine 10 mg", "lévodopa/carbidopa", "ésoméprazole 40 mg", "tramadol 50 mg",
};
static const char *const organs[] = {
	"du foie", "des reins", "des poumons", "du cœur", "de la vésicule biliaire",
	"de la rate", "du pancréas", "de la thyroïde", "du genou droit", "du rachis lombaire",
	"de l'encéphale", "du sein gauche", "de la prostate", "de l'aorte abdominale",
	"des carotides", "du médiastin", "de la vessie", "de l'utérus", "des ovaires",
	"de l'épaule gauche", "du côlon", "des sinus maxillaires",
};
static const char *const modalities[] = {
	"radiographie thoracique", "échographie abdominale", "scanner thoraco-abdomino-pelvien",
	"IRM cérébrale", "IRM du genou", "mammographie bilatérale",
	"échocardiographie transthoracique", "écho-doppler des troncs supra-aortiques",
	"TEP-scanner", "scanner cérébral sans injection", "radiographie du bassin",
	"échographie thyroïdienne", "coroscanner", "ostéodensitométrie",
};
static const char *const durations[] = {
	"deux semaines", "trois mois", "six mois", "un an", "quelques jours", "plusieurs années",
	"dix jours", "un mois", "cinq ans", "48 heures",
};
static const char *const allergens[] = {
	"la pénicilline", "l'iode", "l'aspirine", "les sulfamides", "l'arachide", "le latex",
	"les pollens de graminées", "les acariens", "la codéine", "les AINS",
};
static const char *const vaccines[] = {
	"antigrippale", "contre la COVID-19", "DTP", "contre le pneumocoque", "contre l'hépatite B",
	"ROR", "contre le zona", "contre le papillomavirus", "coqueluche",
};
static const char *const trends[] = { "stable", "en hausse", "en baisse", "normalisé" };
static const char *const doctors[] = {
	"MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND",
	"LEROY", "MOREAU", "SIMON", "LAURENT", "LEFEBVRE", "MICHEL", "GARCIA", "DAVID",
	"BERTRAND", "ROUX", "VINCENT", "FOURNIER", "MOREL", "GIRARD", "ANDRE", "MERCIER",
};
static const char *const given[] = {
	"Jean", "Marie", "Pierre", "Nadia", "Lucas", "Camille", "Marguerite", "Paul",
	"Sophie", "Karim", "Claire", "Hugo", "Léa", "Antoine", "Inès", "Mathieu", "Chloé",
};

/* Lab analytes: name, LOINC code, display name, unit, normal range, decimals. */
typedef struct analyte {
	const char *name, *loinc, *display, *unit;
	double lo, hi;
	int dec;
	int section; /* 0 hématologie, 1 biochimie, 2 hormonologie/immunologie */
} analyte;

static const analyte analytes[] = {
	{ "Hémoglobine", "718-7", "Hémoglobine [Masse/Volume] Sang", "g/dL", 12, 17, 1, 0 },
	{ "Leucocytes", "6690-2", "Leucocytes [Nombre/Volume] Sang", "G/L", 4, 10, 1, 0 },
	{ "Plaquettes", "777-3", "Plaquettes [Nombre/Volume] Sang", "G/L", 150, 400, 0, 0 },
	{ "Hématocrite", "4544-3", "Hématocrite [Fraction volumique] Sang", "%", 36, 50, 1, 0 },
	{ "VGM", "787-2", "Volume globulaire moyen [Volume d'entité] Érythrocytes", "fL", 80, 100, 0, 0 },
	{ "Polynucléaires neutrophiles", "751-8", "Polynucléaires neutrophiles [Nombre/Volume] Sang", "G/L", 1.5, 7, 2, 0 },
	{ "TP", "5894-1", "Taux de prothrombine Plasma", "%", 70, 100, 0, 0 },
	{ "INR", "34714-6", "INR Sang", "", 0.8, 3.5, 1, 0 },
	{ "Glycémie à jeun", "14749-6", "Glucose [Moles/Volume] Sérum/Plasma", "mmol/L", 3.9, 6.1, 2, 1 },
	{ "Hémoglobine glyquée (HbA1c)", "4548-4", "Hémoglobine A1c/Hémoglobine totale Sang", "%", 4, 6, 1, 1 },
	{ "Créatinine", "14682-9", "Créatinine [Moles/Volume] Sérum/Plasma", "µmol/L", 60, 110, 0, 1 },
	{ "DFG estimé (CKD-EPI)", "62238-1", "Débit de filtration glomérulaire estimé", "mL/min/1,73 m²", 60, 120, 0, 1 },
	{ "Urée", "22664-7", "Urée [Moles/Volume] Sérum/Plasma", "mmol/L", 2.5, 7.5, 1, 1 },
	{ "Sodium", "2951-2", "Sodium [Moles/Volume] Sérum/Plasma", "mmol/L", 135, 145, 0, 1 },
	{ "Potassium", "2823-3", "Potassium [Moles/Volume] Sérum/Plasma", "mmol/L", 3.5, 5, 1, 1 },
	{ "Cholestérol total", "2093-3", "Cholestérol [Masse/Volume] Sérum/Plasma", "g/L", 1.5, 2.4, 2, 1 },
	{ "LDL-cholestérol", "13457-7", "Cholestérol LDL [Masse/Volume] Sérum/Plasma", "g/L", 0.5, 1.6, 2, 1 },
	{ "HDL-cholestérol", "2085-9", "Cholestérol HDL [Masse/Volume] Sérum/Plasma", "g/L", 0.4, 0.8, 2, 1 },
	{ "Triglycérides", "2571-8", "Triglycérides [Masse/Volume] Sérum/Plasma", "g/L", 0.5, 1.5, 2, 1 },
	{ "ASAT", "1920-8", "Aspartate aminotransférase [Activité enzymatique/Volume] Sérum/Plasma", "UI/L", 10, 40, 0, 1 },
	{ "ALAT", "1742-6", "Alanine aminotransférase [Activité enzymatique/Volume] Sérum/Plasma", "UI/L", 10, 45, 0, 1 },
	{ "Gamma-GT", "2324-2", "Gamma glutamyltransférase [Activité enzymatique/Volume] Sérum/Plasma", "UI/L", 10, 60, 0, 1 },
	{ "Bilirubine totale", "14631-6", "Bilirubine [Moles/Volume] Sérum/Plasma", "µmol/L", 3, 20, 0, 1 },
	{ "Protéine C réactive", "1988-5", "Protéine C réactive [Masse/Volume] Sérum/Plasma", "mg/L", 0, 5, 1, 1 },
	{ "NT-proBNP", "33762-6", "NT-proBNP [Masse/Volume] Sérum/Plasma", "ng/L", 10, 300, 0, 1 },
	{ "Troponine T hypersensible", "67151-1", "Troponine T cardiaque [Masse/Volume] Sérum/Plasma", "ng/L", 1, 14, 0, 1 },
	{ "Albumine", "1751-7", "Albumine [Masse/Volume] Sérum/Plasma", "g/L", 35, 50, 0, 1 },
	{ "Ferritine", "2276-4", "Ferritine [Masse/Volume] Sérum/Plasma", "µg/L", 20, 300, 0, 1 },
	{ "TSH", "3016-3", "Thyréostimuline [Unités arbitraires/Volume] Sérum/Plasma", "mUI/L", 0.4, 4, 2, 2 },
	{ "T4 libre", "3024-7", "Thyroxine libre [Moles/Volume] Sérum/Plasma", "pmol/L", 10, 22, 1, 2 },
	{ "Vitamine D (25-OH)", "14635-7", "25-hydroxyvitamine D [Moles/Volume] Sérum/Plasma", "nmol/L", 75, 150, 0, 2 },
	{ "PSA total", "2857-1", "Antigène spécifique prostatique [Masse/Volume] Sérum/Plasma", "ng/mL", 0.2, 4, 2, 2 },
	{ "Sérologie VHC", "16128-1", "Virus de l'hépatite C Ac [Présence] Sérum", "", 0, 1, 0, 2 },
	{ "Microalbuminurie", "14957-5", "Microalbumine [Masse/Volume] Urine", "mg/L", 0, 30, 0, 2 },
};
static const char *const lab_section_titles[] = { "Hématologie", "Biochimie", "Hormonologie - Immunologie" };
static const char *const lab_section_codes[] = { "18723-7", "18719-5", "18720-3" };

/* Sentence patterns. Slots: {S} symptom, {P} pathology, {D} drug, {O} organ,
 * {M} modality, {T} duration, {A} analyte with value, {N} 2-digit number,
 * {F} percent, {L} allergen, {V} vaccine, {R} trend, {DR} doctor, {E} "e"
 * for a woman, {PT} "Patient"/"Patiente". Domains OR-ed in the mask. */
enum { G = 1, C = 2, B = 4, I = 8, NEU = 16, R = 32, O = 64, E = 128, MED = 256,
       VAC = 512, H = 1024, AN = 2048, OB = 4096 };

static const struct pattern {
	unsigned mask;
	const char *text;
} patterns[] = {
	{ G, "{PT} suivi{E} pour {P} depuis {T}." },
	{ G, "Consulte pour {S} évoluant depuis {T}." },
	{ G, "Pas de {S} rapportée ce jour." },
	{ G, "L'examen clinique retrouve {S}, sans signe de gravité." },
	{ G, "Antécédents : {P}, {P}." },
	{ G | MED, "Traitement par {D}, bien toléré." },
	{ G | MED, "Majoration de {D} en raison de {S}." },
	{ G | MED, "Arrêt de {D} devant l'apparition de {S}." },
	{ G | C, "Tension artérielle à 1{N}/{N} mmHg, fréquence cardiaque à {N} bpm." },
	{ G, "Auscultation cardio-pulmonaire sans particularité." },
	{ G, "Poursuite de la surveillance en consultation dans {T}." },
	{ G, "Éducation thérapeutique réalisée, observance satisfaisante." },
	{ G | AN, "Allergie connue à {L}." },
	{ G, "Adressé{E} au Dr {DR} pour avis spécialisé." },
	{ G, "Bilan complémentaire par {M} demandé." },
	{ G, "Pas de modification thérapeutique à ce jour." },
	{ G | B, "Dernier bilan : {A}, {R}." },
	{ G, "Conclusion : {P} stable, à surveiller." },
	{ G, "Mode de vie : tabagisme sevré depuis {T}, activité physique régulière." },
	{ G, "Poids {N} kg, IMC à {N} kg/m²." },
	{ C, "Fraction d'éjection ventriculaire gauche estimée à {F} %." },
	{ C, "Électrocardiogramme : rythme sinusal, pas de trouble de la repolarisation." },
	{ C, "Fibrillation atriale à réponse ventriculaire rapide, anticoagulation par {D}." },
	{ C, "Échocardiographie : hypertrophie ventriculaire gauche modérée, pas de valvulopathie significative." },
	{ C, "Holter ECG : extrasystoles ventriculaires isolées, pas de pause." },
	{ C, "Angioplastie avec pose d'un stent actif sur l'artère interventriculaire antérieure." },
	{ C, "Épreuve d'effort maximale négative cliniquement et électriquement." },
	{ C | H, "Insuffisance cardiaque à fraction d'éjection préservée, décompensation sur {S}." },
	{ B, "{A}, {R} par rapport au précédent bilan." },
	{ B, "Surveillance biologique à prévoir dans {T}." },
	{ B, "Prélèvement réalisé à jeun, au laboratoire." },
	{ B, "Résultats à interpréter en fonction du contexte clinique." },
	{ B, "Hémolyse légère du prélèvement, sans incidence sur les résultats." },
	{ I, "{M} : parenchyme {O} d'aspect normal." },
	{ I, "Aspect évocateur de {P}, à confronter aux données cliniques." },
	{ I, "Absence de lésion suspecte au niveau {O}." },
	{ I, "Nodule de {N} mm au niveau {O}, contrôle par {M} dans {T}." },
	{ I, "Injection de produit de contraste iodé, bien tolérée." },
	{ I, "Pas d'épanchement, pas d'adénopathie." },
	{ I, "Dose de rayonnement : produit dose-longueur de {N}0 mGy.cm." },
	{ NEU, "Examen neurologique : {S}, score NIHSS à {N}." },
	{ NEU, "Thrombolyse intraveineuse réalisée à {N} minutes du début des symptômes." },
	{ NEU, "IRM cérébrale : infarctus sylvien gauche récent, pas de transformation hémorragique." },
	{ NEU, "Rééducation orthophonique et kinésithérapie motrice prescrites." },
	{ R, "Spirométrie : VEMS à {F} % de la théorique, trouble ventilatoire obstructif." },
	{ R, "Kinésithérapie respiratoire prescrite, {N} séances." },
	{ R, "Saturation en oxygène à 9{N} % en air ambiant." },
	{ O, "Proposition de la RCP : chimiothérapie adjuvante puis radiothérapie." },
	{ O, "Tumeur classée pT{N}N0M0, récepteurs hormonaux positifs." },
	{ O, "Indice de performance OMS à 1, patient{E} autonome." },
	{ O, "Analyse anatomopathologique : carcinome canalaire infiltrant de grade 2." },
	{ E, "Acuité visuelle corrigée à {N}/10 à droite et {N}/10 à gauche." },
	{ E, "Pression intraoculaire à {N} mmHg aux deux yeux." },
	{ E, "Fond d'œil : rétinopathie diabétique non proliférante minime." },
	{ E, "Réfraction : myopie avec astigmatisme, correction renouvelée." },
	{ MED, "{D} : un comprimé matin et soir pendant {T}." },
	{ MED, "{D} : une prise par jour, à renouveler {N} fois." },
	{ MED, "Ne pas substituer. Traitement à poursuivre sans interruption." },
	{ VAC, "Vaccination {V} réalisée, lot {N}{N}A, injection intramusculaire dans le deltoïde." },
	{ VAC, "Prochain rappel {V} dans {T}." },
	{ VAC, "Pas d'effet indésirable immédiat après la vaccination." },
	{ H, "Hospitalisé{E} pour {P}, compliqué{E} de {S}." },
	{ H, "Sortie à domicile avec {D}." },
	{ H, "Suites à donner : consultation avec le médecin traitant dans {T}." },
	{ H, "Transfert en soins de suite et de réadaptation." },
	{ AN, "Score ASA 2, intubation prévue sans difficulté, Mallampati 1." },
	{ AN, "Consignes de jeûne préopératoire expliquées, arrêt de {D} 48 heures avant." },
	{ OB, "Grossesse de {N} semaines d'aménorrhée, évolution normale." },
	{ OB, "Échographie obstétricale : biométrie fœtale au {N}e percentile." },
	{ OB, "Diabète gestationnel équilibré sous régime." },
};

/* Document types, after the CI-SIS examples: LOINC type, title, author
 * specialty, domains, sections, and how often the type occurs. */
typedef struct section_def {
	const char *code, *title;
	int lab; /* 1: a table of results with coded entries */
} section_def;

typedef struct doc_type {
	const char *type, *title, *specialty;
	unsigned mask;
	int weight;
	section_def sections[8];
} doc_type;

static const doc_type doc_types[] = {
	{ "11502-2", "Compte rendu d'examens biologiques", "SM03", B, 24,
	  { { "18723-7", "Hématologie", 1 }, { "18719-5", "Biochimie", 1 },
	    { "18720-3", "Hormonologie - Immunologie", 1 }, { "55110-1", "Conclusion", 0 } } },
	{ "11488-4", "Compte rendu de consultation de cardiologie", "SM04", G | C, 8,
	  { { "29299-5", "Motif de la consultation", 0 }, { "10164-2", "Histoire de la maladie", 0 },
	    { "11348-0", "Antécédents médicaux", 0 }, { "29545-1", "Examen clinique", 0 },
	    { "10160-0", "Traitements en cours", 0 }, { "55110-1", "Conclusion", 0 } } },
	{ "11488-4", "Compte rendu de consultation de médecine générale", "SM54", G | MED, 12,
	  { { "29299-5", "Motif de la consultation", 0 }, { "11348-0", "Antécédents médicaux", 0 },
	    { "29545-1", "Examen clinique", 0 }, { "55110-1", "Conclusion", 0 } } },
	{ "11488-4", "Compte rendu de consultation de pneumologie", "SM41", G | R, 3,
	  { { "29299-5", "Motif de la consultation", 0 }, { "29545-1", "Examen clinique", 0 },
	    { "30954-2", "Résultats d'examens", 0 }, { "55110-1", "Conclusion", 0 } } },
	{ "11488-4", "Compte rendu de consultation d'endocrinologie", "SM16", G | B | MED, 3,
	  { { "29299-5", "Motif de la consultation", 0 }, { "10164-2", "Histoire de la maladie", 0 },
	    { "30954-2", "Résultats d'examens", 0 }, { "55110-1", "Conclusion", 0 } } },
	{ "18748-4", "CR d'imagerie médicale", "SM44", I, 10,
	  { { "55111-9", "Informations cliniques", 0 },
	    { "18785-6", "Justification de la demande d'examen", 0 },
	    { "55111-9", "Technique d'imagerie", 0 }, { "18782-3", "Résultat", 0 },
	    { "55110-1", "Conclusion", 0 } } },
	{ "11490-0", "Lettre de liaison à la sortie de l'établissement de santé", "SM27", G | H | MED, 6,
	  { { "46241-6", "Motif de l'hospitalisation", 0 },
	    { "67851-6", "Synthèse médicale du séjour", 0 },
	    { "10183-2", "Traitements à la sortie", 0 }, { "18776-5", "Suites à donner", 0 },
	    { "48765-2", "Allergies identifiées pendant le séjour", 0 } } },
	{ "57833-6", "Prescription de médicaments", "SM54", MED, 12,
	  { { "57828-6", "Prescription de médicaments", 0 }, { "48767-8", "Commentaire", 0 } } },
	{ "34749-2", "CR de consultation pré-anesthésique", "SM02", AN | G, 3,
	  { { "8716-3", "Signes vitaux", 0 }, { "10187-3", "Examen physique pré-anesthésique", 0 },
	    { "11348-0", "Antécédents médicaux", 0 }, { "48765-2", "Allergies et hypersensibilités", 0 },
	    { "55110-1", "Conclusion", 0 } } },
	{ "34794-8", "CR de réunion de concertation pluridisciplinaire", "SM36", O, 2,
	  { { "42349-1", "Motif de la RCP", 0 }, { "72135-7", "Tumeur", 0 },
	    { "29545-1", "Clinique", 0 }, { "51848-0", "Synthèse du cas présenté", 0 },
	    { "18776-5", "Proposition thérapeutique", 0 } } },
	{ "60591-5", "Synthèse médicale", "SM54", G | MED | AN, 4,
	  { { "11450-4", "Pathologies en cours", 0 }, { "11348-0", "Antécédents médicaux", 0 },
	    { "47519-4", "Antécédents chirurgicaux", 0 }, { "48765-2", "Allergies et hypersensibilités", 0 },
	    { "57207-3", "Facteurs de risque", 0 }, { "18776-5", "Traitement au long cours", 0 },
	    { "75310-3", "Points de vigilance", 0 } } },
	{ "78513-9", "CR de consultation en ophtalmologie", "SM38", E, 2,
	  { { "29299-5", "Motif de la consultation", 0 }, { "10197-2", "Examen physique oculaire", 0 },
	    { "79895-9", "Réfraction et acuité visuelle", 0 }, { "55110-1", "Conclusion", 0 } } },
	{ "87273-9", "Note de vaccination", "SM54", VAC, 4,
	  { { "11369-6", "Note de vaccination", 0 } } },
	{ "34133-9", "Synthèse d'épisode de soins en unité neuro-vasculaire", "SM32", NEU | H, 2,
	  { { "46241-6", "Motif d'admission", 0 }, { "11535-2", "Interprétation diagnostique de sortie", 0 },
	    { "47420-5", "Évaluation fonctionnelle", 0 }, { "18776-5", "Plan de soins", 0 } } },
	{ "57055-6", "Synthèse antepartum", "SM20", OB | G, 2,
	  { { "10162-6", "Historique des grossesses", 0 }, { "11348-0", "Antécédents médicaux et gynécologiques", 0 },
	    { "57073-9", "Suivi de la grossesse", 0 }, { "55110-1", "Conclusion", 0 } } },
	{ "11524-6", "Compte rendu d'électrocardiogramme", "SM04", C, 3,
	  { { "42349-1", "Indication", 0 }, { "18844-1", "Interprétation du tracé", 0 },
	    { "55110-1", "Conclusion", 0 } } },
	{ "85208-7", "Compte-rendu de téléconsultation", "SM54", G | MED, 2,
	  { { "29299-5", "Motif de la téléconsultation", 0 }, { "29545-1", "Examen clinique", 0 },
	    { "55110-1", "Conclusion", 0 } } },
};

/* Viewer specialties in the query workload (as the corpus codes them). */
static const char *const viewer_specialties[] = {
	"G15_10/SM54", "G15_10/SM04", "G15_10/SM03", "G15_10/SM44", "G15_10/SM41",
	"G15_10/SM16", "G15_10/SM32", "G15_10/SM38", "G15_10/SM26",
};

static const char *const stopwords[] = {
	"depuis", "après", "entre", "selon", "ainsi", "cette", "autres", "aucune", "aucun",
	"plusieurs", "toujours", "encore", "contre", "avant", "prévue", "réalisée", "réalisé",
	"jour", "jours", "semaines", "heures", "minutes", "droite", "gauche", "niveau",
	"patient", "patiente", "Patient", "Patiente", "suivi", "suivie", "devant", "raison",
	"apparition", "évoluant", "rapportée", "particularité", "signe", "gravité", "toléré",
	"Compte", "rendu", "Conclusion", "prévoir", "précédent", "rapport", "fonction",
};

/* ---- one document ---- */

typedef struct patient {
	char ins[16];
	int woman;
} patient;

static int woman;

static void fill(sbuf *out, const char *pat)
{
	for (const char *s = pat; *s;) {
		if (*s != '{') {
			const char *e = strchr(s, '{');
			size_t n = e ? (size_t)(e - s) : strlen(s);
			sb_put(out, s, n);
			s += n;
			continue;
		}
		const char *e = strchr(s, '}');
		size_t n = (size_t)(e - s - 1);
		const char *k = s + 1;
		if (n == 1 && *k == 'S') sb_puts(out, ZPICK(symptoms));
		else if (n == 1 && *k == 'P') sb_puts(out, ZPICK(pathos));
		else if (n == 1 && *k == 'D') sb_puts(out, ZPICK(drugs));
		else if (n == 1 && *k == 'O') sb_puts(out, ZPICK(organs));
		else if (n == 1 && *k == 'M') sb_puts(out, ZPICK(modalities));
		else if (n == 1 && *k == 'T') sb_puts(out, UPICK(durations));
		else if (n == 1 && *k == 'L') sb_puts(out, ZPICK(allergens));
		else if (n == 1 && *k == 'V') sb_puts(out, ZPICK(vaccines));
		else if (n == 1 && *k == 'R') sb_puts(out, UPICK(trends));
		else if (n == 1 && *k == 'N') sb_printf(out, "%d", 10 + (int)pick(80));
		else if (n == 1 && *k == 'F') sb_printf(out, "%d", 35 + (int)pick(35));
		else if (n == 1 && *k == 'E') sb_puts(out, woman ? "e" : "");
		else if (n == 2 && k[0] == 'P') sb_puts(out, woman ? "Patiente" : "Patient");
		else if (n == 2 && k[0] == 'D') sb_puts(out, UPICK(doctors));
		else if (n == 1 && *k == 'A') {
			const analyte *a = &analytes[zipf(N_OF(analytes))];
			double v = a->lo + (a->hi - a->lo) * (unif() * 1.4 - 0.2);
			if (v < 0)
				v = 0;
			sb_printf(out, "%s à %.*f %s", a->name, a->dec, v, a->unit);
		}
		s = e + 1;
	}
}

/* The document's parts, built once, rendered as CDA or text. */
typedef struct gen {
	sbuf plain; /* the text as a reader sees it: title, section titles, narrative */
	sbuf entries; /* coded entries' display names and codes (CDA only) */
	sbuf xml;   /* the CDA body */
} gen;

static void lab_rows(gen *g, int section, size_t rows, int cda)
{
	if (cda)
		sb_puts(&g->xml, "<text><table><thead><tr><th>Analyse</th><th>Résultat</th>"
			"<th>Valeurs de référence</th></tr></thead><tbody>");
	sbuf ent = { 0 };
	unsigned long long used = 0; /* each analyte once per section */
	if (rows > N_OF(analytes) / 2)
		rows = N_OF(analytes) / 2;
	for (size_t r = 0; r < rows; r++) {
		const analyte *a;
		size_t ai;
		do {
			ai = zipf(N_OF(analytes));
			a = &analytes[ai];
		} while ((used >> ai & 1) || (a->section != section && pick(4) != 0));
		used |= 1ull << ai;
		double v = a->lo + (a->hi - a->lo) * (unif() * 1.4 - 0.2);
		if (v < 0)
			v = 0;
		char val[64], ref[96];
		snprintf(val, sizeof val, "%.*f", a->dec, v);
		for (char *c = val; *c; c++)
			if (*c == '.')
				*c = ',';
		snprintf(ref, sizeof ref, "%.*f - %.*f", a->dec, a->lo, a->dec, a->hi);
		for (char *c = ref; *c; c++)
			if (*c == '.')
				*c = ',';
		sb_printf(&g->plain, "%s : %s %s (%s)\n", a->name, val, a->unit, ref);
		if (cda) {
			sb_puts(&g->xml, "<tr><td>");
			sb_xml(&g->xml, a->name);
			sb_puts(&g->xml, "</td><td>");
			sb_xml(&g->xml, val);
			sb_puts(&g->xml, " ");
			sb_xml(&g->xml, a->unit);
			sb_puts(&g->xml, "</td><td>");
			sb_xml(&g->xml, ref);
			sb_puts(&g->xml, "</td></tr>");
			sb_printf(&ent, "<entry><observation classCode=\"OBS\" moodCode=\"EVN\">"
				  "<code code=\"%s\" codeSystem=\"2.16.840.1.113883.6.1\" displayName=\"",
				  a->loinc);
			sb_xml(&ent, a->display);
			sb_printf(&ent, "\"/><statusCode code=\"completed\"/>"
				  "<value xsi:type=\"PQ\" value=\"%.*f\" unit=\"%s\"/>"
				  "</observation></entry>", a->dec, v, *a->unit ? a->unit : "1");
			sb_printf(&g->entries, "%s %s ", a->display, a->loinc);
		}
	}
	if (cda) {
		sb_puts(&g->xml, "</tbody></table></text>");
		if (ent.len)
			sb_put(&g->xml, ent.p, ent.len);
	}
	free(ent.p);
}

static void prose(gen *g, unsigned mask, size_t bytes, int cda)
{
	size_t start = g->plain.len;
	sbuf s = { 0 };
	if (cda)
		sb_puts(&g->xml, "<text>");
	int para = 0;
	do {
		const struct pattern *p;
		do
			p = &patterns[zipf(N_OF(patterns)) * 7 % N_OF(patterns)];
		while (!(p->mask & mask));
		sb_reset(&s);
		fill(&s, p->text);
		if (cda) {
			if (!para)
				sb_puts(&g->xml, "<paragraph>");
			sb_xml(&g->xml, s.p);
			sb_puts(&g->xml, " ");
		}
		sb_put(&g->plain, s.p, s.len);
		para++;
		if (para >= 3 + (int)pick(4)) {
			sb_puts(&g->plain, "\n");
			if (cda)
				sb_puts(&g->xml, "</paragraph>");
			para = 0;
		} else {
			sb_puts(&g->plain, " ");
		}
	} while (g->plain.len - start < bytes);
	if (cda)
		sb_puts(&g->xml, para ? "</paragraph></text>" : "</text>");
	if (para)
		sb_puts(&g->plain, "\n");
	free(s.p);
}

/* Fill g with the sections of t, about `bytes` of text in all. */
static void build_doc(gen *g, const doc_type *t, size_t bytes, int cda)
{
	size_t nsec = 0;
	while (nsec < N_OF(t->sections) && t->sections[nsec].title)
		nsec++;
	sb_reset(&g->plain);
	sb_reset(&g->entries);
	sb_reset(&g->xml);
	sb_printf(&g->plain, "%s\n\n", t->title);
	for (size_t i = 0; i < nsec; i++) {
		const section_def *sd = &t->sections[i];
		/* conclusions stay short; the other sections share the size */
		size_t share = strcmp(sd->title, "Conclusion") == 0 ? 120 + pick(200)
			       : bytes / nsec + pick(bytes / nsec / 2 + 1);
		if (cda) {
			sb_printf(&g->xml, "<component><section><code code=\"%s\" "
				  "codeSystem=\"2.16.840.1.113883.6.1\"/><title>", sd->code);
			sb_xml(&g->xml, sd->title);
			sb_puts(&g->xml, "</title>");
		}
		sb_printf(&g->plain, "%s\n", sd->title);
		if (sd->lab) {
			int sec = 0;
			for (int k = 0; k < 3; k++)
				if (strcmp(sd->title, lab_section_titles[k]) == 0)
					sec = k;
			lab_rows(g, sec, 2 + share / 45, cda);
		} else {
			prose(g, t->mask | G, share, cda);
		}
		if (cda)
			sb_puts(&g->xml, "</section></component>");
		sb_puts(&g->plain, "\n");
	}
	(void)lab_section_codes;
}

/* ---- output ---- */

static void mkdirs(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
				die(tmp);
			*p = '/';
		}
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		die(tmp);
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		die(path);
	if (fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die(path);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die(path);
	sbuf b = { 0 };
	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		sb_put(&b, tmp, n);
	fclose(f);
	*len = b.len;
	if (!b.p)
		sb_put(&b, "", 0);
	return b.p;
}

static void base64(sbuf *out, const unsigned char *in, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		char q[4] = { tab[v >> 18 & 63], tab[v >> 12 & 63],
			      i + 1 < len ? tab[v >> 6 & 63] : '=', i + 2 < len ? tab[v & 63] : '=' };
		sb_put(out, q, 4);
		if ((i / 3 + 1) % 19 == 0)
			sb_puts(out, "\n");
	}
}

static void cda_header(sbuf *x, const patient *p, const char *id, const doc_type *t,
		       const char *ymd, const char *author_id, const char *author_given,
		       const char *author_family)
{
	sb_puts(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<!-- Synthetic benchmark document: every person, id and place is fictitious. -->\n"
		"<ClinicalDocument xmlns=\"urn:hl7-org:v3\" "
		"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
		"<realmCode code=\"FR\"/>\n"
		"<typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>\n"
		"<templateId root=\"2.16.840.1.113883.2.8.2.1\"/>\n"
		"<templateId root=\"1.2.250.1.213.1.1.1.1\"/>\n");
	sb_printf(x, "<id root=\"1.2.250.1.999.2.7\" extension=\"%s\"/>\n", id);
	sb_printf(x, "<code code=\"%s\" codeSystem=\"2.16.840.1.113883.6.1\" "
		  "codeSystemName=\"LOINC\" displayName=\"", t->type);
	sb_xml(x, t->title);
	sb_puts(x, "\"/>\n<title>");
	sb_xml(x, t->title);
	sb_printf(x, "</title>\n<effectiveTime value=\"%s100000+0100\"/>\n"
		  "<confidentialityCode code=\"N\" codeSystem=\"2.16.840.1.113883.5.25\"/>\n"
		  "<languageCode code=\"fr-FR\"/>\n"
		  "<setId root=\"1.2.250.1.999.2.7\" extension=\"%s\"/>\n"
		  "<versionNumber value=\"1\"/>\n", ymd, id);
	sb_printf(x, "<recordTarget><patientRole>\n"
		  "<id root=\"1.2.250.1.213.1.4.8\" extension=\"%s\"/>\n"
		  "<patient><name><given>%s</given><family qualifier=\"BR\">%s-TEST</family></name>"
		  "<administrativeGenderCode code=\"%s\" codeSystem=\"2.16.840.1.113883.5.1\"/>"
		  "<birthTime value=\"19%c%c0101\"/></patient>\n"
		  "</patientRole></recordTarget>\n",
		  p->ins, UPICK(given), UPICK(doctors), p->woman ? "F" : "M", p->ins[1], p->ins[2]);
	sb_printf(x, "<author><time value=\"%s100000+0100\"/><assignedAuthor>\n"
		  "<id root=\"1.2.250.1.71.4.2.1\" extension=\"%s\"/>\n"
		  "<code code=\"G15_10/%s\" codeSystem=\"1.2.250.1.213.1.1.4.5\"/>\n"
		  "<assignedPerson><name><given>%s</given><family>%s-TEST</family></name>"
		  "</assignedPerson>\n</assignedAuthor></author>\n",
		  ymd, author_id, t->specialty, author_given, author_family);
	sb_puts(x, "<custodian><assignedCustodian><representedCustodianOrganization>\n"
		"<id root=\"1.2.250.1.71.4.2.2\" extension=\"1999999999\"/>\n"
		"<name>Centre hospitalier Fictif-TEST</name>\n"
		"</representedCustodianOrganization></assignedCustodian></custodian>\n");
	sb_printf(x, "<documentationOf><serviceEvent><effectiveTime><low value=\"%s\"/>"
		  "<high value=\"%s\"/></effectiveTime></serviceEvent></documentationOf>\n", ymd, ymd);
}

/* ---- query workload ---- */

#define POOL 64  /* words kept per patient (reservoir) */
#define CAND 4   /* candidate queries of each kind per patient */

typedef struct pool {
	char *w[POOL];
	size_t seen;
} pool;

static int is_stop(const char *w)
{
	for (size_t i = 0; i < N_OF(stopwords); i++)
		if (strcmp(w, stopwords[i]) == 0)
			return 1;
	return 0;
}

/* Words of at least 5 letters of text, into the reservoir. */
static void pool_add(pool *pl, const char *text, size_t len)
{
	size_t i = 0;
	while (i < len) {
		while (i < len && !((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z') ||
				    (unsigned char)text[i] >= 0x80))
			i++;
		size_t s = i;
		while (i < len && ((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z') ||
				   (unsigned char)text[i] >= 0x80))
			i++;
		size_t n = i - s;
		if (n < 5 || n > 40)
			continue;
		/* "µ" and "²" are not word letters anywhere: skip such tokens */
		int odd = 0;
		for (size_t k = s; k < i; k++)
			if ((unsigned char)text[k] == 0xC2)
				odd = 1;
		if (odd)
			continue;
		char w[48];
		memcpy(w, text + s, n);
		w[n] = '\0';
		if (is_stop(w))
			continue;
		pl->seen++;
		size_t slot = pl->seen <= POOL ? pl->seen - 1 : (size_t)(rnd() % pl->seen);
		if (slot < POOL) {
			free(pl->w[slot]);
			pl->w[slot] = strdup(w);
			if (!pl->w[slot])
				die("out of memory");
		}
	}
}

int main(int argc, char **argv)
{
	unsigned long long seed = 42;
	long nq = 2000;
	const char *pdf_path = NULL, *pdf_text_path = NULL;
	int text_dir = 0;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--queries") == 0 && i + 1 < argc)
			nq = atol(argv[++i]);
		else if (strcmp(argv[i], "--pdf") == 0 && i + 1 < argc)
			pdf_path = argv[++i];
		else if (strcmp(argv[i], "--pdf-text") == 0 && i + 1 < argc)
			pdf_text_path = argv[++i];
		else if (strcmp(argv[i], "--text-dir") == 0)
			text_dir = 1;
		else {
			usage();
			return 2;
		}
	}
	if (argc - i != 2 || (pdf_path && !pdf_text_path)) {
		usage();
		return 2;
	}
	const char *out = argv[i];
	long n = atol(argv[i + 1]);
	if (n <= 0 || nq < 0) {
		usage();
		return 2;
	}
	rng_state ^= seed * 0x9E3779B97F4A7C15ull;
	if (!rng_state)
		rng_state = 1;

	size_t pdf_len = 0, pdf_text_len = 0;
	char *pdf = pdf_path ? read_all(pdf_path, &pdf_len) : NULL;
	char *pdf_text = pdf_text_path ? read_all(pdf_text_path, &pdf_text_len) : NULL;
	sbuf pdf_b64 = { 0 };
	if (pdf)
		base64(&pdf_b64, (const unsigned char *)pdf, pdf_len);

	char path[4096], dir[4096];
	snprintf(path, sizeof path, "%s/docs", out);
	mkdirs(path);
	snprintf(path, sizeof path, "%s/corpus.tsv", out);
	FILE *tsv = fopen(path, "w");
	if (!tsv)
		die(path);

	int total_weight = 0;
	for (size_t k = 0; k < N_OF(doc_types); k++)
		total_weight += doc_types[k].weight;

	gen g = { { 0 }, { 0 }, { 0 } };
	sbuf x = { 0 }, side = { 0 };
	/* candidates: per patient, CAND one-word and CAND three-word queries */
	size_t cap_p = 1024, np = 0;
	char **cands = malloc(cap_p * 2 * CAND * sizeof *cands);
	char (*ins_of)[16] = malloc(cap_p * sizeof *ins_of);
	if (!cands || !ins_of)
		die("out of memory");
	long n_cda = 0, n_txt = 0, n_pdf = 0, max_docs = 0;
	unsigned long long text_bytes = 0, file_bytes = 0;
	long doc = 0;
	while (doc < n) {
		/* long-tailed record sizes: Pareto (alpha 0.9), 1 to 400 documents */
		double u = 1.0 - unif();
		long count = (long)pow(u, -1.0 / 0.9);
		if (count < 1)
			count = 1;
		if (count > 400)
			count = 400;
		if (count > n - doc)
			count = n - doc;
		if (count > max_docs)
			max_docs = count;
		patient p;
		p.woman = (int)pick(2);
		woman = p.woman;
		/* INS-shaped: sex, year, month, then the patient number, and the key */
		char digits[14];
		snprintf(digits, sizeof digits, "%d%02d%02d%08zu", p.woman ? 2 : 1,
			 30 + (int)pick(70), 1 + (int)pick(12), np);
		unsigned long long num = strtoull(digits, NULL, 10);
		snprintf(p.ins, sizeof p.ins, "%s%02llu", digits, 97 - num % 97);
		if (np == cap_p) {
			cap_p *= 2;
			cands = realloc(cands, cap_p * 2 * CAND * sizeof *cands);
			ins_of = realloc(ins_of, cap_p * sizeof *ins_of);
			if (!cands || !ins_of)
				die("out of memory");
		}
		memcpy(ins_of[np], p.ins, 16);
		snprintf(dir, sizeof dir, "%s/docs/%03zu/p%s", out, np / 1000, p.ins);
		mkdirs(dir);
		pool pl = { { 0 }, 0 };
		for (long d = 0; d < count; d++, doc++) {
			int w = (int)pick((size_t)total_weight);
			const doc_type *t = doc_types;
			while (w >= t->weight) {
				w -= t->weight;
				t++;
			}
			/* 1 to 30 KB of text, most documents small */
			double su = unif();
			size_t bytes = (size_t)(1000.0 * pow(30.0, su * su));
			int kind = (int)pick(100); /* < 2: CDA with PDF, < 37: CDA, else text */
			if (!pdf)
				kind = kind < 2 ? 50 : kind;
			int cda = kind < 37;
			char id[40], ymd[16], date[16];
			snprintf(id, sizeof id, "BENCH-%08ld", doc);
			/* dates from 2007 to late 2026, more of them recent */
			double du = unif();
			int age_days = (int)(7000.0 * du * du);
			int y = 2026, m = 11, day = 30;
			for (int k = 0; k < age_days; k++) {
				static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
				if (--day == 0) {
					if (--m == 0) {
						m = 12;
						y--;
					}
					day = mdays[m - 1] + (m == 2 && y % 4 == 0);
				}
			}
			snprintf(ymd, sizeof ymd, "%04d%02d%02d", y % 10000, m % 100, day % 100);
			snprintf(date, sizeof date, "%04d-%02d-%02d", y % 10000, m % 100, day % 100);
			char author_id[16];
			snprintf(author_id, sizeof author_id, "10%09zu", pick(600));
			const char *ag = UPICK(given), *af = UPICK(doctors);
			const char *title = t->title;
			const char *spec = t->specialty;
			const char *type = t->type;
			const char *text;
			size_t text_len;
			char file[8400];
			if (kind < 2) {
				/* a CDA whose body is a PDF (an echocardiography report) */
				static const doc_type pdf_type = { "18748-4", "Compte rendu d'échocardiographie",
								   "SM04", C, 0, { { 0 } } };
				t = &pdf_type;
				title = t->title;
				spec = t->specialty;
				type = t->type;
				sb_reset(&x);
				cda_header(&x, &p, id, t, ymd, author_id, ag, af);
				sb_puts(&x, "<component><nonXMLBody><text mediaType=\"application/pdf\" "
					"representation=\"B64\">\n");
				sb_put(&x, pdf_b64.p, pdf_b64.len);
				sb_puts(&x, "\n</text></nonXMLBody></component>\n</ClinicalDocument>\n");
				snprintf(file, sizeof file, "%s/%s_cr-echo-pdf_%s.xml", dir, date, id);
				write_file(file, x.p, x.len);
				file_bytes += x.len;
				sb_reset(&g.plain);
				sb_put(&g.plain, pdf_text, pdf_text_len);
				sb_reset(&g.entries);
				n_pdf++;
			} else if (cda) {
				build_doc(&g, t, bytes, 1);
				sb_reset(&x);
				cda_header(&x, &p, id, t, ymd, author_id, ag, af);
				sb_puts(&x, "<component><structuredBody>\n");
				sb_put(&x, g.xml.p, g.xml.len);
				sb_puts(&x, "\n</structuredBody></component>\n</ClinicalDocument>\n");
				snprintf(file, sizeof file, "%s/%s_%s_%s.xml", dir, date, type, id);
				write_file(file, x.p, x.len);
				file_bytes += x.len;
				n_cda++;
			} else {
				build_doc(&g, t, bytes, 0);
				snprintf(file, sizeof file, "%s/%s_%s_%s.txt", dir, date, type, id);
				write_file(file, g.plain.p, g.plain.len);
				file_bytes += g.plain.len;
				sb_reset(&side);
				sb_printf(&side, "{ \"patient_id\": \"%s\", \"patient_id_system\": "
					  "\"1.2.250.1.213.1.4.8\",\n  \"id\": \"%s\", \"set_id\": \"%s\", "
					  "\"version\": 1,\n  \"type\": \"%s\", \"title\": \"",
					  p.ins, id, id, type);
				sb_json(&side, title);
				sb_printf(&side, "\", \"date\": \"%s\",\n  \"author_id\": \"%s\", "
					  "\"author_specialty\": \"%s\",\n  \"confidentiality\": [\"N\"] }\n",
					  date, author_id, spec);
				snprintf(file + strlen(file), sizeof file - strlen(file), ".meta.json");
				write_file(file, side.p, side.len);
				n_txt++;
			}
			text = g.plain.p;
			text_len = g.plain.len;
			pool_add(&pl, text, text_len);
			/* the baselines' row: the same title and text (with the CDA's
			 * coded entries, which carnet indexes too) */
			fprintf(tsv, "%s\t%s\t%s\t%s\t%s\t", p.ins, id, type, spec, date);
			put_tsv(tsv, title, strlen(title));
			putc('\t', tsv);
			put_tsv(tsv, text, text_len);
			if (g.entries.len) {
				putc(' ', tsv);
				put_tsv(tsv, g.entries.p, g.entries.len);
			}
			putc('\n', tsv);
			text_bytes += text_len + g.entries.len + strlen(title);
			if (text_dir) {
				char tdir[4300];
				snprintf(tdir, sizeof tdir, "%s/text/%03ld", out, doc / 1000);
				if (doc % 1000 == 0)
					mkdirs(tdir);
				snprintf(file, sizeof file, "%s/%s.txt", tdir, id);
				FILE *f = fopen(file, "w");
				if (!f)
					die(file);
				fprintf(f, "%s\n", title);
				fwrite(text, 1, text_len, f);
				if (g.entries.len)
					fwrite(g.entries.p, 1, g.entries.len, f);
				fclose(f);
			}
		}
		/* this patient's candidate queries */
		size_t have = pl.seen < POOL ? pl.seen : POOL;
		for (int k = 0; k < 2 * CAND; k++) {
			char q[200] = "";
			if (have) {
				int words = k < CAND ? 1 : 3;
				for (int j = 0; j < words; j++) {
					if (j)
						strcat(q, " ");
					strncat(q, pl.w[pick(have)], 48);
				}
			}
			cands[np * 2 * CAND + (size_t)k] = strdup(q);
		}
		for (size_t k = 0; k < have; k++)
			free(pl.w[k]);
		np++;
	}
	if (fclose(tsv) != 0)
		die("corpus.tsv");

	/* the workload: patients drawn uniformly, with a viewer specialty */
	snprintf(path, sizeof path, "%s/queries.tsv", out);
	FILE *qf = fopen(path, "w");
	if (!qf)
		die(path);
	static const char *const kinds[] = { "browse", "w1", "w3" };
	for (int k = 0; k < 3; k++) {
		for (long q = 0; q < nq; q++) {
			size_t pi = pick(np);
			const char *words = k == 0 ? "" : cands[pi * 2 * CAND + (size_t)(k - 1) * CAND + pick(CAND)];
			fprintf(qf, "%s\t%s\t%s\t%s\n", kinds[k], ins_of[pi], UPICK(viewer_specialties), words);
		}
	}
	if (fclose(qf) != 0)
		die("queries.tsv");
	printf("docs=%ld patients=%zu max_docs_per_patient=%ld cda=%ld text=%ld cda_pdf=%ld "
	       "text_bytes=%llu file_bytes=%llu\n",
	       n, np, max_docs, n_cda, n_txt, n_pdf, text_bytes, file_bytes);
	for (size_t k = 0; k < np * 2 * CAND; k++)
		free(cands[k]);
	free(cands);
	free(ins_of);
	free(g.plain.p);
	free(g.entries.p);
	free(g.xml.p);
	free(x.p);
	free(side.p);
	free(pdf_b64.p);
	free(pdf);
	free(pdf_text);
	return 0;
}

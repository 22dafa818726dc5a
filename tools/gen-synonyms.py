#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""gen-synonyms.py - derive core/data/synonyms.tsv, carnet's table of French
clinical abbreviations and synonyms.

Run from anywhere:  python3 tools/gen-synonyms.py
Reads   corpora/scossin-abbreviations-fr/sense_inventory/sense_inventory.tsv
        (vendored with its LICENSE; relative to the repository root)
Writes  core/data/synonyms.tsv

Standard library only.  The rules are described in the header written to the
table (HEADER below) and next to each list in this file.
"""

import csv
import os
import re
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SRC_DIR = os.path.join(REPO, "corpora", "scossin-abbreviations-fr")
INVENTORY = os.path.join(SRC_DIR, "sense_inventory", "sense_inventory.tsv")
LICENSE = os.path.join(SRC_DIR, "LICENSE")
OUT = os.path.join(REPO, "core", "data", "synonyms.tsv")

SOURCE_COMMIT = "4c1309c88be1a66b78ee6d37d76b503b2f5c27dc"
MAX_TERMS = 5  # words (hyphen-separated parts count) on one side

# ---------------------------------------------------------------------------
# Folding, as carnet does it (core/text.c): NFKD, combining marks dropped,
# ligatures expanded, case folded, apostrophe look-alikes made "'", French
# elided prefixes removed when glued to a following letter.  For the table we
# also turn any other punctuation into a space (hyphens are kept: carnet's
# term generator splits on them, and treats the parts as a phrase).

LIGATURES = {"\u0152": "oe", "\u0153": "oe", "\u00c6": "ae", "\u00e6": "ae",
             "\u00df": "ss", "\u1e9e": "ss", "\u00d8": "o", "\u00f8": "o",
             "\u0141": "l", "\u0142": "l", "\u0110": "d", "\u0111": "d"}
APOSTROPHES = "\u2018\u2019\u02bc\uff07\u00b4`"
ELISIONS = ("l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu",
            "puisqu", "quoiqu", "presqu")
ELISION_RE = re.compile(r"\b(?:%s)'(?=[a-z])" % "|".join(ELISIONS))


def fold(text):
    out = []
    for ch in text:
        if ch in LIGATURES:
            out.append(LIGATURES[ch])
        elif ch in APOSTROPHES:
            out.append("'")
        else:
            for d in unicodedata.normalize("NFKD", ch):
                if unicodedata.category(d) != "Mn":
                    out.append(d)
    s = "".join(out).casefold()
    s = ELISION_RE.sub("", s)
    s = re.sub(r"[^a-z0-9'\- ]+", " ", s)   # other punctuation: a space
    s = re.sub(r"(?<![a-z0-9])-|-(?![a-z0-9])", " ", s)  # lone hyphens
    s = s.replace("'", " ")                 # a leftover apostrophe splits
    return " ".join(s.split())


def terms(s):
    return s.replace("-", " ").split()


# ---------------------------------------------------------------------------
# Short forms never expanded.  French words (expanding them would rewrite
# ordinary prose: "pas", "mal", "tel", "vent"...), English/Latin words, units
# whose inventory sense is wrong or clashing ("dl" is decilitre in lab
# results, not "douleur"), and two-letter forms whose single inventory sense
# is one of many in real documents.

STOP_SHORT = set("""
a de le la les et un une ce ces cet son sa ses sur sous pas mal cas en au aux
du des par pour avec sans ou on il ils if no so to do as am ami ira mi pi pt sp
all art auto bat boul cal cap cat col com dec def dent dir dom env exam ext fac
fix gel gross his info inter iris jan janv juil juill lam lat li loco mac maj
mat max maxi med min mod mot nov obs op pac pal pan pass pat photo plaque pos
post prev prof ras ref rep res ret rev sec sens sept sol sup surf tel temp
tension tic tot trans tub vent vein vit ver vas sol sat situ perso ren dl db da
lc ln vv vp tt pp pm pn cc ee pb eg ej np ud sq sd cs dr pr eval
""".split())

# Counters, not concepts: a short form whose preferred long form is only
# these words plus numbers ("j1" jour 1, "c5j1" cure 5 jour 1, "u8" unite 8).
COUNTER_WORDS = set("cure jour heure mois semaine unite grossesse parite "
                    "parturiente glasgow galsgow rankin ratio de".split())

# ---------------------------------------------------------------------------
# Ambiguous short forms (several senses in the inventory).  The inventory's
# PT column marks the preferred *term* inside one sense, not a preferred
# sense, so it cannot pick a dominant sense.  Rule: an ambiguous short form
# is kept only if it is listed here, with the sense numbers judged dominant in
# patients' clinical documents (or senses so close that either expansion is
# right, e.g. albumine/albuminurie); every other ambiguous short form is
# dropped.

AMBIGUOUS_KEEP = {
    "alb": (1, 2), "albu": (1, 2),          # albumine / albuminurie
    "amyg": (1, 2),                         # amygdales / amygdalectomie
    "append": (1, 2),                       # appendicite / appendicectomie
    "cat": (2,),                            # conduite a tenir
    "ch": (1,),                             # centre hospitalier
    "coag": (2,),                           # coagulation
    "colo": (3,),                           # coloscopie
    "coro": (2,),                           # coronarographie
    "creat": (1,),                          # creatinine
    "cryo": (2,),                           # cryoglobuline
    "ctc": (1, 2),                          # corticoides / corticotherapie
    "dermato": (1, 2), "diab": (1, 2), "diabeto": (1, 2),
    "dtd": (1,),                            # diametre telediastolique
    "echo": (1, 2),                         # echographie(-ique)
    "fdg": (2,),                            # fluorodesoxyglucose (TEP)
    "fo": (1,),                             # fond d'oeil
    "immuno": (1, 2),
    "irc": (1,),                            # insuffisance renale chronique
    "lh": (1,),                             # luteinizing hormone
    "maf": (2,),                            # mouvements actifs foetaux
    "mag": (1,),                            # magnesium
    "mg": (2,),                             # milligramme (not magnesium)
    "pap": (2,),                            # pression arterielle pulmonaire
    "psy": (1, 2),
    "radio": (1,),                          # radiographie
    "rcp": (2,),                            # reunion de concertation pluri.
    "sc": (2,),                             # sous-cutane
    "sep": (1,),                            # sclerose en plaques
    "tg": (2,),                             # triglycerides
    "vvp": (2,),                            # voie veineuse peripherique
}

# Senses of unambiguous short forms that are wrong or clash badly in real
# documents (short form -> reason).
DROP_SENSE = {
    "cns": "long form is 'international prognostic index', not CNS",
    "asa": "'physical status score' is not how ASA is written",
    "crab": "a list of four signs, not a term",
    "ifm": "clinical-trial name",
    "hr": "radiotherapy protocol name",
    "cd19": "long form is 'covid 19', not the CD19 marker",
    "oct": "OCT is the optical coherence tomography of eye reports "
           "(carnet's list); octobre is 'octo'",
    "pio": "PIO is pression intraoculaire (carnet's list)",
    "sau": "long form belongs to another abbreviation",
    "pv": "long form is a typo ('parvob19')",
    "tb": "TB is tuberculose as often as trouble",
    "pls": "PLS is position laterale de securite as often as plusieurs",
    "num": "numero as often as numeration",
    "hemo": "hemoglobine, hemodialyse, hemorragie...",
    "ana": "ANA is usually anticorps antinucleaires, not anapath",
    "atg": "ATG is antithymocyte globulin",
    "cpm": "cpm is comprime in prescriptions",
    "pmr": "PMR is usually pseudopolyarthrite or mobilite reduite",
    "tram": "TRAM is a breast-reconstruction flap",
    "mc": "long form is a truncation",
    "ope": "long form is an inflected fragment",
    "perc": "long form is a verb fragment",
    "apgar": "backronym; the score is written 'apgar'",
    "mody": "long form is a description, not a term",
    "modic": "long form is a description, not a term",
    "mdrd": "long form is a description, not a term",
    "mdma": "long form is a description, not a term",
    "xa": "long form is a description, not a term",
    "mib": "long form is not the clinical sense",
    "lle": "long form merges two terms",
    "bx": "Bordeaux-specific", "bdx": "Bordeaux-specific",
    "hl": "Bordeaux hospital name", "chcp": "Bordeaux hospital name",
    "pel": "Bordeaux hospital name",
}

# A corrected preferred term for a sense whose inventory one is wrong.
OVERRIDE_PT = {
    "usic": "unite de soins intensifs cardiologiques",
    "usc": "unite de soins continus",
    "usp": "unite de soins palliatifs",
    "hag": "hypertrophie atriale gauche",
}

# Obvious misspellings in the inventory's preferred terms, fixed word by
# word so the corrected word is what gets emitted.
WORD_FIX = {
    "amoxiciline": "amoxicilline", "ausculation": "auscultation",
    "fibrilation": "fibrillation", "galsgow": "glasgow",
    "immunoglobine": "immunoglobuline", "immunoglobines": "immunoglobulines",
    "methothrexate": "methotrexate", "dicale": "discale",
    "mumure": "murmure", "cryglobulinemie": "cryoglobulinemie",
    "bruist": "bruits", "hydrochlorthiazide": "hydrochlorothiazide",
    "valvuloapthie": "valvulopathie", "billirubine": "bilirubine",
    "epilesie": "epilepsie", "genereal": "general",
    "hidh": "high", "furosemdie": "furosemide", "fluorouracil": "fluorouracile",
    "stimuling": "stimulating", "gonodotropin": "gonadotropin",
    "peptid": "peptide", "multisysthematisee": "multisystematisee",
    "ordonance": "ordonnance", "glascow": "glasgow", "grougpe": "groupe",
    "fotale": "foetale", "manuvre": "manoeuvre", "cardioftal": "cardiaque foetal",
}

# The inventory writes some terms lemmatised (masculine singular, "du" for
# "des", "de le" for "de la"), which never occurs in a document as a phrase.
# Phrase-level fixes back to the written form (applied after folding).
PHRASE_FIX = [
    ("acuite visuel", "acuite visuelle"),
    ("hypertension arteriel", "hypertension arterielle"),
    ("pression arteriel", "pression arterielle"),
    ("charge viral", "charge virale"),
    ("prothese total", "prothese totale"),
    ("anesthesie general", "anesthesie generale"),
    ("de le ", "de la "),
    ("par voie bas", "par voie basse"),
    ("boite postal", "boite postale"),
    ("epreuve fonctionnel respiratoire", "epreuves fonctionnelles respiratoires"),
    ("exploration fonctionnel respiratoire", "explorations fonctionnelles respiratoires"),
    ("epuration extra renal", "epuration extra renale"),
    ("nutrition parenteral", "nutrition parenterale"),
    ("numeration formule sanguin", "numeration formule sanguine"),
    ("sclerose en plaque", "sclerose en plaques"),
    ("keratite ponctue superficiel", "keratite ponctuee superficielle"),
    ("hernie inguinal", "hernie inguinale"),
    ("insuffisance mitral", "insuffisance mitrale"),
    ("voie veineux peripherique", "voie veineuse peripherique"),
    ("insuffisance veineux", "insuffisance veineuse"),
    ("maladie thrombo embolique veineux", "maladie thrombo embolique veineuse"),
    ("maladie thromboembolique veineux", "maladie thromboembolique veineuse"),
    ("electrophorese du proteine", "electrophorese des proteines"),
    ("electrophorese du protide", "electrophorese des protides"),
    ("dilatation du cavite", "dilatation des cavites"),
    ("sonde vesical", "sonde vesicale"),
    ("valve mitral", "valve mitrale"),
    ("oreillette droit", "oreillette droite"),
    ("reserve alcalin", "reserve alcaline"),
    ("faux couche spontane", "fausse couche spontanee"),
    ("densite mineral osseux", "densite minerale osseuse"),
    ("grossesse extra uterin", "grossesse extra uterine"),
    ("coagulation intravasculaire disseminer", "coagulation intravasculaire disseminee"),
    ("hypertrophie ventriculaire droit", "hypertrophie ventriculaire droite"),
    ("fosse iliaque droit", "fosse iliaque droite"),
    ("carotide interne droit", "carotide interne droite"),
    ("interruption medical", "interruption medicale"),
    ("intoxication medicamenteux", "intoxication medicamenteuse"),
    ("immunoglobuline intraveineux", "immunoglobulines intraveineuses"),
    ("intra veineux lente", "intraveineuse lente"),
    ("chaine leger libre", "chaines legeres libres"),
    ("capacite vital lent", "capacite vitale lente"),
    ("hemianopsie lateral", "hemianopsie laterale"),
    ("hypertension portal", "hypertension portale"),
    ("artere femoral superficiel", "artere femorale superficielle"),
    ("immunofluorescence direct", "immunofluorescence directe"),
    ("infection genital haut", "infection genitale haute"),
    ("chronique obstructif", "chronique obstructive"),
    ("proteines plasmatique", "proteines plasmatiques"),
    ("proteines serique", "proteines seriques"),
    ("protides plasmatique", "protides plasmatiques"),
    ("protides serique", "protides seriques"),
    ("battement par minute", "battements par minute"),
    ("hopital du enfant", "hopital des enfants"),
    ("chromatographie du acide amine", "chromatographie des acides amines"),
    ("cytobacteriologique du urine", "cytobacteriologique des urines"),
    ("maladie du membrane hyalin", "maladie des membranes hyalines"),
    ("dilatation du bronche", "dilatation des bronches"),
    ("avulsion du dent", "avulsion des dents"),
    ("oedemes du membre inferieur", "oedemes des membres inferieurs"),
    ("transposition du gros vaisseau", "transposition des gros vaisseaux"),
    ("syndrome du ovaire polykystique", "syndrome des ovaires polykystiques"),
    ("syndrome du antiphospholipides", "syndrome des antiphospholipides"),
    ("syndrome du anti phospholipide", "syndrome des anti phospholipides"),
    ("thrombose veineux superficiel", "thrombose veineuse superficielle"),
    ("thrombose veineux profond", "thrombose veineuse profonde"),
    ("voie veineux central", "voie veineuse centrale"),
    ("thrombolyse intraveineux", "thrombolyse intraveineuse"),
    ("tomodensitometrie cerebral", "tomodensitometrie cerebrale"),
    ("veine cave inferieur", "veine cave inferieure"),
    ("veine cave superieur", "veine cave superieure"),
    ("recoloration cutane", "recoloration cutanee"),
    ("qt corriger", "qt corrige"),
    ("sclerose lateral", "sclerose laterale"),
    ("respiratoire aigu", "respiratoire aigue"),
    ("vitesse maximal", "vitesse maximale"),
    ("pression maximal", "pression maximale"),
    ("remission complet", "remission complete"),
    ("reponse complet", "reponse complete"),
    ("pyelonephrite aigu", "pyelonephrite aigue"),
    ("otite moyen aigue", "otite moyenne aigue"),
    ("otite moyen aigu", "otite moyenne aigue"),
    ("retention aigu", "retention aigue"),
    ("ponction biopsie renal", "ponction biopsie renale"),
    ("paralysie facial", "paralysie faciale"),
    ("valvulaire mitral", "valvulaire mitrale"),
    ("insuffisance renal", "insuffisance renale"),
    ("insuffisance renale aigu", "insuffisance renale aigue"),
]

# Words that are inventory short forms but also ordinary words: seeing one of
# them in a long form does not make that long form an abbreviated variant.
REAL_WORDS = set("""
alcool col dent echo mal pas photo plaque post situ trans inter radio scan
gastro cardio neuro ortho hydro foeto auto mac ras sat tension perfusion
covid oms dt diet
""".split())

FUNCTION_WORDS = set("de du des la le les a au aux en par pour sur et avec "
                     "sans un une ou".split())


# ---------------------------------------------------------------------------
def infl_key(w):
    """Word key ignoring number/gender inflection and i/y spelling."""
    w = w.replace("y", "i")
    for a, b in (("aux", "al"), ("ives", "if"), ("ive", "if"), ("ifs", "if"),
                 ("euses", "eu"), ("euse", "eu"), ("eux", "eu")):
        if w.endswith(a) and len(w) > len(a) + 2:
            w = w[: -len(a)] + b
            break
    w = w.rstrip("sx")
    w = w.rstrip("e")
    if len(w) > 3 and w[-1] == w[-2] and w[-1] in "lnt":
        w = w[:-1]          # -elle/-el, -enne/-en, -ette/-et
    return w


def phrase_key(s, drop_function_words=True):
    ws = [w for w in terms(s)
          if not (drop_function_words and w in FUNCTION_WORDS)]
    return "".join(infl_key(w) for w in ws)


def distance(a, b):
    """Optimal string alignment (Damerau-Levenshtein) distance."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + cost)
            if (i > 1 and j > 1 and a[i - 1] == b[j - 2]
                    and a[i - 2] == b[j - 1]):
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def fix_long(s):
    s = " ".join(WORD_FIX.get(w, w) for w in s.split())
    for a, b in PHRASE_FIX:
        s = re.sub(r"\b%s\b" % re.escape(a.strip()), b.strip(), s)
    return s


def split_long(raw):
    """Clean one inventory long form into zero or more folded candidates.

    Parenthesised glosses are removed; "x : y" keeps y; "x = y" and comma
    lists whose every part has at least two words are alternatives; any other
    comma list (a regimen such as CHOP, a list of signs) is dropped."""
    s = re.sub(r"\([^)]*\)?", " ", raw)
    if ":" in s:
        s = s.rsplit(":", 1)[1]
    parts = []
    for p in re.split(r"\s=\s", s):
        sub = [q for q in p.split(",") if q.strip()]
        if len(sub) > 1:
            if all(len(fold(q).split()) >= 2 for q in sub):
                parts.extend(sub)
            continue
        parts.extend(sub)
    return [fix_long(fold(p)) for p in parts if fold(p)]


class Inventory:
    def __init__(self, path):
        self.senses = {}      # short -> {sense: [(long, is_pt)]}
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                short = fold(row["shortForm"])
                sense = int(row["sense"])
                is_pt = row["PT"].strip() == "1"
                self.senses.setdefault(short, {}).setdefault(sense, [])
                self.senses[short][sense].append((row["longForm"], is_pt))
        self.abbr = {s for s in self.senses
                     if len(s) <= 6 and s not in REAL_WORDS}


def is_spacing_of(long_form, short):
    """'h t a', 'ig m', 'j 1': the abbreviation spaced, not an expansion."""
    return re.sub(r"[ \-]", "", long_form) == short.replace("-", "")


def has_abbreviation(long_form, short, inv):
    return any(w in inv.abbr and w != short for w in terms(long_form))


def accept_variant(alt, pt, short, inv):
    """Is alt a genuinely different spelling of (or a full synonym for) pt?

    Kept:  the same words joined, split or hyphenated, inflected
           (singular/plural, masculine/feminine), y/i, with or without a
           function word; or a multi-word synonym sharing at least half of
           its content words with pt whose other words are neither
           truncations, misspellings nor abbreviations.
    Dropped: truncations ("abdo" for "abdominale"), misspellings ("abdoemn"),
           abbreviated variants ("fdr cv"), derived words ("cardiologue" for
           "cardiologie") and other concepts merged into the sense
           ("epanchement" under "embolie pulmonaire")."""
    if has_abbreviation(alt, short, inv):
        return False
    if phrase_key(alt) == phrase_key(pt):
        return True
    pw = [w for w in terms(pt) if w not in FUNCTION_WORDS]
    aw = [w for w in terms(alt) if w not in FUNCTION_WORDS]
    if len(aw) < 2 or len({infl_key(w) for w in aw}) < len(aw):
        return False            # single word, or a word repeated
    pkeys = {infl_key(w) for w in pw}
    if {infl_key(w) for w in aw} < pkeys:
        return False            # pt with words missing ("alteration general")
    shared = [w for w in aw if infl_key(w) in pkeys]
    other = [w for w in aw if infl_key(w) not in pkeys]
    if len(shared) * 2 < len(aw):
        return False
    for w in other:
        if len(w) <= 4:
            return False        # too short to be a full word: abbreviated
        for p in pw:
            if p.startswith(w) or w.startswith(p) and len(w) - len(p) <= 2:
                return False           # truncation (or truncated pt word)
            if distance(w, p) <= 2:
                return False           # misspelling
    return True


def derive(inv, log):
    pairs = []
    for short in sorted(inv.senses):
        senses = inv.senses[short]
        if len(short) < 2:
            log("drop %-8s shorter than 2 characters" % short)
            continue
        if short.isdigit():
            log("drop %-8s a number" % short)
            continue
        if short in STOP_SHORT:
            log("drop %-8s stop list" % short)
            continue
        if short in DROP_SENSE:
            log("drop %-8s %s" % (short, DROP_SENSE[short]))
            continue
        if len(senses) > 1:
            keep = AMBIGUOUS_KEEP.get(short)
            if not keep:
                log("drop %-8s ambiguous (%d senses)" % (short, len(senses)))
                continue
        else:
            keep = tuple(senses)
        for sense in keep:
            labels = senses[sense]
            pts = [lf for lf, is_pt in labels if is_pt] or [labels[0][0]]
            pt_cands = ([OVERRIDE_PT[short]] if short in OVERRIDE_PT
                        else split_long(pts[0]))
            if not pt_cands:
                log("drop %-8s sense %d: preferred term unusable" % (short, sense))
                continue
            if all(re.sub(r"[\d ]", " ", c).split()
                   and set(re.sub(r"\d", " ", c).split()) <= COUNTER_WORDS
                   for c in pt_cands):
                log("drop %-8s counter (%s)" % (short, pt_cands[0]))
                continue
            pt = pt_cands[0]
            kept = []
            for c in pt_cands:
                if len(terms(c)) > MAX_TERMS:
                    log("drop %-8s '%s': more than %d words" % (short, c, MAX_TERMS))
                elif c == short or is_spacing_of(c, short):
                    pass
                elif has_abbreviation(c, short, inv):
                    log("drop %-8s '%s': contains an abbreviation" % (short, c))
                else:
                    kept.append(c)
            if not kept:
                continue
            pt = kept[0]
            for raw, is_pt in labels:
                if is_pt:
                    continue
                for alt in split_long(raw):
                    if (alt in kept or alt == short
                            or is_spacing_of(alt, short)
                            or len(terms(alt)) > MAX_TERMS):
                        continue
                    if accept_variant(alt, pt, short, inv):
                        kept.append(alt)
                    else:
                        log("skip %-8s variant '%s' of '%s'" % (short, alt, pt))
            # The inventory writes an elided "d'" as "de" ("fraction de
            # ejection" for "fraction d'ejection", which carnet folds to
            # "fraction ejection"), but "de l'" also becomes "de" ("alteration
            # de etat general", right as it is).  Both readings are emitted.
            for c in list(kept):
                e = re.sub(r"\bde (?=[aeiouyh])", "", c)
                if e != c and e not in kept and len(e.split()) > 1:
                    kept.append(e)
            for c in kept:
                pairs.append((short, c, "scossin"))
    return pairs


# ---------------------------------------------------------------------------
# carnet's own entries: (a, b) pairs, already folded.  Abbreviations missing
# from the inventory, or dropped there as ambiguous but dominant in the kinds
# of documents carnet indexes (letters, reports, lab results, the medical
# summary), and true synonyms between full terms.

CARNET = [
    # -- diabetes and metabolism: the lab and letter vocabulary of follow-up
    ("hba1c", "hemoglobine glyquee"),
    ("hba1c", "hemoglobine glycosylee"),
    ("hemoglobine glyquee", "hemoglobine glycosylee"),
    ("dt2", "diabete de type 2"),
    ("dt1", "diabete de type 1"),
    ("dnid", "diabete non insulinodependant"),
    ("did", "diabete insulinodependant"),
    ("gaj", "glycemie a jeun"),
    ("ldl", "cholesterol ldl"),
    ("ldl", "ldl cholesterol"),
    ("ldlc", "cholesterol ldl"),
    ("hdl", "cholesterol hdl"),
    ("hdl", "hdl cholesterol"),
    ("tg", "triglycerides"),
    ("imc", "indice de masse corporelle"),
    ("tsh", "thyreostimuline"),
    # -- cardiology and vascular
    ("hta", "hypertension arterielle"),
    ("hta", "hypertension"),
    ("idm", "infarctus du myocarde"),
    ("idm", "infarctus myocardique"),
    ("sca", "syndrome coronarien aigu"),
    ("ecg", "electrocardiogramme"),
    ("ett", "echocardiographie transthoracique"),
    ("ett", "echographie cardiaque transthoracique"),
    ("eto", "echocardiographie transoesophagienne"),
    ("echocardiographie", "echographie cardiaque"),
    ("fevg", "fraction ejection ventriculaire gauche"),
    ("fevg", "fraction ejection du ventricule gauche"),
    ("fe", "fraction ejection"),
    ("bnp", "peptide natriuretique"),
    ("bnp", "peptide natriuretique de type b"),
    ("nt-probnp", "peptide natriuretique"),
    ("nt-probnp", "ntprobnp"),
    ("fa", "fibrillation auriculaire"),
    ("fa", "fibrillation atriale"),
    ("fibrillation auriculaire", "fibrillation atriale"),
    ("acfa", "fibrillation auriculaire"),
    ("ic", "insuffisance cardiaque"),
    ("icc", "insuffisance cardiaque congestive"),
    ("tvp", "thrombose veineuse profonde"),
    ("tvp", "phlebite"),
    ("ep", "embolie pulmonaire"),
    ("mtev", "maladie thromboembolique veineuse"),
    ("avk", "antivitamine k"),
    ("avk", "anti vitamine k"),
    ("aod", "anticoagulant oral direct"),
    ("naco", "anticoagulant oral direct"),
    ("aomi", "arteriopathie obliterante des membres inferieurs"),
    ("ta", "pression arterielle"),
    ("ta", "tension arterielle"),
    ("tension arterielle", "pression arterielle"),
    # -- neurology
    ("avc", "accident vasculaire cerebral"),
    ("ait", "accident ischemique transitoire"),
    ("sep", "sclerose en plaques"),
    # -- kidney
    ("dfg", "debit de filtration glomerulaire"),
    ("dfg", "filtration glomerulaire"),
    ("dfge", "debit de filtration glomerulaire estime"),
    ("irc", "insuffisance renale chronique"),
    ("mrc", "maladie renale chronique"),
    ("insuffisance renale chronique", "maladie renale chronique"),
    ("ira", "insuffisance renale aigue"),
    ("ecbu", "examen cytobacteriologique des urines"),
    ("ecbu", "examen cyto bacteriologique des urines"),
    # -- lung
    ("bpco", "bronchopneumopathie chronique obstructive"),
    ("efr", "epreuves fonctionnelles respiratoires"),
    ("saos", "syndrome apnees obstructives du sommeil"),
    # -- ophthalmology
    ("oct", "tomographie par coherence optique"),
    ("oct", "tomographie en coherence optique"),
    ("fo", "fond oeil"),
    ("fo", "fond yeux"),
    ("retinographie", "photographie du fond oeil"),
    ("retinographie", "photographie du fond yeux"),
    ("dmla", "degenerescence maculaire liee age"),
    ("dmla", "degenerescence maculaire liee a age"),
    ("baisse de acuite visuelle", "baisse acuite visuelle"),
    ("tension oculaire", "pression intraoculaire"),
    ("pio", "pression intraoculaire"),
    ("ivt", "injection intravitreenne"),
    ("gcao", "glaucome chronique a angle ouvert"),
    # -- imaging
    ("irm", "imagerie par resonance magnetique"),
    ("tdm", "tomodensitometrie"),
    ("tdm", "scanner"),
    ("tomodensitometrie", "scanner"),
    ("tep", "tomographie par emission de positons"),
    ("tep", "pet scan"),
    ("rx", "radiographie"),
    ("asp", "abdomen sans preparation"),
    # -- lab
    ("nfs", "numeration formule sanguine"),
    ("crp", "proteine c reactive"),
    ("tp", "taux de prothrombine"),
    ("inr", "international normalized ratio"),
    ("psa", "antigene prostatique specifique"),
    ("ggt", "gamma gt"),
    ("ggt", "gamma glutamyl transferase"),
    ("asat", "transaminases"),
    ("alat", "transaminases"),
    ("asat", "aspartate aminotransferase"),
    ("alat", "alanine aminotransferase"),
    ("ferritine", "ferritinemie"),
    ("hb", "hemoglobine"),
    # -- documents and care (the French DMP vocabulary)
    ("vsm", "volet de synthese medicale"),
    ("dmp", "dossier medical partage"),
    ("cr", "compte rendu"),
    ("crh", "compte rendu hospitalisation"),
    ("cro", "compte rendu operatoire"),
    ("atcd", "antecedents"),
    ("ttt", "traitement"),
    ("trt", "traitement"),
    ("rcp", "reunion de concertation pluridisciplinaire"),
    ("ald", "affection de longue duree"),
    ("mt", "medecin traitant"),
    # -- true synonyms between full terms
    ("infarctus du myocarde", "infarctus myocardique"),
    ("accident vasculaire cerebral", "attaque cerebrale"),
    ("thrombose veineuse profonde", "phlebite"),
    ("nephropathie diabetique", "maladie renale diabetique"),
    ("insuffisance coronarienne", "cardiopathie ischemique"),
    ("cardiopathie ischemique", "maladie coronarienne"),
    ("echographie doppler", "echodoppler"),
    ("glycemie", "glucose sanguin"),
]
# Not added, on purpose: "insuffisance renale" <-> "nephropathie" (a
# nephropathy is any kidney disease, most without renal failure: the two
# would not be equivalent for search).


HEADER = """\
# carnet - French clinical abbreviations and synonyms for search.
#
# Format: one pair a line, A<TAB>B[<TAB>source].  A and B are equivalent for
# search, both ways: a query containing A also finds documents containing B,
# and vice versa.  Both sides are in carnet's folded form: lower case, no
# accents, ligatures expanded, French elided articles (l', d', qu'...)
# removed; hyphens separate words (the parts are searched as a phrase).  A
# side has at most {max_terms} words.  Several lines may share a side.  Lines
# starting with # are comments.  Source: "scossin" (the inventory below) or
# "carnet" (the project's own list, in tools/gen-synonyms.py).
#
# GENERATED FILE - do not edit.  Regenerate with:  python3 tools/gen-synonyms.py
# A deployer extends this table with INDEX_HOME/synonyms.tsv, in the same
# format; its lines are added to these.
#
# Derived from the French clinical abbreviation sense inventory by Sebastien
# Cossin et al., Bordeaux University Hospital (github.com/scossin/abbreviations,
# commit {commit}), under this licence:
#
{license}
#
#
# How the inventory was filtered (rules and lists in tools/gen-synonyms.py):
# - short forms of fewer than 2 characters, pure numbers, and those on a stop
#   list (common French words such as "pas", "mal", "tel", "vent"; clashing
#   units such as "dl") are dropped; so are counters ("j1" jour 1, "c5j1",
#   "u8" unite 8).
# - an ambiguous short form (several senses) is kept only if listed in
#   AMBIGUOUS_KEEP, for the senses judged dominant in clinical documents (or
#   close enough that either is right, e.g. albumine/albuminurie); the
#   inventory's PT column marks the preferred term within a sense, not a
#   dominant sense, so it cannot decide.  All other ambiguous short forms
#   (e.g. "od" oeil droit / oreillette droite, "bav", "ag", "cv") are dropped.
# - each kept sense gives short form <-> preferred long form, and short form
#   <-> each other long form that is a genuinely different spelling (joined,
#   split or hyphenated, inflected, y/i) or a multi-word synonym sharing most
#   of its words; truncations ("abdo"), misspellings, abbreviated variants
#   ("fdr cv"), derived words and unrelated concepts are skipped.
# - long forms with more than {max_terms} words, or containing another
#   abbreviation, are skipped; obvious misspellings and lemmatised forms of
#   the inventory are corrected (WORD_FIX, PHRASE_FIX); the inventory writes
#   an elided d' as "de", so a long form with "de" before a vowel is also
#   emitted without it ("fraction de ejection" and "fraction ejection").
# - pairs are deduplicated in both directions; no pair has A == B.
#
# {n_scossin} pairs from the inventory, {n_carnet} from carnet's list.
"""


def main(argv):
    verbose = "-v" in argv
    inv = Inventory(INVENTORY)

    def log(msg):
        if verbose:
            print(msg, file=sys.stderr)

    pairs = derive(inv, log) + [(fold(a), fold(b), "carnet")
                                 for a, b in CARNET]
    seen = set()
    out = []
    for a, b, tag in pairs:
        if not a or not b or a == b:
            continue
        key = frozenset((a, b))
        if key in seen:
            continue
        seen.add(key)
        assert "\t" not in a + b and re.fullmatch(r"[a-z0-9 \-]+", a + b), (a, b)
        assert len(terms(a)) <= MAX_TERMS and len(terms(b)) <= MAX_TERMS, (a, b)
        out.append((a, b, tag))

    with open(LICENSE, encoding="utf-8") as f:
        license_text = "\n".join(("#   " + line.rstrip()).rstrip()
                                 for line in f.read().strip().splitlines())
    n_s = sum(1 for p in out if p[2] == "scossin")
    n_c = len(out) - n_s
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(HEADER.format(max_terms=MAX_TERMS, commit=SOURCE_COMMIT,
                              license=license_text, n_scossin=n_s,
                              n_carnet=n_c))
        for a, b, tag in out:
            f.write("%s\t%s\t%s\n" % (a, b, tag))
    print("%s: %d pairs (%d scossin, %d carnet)" % (
        os.path.relpath(OUT, REPO), len(out), n_s, n_c))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

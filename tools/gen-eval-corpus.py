#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""gen-eval-corpus.py - writes corpora/eval: four synthetic patients with long
histories (French clinical text, .txt + .meta.json sidecars; lab reports
as CDA CR-BIO .xml with coded results, + .meta.json) and
judgments.tsv, the graded relevance of their documents for several viewers.

Run from the repository root: python3 tools/gen-eval-corpus.py
Deterministic (fixed seed); the committed files are the data the eval reads.
Everything here is invented; every person's name ends in -TEST.
"""
import datetime as dt
import json
import os
import random
import shutil
import sys

OUT = "corpora/eval"
INS_OID = "1.2.250.1.213.1.4.8"
rng = random.Random(20261116)


def D(s):
    return dt.date.fromisoformat(s)


def fr(d):
    return d.strftime("%d/%m/%Y")


def n(x, nd=1):
    return f"{x:.{nd}f}".replace(".", ",")


def pick(*choices):
    return rng.choice(choices)


# ---- authors ---------------------------------------------------------------

class Author:
    def __init__(self, key, name, spec, rpps, place):
        self.key, self.name, self.spec, self.rpps, self.place = key, name, spec, rpps, place


SPEC_LABEL = {
    "G15_10/SM03": "Biologie médicale", "G15_10/SM04": "Cardiologie et maladies vasculaires",
    "G15_10/SM13": "Chirurgie vasculaire", "G15_10/SM16": "Endocrinologie et métabolisme",
    "G15_10/SM20": "Gynécologie-obstétrique", "G15_10/SM30": "Néphrologie",
    "G15_10/SM38": "Ophtalmologie", "G15_10/SM44": "Radio-diagnostic",
    "G15_10/SM54": "Médecine générale", "G15_10/SM59": "Médecine d'urgence",
    "G15_21": "Pharmacien", "G15_50": "Sage-femme",
}

AUTHORS = {a.key: a for a in [
    Author("cardio", "Dr Paul RENAUD-TEST", "G15_10/SM04", "10009900101", "Cabinet de cardiologie des Tilleuls, 12 rue des Essais, 69099 Lyon"),
    Author("cardio_h", "Dr Inès CHARPENTIER-TEST", "G15_10/SM04", "10009900102", "Centre hospitalier Fictif Lyon-Sud, service de cardiologie"),
    Author("gp1", "Dr Martine GIRAUD-TEST", "G15_10/SM54", "10009900103", "Cabinet médical du Parc, 4 place Fictive, 69099 Lyon"),
    Author("bio", "Dr Lucien PERRIN-TEST", "G15_10/SM03", "10009900104", "Laboratoire Fictibio, 30 avenue des Analyses, 69099 Lyon"),
    Author("ophtalmo", "Dr Hélène VIDAL-TEST", "G15_10/SM38", "10009900105", "Centre ophtalmologique Fictif, 7 quai des Essais, 69099 Lyon"),
    Author("endo", "Dr Thomas MERCIER-TEST", "G15_10/SM16", "10009900106", "Centre hospitalier Fictif Lyon-Sud, service d'endocrinologie-diabétologie"),
    Author("pharma", "Mme Agnès BRUNET-TEST, pharmacien", "G15_21", "10009900107", "Pharmacie Fictive du Marché, 2 rue des Remèdes, 69099 Lyon"),
    Author("urg", "Dr Samir HADDAD-TEST", "G15_10/SM59", "10009900108", "Centre hospitalier Fictif Lyon-Sud, service des urgences"),
    Author("nephro", "Dr Claire LEMOINE-TEST", "G15_10/SM30", "10009900109", "Centre hospitalier Fictif Lyon-Sud, service de néphrologie"),
    Author("radio", "Dr Olivier FAURE-TEST", "G15_10/SM44", "10009900110", "Cabinet d'imagerie Fictive, 15 boulevard des Rayons, 69099 Lyon"),
    Author("obst", "Dr Nathalie BARBIER-TEST", "G15_10/SM20", "10009900111", "Maternité Fictive de la Croix-Rousse, 69099 Lyon"),
    Author("sf", "Mme Léa COLIN-TEST, sage-femme", "G15_50", "10009900112", "Cabinet de sages-femmes des Essais, 69099 Lyon"),
    Author("vasc", "Dr Marc ARNAUD-TEST", "G15_10/SM13", "10009900113", "Centre hospitalier Fictif Lyon-Sud, service de chirurgie vasculaire"),
    Author("gp2", "Dr Yves TESSIER-TEST", "G15_10/SM54", "10009900114", "Maison de santé Fictive, 9 rue du Bourg, 38099 Vienne"),
    Author("gp3", "Dr Camille ROCHE-TEST", "G15_10/SM54", "10009900115", "Cabinet médical des Pentes, 69099 Lyon"),
    Author("gp4", "Dr Alain BONNET-TEST", "G15_10/SM54", "10009900116", "Cabinet médical de la Gare, 42099 Saint-Étienne"),
    Author("pharma4", "M. Jérôme GAUTIER-TEST, pharmacien", "G15_21", "10009900117", "Pharmacie Fictive de la Gare, 42099 Saint-Étienne"),
    Author("cardio4", "Dr Sylvie HUET-TEST", "G15_10/SM04", "10009900118", "Clinique Fictive du Forez, 42099 Saint-Étienne"),
    Author("bio4", "Dr Rémi DA SILVA-TEST", "G15_10/SM03", "10009900119", "Laboratoire Fictilab Forez, 42099 Saint-Étienne"),
    Author("radio4", "Dr Aline POIRIER-TEST", "G15_10/SM44", "10009900120", "Imagerie Fictive du Forez, 42099 Saint-Étienne"),
]}


# ---- patients and documents ---------------------------------------------

class Patient:
    def __init__(self, key, pid, name, sex, birth, folder, as_of):
        self.key, self.pid, self.name, self.sex = key, pid, name, sex
        self.birth, self.folder, self.as_of = D(birth), folder, D(as_of)
        self.docs = []
        self.count = 0

    def age(self, d):
        b = self.birth
        return d.year - b.year - ((d.month, d.day) < (b.month, b.day))

    def civ(self):
        return "M." if self.sex == "M" else "Mme"

    def header(self, d):
        born = "Né le" if self.sex == "M" else "Née le"
        return (f"Patient : {self.civ()} {self.name}, {born.lower()} {fr(self.birth)} "
                f"({self.age(d)} ans)\nINS : {self.pid}\n")


class Doc:
    """One document. rel: area -> intrinsic relevance 0-3 of the document for
    a viewer of that area; kind: the series it belongs to (the newest of a
    series is what a viewer opens first); topics: topic -> 3 (subject of the
    document), 2 (discussed with results or decisions), 1 (mentioned);
    general: a record-wide document (medical summary, discharge letter,
    vaccination history)."""

    def __init__(self, p, date, type_, title, author, body, kind, rel, topics=None,
                 general=False, set_id=None, version=1, slug=None):
        p.count += 1
        self.p, self.date, self.type, self.title = p, D(date), type_, title
        self.author = AUTHORS[author]
        self.body = body
        self.kind, self.rel = kind, dict(rel)
        self.topics = dict(topics or {})
        self.general = general
        self.id = f"EV-{p.key}-{p.count:04d}"
        self.set_id = set_id or self.id
        self.version = version
        self.slug = slug or kind
        self.cda = None  # a lab report: written as a CDA CR-BIO with coded results
        p.docs.append(self)


def letter(p, d, author, title, sections, copy=None):
    a = AUTHORS[author]
    out = [title, "", f"{a.name} — {SPEC_LABEL[a.spec]}", a.place, f"RPPS : {a.rpps}"]
    if copy:
        out.append(f"Copie : {copy}")
    out += ["", p.header(D(d)).rstrip(), f"Date : {fr(D(d))}", ""]
    for head, text in sections:
        out.append(f"{head} :" if head else "")
        out.append(text.strip())
        out.append("")
    out.append(a.name)
    return "\n".join(out) + "\n"


# ---- lab reports --------------------------------------------------------

# Reference ranges and units for the analytes a panel prints.
PANELS = {
    "nfs": [("Hémoglobine", "g/dL", "(13,0 - 17,0)", "hb"), ("Leucocytes", "G/L", "(4,0 - 10,0)", "leuco"),
            ("Plaquettes", "G/L", "(150 - 400)", "plq")],
    "glyc": [("Glycémie à jeun", "g/L", "(0,70 - 1,10)", "gly"), ("Hémoglobine glyquée (HbA1c)", "%", "(4,0 - 6,0)", "hba1c")],
    "renal": [("Créatinine", "µmol/L", "(59 - 104)", "creat"), ("DFG estimé (CKD-EPI)", "mL/min/1,73 m²", "(> 90)", "dfg"),
              ("Urée", "mmol/L", "(2,8 - 8,1)", "uree")],
    "iono": [("Sodium", "mmol/L", "(136 - 145)", "na"), ("Potassium", "mmol/L", "(3,5 - 5,1)", "k"),
             ("Bicarbonates", "mmol/L", "(22 - 29)", "bicar")],
    "lipids": [("Cholestérol total", "g/L", "", "ct"), ("HDL-cholestérol", "g/L", "(> 0,40)", "hdl"),
               ("Triglycérides", "g/L", "(< 1,50)", "tg"), ("LDL-cholestérol", "g/L", "", "ldl")],
    "bnp": [("NT-proBNP", "pg/mL", "(< 125)", "bnp")],
    "tropo": [("Troponine I hypersensible", "ng/L", "(< 34)", "tropo")],
    "hepat": [("ASAT", "UI/L", "(< 40)", "asat"), ("ALAT", "UI/L", "(< 41)", "alat"), ("Gamma-GT", "UI/L", "(< 60)", "ggt")],
    "tsh": [("TSH", "mUI/L", "(0,27 - 4,20)", "tsh")],
    "microalb": [("Microalbuminurie (rapport albumine/créatinine urinaire)", "mg/mmol", "(< 3)", "acr")],
    "ckd": [("Calcium", "mmol/L", "(2,15 - 2,55)", "ca"), ("Phosphore", "mmol/L", "(0,81 - 1,45)", "phos"),
            ("Parathormone (PTH)", "pg/mL", "(15 - 65)", "pth"), ("Ferritine", "µg/L", "(30 - 400)", "ferr")],
    "inr": [("INR", "", "(cible 2 - 3)", "inr")],
    "serol": [("Toxoplasmose IgG", "UI/mL", "", "toxo"), ("Toxoplasmose IgM", "", "", "toxom"),
              ("Rubéole IgG", "UI/mL", "(immunité > 10)", "rub"), ("Groupe sanguin", "", "", "grp"),
              ("Recherche d'agglutinines irrégulières (RAI)", "", "", "rai")],
    "hgpo": [("HGPO 75 g : glycémie à jeun", "g/L", "(< 0,92)", "h0"), ("HGPO 75 g : glycémie à 1 h", "g/L", "(< 1,80)", "h1"),
             ("HGPO 75 g : glycémie à 2 h", "g/L", "(< 1,53)", "h2")],
    "bhcg": [("bêta-hCG plasmatiques", "UI/L", "", "bhcg")],
}

# The coded entry of each analyte in the CDA lab reports (CR-BIO): LOINC
# code (system 2.16.840.1.113883.6.1) and the UCUM unit of the value as
# printed; serologies and blood group carry a code of the laboratory's own
# (LOCAL_OID), as labs do for what they have not mapped to LOINC.
LOINC = "2.16.840.1.113883.6.1"
LOCAL_OID = "1.2.250.1.999.6.1"
CODES = {
    "hb": (LOINC, "718-7", "g/dL"), "leuco": (LOINC, "6690-2", "10*9/L"), "plq": (LOINC, "777-3", "10*9/L"),
    "gly": (LOINC, "1558-6", "g/L"), "hba1c": (LOINC, "4548-4", "%"),
    "creat": (LOINC, "14682-9", "umol/L"), "dfg": (LOINC, "62238-1", "mL/min/{1.73_m2}"),
    "uree": (LOINC, "22664-7", "mmol/L"), "na": (LOINC, "2951-2", "mmol/L"), "k": (LOINC, "2823-3", "mmol/L"),
    "bicar": (LOINC, "1963-8", "mmol/L"), "ct": (LOINC, "2093-3", "g/L"), "hdl": (LOINC, "2085-9", "g/L"),
    "tg": (LOINC, "2571-8", "g/L"), "ldl": (LOINC, "13457-7", "g/L"), "bnp": (LOINC, "33762-6", "pg/mL"),
    "tropo": (LOINC, "89579-7", "ng/L"), "asat": (LOINC, "1920-8", "U/L"), "alat": (LOINC, "1742-6", "U/L"),
    "ggt": (LOINC, "2324-2", "U/L"), "tsh": (LOINC, "3016-3", "m[IU]/L"), "acr": (LOINC, "14958-3", "mg/mmol"),
    "ca": (LOINC, "2000-8", "mmol/L"), "phos": (LOINC, "14879-1", "mmol/L"), "pth": (LOINC, "2731-8", "pg/mL"),
    "ferr": (LOINC, "2276-4", "ug/L"), "inr": (LOINC, "6301-6", "{INR}"),
    "toxo": (LOCAL_OID, "TOXO-IGG", "[IU]/mL"), "toxom": (LOCAL_OID, "TOXO-IGM", ""),
    "rub": (LOCAL_OID, "RUB-IGG", "[IU]/mL"), "grp": (LOCAL_OID, "GRP-ABO-RH", ""),
    "rai": (LOCAL_OID, "RAI", ""), "h0": (LOINC, "1558-6", "g/L"), "h1": (LOINC, "20438-8", "g/L"),
    "h2": (LOINC, "20436-2", "g/L"), "bhcg": (LOINC, "21198-7", "[IU]/L"),
}

LAB_REL = {  # area -> relevance of a panel
    "cardio": {"lipids": 2, "bnp": 3, "tropo": 3, "renal": 1, "iono": 1, "inr": 2},
    "endo": {"glyc": 3, "hgpo": 3, "tsh": 3, "lipids": 2, "microalb": 2, "renal": 1},
    "nephro": {"renal": 3, "iono": 3, "microalb": 3, "ckd": 3, "nfs": 2},
    "ophtalmo": {"glyc": 1},
    "mg": {k: 2 for k in PANELS},
    "pharma": {"renal": 2, "iono": 2, "inr": 3, "hepat": 2, "glyc": 1, "lipids": 1, "nfs": 1},
    "obst": {"serol": 3, "hgpo": 3, "bhcg": 3, "nfs": 2, "glyc": 2, "tsh": 1},
    "sf": {"serol": 3, "hgpo": 3, "bhcg": 3, "nfs": 2, "glyc": 2, "tsh": 1},
    "vasc": {"renal": 1, "nfs": 1, "inr": 2, "lipids": 1},
}


def fmt(v):
    if isinstance(v, str):
        return v
    if v >= 100:
        return str(int(round(v)))
    if v >= 10:
        return n(v, 1) if abs(v - round(v)) > 0.05 else str(int(round(v)))
    return n(v, 2) if v < 3 else n(v, 1)


def lab(p, date, values, conclusion, author="bio", prescriber=None, topics=None, extra_rel=None):
    d = D(date)
    a = AUTHORS[author]
    panels = [k for k in PANELS if any(code in values for _, _, _, code in PANELS[k])]
    lines = ["Compte rendu d'examens biologiques", "", a.place.split(",")[0],
             f"Biologiste responsable : {a.name} (RPPS {a.rpps})", "",
             p.header(d).rstrip()]
    if prescriber:
        lines.append(f"Prescripteur : {prescriber}")
    lines += [f"Prélèvement : {fr(d)} à {pick('07:45', '08:10', '08:32', '09:05')}"
              f"{pick(' (à jeun)', '', ' (à jeun)')}", ""]
    heads = {"nfs": "HÉMATOLOGIE", "glyc": "BIOCHIMIE — Glucides", "renal": "BIOCHIMIE — Fonction rénale",
             "iono": "BIOCHIMIE — Ionogramme sanguin", "lipids": "BILAN LIPIDIQUE", "bnp": "MARQUEURS CARDIAQUES",
             "tropo": "MARQUEURS CARDIAQUES", "hepat": "BILAN HÉPATIQUE", "tsh": "HORMONOLOGIE",
             "microalb": "URINES", "ckd": "BILAN PHOSPHOCALCIQUE ET MARTIAL", "inr": "HÉMOSTASE",
             "serol": "IMMUNO-HÉMATOLOGIE ET SÉROLOGIES", "hgpo": "HYPERGLYCÉMIE PROVOQUÉE PAR VOIE ORALE",
             "bhcg": "HORMONOLOGIE"}
    preamble = list(lines)
    sections = []
    for k in panels:
        lines.append(heads[k])
        rows = []
        for label, unit, ref, code in PANELS[k]:
            if code in values:
                v = fmt(values[code])
                lines.append(f"  {label} {'.' * max(2, 44 - len(label))} {v} {unit}  {ref}".rstrip())
                rows.append((label, values[code], v, unit, ref, code))
        sections.append((heads[k], rows))
        lines.append("")
    lines += ["Conclusion :", conclusion, "", f"Validé par {a.name}, biologiste médicale."]
    rel = {}
    for area, table in LAB_REL.items():
        rel[area] = max([table.get(k, 0) for k in panels] + [0])
    rel.update(extra_rel or {})
    t = dict(topics or {})
    if "hba1c" in values:
        t.setdefault("hba1c", 3)
    if "creat" in values:
        t.setdefault("creatinine", 3)
    if "k" in values:
        t.setdefault("potassium", 3)
    if "acr" in values:
        t.setdefault("microalbuminurie", 3)
    if "toxo" in values:
        t.setdefault("toxoplasmose", 3)
    if "h0" in values:
        t.setdefault("diabete-gestationnel", 3)
    doc = Doc(p, date, "11502-2", "Compte rendu d'examens biologiques", author,
              "\n".join(lines) + "\n", "lab", rel, t, slug="bilan-biologique")
    doc.cda = (preamble, sections, conclusion, f"Validé par {a.name}, biologiste médicale.")
    return doc


# ---- prescriptions and dispensations ------------------------------------

def prescription(p, date, author, meds, remarks="", duration="3 mois", topics=None, rel=None):
    d = D(date)
    a = AUTHORS[author]
    lines = ["Ordonnance", "", f"{a.name} — {SPEC_LABEL[a.spec]}", a.place, f"RPPS : {a.rpps}", "",
             f"Le {fr(d)}", f"{p.civ()} {p.name}, {p.age(d)} ans", f"INS : {p.pid}", ""]
    for i, m in enumerate(meds, 1):
        lines.append(f"{i}. {m}")
    lines += ["", f"Traitement pour {duration}{pick(', à renouveler 3 fois.', '.', ', renouvelable.')}"]
    if remarks:
        lines += ["", "Remarques :", remarks]
    lines += ["", a.name]
    r = {"pharma": 3, "mg": 2, "cardio": 1, "endo": 1, "nephro": 1, "obst": 1, "sf": 1, "vasc": 1, "ophtalmo": 0}
    r.update(rel or {})
    return Doc(p, date, "57833-6", "Ordonnance", author, "\n".join(lines) + "\n", "prescription", r,
               topics, slug="ordonnance")


def dispensation(p, date, meds, author="pharma", note="", topics=None):
    d = D(date)
    a = AUTHORS[author]
    lines = ["Dispensation médicamenteuse", "", a.place, f"{a.name} (RPPS {a.rpps})", "",
             f"{p.civ()} {p.name} — INS {p.pid}", f"Date de dispensation : {fr(d)}", "",
             "Médicaments délivrés :"]
    for m in meds:
        box = pick("1 boîte", "2 boîtes", "3 boîtes", "1 boîte de 90")
        lines.append(f"  - {m} : {box}")
    lines += ["", "Conseils et interventions pharmaceutiques :",
              note or pick("Pas d'interaction significative relevée. Observance déclarée bonne.",
                           "Rappel des horaires de prise. Plan de prise remis au patient.",
                           "Aucune modification par rapport à la dispensation précédente."), "", a.name]
    r = {"pharma": 3, "mg": 1, "cardio": 0, "endo": 0, "nephro": 1, "obst": 0, "sf": 0, "vasc": 0, "ophtalmo": 0}
    return Doc(p, date, "60593-1", "Dispensation médicamenteuse", author, "\n".join(lines) + "\n",
               "dispensation", r, topics, slug="dispensation")


def vaccinations(p, date, author, rows, comment):
    d = D(date)
    a = AUTHORS[author]
    lines = ["Historique des vaccinations", "", f"{a.name} — {SPEC_LABEL[a.spec]}", a.place, "",
             p.header(d).rstrip(), f"Mis à jour le {fr(d)}", "", "Vaccins administrés :"]
    for when, what, lot in rows:
        lines.append(f"  {when} — {what} — lot {lot}")
    lines += ["", "Commentaire :", comment, "", a.name]
    r = {"mg": 2, "pharma": 2, "obst": 1, "sf": 2, "cardio": 0, "endo": 0, "nephro": 1, "vasc": 0, "ophtalmo": 0}
    return Doc(p, date, "11369-6", "Historique des vaccinations", author, "\n".join(lines) + "\n",
               "vaccinations", r, {"vaccination": 3}, general=True, slug="historique-vaccinations")


def x(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def ref_range(ref):
    """(low, high) of a printed reference range "(a - b)", "(< b)", "(> a)"."""
    r = ref.strip("() ").replace(",", ".")
    try:
        if " - " in r:
            lo, hi = r.split(" - ")
            return float(lo), float(hi)
        if r.startswith("<"):
            return None, float(r[1:])
        if r.startswith(">"):
            return float(r[1:]), None
    except ValueError:
        pass
    return None, None


def observation(code, label, value, unit, ref, when):
    system, c, ucum = CODES[code]
    out = [f'<observation classCode="OBS" moodCode="EVN"><code code="{c}" codeSystem="{system}" '
           f'displayName="{x(label)}"/><statusCode code="completed"/><effectiveTime value="{when}"/>']
    if isinstance(value, str):
        out.append(f'<value xsi:type="ST">{x(value)}</value>')
    else:
        out.append(f'<value xsi:type="PQ" value="{value:g}" unit="{x(ucum or "1")}"/>')
        lo, hi = ref_range(ref)
        if lo is not None or hi is not None:
            flag = "H" if hi is not None and value > hi else "L" if lo is not None and value < lo else "N"
            out.append(f'<interpretationCode code="{flag}" codeSystem="2.16.840.1.113883.5.83"/>')
            bounds = "".join(f'<{b} value="{v:g}" unit="{x(ucum or "1")}"/>'
                             for b, v in (("low", lo), ("high", hi)) if v is not None)
            out.append('<referenceRange typeCode="REFV"><observationRange classCode="OBS" moodCode="EVN.CRT">'
                       f'<value xsi:type="IVL_PQ">{bounds}</value></observationRange></referenceRange>')
    out.append("</observation>")
    return "".join(out)


def cda_lab(p, doc):
    """A lab report as a CDA R2 CR-BIO: the printed report as narrative, one
    section per panel with its results as coded entries (the sidecar still
    gives the index its metadata)."""
    preamble, sections, conclusion, signed = doc.cda
    a = doc.author
    when = doc.date.strftime("%Y%m%d") + "0800+0100"
    given, family = p.name.split(" ", 1)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
           '<realmCode code="FR"/><typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>',
           '<templateId root="1.2.250.1.213.1.1.1.1"/>',
           f'<id root="1.2.250.1.999.8.1" extension="{doc.id}"/>',
           f'<code code="11502-2" codeSystem="{LOINC}" displayName="CR d\'examens biologiques"/>',
           f'<title>{x(doc.title)}</title><effectiveTime value="{when}"/>',
           '<confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/><languageCode code="fr-FR"/>',
           f'<setId root="1.2.250.1.999.8.1" extension="{doc.set_id}"/><versionNumber value="{doc.version}"/>',
           f'<recordTarget><patientRole><id root="{INS_OID}" extension="{p.pid}"/><patient><name>'
           f'<given>{x(given)}</given><family>{x(family)}</family></name>'
           f'<administrativeGenderCode code="{p.sex}" codeSystem="2.16.840.1.113883.5.1"/>'
           f'<birthTime value="{p.birth.strftime("%Y%m%d")}"/></patient></patientRole></recordTarget>',
           f'<author><time value="{when}"/><assignedAuthor><id root="1.2.250.1.71.4.2.1" extension="{a.rpps}"/>'
           f'<code code="{a.spec}" codeSystem="1.2.250.1.213.1.1.4.5"/><assignedPerson><name>{x(a.name)}</name>'
           f'</assignedPerson></assignedAuthor></author>',
           '<component><structuredBody>']

    def section(title, paragraphs, entries=()):
        text = "".join(f"<paragraph>{x(t)}</paragraph>" for t in paragraphs if t.strip())
        out.append(f'<component><section><title>{x(title)}</title><text>{text}</text>'
                   + "".join(f"<entry>{e}</entry>" for e in entries) + "</section></component>")

    section("Prélèvement", preamble)
    for head, rows in sections:
        lines = [f"{label} : {v} {unit} {ref}".strip() for label, _, v, unit, ref, _ in rows]
        section(head, lines, [observation(code, label, value, unit, ref, when)
                              for label, value, _, unit, ref, code in rows])
    section("Conclusion", [conclusion, signed])
    out.append("</structuredBody></component></ClinicalDocument>")
    return "\n".join(out) + "\n"


def write(p):
    folder = os.path.join(OUT, p.folder)
    os.makedirs(folder, exist_ok=True)
    for doc in p.docs:
        base = f"{doc.date.isoformat()}_{doc.slug}"
        ext = ".xml" if doc.cda else ".txt"
        path = os.path.join(folder, base + ext)
        k = 2
        while os.path.exists(path):
            path = os.path.join(folder, f"{base}-{k}{ext}")
            k += 1
        size = len(doc.body.encode())
        if not 300 <= size <= 3000:
            sys.exit(f"{path}: {size} bytes, outside 300-3000")
        with open(path, "w", encoding="utf-8") as f:
            f.write(cda_lab(p, doc) if doc.cda else doc.body)
        meta = {"patient_id": p.pid, "patient_id_system": INS_OID, "id": doc.id, "set_id": doc.set_id,
                "version": doc.version, "type": doc.type, "title": doc.title, "date": doc.date.isoformat(),
                "author_id": doc.author.rpps, "author_specialty": doc.author.spec,
                "confidentiality": ["N"], "language": "fr"}
        with open(path + ".meta.json", "w", encoding="utf-8") as f:
            json.dump(meta, f, ensure_ascii=False, indent=2)
            f.write("\n")


# ---- reports shared by several patients ----------------------------------

CARDIO_REL = {"cardio": 3, "mg": 1, "nephro": 1, "endo": 0, "ophtalmo": 0, "pharma": 0, "vasc": 1}


def consult(p, date, author, title, sections, kind, rel, topics=None, type_="11488-4",
            copy=None, general=False, slug=None, set_id=None, version=1):
    body = letter(p, date, author, title, sections, copy)
    return Doc(p, date, type_, title, author, body, kind, rel, topics, general=general,
               slug=slug or kind, set_id=set_id, version=version)


def ecg(p, date, author, fc, findings, conclusion, indication=None, topics=None):
    pr = rng.choice([168, 176, 184, 192, 200])
    qrs = rng.choice([88, 92, 96, 102])
    qtc = rng.choice([412, 418, 426, 434])
    sections = [
        ("Indication", indication or pick("Contrôle systématique dans le cadre du suivi cardiologique.",
                                          "ECG de suivi, patient asymptomatique.",
                                          "ECG de repos avant adaptation du traitement.")),
        ("Tracé", f"Fréquence cardiaque {fc}/min. PR {pr} ms, QRS {qrs} ms, QTc {qtc} ms. "
                  f"Axe {pick('normal', 'gauche', 'normal')}. {findings}"),
        ("Conclusion", conclusion),
    ]
    t = {"ecg": 3}
    t.update(topics or {})
    return consult(p, date, author, "Compte rendu d'électrocardiogramme", sections, "ecg",
                   CARDIO_REL, t, type_="70004-7", slug="electrocardiogramme")


def echo(p, date, author, fevg, details, conclusion, topics=None):
    sections = [
        ("Indication", pick("Réévaluation de la fonction ventriculaire gauche.",
                            "Suivi de cardiopathie, contrôle annuel.",
                            "Contrôle après modification thérapeutique.")),
        ("Résultats", f"Ventricule gauche : FEVG {fevg} % (Simpson biplan). {details}"),
        ("Conclusion", conclusion),
    ]
    t = {"fevg": 3, "echocardiographie": 3}
    t.update(topics or {})
    return consult(p, date, author, "Compte rendu d'échocardiographie transthoracique", sections,
                   "echo", CARDIO_REL, t, type_="70004-7", slug="echocardiographie")


def fundus(p, date, av, fo, conclusion, oct=None, author="ophtalmo", motif=None, topics=None,
           rel=None, laser=None):
    sections = [("Motif", motif or pick("Surveillance annuelle de la rétinopathie diabétique.",
                                        "Dépistage de la rétinopathie diabétique, contrôle annuel.",
                                        "Contrôle du fond d'œil chez un patient diabétique."))]
    sections.append(("Examen", f"Acuité visuelle corrigée : {av}. Tonus oculaire "
                               f"{rng.choice([13, 14, 15, 16, 17])}/{rng.choice([14, 15, 16, 17])} mmHg. "
                               f"Segment antérieur calme, cristallin {pick('clair', 'peu opacifié', 'clair')}."))
    sections.append(("Fond d'œil après dilatation", fo))
    if oct:
        sections.append(("OCT maculaire", oct))
    if laser:
        sections.append(("Traitement", laser))
    sections.append(("Conclusion", conclusion))
    r = {"ophtalmo": 3, "endo": 2, "mg": 1, "nephro": 1, "cardio": 0, "pharma": 0, "obst": 0}
    r.update(rel or {})
    t = {"fond-d-oeil": 3, "retinopathie": 2}
    t.update(topics or {})
    return consult(p, date, author, "Compte rendu de consultation d'ophtalmologie", sections,
                   "ophtalmo", r, t, type_="78513-9", slug="consultation-ophtalmologie")


def vsm(p, date, author, sections, topics, set_id=None, version=1):
    r = {a: 2 for a in ("cardio", "mg", "pharma", "endo", "nephro", "ophtalmo", "obst", "sf", "vasc")}
    return consult(p, date, author, "Synthèse médicale (VSM)", sections, "vsm", r, topics,
                   type_="60591-5", general=True, slug="synthese-medicale", set_id=set_id, version=version)


# ---- patient 1: coronary disease, heart failure, type 2 diabetes ---------

def patient1():
    p = Patient("P1", "157037511209864", "Henri GARNIER-TEST", "M", "1958-03-12",
                "p1-garnier-henri", "2026-11-16")
    GP, CARD = "gp1", "cardio"
    gp_rel = {"mg": 3, "cardio": 1, "endo": 1, "pharma": 0, "ophtalmo": 0, "nephro": 1}
    card_rel = {"cardio": 3, "mg": 2, "endo": 1, "nephro": 1, "ophtalmo": 0, "pharma": 0}
    endo_rel = {"endo": 3, "mg": 2, "cardio": 1, "ophtalmo": 1, "nephro": 1, "pharma": 0}

    def gp(date, motif, examen, conclusion, topics=None, traitement=None):
        s = [("Motif", motif), ("Examen", examen)]
        if traitement:
            s.append(("Traitement", traitement))
        s.append(("Conclusion", conclusion))
        consult(p, date, GP, "Consultation de médecine générale", s, "consult-mg", gp_rel, topics,
                slug="consultation-mg")

    def cardio(date, histoire, examen, conclusion, topics=None, author=CARD):
        t = {"insuffisance-cardiaque": 2, "coronaropathie": 2}
        t.update(topics or {})
        consult(p, date, author, "Compte rendu de consultation de cardiologie",
                [("Motif", pick("Suivi de cardiopathie ischémique et d'insuffisance cardiaque.",
                                "Consultation de suivi cardiologique.",
                                "Suivi semestriel, cardiopathie ischémique.")),
                 ("Histoire", histoire), ("Examen", examen), ("Conclusion", conclusion)],
                "consult-cardio", card_rel, t, copy="Dr Martine GIRAUD-TEST, médecin traitant",
                slug="consultation-cardiologie")

    def endo(date, histoire, conclusion, topics=None):
        t = {"hba1c": 2, "diabete": 3}
        t.update(topics or {})
        consult(p, date, "endo", "Compte rendu de consultation d'endocrinologie-diabétologie",
                [("Motif", "Diabète de type 2 insuffisamment équilibré, avis sur le traitement."),
                 ("Histoire", histoire), ("Conclusion", conclusion)],
                "consult-endo", endo_rel, t, copy="Dr Martine GIRAUD-TEST", slug="consultation-endocrinologie")

    base_meds = ["Aspirine 75 mg : 1 sachet le midi", "Bisoprolol 5 mg : 1 comprimé le matin",
                 "Atorvastatine 80 mg : 1 comprimé le soir", "Metformine 1000 mg : 1 comprimé matin et soir"]

    gp("2015-02-10", "Renouvellement de traitement. Hypertension artérielle et diabète de type 2 connus.",
       "TA 148/88 mmHg, FC 76/min, poids 91 kg. Pas d'œdème des membres inférieurs. Pieds sans lésion.",
       "Hypertension artérielle insuffisamment contrôlée, majoration du ramipril à 10 mg. Bilan biologique "
       "prescrit (HbA1c, créatinine, bilan lipidique). Fond d'œil annuel à programmer.",
       {"hta": 2, "diabete": 2})
    lab(p, "2015-02-24", {"gly": 1.52, "hba1c": 7.6, "creat": 84, "dfg": 86, "ct": 2.21, "hdl": 0.42, "tg": 1.9, "ldl": 1.41},
        "Déséquilibre glycémique modéré (HbA1c 7,6 %). LDL-cholestérol élevé pour un patient à haut risque "
        "cardiovasculaire. Fonction rénale normale.", prescriber="Dr Martine GIRAUD-TEST")
    fundus(p, "2015-09-15", "10/10 aux deux yeux", "Pas de rétinopathie diabétique. Papilles bien colorées, macula sèche.",
           "Absence de rétinopathie diabétique. Contrôle dans un an.")
    consult(p, "2017-04-12", "urg", "Compte rendu de passage aux urgences",
            [("Motif", "Douleur thoracique constrictive depuis 2 heures, irradiant au bras gauche, survenue au repos."),
             ("Examen", "TA 162/94 mmHg, FC 92/min, SpO2 96 %. Sueurs. Auscultation sans particularité."),
             ("Examens complémentaires", "ECG : sus-décalage du segment ST en DII, DIII, aVF. Troponine I "
              "hypersensible 1840 ng/L."),
             ("Conclusion", "Syndrome coronarien aigu avec sus-décalage du ST (infarctus du myocarde inférieur). "
              "Aspirine 250 mg IV, ticagrelor 180 mg, héparine. Transfert en salle de cathétérisme.")],
            "urgences", {"cardio": 2, "mg": 2, "endo": 0, "nephro": 0, "ophtalmo": 0, "pharma": 0},
            {"douleur-thoracique": 3, "coronaropathie": 3, "hta": 1}, type_="15507-7", slug="passage-urgences")
    consult(p, "2017-04-12", "cardio_h", "Compte rendu de coronarographie et d'angioplastie",
            [("Indication", "Infarctus du myocarde inférieur à la phase aiguë (douleur thoracique depuis 3 heures)."),
             ("Résultats", "Occlusion de la coronaire droite moyenne (thrombus). IVA : sténose de 40 %. "
              "Circonflexe indemne."),
             ("Geste", "Thromboaspiration puis angioplastie de la coronaire droite avec implantation d'un stent "
              "actif 3,5 x 18 mm. Flux TIMI 3 final."),
             ("Conclusion", "Angioplastie primaire réussie de la coronaire droite. Double antiagrégation plaquettaire "
              "12 mois.")],
            "coronarographie", {"cardio": 3, "mg": 1, "endo": 0, "nephro": 0, "ophtalmo": 0, "pharma": 0},
            {"coronaropathie": 3, "douleur-thoracique": 1}, type_="11505-5", slug="coronarographie")
    consult(p, "2017-04-19", "cardio_h", "Lettre de liaison à la sortie",
            [("Motif d'hospitalisation", "Infarctus du myocarde inférieur le 12/04/2017."),
             ("Synthèse du séjour", "Angioplastie primaire de la coronaire droite avec stent actif. Suites simples. "
              "Échographie cardiaque : FEVG 50 %, hypokinésie inférieure. Pic de troponine 9800 ng/L."),
             ("Traitement de sortie", "Aspirine 75 mg, ticagrelor 90 mg x 2, bisoprolol 2,5 mg, ramipril 5 mg, "
              "atorvastatine 80 mg, metformine 1000 mg x 2, trinitrine sublinguale si douleur thoracique."),
             ("Suivi", "Réadaptation cardiaque, consultation de cardiologie à 1 mois. Sevrage tabagique.")],
            "sortie", {"cardio": 3, "mg": 2, "pharma": 2, "endo": 1, "nephro": 1, "ophtalmo": 0},
            {"coronaropathie": 3, "douleur-thoracique": 2, "hta": 1}, type_="11490-0", general=True,
            slug="lettre-liaison-sortie")
    prescription(p, "2017-04-19", "cardio_h", base_meds[:1] + ["Ticagrelor 90 mg : 1 comprimé matin et soir",
                 "Bisoprolol 2,5 mg : 1 comprimé le matin", "Ramipril 5 mg : 1 gélule le soir"] + base_meds[2:] +
                 ["Trinitrine 0,15 mg/dose : 1 pulvérisation sublinguale en cas de douleur thoracique"],
                 "Double antiagrégation plaquettaire pour 12 mois après stent actif.", rel={"cardio": 2})
    dispensation(p, "2017-04-20", ["Aspirine 75 mg", "Ticagrelor 90 mg", "Bisoprolol 2,5 mg", "Ramipril 5 mg",
                 "Atorvastatine 80 mg", "Metformine 1000 mg", "Trinitrine spray"],
                 note="Explications sur la trinitrine sublinguale et le risque hémorragique sous double antiagrégation.")
    echo(p, "2017-10-17", CARD, 50, "Hypokinésie inférieure. Pas de valvulopathie significative. VD normal.",
         "Cardiopathie ischémique à fonction systolique modérément préservée (FEVG 50 %).")
    ecg(p, "2018-04-10", CARD, 58, "Rythme sinusal. Ondes Q en DIII et aVF, séquelle d'infarctus inférieur. "
        "Pas de trouble de la repolarisation évolutif.", "Séquelle d'infarctus inférieur, pas de modification.")
    consult(p, "2018-05-15", CARD, "Compte rendu d'épreuve d'effort",
            [("Indication", "Recherche d'ischémie résiduelle à un an de l'infarctus."),
             ("Protocole", "Cycloergomètre, paliers de 30 W, sous traitement."),
             ("Résultats", "140 W atteints, 86 % de la FMT. Pas de douleur thoracique, pas de sous-décalage du ST. "
              "Profil tensionnel normal."),
             ("Conclusion", "Épreuve d'effort cliniquement et électriquement négative.")],
            "effort", CARDIO_REL, {"coronaropathie": 2, "douleur-thoracique": 1}, type_="70004-7",
            slug="epreuve-effort")
    fundus(p, "2018-09-25", "10/10 OD, 9/10 OG", "Quelques microanévrismes au pôle postérieur gauche.",
           "Rétinopathie diabétique non proliférante minime de l'œil gauche. Contrôle dans un an.",
           topics={"retinopathie": 3})
    gp("2019-02-19", "Essoufflement à l'effort depuis un mois, prise de 3 kg.",
       "TA 142/86 mmHg, FC 80/min, crépitants aux bases, œdèmes des chevilles.",
       "Dyspnée d'effort avec signes congestifs : suspicion d'insuffisance cardiaque. Furosémide 40 mg, "
       "NT-proBNP et échographie cardiaque demandés, avis cardiologique rapide.",
       {"insuffisance-cardiaque": 2, "hta": 1})
    lab(p, "2019-02-21", {"bnp": 1450, "creat": 98, "dfg": 71, "k": 4.6, "na": 137, "hb": 13.6},
        "NT-proBNP élevé à 1450 pg/mL, compatible avec une insuffisance cardiaque. Fonction rénale conservée.",
        prescriber="Dr Martine GIRAUD-TEST", topics={"insuffisance-cardiaque": 2})
    echo(p, "2019-03-05", CARD, 38, "Akinésie inférieure et hypokinésie latérale. Insuffisance mitrale modérée "
         "fonctionnelle. Pressions de remplissage élevées.",
         "Insuffisance cardiaque à fraction d'éjection altérée (FEVG 38 %), cardiopathie ischémique.",
         {"insuffisance-cardiaque": 3})
    cardio("2019-03-12", "Décompensation cardiaque progressive depuis février. FEVG 38 % à l'échographie du 05/03/2019.",
           "TA 126/74 mmHg, FC 74/min, poids 89 kg, discrets œdèmes.",
           "Insuffisance cardiaque à FEVG altérée d'origine ischémique, NYHA II. Majoration du bisoprolol, "
           "spironolactone 25 mg. Éducation thérapeutique (poids, sel).", {"insuffisance-cardiaque": 3, "fevg": 2})
    vaccinations(p, "2019-10-22", GP, [("2016-02-02", "Pneumocoque (Prevenar 13)", "PV-1602"),
                                       ("2016-04-05", "Pneumocoque (Pneumovax)", "PN-1604"),
                                       ("2018-10-16", "Grippe saisonnière", "GR-1810"),
                                       ("2019-10-22", "Grippe saisonnière", "GR-1910")],
                 "Vaccination antigrippale annuelle recommandée (diabète, insuffisance cardiaque).")
    fundus(p, "2019-11-19", "10/10 OD, 9/10 OG", "Microanévrismes et rares hémorragies ponctuées aux deux yeux.",
           "Rétinopathie diabétique non proliférante minime bilatérale, stable.", topics={"retinopathie": 3})
    gp("2020-03-10", "Suivi trimestriel. Glycémies capillaires élevées.",
       "TA 136/82 mmHg, poids 90 kg. Pas d'œdème.",
       "Diabète déséquilibré (HbA1c 7,8 %) : adressé en consultation d'endocrinologie. Hypertension "
       "artérielle contrôlée.", {"hba1c": 2, "hta": 2, "diabete": 2})
    lab(p, "2020-09-22", {"hba1c": 8.1, "creat": 99, "dfg": 69, "k": 4.7, "ldl": 0.62, "hdl": 0.43, "tg": 1.7, "ct": 1.4},
        "HbA1c 8,1 %. LDL-cholestérol 0,62 g/L, légèrement au-dessus de la cible.", prescriber="Dr Martine GIRAUD-TEST")
    endo("2020-11-24", "Diabète de type 2 connu depuis 2010, sous metformine seule. HbA1c 8,1 % en septembre. "
         "Cardiopathie ischémique et insuffisance cardiaque. Rétinopathie non proliférante minime.",
         "Ajout de sitagliptine 100 mg en attendant l'avis cardiologique sur un inhibiteur de SGLT2. "
         "Objectif d'hémoglobine glyquée inférieure à 7 %. Autosurveillance glycémique.")
    consult(p, "2021-01-19", CARD, "Compte rendu d'enregistrement Holter ECG des 24 heures",
            [("Indication", "Palpitations, insuffisance cardiaque à FEVG altérée."),
             ("Résultats", "Rythme sinusal de base, FC moyenne 68/min. 2300 extrasystoles ventriculaires "
              "monomorphes, 3 salves de 3 complexes. Pas de fibrillation atriale."),
             ("Conclusion", "Hyperexcitabilité ventriculaire modérée, pas de trouble du rythme soutenu.")],
            "holter", CARDIO_REL, {"ecg": 2}, type_="70004-7", slug="holter-ecg")
    cardio("2021-02-09", "Dyspnée NYHA II persistante. FEVG 38 % en 2019. Holter : extrasystolie ventriculaire.",
           "TA 128/74 mmHg, FC 66/min, poids 88 kg.",
           "Remplacement du ramipril par sacubitril/valsartan 49/51 mg x 2 après 36 heures de fenêtre. "
           "Ajout de l'empagliflozine 10 mg (insuffisance cardiaque et diabète). Contrôle créatinine et kaliémie.",
           {"insuffisance-cardiaque": 3, "hta": 1})
    prescription(p, "2021-02-09", CARD, base_meds + ["Sacubitril/valsartan 49/51 mg : 1 comprimé matin et soir",
                 "Empagliflozine 10 mg : 1 comprimé le matin", "Spironolactone 25 mg : 1 comprimé le matin",
                 "Furosémide 40 mg : 1 comprimé le matin"],
                 "Arrêt du ramipril 36 heures avant la première prise de sacubitril/valsartan.", rel={"cardio": 2})
    dispensation(p, "2021-02-11", ["Sacubitril/valsartan 49/51 mg", "Empagliflozine 10 mg", "Spironolactone 25 mg",
                 "Furosémide 40 mg", "Bisoprolol 5 mg", "Atorvastatine 80 mg", "Metformine 1000 mg"],
                 note="Ramipril retiré du plan de prise : risque d'angiœdème en association. Conseils d'hydratation "
                      "sous empagliflozine.")
    gp("2021-06-15", "Lombalgie aiguë après un effort de jardinage.",
       "Contracture paravertébrale lombaire, pas de signe neurologique. TA 124/76 mmHg.",
       "Lombalgie commune. Paracétamol, éviter les AINS (insuffisance cardiaque, sacubitril/valsartan).",
       {"lombalgie": 3})
    fundus(p, "2021-10-12", "9/10 aux deux yeux", "Microanévrismes épars, pas de néovaisseau, macula sèche.",
           "Rétinopathie diabétique non proliférante minime, stable.", topics={"retinopathie": 3})
    endo("2021-11-23", "HbA1c 7,4 % sous metformine, sitagliptine et empagliflozine. Poids 86 kg.",
         "Arrêt de la sitagliptine, introduction du sémaglutide 0,25 mg par semaine avec titration. "
         "Surveillance du fond d'œil rapprochée lors de l'amélioration glycémique rapide.", {"retinopathie": 1})
    lab(p, "2022-01-18", {"hba1c": 7.0, "creat": 106, "dfg": 63, "k": 4.8, "ldl": 0.51, "hdl": 0.47, "tg": 1.3, "ct": 1.2, "bnp": 410},
        "HbA1c 7,0 %. LDL-cholestérol à l'objectif. NT-proBNP 410 pg/mL en amélioration.",
        prescriber="Dr Paul RENAUD-TEST", topics={"insuffisance-cardiaque": 1})
    echo(p, "2022-03-15", CARD, 45, "Hypokinésie inférieure, amélioration de la contractilité latérale. "
         "Insuffisance mitrale minime.", "Amélioration de la FEVG à 45 % sous traitement optimisé.",
         {"insuffisance-cardiaque": 2})
    cardio("2022-04-05", "Nette amélioration fonctionnelle, NYHA I-II. FEVG 45 %.",
           "TA 118/70 mmHg, FC 60/min. ECG : rythme sinusal, pas de modification.",
           "Insuffisance cardiaque améliorée. Traitement inchangé.", {"fevg": 2})
    vaccinations(p, "2022-10-18", GP, [("2019-10-22", "Grippe saisonnière", "GR-1910"),
                                       ("2021-05-04", "COVID-19 (Comirnaty), 2 doses", "CV-2105"),
                                       ("2021-10-19", "Grippe saisonnière", "GR-2110"),
                                       ("2022-10-18", "Grippe saisonnière et rappel COVID-19", "GR-2210")],
                 "Vaccinations à jour. Rappel dTP prévu en 2023 (65 ans).")
    fundus(p, "2022-12-06", "9/10 aux deux yeux", "Quelques hémorragies rétiniennes ponctuées supplémentaires à droite.",
           "Rétinopathie diabétique non proliférante modérée de l'œil droit, minime à gauche. Contrôle à 6 mois.",
           oct="Épaisseur maculaire centrale normale aux deux yeux, pas d'œdème maculaire.",
           topics={"retinopathie": 3})
    consult(p, "2023-02-03", "urg", "Compte rendu de passage aux urgences",
            [("Motif", "Dyspnée de repos depuis 48 heures, orthopnée, prise de 4 kg."),
             ("Examen", "TA 152/90 mmHg, FC 104/min, SpO2 89 %, crépitants bilatéraux, œdèmes des membres inférieurs."),
             ("Examens complémentaires", "NT-proBNP 5600 pg/mL, troponine stable, créatinine 132 µmol/L. "
              "ECG : tachycardie sinusale, pas de sus-décalage du ST. Radiographie : œdème pulmonaire."),
             ("Conclusion", "Décompensation cardiaque globale. Furosémide IV. Hospitalisation en cardiologie.")],
            "urgences", {"cardio": 2, "mg": 2, "endo": 0, "nephro": 1, "ophtalmo": 0, "pharma": 0},
            {"insuffisance-cardiaque": 3}, type_="15507-7", slug="passage-urgences")
    consult(p, "2023-02-10", "cardio_h", "Lettre de liaison à la sortie",
            [("Motif d'hospitalisation", "Décompensation cardiaque globale (03/02/2023)."),
             ("Synthèse du séjour", "Facteur déclenchant : écart de régime sodé et infection bronchique. Déplétion "
              "par furosémide IV (perte de 5 kg). Échographie : FEVG 35 %. Créatinine de sortie 118 µmol/L."),
             ("Traitement de sortie", "Furosémide 80 mg le matin, sacubitril/valsartan 24/26 mg x 2 (dose réduite), "
              "bisoprolol 5 mg, spironolactone 25 mg, empagliflozine 10 mg, aspirine, atorvastatine, metformine 500 mg x 2."),
             ("Suivi", "Pesée quotidienne, infirmière à domicile, consultation de cardiologie à 1 mois, "
              "ionogramme à une semaine.")],
            "sortie", {"cardio": 3, "mg": 2, "pharma": 2, "endo": 1, "nephro": 1, "ophtalmo": 0},
            {"insuffisance-cardiaque": 3, "fevg": 1, "creatinine": 1}, type_="11490-0", general=True,
            slug="lettre-liaison-sortie")
    dispensation(p, "2023-02-11", ["Furosémide 40 mg (2 comprimés le matin)", "Sacubitril/valsartan 24/26 mg",
                 "Bisoprolol 5 mg", "Spironolactone 25 mg", "Empagliflozine 10 mg", "Metformine 500 mg",
                 "Aspirine 75 mg", "Atorvastatine 80 mg"],
                 note="Changement de dosage du sacubitril/valsartan et de la metformine après hospitalisation : "
                      "ancien stock retiré avec l'accord du patient.")
    cardio("2023-03-14", "Hospitalisation pour décompensation cardiaque en février 2023. Pas de récidive, poids stable.",
           "TA 112/68 mmHg, FC 62/min, poids 84 kg, pas d'œdème.",
           "Remontée du sacubitril/valsartan à 49/51 mg x 2, furosémide ramené à 40 mg. Réadaptation cardiaque.",
           {"insuffisance-cardiaque": 3})
    lab(p, "2023-05-16", {"hba1c": 6.9, "creat": 112, "dfg": 58, "k": 4.7, "bnp": 980, "ldl": 0.49},
        "NT-proBNP 980 pg/mL. DFG 58 mL/min/1,73 m². LDL-cholestérol 0,49 g/L.",
        prescriber="Dr Inès CHARPENTIER-TEST", topics={"insuffisance-cardiaque": 1})
    gp("2023-07-11", "Suivi. Patient fatigué par la chaleur.", "TA 108/64 mmHg debout, 116/70 couché. Poids 83 kg.",
       "Hypotension orthostatique modérée par la chaleur et les diurétiques : furosémide réduit à 20 mg "
       "pendant l'été, hydratation.", {"hta": 1, "insuffisance-cardiaque": 1})
    endo("2023-10-17", "HbA1c 6,9 % sous metformine 500 mg x 2, empagliflozine, sémaglutide 1 mg. Poids 82 kg.",
         "Bon équilibre glycémique. Poursuite du traitement. Dépistage annuel de la rétinopathie à maintenir.")
    fundus(p, "2023-11-21", "9/10 aux deux yeux", "Rétinopathie non proliférante modérée à droite, stable. "
           "Pas de néovaisseau.", "Rétinopathie diabétique non proliférante modérée, stable. Contrôle à 6 mois.",
           oct="Pas d'œdème maculaire.", topics={"retinopathie": 3})
    echo(p, "2024-02-20", CARD, 42, "Akinésie inférieure. Insuffisance mitrale minime. Pressions de remplissage normales.",
         "FEVG 42 %, stable. Pas de signe de congestion.", {"insuffisance-cardiaque": 2})
    cardio("2024-03-05", "Pas de nouvelle hospitalisation. NYHA II. Pas de douleur thoracique.",
           "TA 124/72 mmHg, FC 60/min. ECG : rythme sinusal, QRS 108 ms, inchangé.",
           "Insuffisance cardiaque stable. Traitement maximal toléré. Discussion d'un défibrillateur non retenue "
           "(FEVG > 35 %).", {"insuffisance-cardiaque": 2})
    gp("2024-06-18", "Renouvellement. Douleurs des genoux.", "TA 130/78 mmHg. Gonarthrose bilatérale.",
       "Gonarthrose : paracétamol, kinésithérapie ; éviter les anti-inflammatoires.", {"arthrose": 3})
    lab(p, "2024-09-17", {"hba1c": 6.9, "creat": 118, "dfg": 54, "k": 4.9, "ldl": 0.52, "hdl": 0.45, "tg": 1.4, "ct": 1.2},
        "HbA1c 6,9 %. LDL-cholestérol 0,52 g/L, à l'objectif. DFG 54 mL/min/1,73 m².",
        prescriber="Dr Martine GIRAUD-TEST")
    vsm_sections = lambda year, traitement: [
        ("Antécédents", "Hypertension artérielle depuis 2005. Diabète de type 2 depuis 2010. Infarctus du myocarde "
         "inférieur en avril 2017 (stent coronaire droite). Insuffisance cardiaque à FEVG altérée depuis 2019, "
         "décompensation en février 2023. Rétinopathie diabétique non proliférante. Insuffisance rénale "
         "chronique modérée."),
        ("Allergies", "Aucune allergie connue."),
        ("Traitement en cours", traitement),
        ("Points de vigilance", f"Éviter les AINS. Surveillance de la kaliémie et de la créatinine. Mise à jour {year}."),
    ]
    vsm(p, "2024-11-12", GP, vsm_sections(2024, "Aspirine 75 mg, bisoprolol 5 mg, sacubitril/valsartan 49/51 mg x 2, "
        "spironolactone 25 mg, furosémide 40 mg, empagliflozine 10 mg, sémaglutide 1 mg/semaine, metformine 500 mg x 2, "
        "atorvastatine 80 mg, ézétimibe 10 mg."), {"hta": 1, "insuffisance-cardiaque": 1, "diabete": 1, "coronaropathie": 1},
        set_id="EV-P1-VSM")
    fundus(p, "2025-01-14", "9/10 OD, 8/10 OG", "Rétinopathie non proliférante modérée bilatérale. Exsudats secs "
           "périmaculaires à gauche.", "Rétinopathie diabétique non proliférante modérée bilatérale, "
           "début d'œdème maculaire gauche non central. Contrôle à 4 mois.",
           oct="Épaississement maculaire gauche para-fovéolaire, fovéa respectée.",
           topics={"retinopathie": 3, "oedeme-maculaire": 2})
    lab(p, "2025-02-11", {"hba1c": 7.0, "creat": 121, "dfg": 52, "k": 5.1, "bnp": 720},
        "Kaliémie à 5,1 mmol/L, à surveiller sous spironolactone et sacubitril/valsartan. NT-proBNP 720 pg/mL.",
        prescriber="Dr Paul RENAUD-TEST", topics={"insuffisance-cardiaque": 1})
    cardio("2025-03-11", "Stable. Kaliémie limite. Essoufflement à la montée de 2 étages.",
           "TA 126/74 mmHg, FC 58/min, poids 83 kg. ECG : rythme sinusal, séquelle inférieure.",
           "Insuffisance cardiaque stable NYHA II. Spironolactone réduite à 12,5 mg. Échographie dans un an.",
           {"insuffisance-cardiaque": 2, "potassium": 1})
    endo("2025-05-20", "HbA1c 7,0 %. Début d'œdème maculaire gauche au dernier fond d'œil.",
         "Maintien du sémaglutide ; pas d'intensification brutale compte tenu de la rétinopathie. "
         "Contrôle ophtalmologique à 4 mois.", {"retinopathie": 1})
    gp("2025-06-17", "Chiffres tensionnels élevés en automesure (moyenne 148/90 mmHg).",
       "TA 150/88 mmHg au cabinet, FC 62/min. Pas d'œdème.",
       "Suspicion d'hypertension artérielle non contrôlée : mesure ambulatoire de la pression artérielle demandée "
       "avant modification du traitement.", {"hta": 3})
    consult(p, "2025-07-01", CARD, "Compte rendu de mesure ambulatoire de la pression artérielle (MAPA)",
            [("Indication", "Hypertension artérielle à l'automesure, patient coronarien et insuffisant cardiaque."),
             ("Résultats", "Moyenne des 24 h 138/82 mmHg, diurne 144/86 mmHg, nocturne 124/72 mmHg. "
              "Profil dipper conservé."),
             ("Conclusion", "Hypertension artérielle diurne modérément non contrôlée. Ajout d'amlodipine 5 mg proposé "
              "au médecin traitant.")],
            "mapa", CARDIO_REL, {"hta": 3}, type_="70004-7", slug="mapa")
    lab(p, "2025-09-16", {"hba1c": 7.1, "creat": 124, "dfg": 50, "k": 4.9, "ldl": 0.55, "hdl": 0.44, "tg": 1.5, "ct": 1.3},
        "HbA1c 7,1 %. DFG 50 mL/min/1,73 m², insuffisance rénale chronique stade 3a. LDL-cholestérol 0,55 g/L.",
        prescriber="Dr Martine GIRAUD-TEST", topics={"irc": 2})
    prescription(p, "2025-10-14", GP, base_meds[:3] + ["Metformine 500 mg : 1 comprimé matin et soir",
                 "Sacubitril/valsartan 49/51 mg : 1 comprimé matin et soir", "Amlodipine 5 mg : 1 comprimé le soir",
                 "Spironolactone 12,5 mg : 1 comprimé le matin", "Furosémide 40 mg : 1 comprimé le matin",
                 "Empagliflozine 10 mg : 1 comprimé le matin", "Sémaglutide 1 mg : 1 injection par semaine",
                 "Ézétimibe 10 mg : 1 comprimé le soir"],
                 "Ajout de l'amlodipine pour hypertension artérielle non contrôlée (MAPA du 01/07/2025).",
                 topics={"hta": 1})
    dispensation(p, "2025-10-15", ["Amlodipine 5 mg", "Sacubitril/valsartan 49/51 mg", "Spironolactone 25 mg sécable",
                 "Furosémide 40 mg", "Empagliflozine 10 mg", "Sémaglutide 1 mg stylo", "Metformine 500 mg",
                 "Bisoprolol 5 mg", "Atorvastatine 80 mg", "Ézétimibe 10 mg", "Aspirine 75 mg"],
                 note="Nouveau : amlodipine. Spironolactone 25 mg sécable délivrée (demi-comprimé), explication donnée.")
    vaccinations(p, "2025-11-04", "pharma", [("2022-10-18", "Grippe saisonnière et rappel COVID-19", "GR-2210"),
                                            ("2023-05-09", "dTP (rappel 65 ans)", "DT-2305"),
                                            ("2024-10-15", "Grippe saisonnière", "GR-2410"),
                                            ("2025-11-04", "Grippe saisonnière et COVID-19", "GR-2511")],
                 "Vaccination réalisée à l'officine. Prochain rappel dTP à 75 ans.")
    fundus(p, "2026-01-13", "9/10 OD, 7/10 OG", "Exsudats périmaculaires gauches plus nombreux, rétinopathie "
           "non proliférante modérée bilatérale.", "Œdème maculaire diabétique gauche à atteinte centrale : "
           "injections intravitréennes d'anti-VEGF proposées (3 injections mensuelles).",
           oct="Épaisseur maculaire centrale 398 µm à gauche, logettes cystoïdes ; droite normale.",
           topics={"retinopathie": 3, "oedeme-maculaire": 3})
    echo(p, "2026-02-17", CARD, 40, "Akinésie inférieure, hypokinésie latérale modérée. Insuffisance mitrale "
         "modérée. PAPS 38 mmHg.", "FEVG 40 %, insuffisance mitrale modérée. Stabilité globale.",
         {"insuffisance-cardiaque": 2})
    lab(p, "2026-03-10", {"hba1c": 7.2, "creat": 127, "dfg": 48, "k": 5.0, "na": 138, "bnp": 890, "hb": 12.6},
        "NT-proBNP 890 pg/mL. Insuffisance rénale chronique stade 3a (DFG 48 mL/min/1,73 m²). HbA1c 7,2 %.",
        prescriber="Dr Paul RENAUD-TEST", topics={"irc": 2, "insuffisance-cardiaque": 1})
    cardio("2026-04-07", "Stable. Pas d'hospitalisation depuis 2023. Injections intravitréennes à gauche en cours.",
           "TA 128/76 mmHg, FC 60/min, poids 82 kg. ECG : rythme sinusal, QRS 110 ms, inchangé.",
           "Insuffisance cardiaque stable sous traitement optimal. Hypertension artérielle contrôlée sous amlodipine.",
           {"insuffisance-cardiaque": 2, "hta": 2})
    ecg(p, "2026-04-07", CARD, 60, "Rythme sinusal. Ondes Q inférieures. Bloc incomplet gauche (QRS 110 ms). "
        "Extrasystoles ventriculaires isolées.", "Pas de modification par rapport au tracé de 2025.")
    consult(p, "2026-06-09", "urg", "Compte rendu de passage aux urgences",
            [("Motif", "Douleur thoracique atypique, en coup de poignard, augmentée à l'inspiration, depuis la veille."),
             ("Examen", "TA 134/80 mmHg, FC 66/min, SpO2 97 %. Douleur reproduite à la palpation chondrocostale."),
             ("Examens complémentaires", "ECG superposable à l'ECG de référence. Troponine I hypersensible 12 puis 14 ng/L."),
             ("Conclusion", "Douleur thoracique pariétale, syndrome coronarien aigu écarté. Paracétamol. "
              "Test d'ischémie programmé en ambulatoire par son cardiologue.")],
            "urgences", {"cardio": 2, "mg": 2, "endo": 0, "nephro": 0, "ophtalmo": 0, "pharma": 0},
            {"douleur-thoracique": 3, "coronaropathie": 1}, type_="15507-7", slug="passage-urgences")
    consult(p, "2026-06-23", CARD, "Compte rendu de scintigraphie myocardique de perfusion",
            [("Indication", "Douleur thoracique atypique chez un coronarien stenté, recherche d'ischémie."),
             ("Protocole", "Stress pharmacologique (régadénoson), technétium 99m sestamibi."),
             ("Résultats", "Séquelle inférieure fixe sans ischémie associée. Pas d'ischémie dans les autres territoires."),
             ("Conclusion", "Absence d'ischémie myocardique. La douleur thoracique n'est pas d'origine coronarienne.")],
            "ischemie", CARDIO_REL, {"douleur-thoracique": 2, "coronaropathie": 3}, type_="70004-7",
            slug="scintigraphie-myocardique")
    lab(p, "2026-09-15", {"hba1c": 7.3, "gly": 1.48, "creat": 130, "dfg": 46, "k": 4.9, "ldl": 0.53, "hdl": 0.43,
                       "tg": 1.6, "ct": 1.2, "bnp": 760},
        "HbA1c 7,3 %. LDL-cholestérol 0,53 g/L. NT-proBNP 760 pg/mL. Insuffisance rénale chronique stade 3b "
        "débutante (DFG 46 mL/min/1,73 m²).", prescriber="Dr Martine GIRAUD-TEST",
        topics={"irc": 2, "insuffisance-cardiaque": 1})
    vsm(p, "2026-09-22", GP, vsm_sections(2026, "Aspirine 75 mg, bisoprolol 5 mg, sacubitril/valsartan 49/51 mg x 2, "
        "amlodipine 5 mg, spironolactone 12,5 mg, furosémide 40 mg, empagliflozine 10 mg, sémaglutide 1 mg/semaine, "
        "metformine 500 mg x 2, atorvastatine 80 mg, ézétimibe 10 mg. Injections intravitréennes d'anti-VEGF (œil gauche)."),
        {"hta": 1, "insuffisance-cardiaque": 1, "diabete": 1, "coronaropathie": 1, "oedeme-maculaire": 1},
        set_id="EV-P1-VSM", version=2)
    endo("2026-10-13", "HbA1c 7,3 %, DFG 46 mL/min/1,73 m². Œdème maculaire gauche traité par anti-VEGF.",
         "Metformine maintenue à 500 mg x 2 (DFG > 30). Poursuite du sémaglutide et de l'empagliflozine. "
         "Objectif d'hémoglobine glyquée autour de 7 %.", {"irc": 1, "oedeme-maculaire": 1})
    prescription(p, "2026-10-13", "endo", ["Metformine 500 mg : 1 comprimé matin et soir",
                 "Empagliflozine 10 mg : 1 comprimé le matin", "Sémaglutide 1 mg : 1 injection sous-cutanée par semaine",
                 "Bandelettes et lancettes pour autosurveillance glycémique : 1 contrôle par jour"],
                 "Traitement antidiabétique inchangé.", duration="6 mois", rel={"endo": 2})
    dispensation(p, "2026-10-20", ["Metformine 500 mg", "Empagliflozine 10 mg", "Sémaglutide 1 mg stylo",
                 "Bandelettes glycémiques", "Amlodipine 5 mg", "Sacubitril/valsartan 49/51 mg", "Bisoprolol 5 mg"],
                 note="Contrôle de la fonction rénale récente (DFG 46) : posologie de la metformine adaptée.")
    gp("2026-11-10", "Suivi trimestriel. Pas de plainte, pas de douleur thoracique depuis juin.",
       "TA 128/76 mmHg, FC 62/min, poids 82 kg. Pas d'œdème. Pieds : hyperkératose plantaire.",
       "Patient stable sur le plan cardiologique et métabolique. Hypertension artérielle contrôlée. "
       "Soins de pédicurie prescrits. Prochain bilan en décembre.", {"hta": 2, "douleur-thoracique": 1})
    return p


# ---- patient 2: type 2 diabetes on insulin, diabetic retinopathy ---------

def patient2():
    p = Patient("P2", "271056912304521", "Sophie LAMBERT-TEST", "F", "1971-05-08",
                "p2-lambert-sophie", "2026-11-18")
    GP = "gp2"
    gp_rel = {"mg": 3, "endo": 1, "ophtalmo": 0, "nephro": 1, "pharma": 0, "cardio": 1}
    endo_rel = {"endo": 3, "mg": 2, "ophtalmo": 1, "nephro": 1, "pharma": 0, "cardio": 1}
    ivt_rel = {"ophtalmo": 3, "endo": 1, "mg": 1, "nephro": 0, "pharma": 0, "cardio": 0}

    def gp(date, motif, examen, conclusion, topics=None):
        consult(p, date, GP, "Consultation de médecine générale",
                [("Motif", motif), ("Examen", examen), ("Conclusion", conclusion)],
                "consult-mg", gp_rel, topics, slug="consultation-mg")

    def endo(date, histoire, examen, conclusion, topics=None):
        t = {"diabete": 3, "hba1c": 2}
        t.update(topics or {})
        consult(p, date, "endo", "Compte rendu de consultation de diabétologie",
                [("Motif", pick("Suivi annuel du diabète de type 2 insulinotraité.",
                                "Consultation de diabétologie, suivi.")),
                 ("Histoire", histoire), ("Examen", examen), ("Conclusion", conclusion)],
                "consult-endo", endo_rel, t, copy="Dr Yves TESSIER-TEST, médecin traitant",
                slug="consultation-diabetologie")

    def ivt(date, eye, n_inj, cmt):
        consult(p, date, "ophtalmo", "Compte rendu d'injection intravitréenne",
                [("Indication", f"Œdème maculaire diabétique de l'œil {eye}, injection n° {n_inj}."),
                 ("Geste", f"Injection intravitréenne d'aflibercept 2 mg dans l'œil {eye}, en salle dédiée, "
                  "après antisepsie à la povidone iodée. Pas d'incident."),
                 ("Suivi", cmt)],
                "ivt", ivt_rel, {"oedeme-maculaire": 2, "retinopathie": 1}, type_="11505-5",
                slug="injection-intravitreenne")

    gp("2016-02-09", "Suivi du diabète de type 2 connu depuis 2008. Fatigue.",
       "TA 132/80 mmHg, poids 84 kg, IMC 31 kg/m². Pieds : sensibilité conservée.",
       "Diabète déséquilibré sous metformine et gliclazide. Adressée en diabétologie pour discuter "
       "l'insuline. Fond d'œil à faire.", {"diabete": 2, "fond-d-oeil": 1})
    lab(p, "2016-02-16", {"gly": 2.12, "hba1c": 9.4, "creat": 64, "dfg": 98, "acr": 2.1, "ldl": 1.32, "tg": 2.1, "hdl": 0.48, "ct": 2.2},
        "Déséquilibre glycémique important (HbA1c 9,4 %). Pas de microalbuminurie. LDL-cholestérol 1,32 g/L.",
        prescriber="Dr Yves TESSIER-TEST")
    endo("2016-03-22", "Diabète de type 2 depuis 2008, HbA1c 9,4 % sous metformine et gliclazide.",
         "Poids 84 kg. Pas de neuropathie. Dernier fond d'œil en 2013.",
         "Mise sous insuline glargine 14 UI le soir, arrêt du gliclazide. Éducation à l'autosurveillance. "
         "Fond d'œil demandé en urgence relative.", {"fond-d-oeil": 1})
    prescription(p, "2016-03-22", "endo", ["Insuline glargine 100 UI/mL stylo : 14 UI le soir, à adapter",
                 "Metformine 1000 mg : 1 comprimé matin et soir", "Aiguilles pour stylo 4 mm",
                 "Lecteur de glycémie, bandelettes et lancettes : 3 contrôles par jour"], duration="3 mois",
                 rel={"endo": 2})
    fundus(p, "2016-04-12", "10/10 OD, 10/10 OG", "Nombreux microanévrismes et hémorragies intrarétiniennes "
           "dans les 4 quadrants, nodules cotonneux.", "Rétinopathie diabétique non proliférante modérée "
           "bilatérale. Contrôle à 6 mois ; équilibre glycémique progressif souhaitable.",
           topics={"retinopathie": 3})
    lab(p, "2016-09-13", {"hba1c": 7.9, "gly": 1.45, "creat": 66, "dfg": 96},
        "Amélioration de l'HbA1c (7,9 %) sous insuline.", prescriber="Dr Thomas MERCIER-TEST")
    fundus(p, "2016-10-18", "10/10 aux deux yeux", "Microanévrismes, hémorragies en flammèches, AMIR en "
           "temporal supérieur droit.", "Rétinopathie non proliférante sévère de l'œil droit, modérée à gauche. "
           "Angiographie à prévoir.", topics={"retinopathie": 3})
    gp("2017-01-24", "Syndrome grippal.", "T 38,9 °C, myalgies, examen pulmonaire normal.",
       "Grippe saisonnière probable. Traitement symptomatique, surveillance glycémique renforcée.",
       {"infection": 3})
    endo("2017-04-11", "Sous insuline glargine 22 UI et metformine. HbA1c 7,9 %.",
         "Poids 86 kg. Hypoglycémies nocturnes rares.",
         "Équilibre en amélioration. Objectif d'HbA1c 7 % sans baisse trop rapide compte tenu de la "
         "rétinopathie sévère.", {"retinopathie": 1})
    fundus(p, "2017-05-16", "9/10 OD, 10/10 OG", "Néovaisseaux prépapillaires de l'œil droit. Hémorragies "
           "en tache dans les 4 quadrants à gauche.", "Rétinopathie diabétique proliférante de l'œil droit : "
           "panphotocoagulation rétinienne à débuter. Non proliférante sévère à gauche.",
           topics={"retinopathie": 3})
    for i, (date, eye) in enumerate([("2017-06-06", "droit"), ("2017-06-27", "droit"), ("2017-09-19", "gauche")], 1):
        consult(p, date, "ophtalmo", "Compte rendu de photocoagulation au laser",
                [("Indication", f"Rétinopathie diabétique {'proliférante' if eye == 'droit' else 'non proliférante sévère'}"
                  f" de l'œil {eye}."),
                 ("Geste", f"Séance {i} de panphotocoagulation rétinienne de l'œil {eye} : "
                  f"{rng.choice([650, 720, 800])} impacts, 200 µm, 100 ms. Bonne tolérance."),
                 ("Suivi", "Contrôle du fond d'œil dans 2 mois.")],
                "laser", ivt_rel, {"retinopathie": 2, "fond-d-oeil": 1}, type_="11505-5", slug="photocoagulation-laser")
    lab(p, "2017-10-10", {"hba1c": 7.3, "creat": 68, "dfg": 94, "acr": 4.8, "ldl": 1.05},
        "HbA1c 7,3 %. Apparition d'une microalbuminurie (4,8 mg/mmol), à contrôler.", prescriber="Dr Yves TESSIER-TEST")
    fundus(p, "2017-12-12", "9/10 aux deux yeux", "Régression des néovaisseaux de l'œil droit, cicatrices de "
           "laser. Pas de néovaisseau à gauche.", "Rétinopathie proliférante de l'œil droit stabilisée après "
           "panphotocoagulation. Contrôle à 4 mois.", topics={"retinopathie": 3})
    gp("2018-03-13", "Renouvellement et résultats. Microalbuminurie positive.",
       "TA 138/86 mmHg, poids 85 kg.", "Microalbuminurie confirmée : néphropathie diabétique débutante. "
       "Introduction du ramipril 2,5 mg. Contrôle de la créatinine et de la kaliémie.",
       {"microalbuminurie": 2, "hta": 1})
    lab(p, "2018-04-03", {"hba1c": 7.2, "creat": 70, "dfg": 92, "k": 4.4, "acr": 5.6},
        "Microalbuminurie 5,6 mg/mmol persistante. Fonction rénale normale, kaliémie normale sous ramipril.",
        prescriber="Dr Yves TESSIER-TEST")
    endo("2018-05-15", "HbA1c 7,2 %. Microalbuminurie. Rétinopathie proliférante traitée à droite.",
         "Poids 85 kg, TA 134/82 mmHg.", "Ajout du liraglutide 1,2 mg pour l'équilibre et le poids. "
         "Poursuite du ramipril.", {"microalbuminurie": 1})
    fundus(p, "2018-09-18", "9/10 aux deux yeux", "Cicatrices de panphotocoagulation à droite, pas de "
           "néovaisseau. Hémorragies intrarétiniennes stables à gauche.", "Rétinopathie stabilisée aux deux yeux.",
           topics={"retinopathie": 3})
    lab(p, "2019-01-15", {"hba1c": 7.0, "creat": 72, "dfg": 90, "acr": 6.2, "ldl": 0.98, "hdl": 0.5, "tg": 1.8, "ct": 1.9},
        "HbA1c 7,0 %. Microalbuminurie 6,2 mg/mmol. LDL-cholestérol 0,98 g/L.", prescriber="Dr Yves TESSIER-TEST")
    gp("2019-03-19", "Douleurs de l'épaule droite.", "Abduction limitée et douloureuse.",
       "Tendinopathie de la coiffe des rotateurs. Kinésithérapie, infiltration à discuter (surveillance "
       "glycémique).", {"epaule": 3})
    fundus(p, "2019-05-21", "8/10 OD, 9/10 OG", "Néovaisseaux prérétiniens en temporal inférieur gauche.",
           "Rétinopathie proliférante de l'œil gauche : panphotocoagulation de l'œil gauche à compléter.",
           topics={"retinopathie": 3})
    vaccinations(p, "2019-10-15", GP, [("2012-06-12", "dTcaP (rappel)", "DT-1206"), ("2017-10-17", "Grippe", "GR-1710"),
                                       ("2018-10-16", "Grippe", "GR-1810"), ("2019-10-15", "Grippe", "GR-1910")],
                 "Vaccination antigrippale annuelle (diabète). Pneumocoque à proposer.")
    endo("2019-11-19", "HbA1c 7,0 % sous glargine 26 UI, metformine et liraglutide.", "Poids 81 kg.",
         "Bon équilibre. Traitement inchangé. Photocoagulation de l'œil gauche réalisée en juin.")
    lab(p, "2020-06-16", {"hba1c": 6.9, "creat": 75, "dfg": 86, "k": 4.6, "acr": 8.4},
        "HbA1c 6,9 %. Microalbuminurie en hausse à 8,4 mg/mmol malgré le ramipril.", prescriber="Dr Yves TESSIER-TEST")
    fundus(p, "2020-09-15", "8/10 aux deux yeux", "Cicatrices de laser bilatérales, pas d'activité néovasculaire.",
           "Rétinopathie proliférante bilatérale traitée et stabilisée. Surveillance tous les 6 mois.",
           topics={"retinopathie": 3})
    gp("2020-11-24", "Suivi. Tension artérielle élevée à domicile.", "TA 146/90 mmHg, poids 80 kg.",
       "Hypertension artérielle : ramipril augmenté à 5 mg. Microalbuminurie à recontrôler.",
       {"hta": 2, "microalbuminurie": 1})
    lab(p, "2021-03-09", {"hba1c": 7.4, "creat": 78, "dfg": 82, "acr": 11.5, "k": 4.7},
        "Microalbuminurie 11,5 mg/mmol. HbA1c 7,4 %.", prescriber="Dr Yves TESSIER-TEST")
    endo("2021-04-13", "HbA1c 7,4 %. Microalbuminurie croissante.", "TA 138/84 mmHg, poids 81 kg.",
         "Ajout de la dapagliflozine 10 mg pour la néphroprotection. Avis néphrologique si progression.",
         {"microalbuminurie": 2})
    fundus(p, "2021-10-19", "8/10 OD, 7/10 OG", "Rétine périphérique stable. Exsudats secs maculaires gauches.",
           "Rétinopathie proliférante stabilisée. Suspicion d'œdème maculaire gauche : OCT au prochain contrôle.",
           topics={"retinopathie": 3, "oedeme-maculaire": 1})
    fundus(p, "2022-01-18", "8/10 OD, 5/10 OG", "Exsudats circinés maculaires gauches.",
           "Œdème maculaire diabétique central de l'œil gauche : injections intravitréennes d'aflibercept "
           "(3 injections mensuelles).", oct="Épaisseur maculaire centrale 452 µm à gauche, logettes intrarétiniennes.",
           topics={"retinopathie": 2, "oedeme-maculaire": 3})
    ivt("2022-02-01", "gauche", 1, "Injection suivante dans 4 semaines.")
    ivt("2022-03-01", "gauche", 2, "Injection suivante dans 4 semaines.")
    ivt("2022-03-29", "gauche", 3, "OCT de contrôle dans un mois.")
    lab(p, "2022-04-12", {"hba1c": 7.1, "creat": 82, "dfg": 77, "acr": 14.2, "k": 4.8, "ldl": 0.86},
        "Microalbuminurie 14,2 mg/mmol. DFG 77 mL/min/1,73 m².", prescriber="Dr Thomas MERCIER-TEST")
    fundus(p, "2022-05-03", "8/10 OD, 7/10 OG", "Régression des exsudats.", "Bonne réponse aux anti-VEGF. "
           "Régime « treat and extend », prochaine injection dans 8 semaines.",
           oct="Épaisseur maculaire centrale 318 µm à gauche.", topics={"oedeme-maculaire": 3})
    gp("2022-09-13", "Entorse de la cheville droite.", "Entorse bénigne, pas de critère d'Ottawa.",
       "Strapping, repos, paracétamol.", {"traumatologie": 3})
    consult(p, "2023-02-14", "nephro", "Compte rendu de consultation de néphrologie",
            [("Motif", "Avis pour microalbuminurie croissante chez une diabétique de type 2."),
             ("Histoire", "Diabète depuis 2008, rétinopathie proliférante traitée, microalbuminurie depuis 2017 "
              "(14 mg/mmol en 2022). Sous ramipril 5 mg et dapagliflozine."),
             ("Examen", "TA 142/86 mmHg. Pas d'œdème."),
             ("Conclusion", "Néphropathie diabétique stade A2 (microalbuminurie), DFG 75 mL/min/1,73 m². "
              "Objectif tensionnel < 130/80 mmHg : ramipril 10 mg. Contrôle du rapport albumine/créatinine "
              "urinaire et de la kaliémie dans 3 mois.")],
            "consult-nephro", {"nephro": 3, "mg": 2, "endo": 2, "ophtalmo": 0, "pharma": 0, "cardio": 1},
            {"microalbuminurie": 3, "hta": 2}, copy="Dr Yves TESSIER-TEST", slug="consultation-nephrologie")
    lab(p, "2023-05-16", {"hba1c": 7.0, "creat": 84, "dfg": 74, "k": 4.9, "acr": 9.8},
        "Baisse de la microalbuminurie (9,8 mg/mmol) sous ramipril 10 mg. Kaliémie 4,9 mmol/L.",
        prescriber="Dr Claire LEMOINE-TEST")
    endo("2023-06-13", "HbA1c 7,0 %. Suivi néphrologique débuté.", "Poids 79 kg, TA 128/78 mmHg.",
         "Équilibre satisfaisant. Poursuite du traitement.")
    fundus(p, "2023-09-19", "8/10 OD, 6/10 OG", "Cristallin gauche opacifié. Rétine stable.",
           "Œdème maculaire gauche sec sous injections espacées à 12 semaines. Cataracte gauche évolutive.",
           oct="Épaisseur maculaire centrale 296 µm à gauche.", topics={"oedeme-maculaire": 2, "cataracte": 2})
    consult(p, "2024-03-12", "ophtalmo", "Compte rendu opératoire",
            [("Intervention", "Phacoémulsification de l'œil gauche avec implant de chambre postérieure."),
             ("Déroulement", "Anesthésie topique. Injection intravitréenne d'aflibercept en fin d'intervention "
              "(prévention de l'aggravation de l'œdème maculaire). Pas de complication."),
             ("Suites", "Collyres antibiotique et anti-inflammatoire 4 semaines. Contrôle à J8.")],
            "chirurgie", ivt_rel, {"cataracte": 3, "oedeme-maculaire": 1}, type_="34874-8", slug="compte-rendu-operatoire")
    lab(p, "2024-04-09", {"hba1c": 7.2, "creat": 86, "dfg": 72, "k": 4.7, "acr": 10.4, "ldl": 0.78, "hdl": 0.5, "tg": 1.6, "ct": 1.6},
        "HbA1c 7,2 %. Microalbuminurie stable à 10,4 mg/mmol. LDL-cholestérol 0,78 g/L.",
        prescriber="Dr Yves TESSIER-TEST")
    gp("2024-06-11", "Suivi. Bilan annuel.", "TA 126/76 mmHg, poids 78 kg. Pieds : pas de plaie, monofilament "
       "perçu.", "Diabète et hypertension artérielle contrôlés. Fond d'œil et néphrologie suivis régulièrement.",
       {"hta": 2, "fond-d-oeil": 1})
    vsm(p, "2024-06-11", GP, [
        ("Antécédents", "Diabète de type 2 depuis 2008, insulinotraité depuis 2016. Rétinopathie diabétique "
         "proliférante bilatérale traitée par panphotocoagulation (2017, 2019). Œdème maculaire gauche sous "
         "anti-VEGF depuis 2022. Cataracte gauche opérée en 2024. Néphropathie diabétique avec microalbuminurie. "
         "Hypertension artérielle."),
        ("Allergies", "Allergie à la pénicilline (urticaire)."),
        ("Traitement en cours", "Insuline glargine 24 UI le soir, metformine 1000 mg x 2, liraglutide 1,2 mg, "
         "dapagliflozine 10 mg, ramipril 10 mg, atorvastatine 20 mg. Aflibercept intravitréen tous les 3 mois."),
        ("Points de vigilance", "Allergie à la pénicilline. Fond d'œil tous les 3 mois.")],
        {"retinopathie": 1, "oedeme-maculaire": 1, "microalbuminurie": 1, "hta": 1, "diabete": 1, "fond-d-oeil": 1})
    ivt("2024-09-10", "gauche", 9, "Stabilité, intervalle maintenu à 12 semaines.")
    lab(p, "2024-11-12", {"hba1c": 7.5, "creat": 88, "dfg": 70, "k": 5.0, "acr": 12.8},
        "HbA1c 7,5 %. Microalbuminurie 12,8 mg/mmol.", prescriber="Dr Thomas MERCIER-TEST")
    endo("2024-12-10", "HbA1c 7,5 %. Prise de poids de 3 kg.", "Poids 81 kg.",
         "Remplacement du liraglutide par le sémaglutide 0,5 mg par semaine. Vigilance sur le fond d'œil "
         "(amélioration glycémique).", {"fond-d-oeil": 1})
    prescription(p, "2024-12-10", "endo", ["Insuline glargine 100 UI/mL : 24 UI le soir",
                 "Metformine 1000 mg : 1 comprimé matin et soir", "Sémaglutide 0,5 mg : 1 injection par semaine",
                 "Dapagliflozine 10 mg : 1 comprimé le matin", "Capteur de glucose en continu : 1 capteur tous les 14 jours"],
                 "Arrêt du liraglutide.", duration="6 mois", rel={"endo": 2})
    dispensation(p, "2024-12-12", ["Insuline glargine stylo", "Metformine 1000 mg", "Sémaglutide 0,5 mg",
                 "Dapagliflozine 10 mg", "Capteurs de glucose", "Ramipril 10 mg", "Atorvastatine 20 mg"],
                 note="Arrêt du liraglutide signalé ; explication du stylo de sémaglutide.")
    fundus(p, "2025-03-11", "8/10 OD, 8/10 OG", "Pseudophakie gauche. Rétine stable, pas de néovaisseau.",
           "Rétinopathie proliférante traitée stable. Œdème maculaire gauche sec.",
           oct="Épaisseur maculaire centrale 284 µm à gauche, 262 µm à droite.", topics={"retinopathie": 3, "oedeme-maculaire": 2})
    consult(p, "2025-04-08", "nephro", "Compte rendu de consultation de néphrologie",
            [("Motif", "Suivi de la néphropathie diabétique."),
             ("Histoire", "Microalbuminurie 12,8 mg/mmol en novembre 2024. DFG 70 mL/min/1,73 m²."),
             ("Examen", "TA 128/78 mmHg, poids 80 kg."),
             ("Conclusion", "Maladie rénale diabétique stade G2A2 stable. Ajout de la finérénone 10 mg. "
              "Surveillance de la kaliémie à 1 mois.")],
            "consult-nephro", {"nephro": 3, "mg": 2, "endo": 2, "ophtalmo": 0, "pharma": 0, "cardio": 1},
            {"microalbuminurie": 3, "potassium": 1}, copy="Dr Yves TESSIER-TEST", slug="consultation-nephrologie")
    lab(p, "2025-05-13", {"creat": 90, "dfg": 68, "k": 5.1, "na": 139},
        "Kaliémie 5,1 mmol/L sous finérénone, acceptable. DFG 68 mL/min/1,73 m².", prescriber="Dr Claire LEMOINE-TEST")
    gp("2025-09-16", "Brûlures mictionnelles depuis 2 jours.", "Apyrétique, bandelette urinaire positive.",
       "Cystite simple. Fosfomycine dose unique.", {"infection": 3})
    vaccinations(p, "2025-10-14", "pharma", [("2019-10-15", "Grippe", "GR-1910"), ("2020-11-10", "Pneumocoque (Prevenar 20)", "PV-2011"),
                                            ("2021-06-01", "COVID-19, 2 doses", "CV-2106"), ("2024-10-15", "Grippe et COVID-19", "GR-2410"),
                                            ("2025-10-14", "Grippe", "GR-2510")],
                 "Vaccination antigrippale à l'officine.")
    ivt("2025-10-07", "gauche", 13, "Récidive minime des logettes : intervalle réduit à 8 semaines.")
    lab(p, "2025-11-04", {"hba1c": 7.0, "gly": 1.31, "creat": 91, "dfg": 67, "k": 4.9, "acr": 7.9, "ldl": 0.7, "hdl": 0.52, "tg": 1.4, "ct": 1.5},
        "HbA1c 7,0 %. Microalbuminurie en baisse à 7,9 mg/mmol sous finérénone.", prescriber="Dr Yves TESSIER-TEST")
    endo("2025-12-09", "HbA1c 7,0 % sous sémaglutide 1 mg. Capteur de glucose : temps dans la cible 72 %.",
         "Poids 77 kg.", "Très bon résultat. Poursuite du traitement.")
    fundus(p, "2026-03-10", "8/10 OD, 7/10 OG", "Quelques exsudats maculaires gauches.",
           "Récidive modérée de l'œdème maculaire gauche : injection mensuelle reprise.",
           oct="Épaisseur maculaire centrale 352 µm à gauche.", topics={"oedeme-maculaire": 3, "retinopathie": 2})
    ivt("2026-03-10", "gauche", 16, "Injection mensuelle, contrôle OCT à chaque injection.")
    lab(p, "2026-05-12", {"hba1c": 6.8, "creat": 93, "dfg": 65, "k": 5.0, "acr": 6.5},
        "HbA1c 6,8 %. Microalbuminurie 6,5 mg/mmol.", prescriber="Dr Claire LEMOINE-TEST")
    consult(p, "2026-05-26", "nephro", "Compte rendu de consultation de néphrologie",
            [("Motif", "Suivi annuel de la maladie rénale diabétique."),
             ("Histoire", "Microalbuminurie en baisse (6,5 mg/mmol) sous ramipril, dapagliflozine et finérénone."),
             ("Examen", "TA 124/74 mmHg, poids 77 kg."),
             ("Conclusion", "Maladie rénale diabétique stable, réponse favorable à la néphroprotection. "
              "Revoir dans un an avec rapport albumine/créatinine urinaire.")],
            "consult-nephro", {"nephro": 3, "mg": 2, "endo": 2, "ophtalmo": 0, "pharma": 0, "cardio": 1},
            {"microalbuminurie": 3}, copy="Dr Yves TESSIER-TEST", slug="consultation-nephrologie")
    prescription(p, "2026-06-09", GP, ["Insuline glargine 100 UI/mL : 22 UI le soir",
                 "Metformine 1000 mg : 1 comprimé matin et soir", "Sémaglutide 1 mg : 1 injection par semaine",
                 "Dapagliflozine 10 mg : 1 comprimé le matin", "Ramipril 10 mg : 1 comprimé le soir",
                 "Finérénone 10 mg : 1 comprimé le matin", "Atorvastatine 20 mg : 1 comprimé le soir"],
                 "Renouvellement à l'identique.", duration="6 mois")
    dispensation(p, "2026-06-10", ["Insuline glargine stylo", "Metformine 1000 mg", "Sémaglutide 1 mg",
                 "Dapagliflozine 10 mg", "Ramipril 10 mg", "Finérénone 10 mg", "Atorvastatine 20 mg"],
                 note="Association ramipril + finérénone : rappel de la surveillance de la kaliémie.")
    gp("2026-09-15", "Suivi semestriel.", "TA 126/78 mmHg, poids 76 kg. Examen des pieds normal.",
       "Stable. Fond d'œil suivi par l'ophtalmologue (injections mensuelles). Bilan rénal en novembre.",
       {"fond-d-oeil": 1, "hta": 1})
    fundus(p, "2026-10-13", "8/10 OD, 8/10 OG", "Régression des exsudats maculaires gauches. Pas de néovaisseau.",
           "Œdème maculaire gauche asséché après 6 injections mensuelles : reprise de l'espacement à 8 semaines. "
           "Rétinopathie proliférante traitée stable aux deux yeux.",
           oct="Épaisseur maculaire centrale 288 µm à gauche.", topics={"oedeme-maculaire": 3, "retinopathie": 3})
    lab(p, "2026-11-03", {"hba1c": 6.9, "gly": 1.28, "creat": 94, "dfg": 64, "k": 4.8, "acr": 6.1},
        "HbA1c 6,9 %. DFG 64 mL/min/1,73 m². Microalbuminurie 6,1 mg/mmol.", prescriber="Dr Yves TESSIER-TEST")
    return p


# ---- patient 3: two pregnancies, gestational diabetes, toxoplasmosis not immune

def patient3():
    p = Patient("P3", "294084405607842", "Julie MARCHAND-TEST", "F", "1994-08-21",
                "p3-marchand-julie", "2026-11-20")
    GP = "gp3"
    gp_rel = {"mg": 3, "obst": 1, "sf": 1, "endo": 0, "pharma": 0}
    pre_rel = {"obst": 3, "sf": 3, "mg": 2, "endo": 1, "pharma": 0}

    def gp(date, motif, examen, conclusion, topics=None):
        consult(p, date, GP, "Consultation de médecine générale",
                [("Motif", motif), ("Examen", examen), ("Conclusion", conclusion)],
                "consult-mg", gp_rel, topics, slug="consultation-mg")

    def prenatal(date, author, terme, examen, conclusion, topics=None, month=None):
        t = {"grossesse": 3}
        t.update(topics or {})
        consult(p, date, author, "Consultation prénatale",
                [("Motif", f"Consultation prénatale{' du ' + month + ' mois' if month else ''}, {terme}."),
                 ("Examen", examen), ("Conclusion", conclusion)],
                "prenatal", pre_rel, t, slug="consultation-prenatale")

    def echo_obst(date, title, terme, resultats, conclusion, topics=None):
        t = {"echographie": 3, "grossesse": 2}
        t.update(topics or {})
        consult(p, date, "obst", title,
                [("Indication", f"Échographie obstétricale systématique, {terme}."),
                 ("Résultats", resultats), ("Conclusion", conclusion)],
                "echo-obst", {"obst": 3, "sf": 3, "mg": 1, "endo": 0, "pharma": 0}, t, type_="18748-4",
                slug="echographie-obstetricale")

    def toxo(date, terme):
        lab(p, date, {"toxo": "< 1 (négatif)", "toxom": "négatif"},
            f"Sérologie de toxoplasmose négative ({terme}) : absence de séroconversion. Poursuivre la "
            "surveillance mensuelle et les mesures hygiéno-diététiques.", prescriber="Mme Léa COLIN-TEST",
            extra_rel={"obst": 2, "sf": 2}, topics={"grossesse": 1})

    consult(p, "2017-09-12", "obst", "Consultation de gynécologie",
            [("Motif", "Demande de contraception."), ("Examen", "TA 112/68 mmHg, poids 58 kg. Examen normal."),
             ("Conclusion", "Prescription d'une pilule œstroprogestative. Frottis cervico-utérin à 25 ans.")],
            "consult-gyneco", {"obst": 2, "sf": 2, "mg": 1, "endo": 0, "pharma": 0}, {"contraception": 3},
            slug="consultation-gynecologie")
    gp("2018-02-06", "Angine.", "Amygdales érythémato-pultacées, test rapide positif.",
       "Angine streptococcique : amoxicilline 6 jours.", {"infection": 3})
    consult(p, "2019-10-15", "obst", "Compte rendu de cytologie cervico-utérine",
            [("Prélèvement", "Frottis cervico-utérin en milieu liquide, réalisé le 15/10/2019."),
             ("Résultat", "Frottis satisfaisant pour l'évaluation. Absence de lésion malpighienne intraépithéliale "
              "ou de malignité."), ("Conclusion", "Frottis normal. Prochain dépistage dans 3 ans.")],
            "cytologie", {"obst": 2, "sf": 2, "mg": 1, "endo": 0, "pharma": 0}, {"frottis": 3},
            type_="11526-1", slug="cytologie-cervicale")
    gp("2020-04-21", "Entorse du genou gauche au sport.", "Laxité absente, épanchement modéré.",
       "Entorse bénigne du ligament collatéral médial. Attelle, kinésithérapie.", {"traumatologie": 3})
    gp("2021-11-16", "Anxiété et troubles du sommeil dans un contexte professionnel difficile.",
       "Examen normal, pas d'idée suicidaire.", "Trouble anxieux réactionnel. Psychothérapie conseillée, "
       "arrêt de travail de 7 jours.", {"anxiete": 3})
    vaccinations(p, "2022-02-08", GP, [("2006-05-10", "ROR (2 doses dans l'enfance)", "RO-0605"),
                                       ("2019-03-12", "dTcaP (rappel 25 ans)", "DT-1903"),
                                       ("2021-07-06", "COVID-19, 2 doses", "CV-2107"), ("2022-01-18", "COVID-19 rappel", "CV-2201")],
                 "Vaccinations à jour.")
    consult(p, "2023-01-17", "sf", "Consultation préconceptionnelle",
            [("Motif", "Projet de grossesse."),
             ("Examen", "TA 110/70 mmHg, poids 64 kg, IMC 23. Frottis à jour (2019)."),
             ("Conclusion", "Acide folique 0,4 mg par jour. Sérologies prescrites (toxoplasmose, rubéole). "
              "Rubéole immunisée par 2 doses de ROR.")],
            "prenatal", pre_rel, {"grossesse": 2, "toxoplasmose": 1}, slug="consultation-preconceptionnelle")
    lab(p, "2023-01-24", {"toxo": "< 1 (négatif)", "toxom": "négatif", "rub": 48},
        "Toxoplasmose : absence d'immunité. Rubéole : immunisée. Conseils de prévention de la toxoplasmose "
        "à donner en cas de grossesse.", prescriber="Mme Léa COLIN-TEST")
    lab(p, "2023-04-04", {"bhcg": 18400}, "bêta-hCG positives, compatibles avec une grossesse d'environ 6 semaines.",
        prescriber="Mme Léa COLIN-TEST", topics={"grossesse": 2})
    lab(p, "2023-04-25", {"toxo": "< 1 (négatif)", "toxom": "négatif", "rub": 52, "grp": "A Rh+", "rai": "négative",
                          "hb": 12.6, "gly": 0.84},
        "Bilan du premier trimestre : toxoplasmose non immune (surveillance mensuelle), rubéole immunisée, "
        "groupe A Rh positif, RAI négative. Glycémie à jeun normale.", prescriber="Mme Léa COLIN-TEST",
        topics={"grossesse": 2, "diabete-gestationnel": 1})
    echo_obst("2023-05-23", "Compte rendu d'échographie du premier trimestre", "12 SA + 3 jours",
              "Grossesse intra-utérine monofœtale évolutive. LCC 62 mm. Clarté nucale 1,4 mm. Morphologie précoce normale.",
              "Échographie du premier trimestre normale. Dépistage combiné : risque de trisomie 21 faible (1/8400).")
    prenatal("2023-05-23", "sf", "12 SA", "TA 108/66 mmHg, poids 65 kg. Bruits du cœur fœtal perçus.",
             "Grossesse normale. Déclaration de grossesse faite. Prévention de la toxoplasmose expliquée "
             "(patiente non immunisée).", {"toxoplasmose": 1}, month="3e")
    toxo("2023-06-20", "16 SA")
    echo_obst("2023-07-25", "Compte rendu d'échographie du deuxième trimestre", "22 SA + 2 jours",
              "Biométries au 45e percentile. Morphologie fœtale normale. Placenta antérieur haut. Liquide amniotique normal.",
              "Échographie morphologique normale.")
    toxo("2023-07-25", "21 SA")
    lab(p, "2023-08-22", {"h0": 0.88, "h1": 1.92, "h2": 1.61},
        "HGPO 75 g à 26 SA : glycémies à 1 h (1,92 g/L) et à 2 h (1,61 g/L) au-dessus des seuils. "
        "Diabète gestationnel.", prescriber="Mme Léa COLIN-TEST", topics={"grossesse": 1})
    consult(p, "2023-08-29", "endo", "Compte rendu de consultation de diabétologie",
            [("Motif", "Diabète gestationnel diagnostiqué à 26 SA (HGPO)."),
             ("Examen", "Poids 70 kg, TA 112/70 mmHg."),
             ("Conclusion", "Diabète gestationnel : mesures diététiques, activité physique, autosurveillance "
              "glycémique 4 fois par jour. Objectifs : à jeun < 0,95 g/L, 2 h après repas < 1,20 g/L. "
              "Insuline si objectifs non atteints à 10 jours.")],
            "consult-endo", {"endo": 3, "obst": 2, "sf": 2, "mg": 2, "pharma": 0},
            {"diabete-gestationnel": 3, "grossesse": 2}, copy="Dr Nathalie BARBIER-TEST",
            slug="consultation-diabetologie")
    prenatal("2023-08-29", "sf", "27 SA", "TA 114/70 mmHg, poids 70 kg, hauteur utérine 26 cm.",
             "Diabète gestationnel sous régime. Vaccination contre la coqueluche proposée.",
             {"diabete-gestationnel": 2}, month="6e")
    toxo("2023-08-29", "26 SA")
    vaccinations(p, "2023-09-12", "sf", [("2019-03-12", "dTcaP", "DT-1903"), ("2022-01-18", "COVID-19 rappel", "CV-2201"),
                                         ("2023-09-12", "dTcaP pendant la grossesse (29 SA)", "DT-2309")],
                 "Vaccination contre la coqueluche pendant la grossesse, protection du nouveau-né.")
    prescription(p, "2023-09-12", "endo", ["Insuline détémir : 6 UI au coucher, à adapter selon les glycémies à jeun",
                 "Aiguilles pour stylo 4 mm", "Lecteur de glycémie, bandelettes et lancettes : 4 contrôles par jour"],
                 "Glycémies à jeun au-dessus de l'objectif malgré le régime (diabète gestationnel).",
                 duration="jusqu'à l'accouchement", rel={"endo": 2, "obst": 2, "sf": 2}, topics={"diabete-gestationnel": 2})
    dispensation(p, "2023-09-13", ["Insuline détémir stylo", "Aiguilles 4 mm", "Bandelettes et lancettes"],
                 note="Première insuline : démonstration de l'injection, conservation au réfrigérateur.",
                 topics={"diabete-gestationnel": 1})
    prenatal("2023-09-26", "obst", "31 SA", "TA 116/72 mmHg, poids 72 kg. Glycémies à jeun à l'objectif sous insuline.",
             "Diabète gestationnel insulinotraité équilibré. Échographie de croissance à 32 SA.",
             {"diabete-gestationnel": 2}, month="7e")
    toxo("2023-09-26", "30 SA")
    echo_obst("2023-10-10", "Compte rendu d'échographie du troisième trimestre", "32 SA + 4 jours",
              "Biométries au 78e percentile, périmètre abdominal au 85e percentile. Présentation céphalique. "
              "Liquide amniotique normal.", "Croissance fœtale un peu au-dessus de la moyenne dans un contexte "
              "de diabète gestationnel. Contrôle de croissance à 36 SA.", {"diabete-gestationnel": 1})
    prenatal("2023-10-24", "obst", "35 SA", "TA 118/74 mmHg, poids 74 kg, hauteur utérine 33 cm.",
             "Diabète gestationnel équilibré. Prélèvement vaginal pour streptocoque B : négatif. "
             "Consultation d'anesthésie faite.", {"diabete-gestationnel": 2}, month="8e")
    toxo("2023-10-24", "34 SA")
    consult(p, "2023-11-28", "obst", "Compte rendu d'accouchement",
            [("Travail", "Mise en travail spontanée à 39 SA + 5 jours. Analgésie péridurale."),
             ("Accouchement", "Accouchement voie basse, présentation céphalique, épisiotomie. Délivrance dirigée "
              "complète, pertes sanguines 350 mL."),
             ("Nouveau-né", "Garçon, 3820 g, Apgar 10/10. Glycémies néonatales normales."),
             ("Conclusion", "Accouchement eutocique. Diabète gestationnel : arrêt de l'insuline après la délivrance.")],
            "accouchement", {"obst": 3, "sf": 3, "mg": 2, "endo": 1, "pharma": 0},
            {"grossesse": 3, "diabete-gestationnel": 1}, type_="15508-5", slug="compte-rendu-accouchement")
    consult(p, "2023-12-01", "obst", "Lettre de liaison à la sortie de la maternité",
            [("Séjour", "Accouchement voie basse le 28/11/2023. Suites de couches simples. Allaitement maternel."),
             ("Diabète gestationnel", "Insuline arrêtée. Glycémies normales en post-partum. HGPO de contrôle "
              "à 3 mois recommandée puis glycémie à jeun tous les ans."),
             ("Traitement de sortie", "Fer 80 mg par jour pendant 1 mois, paracétamol si besoin."),
             ("Suivi", "Consultation postnatale à 6-8 semaines. Rééducation périnéale.")],
            "sortie", {"obst": 3, "sf": 3, "mg": 2, "pharma": 2, "endo": 2},
            {"diabete-gestationnel": 2, "grossesse": 2}, type_="11490-0", general=True, slug="lettre-liaison-sortie")
    consult(p, "2024-01-16", "sf", "Consultation postnatale",
            [("Motif", "Consultation postnatale à 7 semaines."),
             ("Examen", "TA 110/68 mmHg, poids 66 kg. Périnée cicatrisé. Score EPDS 6."),
             ("Conclusion", "Post-partum sans complication. Contraception par microprogestatif (allaitement). "
              "HGPO de contrôle à prévoir en mars.")],
            "prenatal", pre_rel, {"diabete-gestationnel": 1, "contraception": 2}, slug="consultation-postnatale")
    lab(p, "2024-03-05", {"h0": 0.86, "h2": 1.18, "hba1c": 5.4},
        "HGPO 75 g à 3 mois du post-partum normale. HbA1c 5,4 %. Pas de diabète persistant ; glycémie à jeun "
        "annuelle (antécédent de diabète gestationnel).", prescriber="Mme Léa COLIN-TEST",
        topics={"diabete-gestationnel": 2})
    gp("2024-06-11", "Fatigue persistante à 6 mois du post-partum.", "Pâleur conjonctivale, TA 104/64 mmHg.",
       "Bilan : NFS, ferritine, TSH.", {"fatigue": 3})
    lab(p, "2024-06-13", {"hb": 11.2, "ferr": 9, "tsh": 2.1},
        "Anémie ferriprive modérée (hémoglobine 11,2 g/dL, ferritine 9 µg/L). TSH normale.",
        prescriber="Dr Camille ROCHE-TEST", topics={"fatigue": 1})
    prescription(p, "2024-06-18", GP, ["Fer (sulfate ferreux) 80 mg : 1 comprimé par jour pendant 3 mois"],
                 "Contrôle NFS et ferritine dans 3 mois.", duration="3 mois")
    dispensation(p, "2024-06-18", ["Sulfate ferreux 80 mg"], note="Prendre à distance du thé et du café.")
    gp("2025-02-04", "Gastro-entérite.", "Abdomen souple, déshydratation légère.",
       "Gastro-entérite virale : réhydratation orale.", {"infection": 3})
    lab(p, "2025-03-11", {"gly": 0.91, "hba1c": 5.5, "hb": 12.9, "ferr": 42},
        "Glycémie à jeun normale (antécédent de diabète gestationnel). Anémie corrigée.",
        prescriber="Dr Camille ROCHE-TEST", topics={"diabete-gestationnel": 1})
    consult(p, "2025-09-23", "obst", "Consultation de gynécologie",
            [("Motif", "Désir de seconde grossesse, arrêt de la contraception."),
             ("Examen", "TA 110/70 mmHg, poids 63 kg. Frottis de dépistage réalisé."),
             ("Conclusion", "Acide folique. Antécédent de diabète gestationnel : glycémie à jeun au premier "
              "trimestre et HGPO précoce. Toxoplasmose non immune : sérologie à recontrôler.")],
            "consult-gyneco", {"obst": 2, "sf": 2, "mg": 1, "endo": 1, "pharma": 0},
            {"diabete-gestationnel": 1, "toxoplasmose": 1, "grossesse": 1}, slug="consultation-gynecologie")
    vaccinations(p, "2025-10-07", "pharma", [("2023-09-12", "dTcaP pendant la grossesse", "DT-2309"),
                                            ("2024-10-22", "Grippe", "GR-2410"), ("2025-10-07", "Grippe", "GR-2510")],
                 "Vaccination antigrippale à l'officine, recommandée en cas de grossesse.")
    lab(p, "2026-04-07", {"bhcg": 9600}, "bêta-hCG positives : grossesse d'environ 5 à 6 semaines.",
        prescriber="Dr Nathalie BARBIER-TEST", topics={"grossesse": 2})
    lab(p, "2026-04-28", {"toxo": "< 1 (négatif)", "toxom": "négatif", "rub": 44, "grp": "A Rh+", "rai": "négative",
                          "hb": 12.8, "gly": 0.93, "hba1c": 5.6},
        "Premier trimestre : toxoplasmose toujours non immune, rubéole immunisée. Glycémie à jeun 0,93 g/L, "
        "limite (seuil 0,92) : HGPO précoce recommandée compte tenu de l'antécédent de diabète gestationnel.",
        prescriber="Dr Nathalie BARBIER-TEST", topics={"grossesse": 2, "diabete-gestationnel": 2})
    prenatal("2026-05-12", "obst", "10 SA", "TA 108/68 mmHg, poids 64 kg.",
             "Grossesse évolutive. Toxoplasmose non immune : surveillance mensuelle. Glycémie à jeun limite, "
             "HGPO à 24 SA au plus tard, autosurveillance si anomalie.",
             {"toxoplasmose": 2, "diabete-gestationnel": 2}, month="3e")
    echo_obst("2026-06-02", "Compte rendu d'échographie du premier trimestre", "12 SA + 6 jours",
              "Grossesse monofœtale évolutive. LCC 68 mm. Clarté nucale 1,6 mm.",
              "Échographie du premier trimestre normale. Risque combiné faible.")
    toxo("2026-06-02", "12 SA")
    lab(p, "2026-06-23", {"h0": 0.90, "h1": 1.72, "h2": 1.44},
        "HGPO précoce (15 SA) normale. À recontrôler entre 24 et 28 SA compte tenu de l'antécédent de diabète "
        "gestationnel.", prescriber="Dr Nathalie BARBIER-TEST", topics={"grossesse": 1})
    toxo("2026-07-07", "17 SA")
    prenatal("2026-07-07", "sf", "17 SA", "TA 110/66 mmHg, poids 66 kg. Mouvements actifs perçus.",
             "Grossesse normale. Sérologie toxoplasmose négative, prévention rappelée.",
             {"toxoplasmose": 2}, month="4e")
    echo_obst("2026-08-18", "Compte rendu d'échographie du deuxième trimestre", "23 SA",
              "Biométries au 55e percentile. Morphologie normale. Placenta postérieur. Col long à 38 mm.",
              "Échographie morphologique du deuxième trimestre normale.")
    toxo("2026-08-18", "23 SA")
    lab(p, "2026-09-08", {"h0": 0.97, "h1": 1.86, "h2": 1.58},
        "HGPO 75 g à 26 SA : glycémie à jeun 0,97 g/L, à 1 h 1,86 g/L et à 2 h 1,58 g/L, au-dessus des seuils. "
        "Récidive de diabète gestationnel.", prescriber="Mme Léa COLIN-TEST", topics={"grossesse": 1})
    consult(p, "2026-09-15", "endo", "Compte rendu de consultation de diabétologie",
            [("Motif", "Récidive de diabète gestationnel à 27 SA (antécédent en 2023, insulinotraité)."),
             ("Examen", "Poids 69 kg, TA 114/70 mmHg. Glycémies à jeun 0,98 à 1,04 g/L sur 5 jours."),
             ("Conclusion", "Diabète gestationnel avec hyperglycémie à jeun : insuline détémir 4 UI au coucher "
              "d'emblée, régime, autosurveillance 4 fois par jour. Revoir dans 15 jours.")],
            "consult-endo", {"endo": 3, "obst": 2, "sf": 2, "mg": 2, "pharma": 0},
            {"diabete-gestationnel": 3, "grossesse": 2}, copy="Dr Nathalie BARBIER-TEST",
            slug="consultation-diabetologie")
    prescription(p, "2026-09-15", "endo", ["Insuline détémir : 4 UI au coucher, à adapter",
                 "Aiguilles pour stylo 4 mm", "Lecteur de glycémie, bandelettes et lancettes : 4 contrôles par jour"],
                 "Diabète gestationnel.", duration="jusqu'à l'accouchement", rel={"endo": 2, "obst": 2, "sf": 2},
                 topics={"diabete-gestationnel": 2})
    dispensation(p, "2026-09-16", ["Insuline détémir stylo", "Aiguilles 4 mm", "Bandelettes et lancettes"],
                 note="Reprise de l'insuline comme en 2023 ; technique d'injection revue.",
                 topics={"diabete-gestationnel": 1})
    prenatal("2026-09-22", "sf", "28 SA", "TA 112/70 mmHg, poids 69 kg, hauteur utérine 27 cm.",
             "Diabète gestationnel sous insuline débutée le 15/09. Toxoplasmose négative en août. "
             "Vaccination contre la coqueluche à faire.", {"diabete-gestationnel": 2, "toxoplasmose": 1}, month="6e")
    toxo("2026-09-22", "28 SA")
    vaccinations(p, "2026-09-29", "sf", [("2023-09-12", "dTcaP pendant la grossesse", "DT-2309"),
                                         ("2025-10-07", "Grippe", "GR-2510"),
                                         ("2026-09-29", "dTcaP pendant la grossesse (29 SA)", "DT-2609")],
                 "Vaccination contre la coqueluche renouvelée à chaque grossesse. Grippe à faire en octobre.")
    prenatal("2026-10-20", "obst", "32 SA", "TA 116/74 mmHg, poids 71 kg. Glycémies à l'objectif sous 8 UI "
             "de détémir.", "Diabète gestationnel insulinotraité équilibré. Échographie de croissance programmée "
             "le 03/11.", {"diabete-gestationnel": 2}, month="7e")
    toxo("2026-10-20", "32 SA")
    echo_obst("2026-11-03", "Compte rendu d'échographie du troisième trimestre", "34 SA",
              "Biométries au 70e percentile, périmètre abdominal au 80e percentile. Présentation céphalique. "
              "Liquide amniotique normal. Doppler ombilical normal.",
              "Croissance fœtale harmonieuse dans un contexte de diabète gestationnel insulinotraité.",
              {"diabete-gestationnel": 1})
    return p


# ---- patient 4: chronic kidney disease followed in nephrology -----------

def patient4():
    p = Patient("P4", "150114201804432", "Bernard ROUX-TEST", "M", "1950-11-02",
                "p4-roux-bernard", "2026-11-19")
    GP, NEPH, CARD, BIO = "gp4", "nephro", "cardio4", "bio4"
    gp_rel = {"mg": 3, "nephro": 1, "cardio": 1, "pharma": 0, "vasc": 0}
    neph_rel = {"nephro": 3, "mg": 2, "cardio": 1, "pharma": 0, "vasc": 1}
    card_rel = {"cardio": 3, "mg": 2, "nephro": 1, "pharma": 0, "vasc": 1}

    def gp(date, motif, examen, conclusion, topics=None):
        consult(p, date, GP, "Consultation de médecine générale",
                [("Motif", motif), ("Examen", examen), ("Conclusion", conclusion)],
                "consult-mg", gp_rel, topics, slug="consultation-mg")

    def neph(date, histoire, examen, conclusion, topics=None, rel=None):
        t = {"irc": 3, "creatinine": 2}
        t.update(topics or {})
        consult(p, date, NEPH, "Compte rendu de consultation de néphrologie",
                [("Motif", pick("Suivi de maladie rénale chronique.", "Consultation de néphrologie, suivi.",
                                "Suivi néphrologique semestriel.")),
                 ("Histoire", histoire), ("Examen", examen), ("Conclusion", conclusion)],
                "consult-nephro", dict(neph_rel, **(rel or {})), t, copy="Dr Alain BONNET-TEST, médecin traitant",
                slug="consultation-nephrologie")

    def cardio(date, histoire, examen, conclusion, topics=None):
        consult(p, date, CARD, "Compte rendu de consultation de cardiologie",
                [("Motif", "Suivi d'hypertension artérielle et de fibrillation atriale."),
                 ("Histoire", histoire), ("Examen", examen), ("Conclusion", conclusion)],
                "consult-cardio", card_rel, topics, copy="Dr Alain BONNET-TEST", slug="consultation-cardiologie")

    def rlab(date, creat, dfg, k, conclusion, more=None, prescriber="Dr Claire LEMOINE-TEST", topics=None):
        v = {"creat": creat, "dfg": dfg, "uree": round(creat / 18, 1), "na": rng.choice([137, 138, 139, 140]),
             "k": k, "bicar": rng.choice([20, 21, 22, 23, 24])}
        v.update(more or {})
        t = {"irc": 2}
        t.update(topics or {})
        lab(p, date, v, conclusion, author=BIO, prescriber=prescriber, topics=t)

    gp("2014-03-11", "Découverte d'une créatinine élevée sur un bilan systématique.",
       "TA 158/94 mmHg, poids 82 kg. Pas d'œdème. Bandelette urinaire : protéines +.",
       "Hypertension artérielle ancienne mal contrôlée, insuffisance rénale à explorer : échographie rénale, "
       "protéinurie, avis néphrologique.", {"hta": 2, "creatinine": 2, "irc": 1})
    rlab("2014-03-04", 148, 42, 4.6, "Créatinine 148 µmol/L, DFG 42 mL/min/1,73 m² : insuffisance rénale "
         "modérée.", {"hb": 13.4}, prescriber="Dr Alain BONNET-TEST", topics={"irc": 1})
    consult(p, "2014-03-25", "radio4", "Compte rendu d'échographie rénale et vésicale",
            [("Indication", "Insuffisance rénale découverte, hypertension artérielle."),
             ("Résultats", "Rein droit 98 mm, rein gauche 101 mm, cortex aminci, bonne différenciation. "
              "Pas de dilatation des cavités, pas de lithiase. Vessie normale. Prostate 38 g."),
             ("Conclusion", "Reins de taille un peu réduite, aspect de néphropathie chronique, pas d'obstacle.")],
            "imagerie-renale", {"nephro": 3, "mg": 1, "cardio": 0, "pharma": 0, "vasc": 1},
            {"irc": 2, "echographie-renale": 3}, type_="18748-4", slug="echographie-renale")
    neph("2014-04-15", "Insuffisance rénale chronique découverte en mars 2014 (créatinine 148 µmol/L). "
         "Hypertension artérielle depuis 2000. Protéinurie 0,6 g/24 h.",
         "TA 156/92 mmHg. Souffle abdominal absent.",
         "Néphroangiosclérose probable, insuffisance rénale chronique stade 3b. Objectif tensionnel < 130/80 : "
         "ramipril 5 mg. Régime pauvre en sel. Contrôle à 3 mois.", {"hta": 2})
    cardio("2015-02-17", "Hypertension artérielle et insuffisance rénale chronique. Palpitations.",
           "TA 146/88 mmHg, pouls irrégulier. ECG : fibrillation atriale à 92/min.",
           "Fibrillation atriale paroxystique découverte, CHA2DS2-VASc 3. Anticoagulation par apixaban 5 mg x 2 "
           "(créatinine < 133 µmol/L non remplie mais âge < 80 ans et poids > 60 kg). Bisoprolol 2,5 mg.",
           {"fibrillation-atriale": 3, "hta": 2, "creatinine": 1})
    prescription(p, "2015-02-17", CARD, ["Apixaban 5 mg : 1 comprimé matin et soir", "Bisoprolol 2,5 mg : 1 comprimé le matin",
                 "Ramipril 5 mg : 1 comprimé le soir", "Amlodipine 5 mg : 1 comprimé le soir"],
                 "Anticoagulation au long cours pour fibrillation atriale.", rel={"cardio": 2})
    neph("2015-06-23", "Fibrillation atriale en février 2015, sous apixaban. Créatinine 158 µmol/L.",
         "TA 138/82 mmHg, poids 80 kg.", "IRC stade 3b stable. Poursuite du ramipril. Apixaban 5 mg x 2 "
         "adapté à la fonction rénale actuelle.", {"fibrillation-atriale": 1})
    gp("2016-01-12", "Goutte du gros orteil droit.", "Arthrite métatarso-phalangienne droite.",
       "Accès goutteux : colchicine à dose réduite (insuffisance rénale), pas d'AINS. Allopurinol à distance.",
       {"goutte": 3})
    rlab("2016-05-10", 171, 35, 5.2, "Baisse lente du DFG à 35 mL/min/1,73 m². Kaliémie 5,2 mmol/L.",
         {"hb": 12.1, "pth": 98, "ca": 2.22, "phos": 1.3})
    neph("2016-05-24", "Goutte en janvier. DFG 35 mL/min/1,73 m². Kaliémie 5,2 mmol/L.",
         "TA 134/80 mmHg.", "IRC stade 3b. Hyperparathyroïdie secondaire débutante : cholécalciférol. "
         "Régime pauvre en potassium expliqué. Allopurinol 100 mg.", {"potassium": 2})
    cardio("2017-03-14", "Fibrillation atriale paroxystique, pas de récidive symptomatique. Sous apixaban.",
           "TA 136/78 mmHg, FC 64/min, rythme régulier.",
           "Contrôle satisfaisant. Échocardiographie : FEVG 58 %, hypertrophie ventriculaire gauche modérée.",
           {"fibrillation-atriale": 2, "hta": 2})
    neph("2017-06-27", "DFG 32 mL/min/1,73 m², hémoglobine 11,6 g/dL.", "TA 132/78 mmHg, poids 79 kg.",
         "Insuffisance rénale chronique stade 3b-4. Anémie rénale débutante, bilan martial correct. Contrôle à 6 mois.",
         {"anemie": 2})
    vaccinations(p, "2017-10-10", GP, [("2013-10-08", "Grippe", "GR-1310"), ("2015-05-12", "dTP (rappel 65 ans)", "DT-1505"),
                                       ("2016-10-11", "Grippe", "GR-1610"), ("2017-10-10", "Grippe et pneumocoque (Prevenar 13)", "GR-1710")],
                 "Vaccination contre l'hépatite B à envisager en prévision d'une éventuelle dialyse.")
    rlab("2018-01-16", 195, 29, 5.4, "DFG 29 mL/min/1,73 m² : insuffisance rénale chronique stade 4. Kaliémie 5,4 mmol/L.",
         {"hb": 11.2, "pth": 142, "ca": 2.18, "phos": 1.42})
    neph("2018-01-30", "Passage en stade 4 (DFG 29). Kaliémie 5,4 mmol/L. PTH 142 pg/mL.",
         "TA 128/76 mmHg.", "IRC stade 4. Hyperkaliémie modérée : régime, bicarbonate de sodium. Vaccination "
         "contre l'hépatite B débutée. Information sur les techniques de suppléance.", {"potassium": 2})
    gp("2018-09-18", "Bronchite avec toux depuis 10 jours.", "Ronchi, SpO2 96 %, apyrétique.",
       "Bronchite aiguë. Pas d'antibiotique. Attention aux médicaments néphrotoxiques.", {"infection": 3})
    neph("2019-02-26", "DFG 27 mL/min/1,73 m². Hémoglobine 10,8 g/dL. Hépatite B : 3 doses faites.",
         "TA 130/76 mmHg, poids 78 kg.", "Anémie rénale : fer injectable puis darbépoétine si hémoglobine < 10 g/dL. "
         "Apixaban à réduire à 2,5 mg x 2 si créatinine ≥ 133 µmol/L associée à l'âge ≥ 80 ans.", {"anemie": 2})
    cardio("2019-06-11", "FA paroxystique, récidive en mai. Insuffisance rénale stade 4.",
           "TA 142/84 mmHg, FC 78/min.", "Hypertension artérielle insuffisamment contrôlée : amlodipine 10 mg. "
           "Bisoprolol 5 mg.", {"hta": 3, "fibrillation-atriale": 2})
    rlab("2019-11-05", 216, 25, 5.6, "Hyperkaliémie à 5,6 mmol/L. DFG 25 mL/min/1,73 m².", {"hb": 10.2})
    gp("2020-02-11", "Résultats : kaliémie 5,6 mmol/L.", "TA 136/80 mmHg, pas de signe ECG d'hyperkaliémie.",
       "Hyperkaliémie modérée chez un insuffisant rénal sous ramipril : régime rappelé, patiromer prescrit "
       "sur avis néphrologique.", {"potassium": 3, "irc": 1})
    rlab("2020-06-09", 228, 23, 5.2, "DFG 23 mL/min/1,73 m². Kaliémie 5,2 mmol/L sous patiromer.",
         {"hb": 9.7, "ferr": 210, "pth": 188, "ca": 2.16, "phos": 1.5})
    neph("2020-06-23", "Hémoglobine 9,7 g/dL malgré le fer. PTH 188 pg/mL.", "TA 132/78 mmHg, poids 77 kg.",
         "Anémie rénale : darbépoétine 30 µg toutes les 2 semaines. Hyperparathyroïdie secondaire : calcitriol.",
         {"anemie": 3})
    prescription(p, "2020-06-23", NEPH, ["Darbépoétine alfa 30 µg : 1 injection sous-cutanée toutes les 2 semaines",
                 "Calcitriol 0,25 µg : 1 capsule par jour", "Patiromer 8,4 g : 1 sachet par jour",
                 "Bicarbonate de sodium 1 g : 1 gélule matin et soir"],
                 "Injections par une infirmière à domicile.", rel={"nephro": 2})
    dispensation(p, "2020-06-24", ["Darbépoétine alfa 30 µg seringue", "Calcitriol 0,25 µg", "Patiromer 8,4 g",
                 "Bicarbonate de sodium 1 g"], author="pharma4",
                 note="Darbépoétine à conserver au réfrigérateur. Patiromer à prendre à 3 heures des autres médicaments.")
    consult(p, "2021-01-12", "urg", "Compte rendu de passage aux urgences",
            [("Motif", "Faiblesse musculaire et malaise après une gastro-entérite de 3 jours."),
             ("Examen", "TA 102/60 mmHg, FC 54/min, déshydratation."),
             ("Examens complémentaires", "Kaliémie 7,1 mmol/L, créatinine 342 µmol/L. ECG : ondes T amples et pointues."),
             ("Conclusion", "Hyperkaliémie sévère sur insuffisance rénale aiguë fonctionnelle. Gluconate de calcium, "
              "insuline-glucose, réhydratation. Hospitalisation en néphrologie.")],
            "urgences", {"nephro": 2, "mg": 2, "cardio": 1, "pharma": 0, "vasc": 0},
            {"potassium": 3, "creatinine": 2, "irc": 1}, type_="15507-7", slug="passage-urgences")
    consult(p, "2021-01-18", NEPH, "Lettre de liaison à la sortie",
            [("Motif d'hospitalisation", "Hyperkaliémie sévère (7,1 mmol/L) et insuffisance rénale aiguë sur "
              "insuffisance rénale chronique stade 4, après gastro-entérite."),
             ("Synthèse du séjour", "Correction de la kaliémie, réhydratation. Créatinine de sortie 236 µmol/L "
              "(base 228). Ramipril suspendu, à reprendre à faible dose après contrôle."),
             ("Traitement de sortie", "Apixaban 2,5 mg x 2 (adaptation), bisoprolol 5 mg, amlodipine 10 mg, "
              "patiromer 8,4 g, bicarbonate de sodium, darbépoétine 30 µg/2 semaines, calcitriol, allopurinol 100 mg."),
             ("Consignes", "En cas de diarrhée ou de vomissements : suspendre le ramipril et consulter.")],
            "sortie", {"nephro": 3, "mg": 2, "pharma": 2, "cardio": 2, "vasc": 1},
            {"potassium": 3, "irc": 2, "creatinine": 1}, type_="11490-0", general=True, slug="lettre-liaison-sortie")
    dispensation(p, "2021-01-19", ["Apixaban 2,5 mg", "Bisoprolol 5 mg", "Amlodipine 10 mg", "Patiromer 8,4 g",
                 "Bicarbonate de sodium 1 g", "Calcitriol 0,25 µg", "Allopurinol 100 mg"], author="pharma4",
                 note="Apixaban passé de 5 à 2,5 mg x 2 : ancien dosage retiré. Ramipril suspendu.")
    cardio("2021-05-18", "Hospitalisation pour hyperkaliémie en janvier. Ramipril suspendu.",
           "TA 148/86 mmHg, FC 62/min. ECG : rythme sinusal.", "Hypertension artérielle non contrôlée sans "
           "IEC : ajout d'urapidil 30 mg x 2. Apixaban 2,5 mg x 2 désormais adapté (âge, créatinine).",
           {"hta": 3, "fibrillation-atriale": 1})
    neph("2021-06-08", "Hyperkaliémie sévère en janvier. DFG 22 mL/min/1,73 m².", "TA 138/80 mmHg.",
         "IRC stade 4. Reprise prudente du ramipril 1,25 mg sous patiromer. Dialyse non envisagée à court terme.",
         {"potassium": 2})
    gp("2022-01-18", "Renouvellement. Crampes nocturnes.", "TA 134/78 mmHg, poids 76 kg.",
       "Crampes probablement liées à l'insuffisance rénale ; magnésium normal. Renouvellement du traitement.",
       {"irc": 1})
    neph("2022-05-24", "DFG 20 mL/min/1,73 m². Hémoglobine 11,1 g/dL sous darbépoétine.", "TA 130/76 mmHg.",
         "IRC stade 4 lentement évolutive. Éducation thérapeutique : choix de la technique de suppléance "
         "(hémodialyse, dialyse péritonéale, greffe). Bilan prégreffe non retenu (âge, comorbidités).", {"anemie": 1})
    vaccinations(p, "2022-10-11", "pharma4", [("2018-02-13", "Hépatite B (3 doses, 2018)", "HB-1802"),
                                             ("2021-04-20", "COVID-19, 3 doses", "CV-2104"),
                                             ("2022-10-11", "Grippe", "GR-2210")],
                 "Anticorps anti-HBs à contrôler (préparation à la dialyse).")
    cardio("2022-11-15", "FA paroxystique, pas de récidive. TA contrôlée sous amlodipine, urapidil, ramipril.",
           "TA 132/76 mmHg, FC 60/min. ECG : rythme sinusal, HVG électrique.",
           "Stable. Poursuite de l'apixaban 2,5 mg x 2.", {"hta": 2, "fibrillation-atriale": 2})
    rlab("2023-03-14", 268, 18, 5.4, "DFG 18 mL/min/1,73 m². Kaliémie 5,4 mmol/L.",
         {"hb": 10.7, "pth": 210, "ca": 2.14, "phos": 1.62})
    neph("2023-03-28", "DFG 18. PTH 210 pg/mL, phosphore 1,62 mmol/L.", "TA 136/78 mmHg, poids 75 kg.",
         "Hyperphosphorémie : carbonate de calcium aux repas. Préparation à l'hémodialyse : cartographie "
         "veineuse quand DFG < 15.", {"potassium": 1})
    gp("2023-09-12", "Chute à domicile sans perte de connaissance.", "Hématome de la hanche droite, pas de fracture "
       "clinique. TA 118/68 mmHg debout.", "Chute mécanique sous anticoagulant : radiographie normale. "
       "Hypotension orthostatique : urapidil réduit.", {"chute": 3, "hta": 1})
    rlab("2024-03-12", 296, 16, 5.3, "DFG 16 mL/min/1,73 m². Kaliémie 5,3 mmol/L.",
         {"hb": 10.4, "ferr": 150, "pth": 256, "ca": 2.12, "phos": 1.7})
    neph("2024-03-26", "DFG 16 mL/min/1,73 m². PTH 256 pg/mL.", "TA 134/76 mmHg, poids 74 kg, pas d'œdème.",
         "Insuffisance rénale chronique stade 4 avancé. Choix de l'hémodialyse en centre. Cartographie veineuse "
         "des membres supérieurs demandée en vue d'une fistule artério-veineuse. Cinacalcet.", {"fistule": 2})
    cardio("2024-06-11", "Préparation de l'abord vasculaire pour hémodialyse. FA paroxystique.",
           "TA 138/80 mmHg, FC 62/min.", "Échocardiographie : FEVG 55 %, HVG. Pas de contre-indication cardiaque "
           "à la création d'une fistule. Apixaban à suspendre 48 heures avant le geste.",
           {"hta": 2, "fibrillation-atriale": 2, "fistule": 1})
    vsm(p, "2024-09-17", GP, [
        ("Antécédents", "Hypertension artérielle depuis 2000. Insuffisance rénale chronique (néphroangiosclérose) "
         "depuis 2014, stade 4. Fibrillation atriale paroxystique depuis 2015 sous apixaban. Anémie rénale sous "
         "darbépoétine. Hyperparathyroïdie secondaire. Goutte. Hyperkaliémie sévère en 2021."),
        ("Allergies", "Iode : réaction cutanée en 2010."),
        ("Traitement en cours", "Apixaban 2,5 mg x 2, bisoprolol 5 mg, amlodipine 10 mg, urapidil 30 mg, ramipril "
         "1,25 mg, patiromer, bicarbonate de sodium, carbonate de calcium, calcitriol, cinacalcet, darbépoétine, "
         "allopurinol 100 mg."),
        ("Points de vigilance", "Adapter toute posologie à la fonction rénale (DFG 16). Pas d'AINS, pas d'iode. "
         "Préserver les veines du bras gauche (future fistule).")],
        {"irc": 2, "hta": 1, "fibrillation-atriale": 1, "potassium": 1, "fistule": 1})
    rlab("2024-10-15", 318, 15, 5.2, "DFG 15 mL/min/1,73 m².", {"hb": 10.6})
    consult(p, "2025-01-14", "radio4", "Compte rendu d'écho-doppler veineux et artériel des membres supérieurs",
            [("Indication", "Cartographie avant création d'une fistule artério-veineuse pour hémodialyse."),
             ("Résultats", "Veine céphalique gauche de 3,1 mm au poignet, perméable et continue. Artère radiale "
              "gauche de 2,4 mm, flux triphasique. Côté droit : veine céphalique de 2,0 mm."),
             ("Conclusion", "Réseau favorable à une fistule radio-céphalique gauche.")],
            "doppler", {"vasc": 3, "nephro": 2, "mg": 1, "cardio": 1, "pharma": 0},
            {"fistule": 2}, type_="18748-4", slug="echo-doppler-membres-superieurs")
    consult(p, "2025-02-11", "vasc", "Compte rendu de consultation de chirurgie vasculaire",
            [("Motif", "Création d'un abord vasculaire pour hémodialyse."),
             ("Examen", "Pouls radial gauche bien perçu, test d'Allen normal. Cartographie du 14/01/2025 favorable."),
             ("Conclusion", "Fistule artério-veineuse radio-céphalique gauche programmée. Apixaban suspendu 48 heures "
              "avant, relais non nécessaire.")],
            "consult-vasc", {"vasc": 3, "nephro": 2, "mg": 1, "cardio": 1, "pharma": 0}, {"fistule": 3},
            copy="Dr Claire LEMOINE-TEST", slug="consultation-chirurgie-vasculaire")
    consult(p, "2025-03-18", "vasc", "Compte rendu opératoire",
            [("Intervention", "Création d'une fistule artério-veineuse radio-céphalique au poignet gauche."),
             ("Déroulement", "Anesthésie locorégionale. Anastomose termino-latérale veine céphalique - artère radiale. "
              "Thrill perçu en fin d'intervention."),
             ("Suites", "Surveillance du thrill. Ne pas prendre la tension ni prélever au bras gauche. "
              "Reprise de l'apixaban à J1. Contrôle écho-doppler à 6 semaines.")],
            "chirurgie", {"vasc": 3, "nephro": 3, "mg": 2, "cardio": 1, "pharma": 1}, {"fistule": 3},
            type_="34874-8", slug="compte-rendu-operatoire")
    rlab("2025-04-08", 331, 14, 5.5, "DFG 14 mL/min/1,73 m². Kaliémie 5,5 mmol/L.",
         {"hb": 10.1, "pth": 288, "ca": 2.1, "phos": 1.78})
    consult(p, "2025-05-06", "radio4", "Compte rendu d'écho-doppler de fistule artério-veineuse",
            [("Indication", "Contrôle de maturation de la fistule radio-céphalique gauche créée le 18/03/2025."),
             ("Résultats", "Débit 620 mL/min. Veine de drainage de 5,8 mm à 4 mm de profondeur. Pas de sténose."),
             ("Conclusion", "Fistule artério-veineuse mature, utilisable pour l'hémodialyse.")],
            "doppler", {"vasc": 3, "nephro": 3, "mg": 1, "cardio": 0, "pharma": 0},
            {"fistule": 3}, type_="18748-4", slug="echo-doppler-fistule")
    neph("2025-05-20", "Fistule radio-céphalique gauche mature (débit 620 mL/min). DFG 14, kaliémie 5,5 mmol/L.",
         "TA 140/78 mmHg, poids 73 kg. Thrill bien perçu.",
         "IRC stade 5 non dialysée. Début de l'hémodialyse à discuter selon les symptômes (urémie, surcharge, "
         "kaliémie). Patiromer augmenté à 16,8 g.", {"fistule": 2, "potassium": 2})
    prescription(p, "2025-05-20", NEPH, ["Patiromer 16,8 g : 1 sachet par jour", "Darbépoétine alfa 40 µg : 1 injection toutes les 2 semaines",
                 "Calcitriol 0,25 µg : 1 capsule par jour", "Cinacalcet 30 mg : 1 comprimé par jour",
                 "Carbonate de calcium 500 mg : 1 comprimé à chaque repas", "Bicarbonate de sodium 1 g : 2 gélules matin et soir"],
                 "Augmentation du patiromer et de la darbépoétine.", rel={"nephro": 2}, topics={"potassium": 1})
    dispensation(p, "2025-05-21", ["Patiromer 16,8 g", "Darbépoétine alfa 40 µg", "Calcitriol 0,25 µg", "Cinacalcet 30 mg",
                 "Carbonate de calcium 500 mg", "Bicarbonate de sodium 1 g", "Apixaban 2,5 mg"], author="pharma4",
                 note="Nouveau dosage de patiromer et de darbépoétine. Espacer le patiromer de 3 heures.",
                 topics={"potassium": 1})
    gp("2025-07-08", "Fatigue et perte d'appétit.", "TA 144/82 mmHg, poids 71 kg. Fistule : thrill perçu.",
       "Symptômes urémiques débutants probables : avis néphrologique avancé.", {"irc": 2})
    rlab("2025-07-15", 372, 12, 5.8, "DFG 12 mL/min/1,73 m². Kaliémie 5,8 mmol/L. Urée 24 mmol/L.",
         {"hb": 9.8, "uree": 24.0})
    neph("2025-07-29", "Asthénie, anorexie, perte de 3 kg. DFG 12, kaliémie 5,8 mmol/L.",
         "TA 146/84 mmHg, poids 70 kg, pas d'œdème. Fistule fonctionnelle.",
         "Syndrome urémique débutant : démarrage de l'hémodialyse en centre 3 séances par semaine sur la fistule "
         "radio-céphalique gauche, à partir du 18/08/2025.", {"fistule": 2, "potassium": 2})
    rlab("2025-10-14", 512, 9, 5.1, "Bilan pré-dialyse : créatinine 512 µmol/L, kaliémie 5,1 mmol/L.",
         {"hb": 10.8, "pth": 310, "ca": 2.2, "phos": 1.6}, topics={"irc": 1})
    vaccinations(p, "2025-10-21", "pharma4", [("2018-02-13", "Hépatite B (3 doses)", "HB-1802"),
                                             ("2024-10-15", "Grippe et COVID-19", "GR-2410"),
                                             ("2025-06-03", "Hépatite B, rappel (anti-HBs 8 UI/L)", "HB-2506"),
                                             ("2025-10-21", "Grippe", "GR-2510")],
                 "Patient hémodialysé : vaccination antigrippale annuelle, contrôle anti-HBs.")
    neph("2025-11-25", "Hémodialyse depuis le 18/08/2025 (3 x 4 h par semaine). Bonne tolérance.",
         "TA pré-dialyse 138/78 mmHg, poids sec 69 kg. Fistule : débit 900 mL/min.",
         "Insuffisance rénale chronique terminale en hémodialyse. Kt/V 1,4. Ramipril arrêté, patiromer arrêté "
         "(kaliémie contrôlée par la dialyse). Apixaban maintenu 2,5 mg x 2.", {"fistule": 2, "potassium": 1})
    prescription(p, "2025-11-25", NEPH, ["Apixaban 2,5 mg : 1 comprimé matin et soir", "Bisoprolol 5 mg : 1 comprimé le matin",
                 "Amlodipine 10 mg : 1 comprimé le soir", "Carbonate de calcium 500 mg : 1 comprimé à chaque repas",
                 "Cinacalcet 30 mg : 1 comprimé par jour", "Calcitriol 0,25 µg : 1 capsule les jours de dialyse",
                 "Allopurinol 100 mg : 1 comprimé un jour sur deux"],
                 "Arrêt du ramipril, de l'urapidil et du patiromer. Darbépoétine administrée en séance de dialyse.",
                 rel={"nephro": 2})
    dispensation(p, "2025-11-26", ["Apixaban 2,5 mg", "Bisoprolol 5 mg", "Amlodipine 10 mg", "Carbonate de calcium 500 mg",
                 "Cinacalcet 30 mg", "Calcitriol 0,25 µg", "Allopurinol 100 mg"], author="pharma4",
                 note="Plan de prise adapté aux jours de dialyse. Arrêts (ramipril, urapidil, patiromer) notés au dossier.")
    cardio("2026-02-10", "Hémodialysé depuis août 2025. FA paroxystique, épisodes en fin de séance.",
           "TA 128/72 mmHg, FC 70/min. ECG : rythme sinusal, HVG.",
           "Hypertension artérielle contrôlée par la dialyse. FA paroxystique : apixaban 2,5 mg x 2 maintenu "
           "(données limitées en dialyse, discuté avec le néphrologue).", {"hta": 2, "fibrillation-atriale": 3})
    rlab("2026-03-10", 548, 8, 5.3, "Bilan mensuel de dialyse (pré-dialyse).", {"hb": 11.2, "pth": 280, "ca": 2.24, "phos": 1.52},
         topics={"irc": 1})
    gp("2026-04-14", "Prurit diffus.", "Lésions de grattage, peau sèche. Fistule sans inflammation.",
       "Prurit urémique : émollients, avis néphrologique pour optimiser la dialyse.", {"prurit": 3, "irc": 1})
    consult(p, "2026-05-19", "radio4", "Compte rendu d'écho-doppler de fistule artério-veineuse",
            [("Indication", "Pressions veineuses élevées en dialyse."),
             ("Résultats", "Sténose de 65 % de la veine céphalique à 6 cm de l'anastomose. Débit 480 mL/min."),
             ("Conclusion", "Sténose significative de la veine de drainage : angioplastie à discuter.")],
            "doppler", {"vasc": 3, "nephro": 3, "mg": 1, "cardio": 0, "pharma": 0},
            {"fistule": 3}, type_="18748-4", slug="echo-doppler-fistule")
    consult(p, "2026-06-02", "vasc", "Compte rendu d'angioplastie de fistule artério-veineuse",
            [("Indication", "Sténose de 65 % de la veine céphalique de la fistule radio-céphalique gauche."),
             ("Geste", "Angioplastie au ballonnet haute pression 6 mm par voie percutanée. Sténose résiduelle < 20 %."),
             ("Conclusion", "Angioplastie réussie, débit restauré. Écho-doppler de contrôle à 3 mois.")],
            "chirurgie", {"vasc": 3, "nephro": 3, "mg": 1, "cardio": 0, "pharma": 0}, {"fistule": 3},
            type_="11505-5", slug="angioplastie-fistule")
    neph("2026-06-23", "Angioplastie de la fistule le 02/06/2026.", "TA pré-dialyse 134/76 mmHg, poids sec 68,5 kg.",
         "Dialyse efficace (Kt/V 1,5). Anémie contrôlée (hémoglobine 11,2 g/dL). Fistule fonctionnelle.",
         {"fistule": 2, "anemie": 1})
    rlab("2026-09-08", 561, 8, 5.6, "Bilan mensuel de dialyse : kaliémie pré-dialyse 5,6 mmol/L.",
         {"hb": 10.9, "pth": 262, "ca": 2.2, "phos": 1.66}, topics={"irc": 1})
    consult(p, "2026-09-15", "radio4", "Compte rendu d'écho-doppler de fistule artério-veineuse",
            [("Indication", "Contrôle à 3 mois de l'angioplastie de la fistule."),
             ("Résultats", "Pas de resténose. Débit 850 mL/min."),
             ("Conclusion", "Fistule artério-veineuse perméable, sans sténose.")],
            "doppler", {"vasc": 3, "nephro": 3, "mg": 1, "cardio": 0, "pharma": 0},
            {"fistule": 3}, type_="18748-4", slug="echo-doppler-fistule")
    neph("2026-10-20", "Kaliémie pré-dialyse 5,6 mmol/L en septembre. Fistule contrôlée sans resténose.",
         "TA 132/74 mmHg, poids sec 68 kg.", "Hémodialyse chronique stable. Régime pauvre en potassium rappelé ; "
         "bain de dialyse à 2 mmol/L de potassium. Prochain bilan trimestriel en décembre.",
         {"potassium": 3, "fistule": 1})
    prescription(p, "2026-10-20", NEPH, ["Apixaban 2,5 mg : 1 comprimé matin et soir", "Bisoprolol 5 mg : 1 comprimé le matin",
                 "Amlodipine 5 mg : 1 comprimé le soir", "Carbonate de calcium 500 mg : 1 comprimé à chaque repas",
                 "Cinacalcet 30 mg : 1 comprimé par jour", "Émollient : application 2 fois par jour"],
                 "Amlodipine réduite à 5 mg (hypotensions en fin de séance).", rel={"nephro": 2})
    dispensation(p, "2026-10-21", ["Apixaban 2,5 mg", "Bisoprolol 5 mg", "Amlodipine 5 mg", "Carbonate de calcium 500 mg",
                 "Cinacalcet 30 mg", "Émollient"], author="pharma4",
                 note="Changement de dosage de l'amlodipine (10 → 5 mg). Rappel : éviter les aliments riches en potassium.",
                 topics={"potassium": 1})
    gp("2026-11-10", "Suivi. Pas de plainte.", "TA 128/72 mmHg. Fistule : thrill perçu.",
       "Patient hémodialysé stable. Vaccination antigrippale faite en octobre.", {"irc": 1})
    return p


# ---- judgments ------------------------------------------------------------

# What a pharmacist may open (core/data/authorisations.tsv): the documents judged
# for a pharmacist are only those; a médecin or a sage-femme sees everything.
PHARMA_TYPES = {"60591-5", "57833-6", "60593-1", "11502-2", "11490-0", "11369-6"}

# Surface forms of a topic: a document that says one of them and was not
# tagged with the topic counts as mentioning it (strength 1).
FORMS = {
    "hta": ["hypertension arterielle", "hta"], "irc": ["insuffisance renale chronique", "irc", "maladie renale"],
    "creatinine": ["creatinine"], "potassium": ["potassium", "kaliemie", "hyperkaliemie"],
    "fistule": ["fistule"], "fond-d-oeil": ["fond d'oeil"], "oedeme-maculaire": ["oedeme maculaire"],
    "microalbuminurie": ["microalbuminurie"], "hba1c": ["hba1c", "hemoglobine glyquee"],
    "douleur-thoracique": ["douleur thoracique"], "toxoplasmose": ["toxoplasmose"],
    "diabete-gestationnel": ["diabete gestationnel"], "echographie": ["echographie"],
}


def fold(s):
    import unicodedata
    s = s.replace("œ", "oe").replace("Œ", "OE").replace("’", "'")
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c)).lower()


def years(a, b):
    return (b - a).days / 365.25


def current(p):
    newest = {}
    for d in p.docs:
        if d.set_id not in newest or d.version > newest[d.set_id].version:
            newest[d.set_id] = d
    return [d for d in p.docs if newest[d.set_id] is d]


def grade_browse(d, area, as_of, docs):
    r = d.rel.get(area, 0)
    age = years(d.date, as_of)
    latest = not any(o.kind == d.kind and o.rel.get(area, 0) >= 2 and o.date > d.date for o in docs)
    g = 0
    if r == 3:
        g = (3 if age <= 5 else 2) if latest else (2 if age <= 2 else 1)
    elif r == 2:
        g = 2 if (latest and age <= 3) or age <= 1 else (1 if age <= 4 else 0)
    elif r == 1:
        g = 1 if age <= 1 else 0
    if d.general:
        newest_of_kind = not any(o.kind == d.kind and o.date > d.date for o in docs)
        gg = 2 if age <= 2 else (1 if age <= 5 else 0)
        if d.kind in ("vsm", "vaccinations") and not newest_of_kind:
            gg = min(gg, 1)
        g = max(g, gg)
    return g


def strength(d, topic):
    s = d.topics.get(topic, 0)
    if s == 0 and any(f in fold(d.body) for f in FORMS[topic]):
        s = 1
    return s


def grade_words(d, topic, as_of, docs):
    s = strength(d, topic)
    age = years(d.date, as_of)
    if s == 3:
        newest = max(o.date for o in docs if strength(o, topic) == 3)
        return 3 if d.date == newest else (2 if age <= 3 else 1)
    if s == 2:
        return 2 if age <= 2 else 1
    if s == 1:
        return 1 if age <= 2 else 0
    return 0


VIEWERS = {  # area -> profession, specialty, label
    "cardio": ("10", "SM04"), "ophtalmo": ("10", "SM38"), "mg": ("10", "SM54"), "pharma": ("21", ""),
    "endo": ("10", "SM16"), "nephro": ("10", "SM30"), "obst": ("10", "SM20"), "sf": ("50", ""),
    "vasc": ("10", "SM13"),
}

CONTEXTS = {  # patient -> browse viewers, (viewer, words, topic)
    "P1": (["cardio", "ophtalmo", "mg", "pharma", "endo"],
           [("cardio", "douleur thoracique", "douleur-thoracique"), ("endo", "hémoglobine glyquée", "hba1c"),
            ("mg", "HTA", "hta")]),
    "P2": (["ophtalmo", "endo", "mg", "pharma", "nephro"],
           [("mg", "fond d'oeil", "fond-d-oeil"), ("ophtalmo", "œdème maculaire", "oedeme-maculaire"),
            ("nephro", "microalbuminurie", "microalbuminurie"), ("endo", "HbA1c", "hba1c")]),
    "P3": (["obst", "sf", "mg", "pharma", "endo"],
           [("sf", "diabète gestationnel", "diabete-gestationnel"), ("obst", "toxoplasmose", "toxoplasmose"),
            ("mg", "échographie", "echographie")]),
    "P4": (["nephro", "cardio", "mg", "pharma", "vasc"],
           [("nephro", "créatinine", "creatinine"), ("mg", "IRC", "irc"), ("pharma", "potassium", "potassium"),
            ("vasc", "fistule", "fistule")]),
}

# The results panel a clinician of each area wants on opening a record
# (issue 15): 2 the analytes they follow first, 1 those they look at too.
# Written from clinical practice, independently of carnet's panels.tsv.
PANEL_WANTS = {
    "cardio": ("bnp tropo k creat ldl", "inr hb dfg na hba1c ct hdl tg"),
    "endo": ("hba1c gly ldl acr tsh", "creat dfg ct hdl tg k h0 h1 h2"),
    "nephro": ("creat dfg k acr hb", "bicar ca phos pth ferr na uree"),
    "ophtalmo": ("hba1c", "gly ldl creat"),
    "mg": ("hba1c creat dfg k ldl", "hb na gly tsh bnp asat alat ggt inr acr ct hdl tg"),
    "pharma": ("creat dfg k inr", "asat alat ggt na hb plq"),
    "obst": ("hb toxo toxom rub h0 h1 h2 bhcg", "grp rai plq gly tsh"),
    "sf": ("hb toxo toxom rub h0 h1 h2 bhcg", "grp rai plq gly tsh"),
    "vasc": ("hb plq inr creat", "k dfg ldl"),
}
PANEL_TOPICS = {  # words -> the analytes they name (2), and those that go with them (1)
    "hba1c": ("hba1c", "gly"), "microalbuminurie": ("acr", "creat dfg"), "creatinine": ("creat", "dfg uree"),
    "potassium": ("k", "na creat dfg"), "diabete-gestationnel": ("h0 h1 h2", "gly hba1c"),
    "toxoplasmose": ("toxo toxom", ""), "irc": ("creat dfg", "k hb acr uree"),
}


def panel_value(v):
    return v if isinstance(v, str) else f"{v:g}"


def judge_panels(patients):
    """Rows of panels.tsv: per context, each wanted analyte the viewer can
    see in the record, its grade and its latest value as of the day."""
    rows = []
    for p in patients:
        docs = current(p)
        browse, worded = CONTEXTS[p.key]
        for area, words, topic in [(v, "", None) for v in browse] + list(worded):
            if topic and topic not in PANEL_TOPICS:
                continue
            prof, spec = VIEWERS[area]
            name = f"{p.key}-{area}-{topic or 'browse'}"
            core, more = PANEL_TOPICS[topic] if topic else PANEL_WANTS[area]
            grades = {k: 1 for k in more.split()}
            grades.update({k: 2 for k in core.split()})
            latest = {}  # (system, code) -> date, value, unit, grade: one row per coded analyte
            for d in docs:
                if not d.cda or (prof == "21" and d.type not in PHARMA_TYPES):
                    continue
                for _, rows_ in d.cda[1]:
                    for _, value, _, _, _, code in rows_:
                        if code not in grades:
                            continue
                        system, loinc, unit = CODES[code]
                        had = latest.get((system, loinc))
                        g = max(grades[code], had[3] if had else 0)
                        if not had or d.date >= had[0]:
                            latest[(system, loinc)] = (d.date, value, unit, g)
                        else:
                            latest[(system, loinc)] = had[:3] + (g,)
            for key in sorted(latest, key=lambda c: (-latest[c][3], c)):
                when, value, unit, g = latest[key]
                rows.append("\t".join([name, p.pid, prof, spec, p.as_of.isoformat(), words, key[0], key[1],
                                       str(g), when.isoformat(), panel_value(value), unit]))
    return rows


PANEL_HEADER = """\
# panels.tsv - what a clinician wants in the results panel (carnet-query
# --results) of each context of judgments.tsv: the analytes, and their
# latest value. Written by tools/gen-eval-corpus.py from clinical practice
# (PANEL_WANTS, PANEL_TOPICS there), independently of carnet's tables; the
# ground truth of the panel figures of `make eval`.
#
# One row per (context, analyte) that the record holds a value of, visible
# to that viewer. Grade 2: an analyte the viewer follows first; 1: one they
# look at too; an analyte not listed is not wanted. latest_date and value:
# the newest result of it on the day as_of (value as the report codes it).
# Contexts whose words name no analyte have no rows.
#
# context\tpatient_id\tprofession\tspecialty\tas_of\twords\tsystem\tcode\tgrade\tlatest_date\tvalue\tunit
"""

HEADER = """\
# judgments.tsv - graded relevance of the documents of corpora/eval, the
# ground truth of `make eval`. Written by tools/gen-eval-corpus.py from the
# clinical content of each document; independent of carnet's ranking tables.
#
# One row per (context, document) with a grade above 0; a document not
# listed for a context has grade 0. A context is one patient, one viewer
# (profession, specialty) and one query (words, empty for browse mode),
# looked at on the day as_of.
#
# Grades: what a clinician of that specialty wants to see FIRST on opening
# the record that day.
#   3  the newest document of a series that is the core of the viewer's
#      field (cardiologist: the latest ECG, echocardiography, cardiology
#      letter, NT-proBNP; ophthalmologist: the latest fundus / OCT report,
#      intravitreal injection; nephrologist: the latest renal function and
#      potassium, nephrology letter, fistula doppler; pharmacist: the latest
#      prescription and dispensation; GP: their latest consultation), when
#      it is less than 5 years old.
#   2  an older core document of less than 2 years; the newest document
#      that clearly bears on the field (a lab panel with the analytes the
#      viewer follows, a specialist letter for the GP); recent record-wide
#      documents: the medical summary (VSM), a discharge letter or the
#      vaccination history of less than 2 years.
#   1  older core documents (trend); related documents of less than 1 year;
#      record-wide documents of 2 to 5 years; superseded summaries.
#   0  unrelated or old documents (a sprained ankle 6 years ago for a
#      cardiologist).
# With words, the grade follows how much the document is about them:
#   3  the newest document whose subject they are (the latest creatinine
#      result for "créatinine");
#   2  an older document whose subject they are (less than 3 years, else 1),
#      or one that discusses them with results or a decision (less than 2
#      years, else 1);
#   1  a document that only mentions them, less than 2 years old.
# Abbreviations are judged as what they stand for ("HTA" = hypertension
# artérielle, "IRC" = insuffisance rénale chronique), as a clinician reads.
# A pharmacist (profession 21) is judged only on the documents the default
# authorisation matrix lets them read.
#
# context	patient_id	profession	specialty	as_of	words	doc_id	grade
"""


def judge(patients):
    rows = []
    for p in patients:
        docs = current(p)
        browse, worded = CONTEXTS[p.key]
        ctxs = [(v, "", None) for v in browse] + list(worded)
        for area, words, topic in ctxs:
            prof, spec = VIEWERS[area]
            name = f"{p.key}-{area}-{topic or 'browse'}"
            seen = [d for d in docs if prof != "21" or d.type in PHARMA_TYPES]
            graded = []
            for d in seen:
                g = grade_words(d, topic, p.as_of, seen) if topic else grade_browse(d, area, p.as_of, seen)
                if g > 0:
                    graded.append((d, g))
            if sum(1 for _, g in graded if g == 3) == 0:
                sys.exit(f"{name}: no document graded 3")
            graded.sort(key=lambda x: (-x[1], -x[0].date.toordinal(), x[0].id))
            for d, g in graded:
                rows.append("\t".join([name, p.pid, prof, spec, p.as_of.isoformat(), words, d.id, str(g)]))
    return rows


def main():
    if not os.path.isdir("tools"):
        sys.exit("run from the repository root")
    patients = [patient1(), patient2(), patient3(), patient4()]
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    for p in patients:
        if not 40 <= len(p.docs) <= 70:
            sys.exit(f"{p.key}: {len(p.docs)} documents")
        if any(d.date > p.as_of for d in p.docs):
            sys.exit(f"{p.key}: a document is dated after as_of")
        write(p)
    rows = judge(patients)
    with open(os.path.join(OUT, "judgments.tsv"), "w", encoding="utf-8") as f:
        f.write(HEADER)
        f.write("\n".join(rows) + "\n")
    panel_rows = judge_panels(patients)
    with open(os.path.join(OUT, "panels.tsv"), "w", encoding="utf-8") as f:
        f.write(PANEL_HEADER)
        f.write("\n".join(panel_rows) + "\n")
    for p in patients:
        print(f"{p.key} {p.folder}: {len(p.docs)} documents, {p.docs[0].date.year}-{p.docs[-1].date.year}")
    print(f"{len(rows)} judgments, {len(panel_rows)} panel rows")


if __name__ == "__main__":
    main()

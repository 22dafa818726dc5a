#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make_ci_sis.py - writes the CI-SIS-shaped CDA documents of tests/data/cda/
(cisis-*.xml; standard library only; run from this directory). The files
are kept in the repository; this script says how they were made and remakes
them. They were written for carnet: the patients, professionals and
establishments are invented (every name ends in -TEST), the clinical text
is ours. They follow the shape of the French CI-SIS documents (the common
header model, INS patient ids, G15 author codes, SAxx facility codes,
coded entries, nonXMLBody PDFs, the "autoprésentable" XSL wrapper) so that
the reader's features are tested without the ANS examples, which may not
be redistributed.

  cisis-ldl-ses.xml           discharge letter 11490-0: INS + a local id,
                              author, custodian, service period, facility
                              (SA01 by its displayName), nested sections,
                              conclusion-like titles, a treatment table
  cisis-bio-creatinine.xml    lab report 11502-2: results table, LOINC
                              entries with French display names
  cisis-bio-ecbu-v1.xml       urine culture, version 1 of a set
  cisis-bio-ecbu-v2.xml       version 2: relatedDocument RPLC naming v1
  cisis-obp-sne.xml           newborn delivery-room synthesis 57075-4:
                              INS-NIR (1.2.250.1.213.1.4.8) and a local id
  cisis-cse-cs8.xml           8th-day health certificate CERT_DECL: the
                              INS only; author G15_10/SM40
  cisis-vac.xml               vaccination history 11369-6: route, ATC and
                              approach-site coded entries; custodian by id
  cisis-pps-autopresentable.xml  the CDA inside an xsl:stylesheet (prefixed
                              HL7 namespace), author a pharmacist G15_21
  cisis-img-cr-n1.xml         imaging report 18748-4, nonXMLBody base64
                              PDF with text (structure level 1)
  cisis-doc-scan.xml          unstructured document, nonXMLBody PDF made of
                              an image only (a scan): no text
"""
import base64
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "pdf"))
from make_fixtures import build, text_page  # noqa: E402

INS_TEST = "1.2.250.1.213.1.4.10"  # INS-NIR of test identities
INS_NIR = "1.2.250.1.213.1.4.8"
RPPS = "1.2.250.1.71.4.2.1"
G15 = "1.2.250.1.213.1.1.4.5"
SA = "1.2.250.1.71.4.2.4"
LOINC = "2.16.840.1.113883.6.1"
OURS = "1.2.250.1.999.7"  # document ids of these fixtures

ODILE = dict(ids=[(INS_TEST, "257057512345637"), ("1.2.250.1.999.3.1", "IPP-0448120")],
             given="Odile", family="MERCIER-TEST", sex="F", birth="19570521")


def patient(p):
    ids = "".join('      <id root="%s" extension="%s"/>\n' % i for i in p["ids"])
    return ("  <recordTarget>\n    <patientRole>\n" + ids +
            "      <addr><streetAddressLine>12 rue des Tilleuls</streetAddressLine>"
            "<postalCode>33000</postalCode><city>Bordeaux</city></addr>\n"
            "      <patient>\n        <name><given>%s</given><family qualifier=\"BR\">%s</family></name>\n"
            "        <administrativeGenderCode code=\"%s\" codeSystem=\"2.16.840.1.113883.5.1\"/>\n"
            "        <birthTime value=\"%s\"/>\n      </patient>\n    </patientRole>\n"
            "  </recordTarget>\n") % (p["given"], p["family"], p["sex"], p["birth"])


def author(rpps, code, name, given, family, org, when):
    return ("  <author>\n    <time value=\"%s\"/>\n    <assignedAuthor>\n"
            "      <id root=\"%s\" extension=\"%s\"/>\n"
            "      <code code=\"%s\" displayName=\"%s\" codeSystem=\"%s\"/>\n"
            "      <assignedPerson><name><prefix>Dr</prefix><given>%s</given>"
            "<family>%s</family></name></assignedPerson>\n"
            "      <representedOrganization><name>%s</name></representedOrganization>\n"
            "    </assignedAuthor>\n  </author>\n") % (when, RPPS, rpps, code, name, G15,
                                                       given, family, org)


def custodian(name=None, ident=None):
    inner = ""
    if ident:
        inner += '<id root="1.2.250.1.71.4.2.2" extension="%s"/>' % ident
    if name:
        inner += "<name>%s</name>" % name
    return ("  <custodian><assignedCustodian><representedCustodianOrganization>%s"
            "</representedCustodianOrganization></assignedCustodian></custodian>\n") % inner


def cda(doc_id, set_id, version, code, display, title, when, pat, auth, cust,
        body, extra="", encounter="", prefix=""):
    head = ('<ClinicalDocument xmlns="urn:hl7-org:v3" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n')
    return (head +
            '  <realmCode code="FR"/>\n'
            '  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>\n'
            '  <templateId root="2.16.840.1.113883.2.8.2.1"/>\n'
            '  <templateId root="1.2.250.1.213.1.1.1.1"/>\n'
            '  <id root="%s"/>\n'
            '  <code code="%s" codeSystem="%s" displayName="%s"/>\n'
            '  <title>%s</title>\n'
            '  <effectiveTime value="%s"/>\n'
            '  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>\n'
            '  <languageCode code="fr-FR"/>\n'
            '  <setId root="%s"/>\n'
            '  <versionNumber value="%d"/>\n' % (doc_id, code, LOINC if code[0].isdigit()
                                                 else "1.2.250.1.213.1.1.4.12", display,
                                                 title, when, set_id, version) +
            patient(pat) + auth + cust + extra + encounter + body +
            "</ClinicalDocument>\n")


def structured(*sections):
    return ("  <component>\n    <structuredBody>\n" +
            "".join("      <component>\n%s      </component>\n" % s for s in sections) +
            "    </structuredBody>\n  </component>\n")


def section(title, text, code=None, entries="", sub=""):
    c = '<code code="%s" codeSystem="%s"/>' % (code, LOINC) if code else ""
    return ("        <section>%s<title>%s</title>\n          <text>%s</text>\n%s%s"
            "        </section>\n") % (c, title, text, entries, sub)


def non_xml(media, data):
    return ("  <component>\n    <nonXMLBody>\n      <text mediaType=\"%s\" representation=\"B64\">"
            "%s</text>\n    </nonXMLBody>\n  </component>\n") % (media,
                                                            base64.b64encode(data).decode())


def encounter(low, high, sa, sa_name, org=None):
    provider = ""
    if org:
        provider = "<serviceProviderOrganization><name>%s</name></serviceProviderOrganization>" % org
    return ("  <componentOf><encompassingEncounter>\n"
            "    <effectiveTime><low value=\"%s\"/><high value=\"%s\"/></effectiveTime>\n"
            "    <location><healthCareFacility><code code=\"%s\" displayName=\"%s\" "
            "codeSystem=\"%s\"/>%s</healthCareFacility></location>\n"
            "  </encompassingEncounter></componentOf>\n") % (low, high, sa, sa_name, SA, provider)


def service(low, high):
    return ("  <documentationOf><serviceEvent><effectiveTime><low value=\"%s\"/>"
            "<high value=\"%s\"/></effectiveTime></serviceEvent></documentationOf>\n") % (low, high)


def observation(code, display, value, unit):
    return ("          <entry><observation classCode=\"OBS\" moodCode=\"EVN\">"
            "<code code=\"%s\" codeSystem=\"%s\" displayName=\"%s\"/>"
            "<statusCode code=\"completed\"/>"
            "<value xsi:type=\"PQ\" value=\"%s\" unit=\"%s\"/></observation></entry>\n"
            % (code, LOINC, display, value, unit))


def ldl_ses():
    body = structured(
        section("Motif de l'hospitalisation",
                "<paragraph>Décompensation cardiaque globale sur fibrillation atriale rapide."
                "</paragraph>"),
        section("Séjour",
                "<paragraph>Hospitalisation du 2 au 9 mars 2026 en médecine interne.</paragraph>",
                sub="          <component>\n" +
                section("Synthèse médicale du séjour",
                        "<paragraph>Diurétiques intraveineux, ralentissement de la fréquence "
                        "par bêtabloquant, anticoagulation introduite. Perte de 4 kg.</paragraph>") +
                "          </component>\n"),
        section("Traitements à la sortie",
                "<table><thead><tr><th>Médicament</th><th>Posologie</th></tr></thead>"
                "<tbody><tr><td>Furosémide 40 mg</td><td>1 cp le matin</td></tr>"
                "<tr><td>Apixaban 5 mg</td><td>1 cp matin et soir</td></tr></tbody></table>",
                code="10183-2"))
    return cda(OURS + ".1.1", OURS + ".1", 1, "11490-0",
               "Lettre de liaison à la sortie d'un établissement de soins",
               "Lettre de liaison à la sortie de l'établissement de santé",
               "20260309170000+0100", ODILE,
               author("81000012345", "G15_10/SM27", "Médecine interne", "Paul", "VERDIER-TEST",
                      "Centre hospitalier de Valmont-TEST", "20260309170000+0100"),
               custodian(name="Centre hospitalier de Valmont-TEST"), body,
               extra=service("20260302", "20260309"),
               encounter=encounter("20260302", "20260309", "SA01",
                                   "Etablissement public de santé"))


def bio_creatinine():
    rows = [("Créatinine", "98 µmol/L", "(45 - 90)"), ("DFG estimé (CKD-EPI)", "52 mL/min/1,73m²",
                                                       "(&gt; 90)"),
            ("Potassium", "4.6 mmol/L", "(3.5 - 5.0)")]
    table = ("<table><thead><tr><th>Analyse</th><th>Résultat</th><th>Valeurs de référence</th>"
             "</tr></thead><tbody>" +
             "".join("<tr><td>%s</td><td>%s</td><td>%s</td></tr>" % r for r in rows) +
             "</tbody></table>")
    entries = (observation("14682-9", "Créatinine [Moles/Volume] Sérum/Plasma ; Numérique",
                           "98", "umol/L") +
               observation("6298-4", "Potassium [Moles/Volume] Sang ; Numérique", "4.6",
                           "mmol/L"))
    body = structured(section("Biochimie sanguine", table, entries=entries),
                      section("Commentaire du biologiste",
                              "<paragraph>Insuffisance rénale modérée, stable.</paragraph>"))
    return cda(OURS + ".2.1", OURS + ".2", 1, "11502-2", "CR d'examens biologiques",
               "Compte rendu d'examens biologiques", "20260212081500+0100", ODILE,
               author("81000012346", "G15_10/SM03", "Biologie médicale", "Hélène", "CARRE-TEST",
                      "Laboratoire des Chartrons-TEST", "20260212081500+0100"),
               custodian(name="Laboratoire des Chartrons-TEST"), body,
               extra=service("20260211", "20260212"))


def ecbu(version):
    if version == 1:
        result = ("<paragraph>Leucocyturie : 85 000 /mL. Hématurie : 3 000 /mL.</paragraph>"
                  "<paragraph>Culture en cours : résultat définitif à suivre.</paragraph>")
        extra = service("20260420", "20260420")
    else:
        result = ("<paragraph>Leucocyturie : 85 000 /mL. Hématurie : 3 000 /mL.</paragraph>"
                  "<paragraph>Culture : Escherichia coli 10^6 UFC/mL.</paragraph>"
                  "<table><tbody><tr><td>Amoxicilline</td><td>R</td></tr>"
                  "<tr><td>Céfixime</td><td>S</td></tr>"
                  "<tr><td>Nitrofurantoïne</td><td>S</td></tr></tbody></table>")
        extra = (service("20260420", "20260422") +
                 '  <relatedDocument typeCode="RPLC"><parentDocument><id root="%s"/>'
                 '</parentDocument></relatedDocument>\n' % (OURS + ".3.1"))
    body = structured(section("Examen cytobactériologique des urines", result,
                              entries=observation("630-4", "Bactéries identifiées Urine ; "
                                                  "Nominal", "1", "1")))
    return cda(OURS + ".3.%d" % version, OURS + ".3", version, "11502-2",
               "CR d'examens biologiques", "Compte rendu d'examens biologiques",
               "2026042%d160000+0200" % (0 if version == 1 else 2), ODILE,
               author("81000012346", "G15_10/SM03", "Biologie médicale", "Hélène", "CARRE-TEST",
                      "Laboratoire des Chartrons-TEST", "20260420160000+0200"),
               custodian(name="Laboratoire des Chartrons-TEST"), body, extra=extra)


def obp_sne():
    baby = dict(ids=[(INS_NIR, "226043306398763"), ("1.2.250.1.999.3.7", "NN-2026-0412")],
                given="Inès", family="GARNIER-TEST", sex="F", birth="20260411")
    body = structured(
        section("Naissance", "<paragraph>Née à 39 SA + 2 j par voie basse, présentation "
                "céphalique. Apgar 9 à 1 minute, 10 à 5 minutes.</paragraph>"),
        section("Examen du nouveau-né", "<list><item>Poids : 3 240 g</item>"
                "<item>Taille : 49 cm</item><item>Périmètre crânien : 34 cm</item></list>"))
    return cda(OURS + ".4.1", OURS + ".4", 1, "57075-4", "Synthèse salle de naissance enfant",
               "Synthèse Salle de Naissance Enfant", "20260411093000+0200", baby,
               author("81000012347", "G15_10/SM20", "Gynécologie-obstétrique", "Sarah",
                      "LAMBERT-TEST", "Maternité des Pins-TEST", "20260411093000+0200"),
               custodian(name="Maternité des Pins-TEST"), body,
               encounter=encounter("20260411", "20260411", "SA01", "Etablissement public de santé",
                                   org="Maternité des Pins-TEST"))


def cse_cs8():
    child = dict(ids=[(INS_TEST, "126017512398741")], given="Timéo", family="ROBIN-TEST",
                 sex="M", birth="20260105")
    body = structured(
        section("Examen clinique", "<paragraph>Examen normal. Réflexes archaïques présents. "
                "Hanches stables.</paragraph>"),
        section("Dépistages", "<paragraph>Dépistage auditif néonatal : normal des deux côtés."
                "</paragraph>"))
    return cda(OURS + ".5.1", OURS + ".5", 1, "CERT_DECL", "Certificat, déclaration",
               "Premier certificat de santé de l'enfant", "20260112110000+0100", child,
               author("81000012348", "G15_10/SM40", "Pédiatrie", "Marc", "DUVAL-TEST",
                      "Cabinet de pédiatrie des Quais-TEST", "20260112110000+0100"),
               custodian(name="Cabinet de pédiatrie des Quais-TEST"), body)


def vac():
    entry = ("          <entry><substanceAdministration classCode=\"SBADM\" moodCode=\"EVN\">"
             "<effectiveTime value=\"20260305\"/>"
             "<routeCode code=\"20035000\" codeSystem=\"0.4.0.127.0.16.1.1.2.1\" "
             "displayName=\"voie intramusculaire\"/>"
             "<approachSiteCode code=\"LA\" codeSystem=\"2.16.840.1.113883.5.1052\" "
             "displayName=\"bras gauche\"/>"
             "<consumable><manufacturedProduct><manufacturedMaterial>"
             "<code code=\"J07BB02\" codeSystem=\"2.16.840.1.113883.6.73\" "
             "displayName=\"vaccin grippal, antigène de surface inactivé\"/>"
             "<lotNumberText>TEST-8812</lotNumberText>"
             "</manufacturedMaterial></manufacturedProduct></consumable>"
             "</substanceAdministration></entry>\n")
    body = structured(section("Vaccinations",
                              "<table><tbody><tr><td>05/03/2026</td><td>Grippe saisonnière</td>"
                              "<td>lot TEST-8812</td></tr></tbody></table>", entries=entry))
    return cda(OURS + ".6.1", OURS + ".6", 1, "11369-6", "Historique de vaccinations",
               "Historique de vaccinations", "20260305100000+0100", ODILE,
               author("81000012349", "G15_10/SM26", "Qualifié en Médecine Générale", "Luc",
                      "FERRAND-TEST", "Cabinet médical du Parc-TEST", "20260305100000+0100"),
               custodian(ident="330000000123"), body)


def pps_autopresentable():
    body = structured(
        section("Traitements du cancer", "<paragraph>Hormonothérapie adjuvante par "
                "létrozole pendant cinq ans.</paragraph>"),
        section("Soins de support", "<paragraph>Activité physique adaptée, consultation "
                "diététique.</paragraph>"))
    doc = cda(OURS + ".7.1", OURS + ".7", 1, "18776-5", "Plan de soins",
              "Programme personnalisé de soins", "20260115140000+0100", ODILE,
              author("81000012350", "G15_21", "Pharmacien", "Anne", "JOLY-TEST",
                     "Pharmacie du Centre-TEST", "20260115140000+0100"),
              custodian(name="Centre hospitalier de Valmont-TEST"), body)
    # the same CDA with every element prefixed hl7:, inside the stylesheet
    import re
    doc = re.sub(r"<(/?)([A-Za-z])", r"<\1hl7:\2", doc)
    doc = doc.replace('<hl7:ClinicalDocument xmlns="urn:hl7-org:v3" ',
                      '<hl7:ClinicalDocument ')
    doc = "\n".join("    " + line for line in doc.splitlines())
    return ('<?xml-stylesheet type="text/xsl" href="#"?>\n'
            '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"\n'
            '  xmlns:hl7="urn:hl7-org:v3" xmlns:data="urn:asip-sante:ci-sis">\n'
            '  <data:Contenu>\n' + doc + '\n  </data:Contenu>\n'
            '  <xsl:output method="html" encoding="UTF-8"/>\n'
            '  <xsl:template match="/">\n'
            '    <html><body><h1><xsl:value-of select="//hl7:ClinicalDocument/hl7:title"/></h1>'
            '</body></html>\n'
            '  </xsl:template>\n'
            '</xsl:stylesheet>\n')


def img_cr_n1():
    pdf = build([text_page(["Scanner thoracique sans injection",
                            "Nodule pulmonaire de 6 mm du lobe moyen.",
                            "Conclusion : contrôle à 6 mois."])])
    return cda(OURS + ".8.1", OURS + ".8", 1, "18748-4", "CR d'imagerie médicale",
               "Compte rendu d'imagerie médicale", "20260601150000+0200", ODILE,
               author("81000012351", "G15_10/SM44", "Radio-diagnostic", "Yves", "MORIN-TEST",
                      "Centre d'imagerie de la Garonne-TEST", "20260601150000+0200"),
               custodian(name="Centre d'imagerie de la Garonne-TEST"),
               non_xml("application/pdf", pdf))


def doc_scan():
    # one page showing an 8 x 8 grey image and nothing else: a scan
    pixels = bytes((x * 32 + y * 4) & 0xFF for y in range(8) for x in range(8))
    page = (b"q 451 0 0 698 72 72 cm\nBI /W 8 /H 8 /CS /G /BPC 8 ID\n" + pixels +
            b"\nEI\nQ")
    pdf = build([page])
    return cda(OURS + ".9.1", OURS + ".9", 1, "11488-4", "Compte rendu de consultation",
               "Courrier numérisé", "20260710090000+0200", ODILE,
               author("81000012349", "G15_10/SM26", "Qualifié en Médecine Générale", "Luc",
                      "FERRAND-TEST", "Cabinet médical du Parc-TEST", "20260710090000+0200"),
               custodian(name="Cabinet médical du Parc-TEST"), non_xml("application/pdf", pdf))


def main():
    files = {
        "cisis-ldl-ses.xml": ldl_ses(),
        "cisis-bio-creatinine.xml": bio_creatinine(),
        "cisis-bio-ecbu-v1.xml": ecbu(1),
        "cisis-bio-ecbu-v2.xml": ecbu(2),
        "cisis-obp-sne.xml": obp_sne(),
        "cisis-cse-cs8.xml": cse_cs8(),
        "cisis-vac.xml": vac(),
        "cisis-pps-autopresentable.xml": pps_autopresentable(),
        "cisis-img-cr-n1.xml": img_cr_n1(),
        "cisis-doc-scan.xml": doc_scan(),
    }
    for name, text in files.items():
        with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n' + text)


if __name__ == "__main__":
    main()

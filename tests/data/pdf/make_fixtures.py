#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make_fixtures.py - writes the small hand-made PDFs of tests/data/pdf/
(standard library only; run from this directory). The fixtures are kept in
the repository; this script says how they were made and remakes them.

  echo.pdf              one page, "Compte rendu d'échocardiographie" and a
                        second line, Helvetica with WinAnsiEncoding
  two-pages.pdf         two pages of text, to check the page separator
  no-text.pdf           one page that only draws a rectangle (a "scan")
  no-pages.pdf          a page tree with no page
  encrypted.pdf         RC4 40-bit standard security, user password "secret"
  encrypted-open.pdf    the same with an empty user password (opens, reads)
  truncated.pdf         the first 300 bytes of echo.pdf
  random.pdf            4096 pseudo-random bytes (fixed seed)
  empty.pdf             0 bytes
"""
import hashlib
import random
import struct

PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def rc4(key, data):
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 0xFF
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for c in data:
        i = (i + 1) & 0xFF
        j = (j + s[i]) & 0xFF
        s[i], s[j] = s[j], s[i]
        out.append(c ^ s[(s[i] + s[j]) & 0xFF])
    return bytes(out)


def pdf_string(b):
    return b"<" + b.hex().encode() + b">"


class Security:
    """Standard security handler, revision 2 (40-bit RC4), PDF 1.7 7.6.3."""

    def __init__(self, user, owner, file_id, perms=-4):
        self.file_id = file_id
        self.p = perms
        opad = (owner + PAD)[:32]
        okey = hashlib.md5(opad).digest()[:5]
        upad = (user + PAD)[:32]
        self.o = rc4(okey, upad)
        h = hashlib.md5(upad + self.o + struct.pack("<i", perms) + file_id)
        self.key = h.digest()[:5]
        self.u = rc4(self.key, PAD)

    def obj_key(self, num, gen):
        k = self.key + struct.pack("<i", num)[:3] + struct.pack("<i", gen)[:2]
        return hashlib.md5(k).digest()[: min(len(self.key) + 5, 16)]

    def dict(self):
        return (b"<< /Filter /Standard /V 1 /R 2 /O " + pdf_string(self.o) +
                b" /U " + pdf_string(self.u) + b" /P " + str(self.p).encode() + b" >>")


def build(pages, security=None, extra_catalog=b""):
    """pages: list of content streams (bytes). Returns the PDF bytes."""
    file_id = hashlib.md5(b"carnet" + b"".join(pages)).digest()
    sec = security(file_id) if security else None
    objs = {}
    n_pages = len(pages)
    font = 3
    first_page = 4
    kids = b" ".join(b"%d 0 R" % (first_page + 2 * i) for i in range(n_pages))
    objs[1] = b"<< /Type /Catalog /Pages 2 0 R " + extra_catalog + b">>"
    objs[2] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % n_pages
    objs[font] = (b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                  b"/Encoding /WinAnsiEncoding >>")
    for i, content in enumerate(pages):
        page = first_page + 2 * i
        objs[page] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                      b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
                      % (page + 1))
        data = content
        if sec:
            data = rc4(sec.obj_key(page + 1, 0), data)
        objs[page + 1] = (b"<< /Length %d >>\nstream\n" % len(data) + data +
                          b"\nendstream")
    enc_num = None
    if sec:
        enc_num = max(objs) + 1
        objs[enc_num] = sec.dict()
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objs):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    xref = len(out)
    size = max(objs) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        out += b"%010d 00000 n \n" % offsets[num]
    trailer = b"<< /Size %d /Root 1 0 R /ID [" % size + pdf_string(file_id) * 2 + b"]"
    if sec:
        trailer += b" /Encrypt %d 0 R" % enc_num
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def text_page(lines):
    ops = [b"BT", b"/F1 14 Tf", b"72 760 Td", b"18 TL"]
    for line in lines:
        s = line.encode("cp1252")
        s = s.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
        ops.append(b"(" + s + b") Tj T*")
    ops.append(b"ET")
    return b"\n".join(ops)


ECHO = text_page(["Compte rendu d'échocardiographie",
                  "Fraction d'éjection ventriculaire gauche : 60 %"])


def main():
    echo = build([ECHO])
    files = {
        "echo.pdf": echo,
        "two-pages.pdf": build([text_page(["Première page"]),
                                text_page(["Seconde page"])]),
        "no-text.pdf": build([b"0.5 g 72 72 451 698 re f"]),
        "no-pages.pdf": build([]),
        "encrypted.pdf": build([ECHO], lambda fid: Security(b"secret", b"owner", fid)),
        "encrypted-open.pdf": build([ECHO], lambda fid: Security(b"", b"owner", fid)),
        "truncated.pdf": echo[:300],
        "random.pdf": random.Random(20261128).randbytes(4096),
        "empty.pdf": b"",
    }
    for name, data in files.items():
        with open(name, "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()

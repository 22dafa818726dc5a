#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test_page.py - the professional's page in a real browser: carnet-serve
over the sample corpus on loopback, headless Chromium driven through
chromedriver's WebDriver API (HTTP, standard library only). A cardiologist
and an ophthalmologist open the same record, search, open a document;
screenshots are kept in BUILD/page-*.png.

usage: test_page.py BUILD_DIR   (run by make check; exit 0 pass, 1 fail)"""
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
PATIENT = "urn:oid:1.2.250.1.213.1.4.8|158047511203495"  # corpora/sample p1
PATIENT2 = "urn:oid:1.2.250.1.213.1.4.8|280096912304532"  # p2: diabetes, retinopathy, heart
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait(pred, what, seconds=20):
    end = time.time() + seconds
    while time.time() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(what)


class Driver:
    """The few WebDriver commands the test needs."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": shutil.which("chromium") or "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,800", "--lang=fr-FR"]}}}}
        self.sid = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read() or b"{}").get("value", {})

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.sid}{path}", body)

    def go(self, url):
        self.s("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def shot(self, name):
        png = base64.b64decode(self.s("GET", "/screenshot"))
        path = os.path.join(BUILD, f"page-{name}.png")
        with open(path, "wb") as f:
            f.write(png)
        return path

    def quit(self):
        try:
            self.s("DELETE", "")
        except Exception:
            pass


def texts(d, selector):
    return d.js("return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)",
                selector)


def open_record(d, url, token, patient=PATIENT):
    d.go("about:blank")  # a new page load, not a change of fragment
    d.go(f"{url}/#token={token}&patient={urllib.parse.quote(patient)}")
    wait(lambda: d.js("return document.querySelectorAll('#hits li').length"), "hits shown")
    wait(lambda: d.js("return document.querySelectorAll('#timeline .dot').length"), "timeline")


def main():
    import urllib.parse  # noqa: F401  (used through urllib.parse in open_record)
    for prog in ("chromium", "chromedriver"):
        if not shutil.which(prog) and not os.path.exists(f"/usr/bin/{prog}"):
            print(f"FAIL {prog} is not installed (tools/deps.sh installs it)")
            return 1
    tmp = tempfile.mkdtemp(prefix="carnet-page-")
    procs = []
    d = None
    try:
        home, keys = os.path.join(tmp, "idx"), os.path.join(tmp, "keys")
        subprocess.run([f"{BUILD}/carnet-index", "--index", home, "--quiet", "add", "corpora/sample"],
                       check=True, timeout=120)

        def token(spec):
            return subprocess.run([f"{BUILD}/carnet-demo-token", keys, "--specialty", spec],
                                  check=True, capture_output=True, text=True, timeout=30).stdout.strip()
        cardio, ophtalmo = token("SM04"), token("SM38")
        serve = subprocess.Popen([f"{BUILD}/carnet-serve", "--index", home, "--listen", "127.0.0.1:0",
                                  "--jwks", os.path.join(keys, "jwks.json"), "--issuer", "carnet-demo",
                                  "--audience", "carnet", "--insecure-loopback"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(serve)
        line = serve.stdout.readline()
        check("listening on http://127.0.0.1:" in line, f"carnet-serve started ({line.strip()})")
        url = line.split("listening on ")[1].strip().rsplit("/fhir", 1)[0]
        dport = free_port()
        procs.append(subprocess.Popen(["chromedriver", f"--port={dport}"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        wait(lambda: socket.socket().connect_ex(("127.0.0.1", dport)) == 0, "chromedriver", 20)
        d = Driver(dport)

        # a cardiologist opens the record
        open_record(d, url, cardio)
        check(len(texts(d, "#hits li")) >= 5, "the cardiologist's first page lists documents")
        check(d.js("return document.querySelectorAll('#timeline .dot.key').length") > 0,
              "the timeline makes the viewer's documents stand out")
        # the filters come from their own request ($facets)
        wait(lambda: len(texts(d, "#facets label")) >= 2, "filters shown")
        check(len(texts(d, "#facets label")) >= 2, "filters by class and type")
        lefts = d.js("return [...document.querySelectorAll('#timeline .dot')].map(e => e.style.left)")
        check(len(set(lefts)) > 3, f"the timeline spreads the documents over the years ({len(set(lefts))} places)")
        check("Pourquoi ici" in " ".join(texts(d, "#hits .why summary")) and
              "spécialité" in " ".join(texts(d, "#hits .why p")), "each hit says why it is there")
        wait(lambda: not d.js("return document.getElementById('results-panel').hidden"), "results panel")
        panel = texts(d, "#panel td")
        check(panel and panel[0] == "NT-proBNP",
              f"the cardiologist's key results start with NT-proBNP ({panel[:3]})")
        check(d.js("return document.documentElement.scrollWidth <= window.innerWidth"),
              "no horizontal scrolling at 1280x800")
        print("     screenshot:", d.shot("cardiologist"))

        # words typed: highlighted snippets
        d.js("document.getElementById('words').value = arguments[0];"
             "document.getElementById('search-form').requestSubmit()", "echocardiographie")
        wait(lambda: "echocardiographie" in " ".join(texts(d, "#status")), "search status")
        check(d.js("return document.querySelectorAll('#hits mark').length") > 0,
              "the words are marked in the snippets")
        # a filter narrows the list to the count its label gives
        d.js("document.getElementById('words').value = '';"
             "document.getElementById('search-form').requestSubmit()")
        wait(lambda: "classés pour vous" in " ".join(texts(d, "#status")), "browse again")
        wait(lambda: texts(d, "#facets label"), "filters shown again")
        whole = d.js("return document.getElementById('status').textContent")
        label = texts(d, "#facets label")[0]  # "Compte rendu (11)"
        want = int(label.rsplit("(", 1)[1].rstrip(")"))
        d.js("document.querySelector('#facets input').click()")
        wait(lambda: f"sur {want} document" in d.js("return document.getElementById('status').textContent"),
             f"filtered to {want}")
        check(f"sur {want} document" not in whole,
              f"a filter narrows the list to its count ({label}; before: {whole.strip()})")

        # open a document
        d.js("document.querySelector('#hits li .title').click()")
        wait(lambda: d.js("return document.getElementById('viewer-dialog').open"), "dialog")
        wait(lambda: d.js("return document.querySelectorAll('#doc-body h3, #doc-body iframe, "
                          "#doc-body pre').length"), "document shown", 20)
        body = d.js("return document.getElementById('doc-body').textContent")
        check(d.js("return document.querySelectorAll('#doc-body .error').length") == 0,
              f"the document opens ({body[:60].strip()!r})")
        print("     screenshot:", d.shot("document"))
        d.js("document.getElementById('doc-close').click()")

        # a CDA document: the service's rendering, in a sandboxed frame
        d.js("document.querySelectorAll('#facets input:checked').forEach((e) => e.click())")
        d.js("document.getElementById('words').value = 'biologique';"
             "document.getElementById('search-form').requestSubmit()")
        wait(lambda: d.js("return document.querySelectorAll('#hits li[data-content-type*=xml]').length"),
             "a CDA hit")
        d.js("document.querySelector('#hits li[data-content-type*=xml] .title').click()")
        wait(lambda: d.js("return document.getElementById('viewer-dialog').open"), "dialog (CDA)")
        frame = wait(lambda: d.s("POST", "/elements", {"using": "css selector",
                                                        "value": "#doc-body iframe"}), "CDA frame")
        check(d.js("return document.querySelector('#doc-body iframe').getAttribute('sandbox')") == "",
              "the rendering is shown in a sandboxed frame, without scripts")
        d.s("POST", "/frame", {"id": frame[0]})
        wait(lambda: d.js("return document.querySelectorAll('h1').length"), "the rendering loads")
        heads = d.js("return [...document.querySelectorAll('h2, h3')].map(e => e.textContent)")
        header = d.js("return document.querySelector('header').textContent")
        cells = d.js("return document.querySelectorAll('main td').length")
        scripts = d.js("return document.querySelectorAll('script, [onclick], link, img').length")
        d.s("POST", "/frame/parent", {})
        check(len(heads) >= 2, f"the CDA's sections have headings ({heads[:3]})")
        check("Patient" in header and "Auteur" in header and "DUPONT" in header.upper(),
              f"the CDA's header names the patient and the author ({header[:80]!r})")
        check(cells > 0, f"the CDA's narrative tables are tables ({cells} cells)")
        check(scripts == 0, "the rendering carries no script, handler, link or image")
        print("     screenshot:", d.shot("cda"))
        d.js("document.getElementById('doc-close').click()")

        # a cardiologist and an ophthalmologist open the same record
        d.js("sessionStorage.clear()")
        open_record(d, url, cardio, PATIENT2)
        cardio_page = texts(d, "#hits li .title")[:5]
        d.js("sessionStorage.clear()")
        open_record(d, url, ophtalmo, PATIENT2)
        ophtalmo_page = texts(d, "#hits li .title")[:5]
        check(cardio_page[0] != ophtalmo_page[0] and
              any("ophtalm" in t.lower() or "fond d" in t.lower() or "rétin" in t.lower()
                  for t in ophtalmo_page[:3]),
              f"the ophthalmologist's first page is theirs ({ophtalmo_page[0][:45]!r}; "
              f"the cardiologist's: {cardio_page[0][:45]!r})")
        print("     screenshot:", d.shot("ophthalmologist"))

        # a bad token: refused, and the page says so
        d.js("sessionStorage.clear()")
        d.go("about:blank")
        d.go(f"{url}/#token=not.a.token&patient={urllib.parse.quote(PATIENT)}")
        wait(lambda: "401" in d.js("return document.body.textContent"), "refusal shown")
        check(not d.js("return document.getElementById('token-box').hidden"),
              "a refused token asks for another one")
        check(d.js("return document.querySelectorAll('#hits li').length") == 0,
              "nothing is shown with a bad token")
    except Exception as e:  # a timeout or a crash is a failure, named
        failures.append(repr(e))
        print("FAIL", repr(e))
        if d:
            try:
                print("     screenshot:", d.shot("failure"))
            except Exception:
                pass
    finally:
        if d:
            d.quit()
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"test_page: {'FAILED: ' + '; '.join(failures) if failures else 'all checks passed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    import urllib.parse
    sys.exit(main())

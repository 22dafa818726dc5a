// SPDX-License-Identifier: GPL-2.0-or-later
// app.js - the professional's view of one record: the ranked documents, why
// each is there, filters, the record's timeline, the key results, and the
// documents themselves. Everything comes from carnet-serve's FHIR API with
// the caller's token; nothing from a document is ever parsed as HTML here
// (text nodes only): a document's own HTML, and a CDA document as the
// service renders it (_format=html), are shown in a sandboxed frame.
'use strict';

const FHIR = '/fhir';
const SD = 'https://carnet.example/fhir/StructureDefinition/';
const PAGE = 20;
const RECORD_MAX = 500; // documents the timeline reads

const CLASS_LABELS = {
  '10': 'Compte rendu', '11': 'Synthèse', '31': 'Imagerie médicale', '42': 'Prescription',
  '43': 'Dispensation', '44': 'Plan de soins', '45': 'Traitement administré',
  '52': 'Certificat, déclaration', '60': 'Remboursement', '90': 'Déposé par le patient',
};

const state = {
  token: '', patient: '', words: '', offset: 0, total: 0, emergency: false,
  filters: { category: new Set(), type: new Set(), 'author.specialty': new Set() },
  record: [], // the whole record, ranked for the viewer (browse)
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// ---- the token and who it names ----

function decodeClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    return null;
  }
}

function viewerText(claims) {
  if (!claims) return '';
  if (claims.role === 'patient') return 'Connecté en tant que patient';
  if (claims.role === 'legal-representative') return 'Connecté en tant que représentant légal';
  const ex = (claims.SubjectRefPro && claims.SubjectRefPro.exercices || [])[0] || {};
  const who = claims.SubjectNameID ? `RPPS ${claims.SubjectNameID}` : 'professionnel';
  const spec = ex.codeSavoirFaire ? `, spécialité ${ex.codeSavoirFaire}` : '';
  return `${who} — profession ${ex.codeProfession || '?'}${spec}`;
}

function takeFragment() {
  const frag = new URLSearchParams(location.hash.slice(1));
  if (frag.get('token')) sessionStorage.setItem('carnet-token', frag.get('token'));
  if (frag.get('patient')) $('patient').value = frag.get('patient');
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  state.token = sessionStorage.getItem('carnet-token') || '';
}

// ---- the API ----

async function api(path) {
  const r = await fetch(path, {
    headers: { Authorization: `Bearer ${state.token}`, Accept: 'application/fhir+json' },
  });
  if (r.ok) return r;
  let why = `${r.status} ${r.statusText}`;
  try {
    const oo = await r.json();
    const issue = (oo.issue || [])[0];
    if (issue) why = `${r.status} : ${issue.diagnostics || issue.code}`;
  } catch (e) { /* not an OperationOutcome */ }
  if (r.status === 401) $('token-box').hidden = false;
  throw new Error(why);
}

function patientParam() {
  const p = state.patient.trim();
  // an INS alone: the NIR system
  return p.includes('|') ? p : `urn:oid:1.2.250.1.213.1.4.8|${p}`;
}

function searchUrl(words, offset, count, filters) {
  const q = new URLSearchParams();
  q.set('patient.identifier', patientParam());
  if (words) q.set('_text', words);
  q.set('_count', String(count));
  q.set('_offset', String(offset));
  if (state.emergency) q.set('_emergency', 'true');
  for (const c of (filters ? filters.category : [])) q.append('category', c);
  for (const t of (filters ? filters.type : [])) q.append('type', t);
  for (const s of (filters ? filters['author.specialty'] : [])) q.append('author.specialty', s);
  return `${FHIR}/DocumentReference?${q}`;
}

// The $facets operation: what the words find, counted by class, type,
// author specialty and year (the filters' own choices aside).
function facetsUrl(words) {
  const q = new URLSearchParams();
  q.set('patient.identifier', patientParam());
  if (words) q.set('_text', words);
  if (state.emergency) q.set('_emergency', 'true');
  return `${FHIR}/DocumentReference/$facets?${q}`;
}

// ---- a hit ----

function ext(resource, name) {
  return (resource.extension || []).find((x) => x.url === SD + name);
}

function parts(resource) {
  const score = ext(resource, 'carnet-score');
  const out = {};
  for (const p of (score && score.extension) || []) out[p.url] = p.valueDecimal;
  return out;
}

function hitOf(entry) {
  const d = entry.resource;
  const type = ((d.type || {}).coding || [])[0] || {};
  const cls = (((d.category || [])[0] || {}).coding || [])[0] || {};
  const role = (d.contained || []).find((c) => c.resourceType === 'PractitionerRole') || {};
  const spec = (((role.specialty || [])[0] || {}).coding || [])[0] || {};
  const att = ((d.content || [])[0] || {}).attachment || {};
  const snip = ext(d, 'carnet-snippet');
  return {
    id: (d.masterIdentifier || {}).value || d.id,
    date: (d.date || '').slice(0, 10),
    type: type.display || type.code || 'Document',
    typeCode: type.code || '',
    cls: cls.code || '',
    clsLabel: cls.display || CLASS_LABELS[cls.code] || cls.code || 'Autre',
    spec: spec.display || spec.code || '',
    title: d.description || att.title || type.display || 'Document',
    url: att.url, contentType: att.contentType || '',
    snippet: snip ? snip.valueString : '',
    parts: parts(d), score: (entry.search || {}).score,
  };
}

function frDate(iso) {
  if (!iso) return '';
  const [y, m, d] = iso.split('-');
  return `${d}/${m}/${y}`;
}

function age(days) {
  if (days === undefined) return '';
  if (days < 1) return "aujourd'hui";
  if (days < 60) return `il y a ${Math.round(days)} jours`;
  if (days < 730) return `il y a ${Math.round(days / 30.4)} mois`;
  return `il y a ${Math.round(days / 365.25)} ans`;
}

function level(x) {
  return x >= 0.66 ? 'forte' : x >= 0.33 ? 'moyenne' : 'faible';
}

// Why the hit is there, in words a clinician reads.
function why(h, withWords) {
  const p = h.parts;
  const items = [];
  if (withWords) items.push(`Vos mots : pertinence ${level(p.textRelevance || 0)}`);
  items.push(`Votre spécialité : affinité ${level(p.affinity || 0)}`);
  items.push(`Récence : ${age(p.ageDays)}`);
  return items.join(' · ');
}

// The snippet: the service marks words with <b></b> and escapes the rest;
// it is split, never parsed as HTML.
function snippetNode(s) {
  const unescape = (t) => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const p = el('p', { class: 'snippet' });
  s.split(/(<b>.*?<\/b>)/).forEach((part) => {
    if (part.startsWith('<b>')) p.append(el('mark', {}, unescape(part.slice(3, -4))));
    else if (part) p.append(unescape(part));
  });
  return p;
}

function hitNode(h, rank, withWords) {
  return el('li', { class: 'hit', 'data-content-type': h.contentType },
    el('div', { class: 'meta' },
      el('span', { class: 'date' }, frDate(h.date)), ' · ',
      el('span', { class: 'type' }, h.type),
      h.spec ? [' · ', el('span', { class: 'spec' }, h.spec)] : null),
    el('button', { class: 'title', type: 'button', onclick: () => openDoc(h),
                   'aria-label': `Ouvrir : ${h.title}, ${frDate(h.date)}` }, `${rank}. ${h.title}`),
    h.snippet ? snippetNode(h.snippet) : null,
    el('details', { class: 'why' }, el('summary', {}, 'Pourquoi ici ?'),
      el('p', {}, why(h, withWords))));
}

// ---- the search ----

async function runSearch() {
  const words = state.words;
  $('status').textContent = 'Recherche…';
  try {
    const r = await api(searchUrl(words, state.offset, PAGE, state.filters));
    const b = await r.json();
    state.total = b.total || 0;
    const hits = (b.entry || []).map(hitOf);
    $('hits').replaceChildren(...hits.map((h, i) => hitNode(h, state.offset + i + 1, !!words)));
    const last = Math.min(state.offset + hits.length, state.total);
    $('status').textContent = state.total
      ? `${state.offset + 1} à ${last} sur ${state.total} document(s)${words ? ` pour « ${words} »` : ' classés pour vous'}`
      : (words ? `Aucun document pour « ${words} ».` : 'Aucun document visible dans ce dossier.');
    $('prev').disabled = state.offset === 0;
    $('next').disabled = last >= state.total;
  } catch (e) {
    $('hits').replaceChildren();
    $('status').textContent = `Refusé ou en échec : ${e.message}`;
  }
}

// ---- the whole record: timeline and filters ----

async function loadRecord() {
  const all = [];
  for (let off = 0; off < RECORD_MAX; off += 100) {
    const r = await api(searchUrl('', off, 100, null));
    const b = await r.json();
    const page = (b.entry || []).map(hitOf);
    all.push(...page);
    if (page.length < 100 || all.length >= (b.total || 0)) break;
  }
  state.record = all;
  drawTimeline();
}

function drawTimeline() {
  const docs = state.record.filter((h) => h.date);
  const box = $('timeline');
  if (!docs.length) {
    box.replaceChildren(el('p', { class: 'hint' }, 'Aucun document daté.'));
    return;
  }
  const t = (h) => Date.parse(h.date);
  const lo = Math.min(...docs.map(t)), hi = Math.max(...docs.map(t), lo + 86400000);
  const top = new Set(state.record.slice(0, 10).map((h) => h.id)); // the viewer's first page
  const classes = [...new Set(docs.map((h) => h.clsLabel))].sort();
  const rows = classes.map((label) => {
    const row = el('div', { class: 'tl-track' });
    docs.filter((h) => h.clsLabel === label).forEach((h) => {
      const x = ((t(h) - lo) / (hi - lo)) * 100;
      const dot = el('button', {
        type: 'button', class: top.has(h.id) ? 'dot key' : 'dot',
        title: `${frDate(h.date)} — ${h.title}`, 'aria-label': `${frDate(h.date)}, ${h.title}`,
        onclick: () => openDoc(h),
      });
      dot.style.left = `${x.toFixed(2)}%`; // CSSOM: the page's CSP allows no style attribute
      row.append(dot);
    });
    return el('div', { class: 'tl-row', role: 'listitem' }, el('span', { class: 'tl-label' }, label), row);
  });
  const years = el('div', { class: 'tl-years' },
    el('span', {}, new Date(lo).getFullYear()), el('span', {}, new Date(hi).getFullYear()));
  box.replaceChildren(...rows, years);
}

function facetGroup(title, key, values) {
  const group = el('fieldset', { class: 'facet' }, el('legend', {}, title));
  values.forEach(({ code, label, count }) => {
    const id = `f-${key}-${code}`.replace(/[^A-Za-z0-9_-]/g, '_');
    const box = el('input', { type: 'checkbox', id, checked: state.filters[key].has(code),
      onchange: (e) => {
        if (e.target.checked) state.filters[key].add(code); else state.filters[key].delete(code);
        state.offset = 0;
        runSearch();
      } });
    group.append(el('div', {}, box, el('label', { for: id }, `${label} (${count})`)));
  });
  return group;
}

// The filters, from the service's counts (Parameters: one parameter per
// value, its parts the value's coding and its count), most frequent first.
async function loadFacets() {
  try {
    const r = await api(facetsUrl(state.words));
    const p = await r.json();
    const by = { category: [], type: [], 'author.specialty': [] };
    for (const x of p.parameter || []) {
      if (!by[x.name]) continue;
      const parts = Object.fromEntries((x.part || []).map((y) => [y.name, y]));
      const c = (parts.value || {}).valueCoding || {};
      if (!c.code) continue;
      const label = x.name === 'category' ? (c.display || CLASS_LABELS[c.code] || c.code)
        : (c.display || c.code);
      by[x.name].push({ code: c.code, label, count: (parts.count || {}).valueInteger || 0 });
    }
    $('facets').replaceChildren(facetGroup('Classe', 'category', by.category),
      facetGroup('Type de document', 'type', by.type),
      facetGroup("Spécialité de l'auteur", 'author.specialty', by['author.specialty']));
  } catch (e) {
    $('facets').replaceChildren(el('p', { class: 'error' }, `Filtres indisponibles : ${e.message}`));
  }
}

// ---- a document ----

function showBlob(blob, body) {
  const url = URL.createObjectURL(blob);
  body.append(el('iframe', { class: 'doc-frame', src: url, title: 'Document',
    sandbox: blob.type === 'application/pdf' ? false : '' }));
}

async function openDoc(h) {
  const dlg = $('viewer-dialog');
  const body = $('doc-body');
  $('doc-title').textContent = `${h.title} — ${frDate(h.date)}`;
  body.replaceChildren(el('p', { class: 'hint' }, 'Ouverture…'));
  if (!dlg.open) dlg.showModal();
  try {
    // a CDA document comes rendered by the service (or as the PDF it carries)
    const r = await api(h.contentType.includes('xml') ? `${h.url}&_format=html` : h.url);
    const type = (r.headers.get('Content-Type') || h.contentType).split(';')[0];
    body.replaceChildren();
    if (type === 'application/pdf' || type === 'text/html') showBlob(await r.blob(), body);
    else body.append(el('pre', { class: 'doc-text' }, await r.text()));
  } catch (e) {
    body.replaceChildren(el('p', { class: 'error' }, `Impossible d'ouvrir : ${e.message}`));
  }
  $('doc-close').focus();
}

// ---- the key results (Observation $lastn): the viewer's panel ----

const BARS = '▁▂▃▄▅▆▇█';

function sparkline(values) {
  const v = values.filter((x) => typeof x === 'number').reverse(); // oldest first
  if (v.length < 2) return '';
  const lo = Math.min(...v), hi = Math.max(...v);
  return v.map((x) => BARS[hi > lo ? Math.round(((x - lo) / (hi - lo)) * 7) : 3]).join('');
}

function valueText(o) {
  if (o.valueQuantity) {
    const q = o.valueQuantity;
    return `${String(q.value).replace('.', ',')} ${q.unit || ''}`.trim();
  }
  return o.valueString || '';
}

function flagOf(o) {
  const c = (((o.interpretation || [])[0] || {}).coding || [])[0];
  return c ? c.code : '';
}

async function loadPanel() {
  try {
    const q = new URLSearchParams({ 'patient.identifier': patientParam(), max: '10' });
    if (state.emergency) q.set('_emergency', 'true');
    const r = await api(`${FHIR}/Observation/$lastn?${q}`);
    const b = await r.json();
    const byAnalyte = new Map(); // in carnet's order: the viewer's panel first
    for (const e of b.entry || []) {
      const o = e.resource;
      const key = ((o.extension || []).find((x) => x.url === SD + 'carnet-analyte') || {}).valueString
        || (o.code || {}).text;
      if (!byAnalyte.has(key)) byAnalyte.set(key, []);
      byAnalyte.get(key).push(o);
    }
    if (!byAnalyte.size) { $('results-panel').hidden = true; return; }
    const rows = [...byAnalyte.values()].slice(0, 12).map((series) => {
      const o = series[0];
      const range = ((o.referenceRange || [])[0]) || {};
      const bounds = range.low || range.high
        ? `(${range.low ? range.low.value : ''} – ${range.high ? range.high.value : ''})` : '';
      const flag = flagOf(o);
      return el('tr', {},
        el('td', {}, (o.code || {}).text || ''),
        el('td', { class: flag && flag !== 'N' ? 'abnormal' : '' }, valueText(o), flag && flag !== 'N' ? ` ${flag}` : ''),
        el('td', {}, frDate((o.effectiveDateTime || '').slice(0, 10))),
        el('td', { class: 'range' }, bounds),
        el('td', { class: 'trend', title: 'Valeurs précédentes, la plus ancienne à gauche' },
          sparkline(series.map((x) => (x.valueQuantity || {}).value))),
        el('td', { class: 'previous' }, series.slice(1, 4).map((x) => `${valueText(x)} (${frDate((x.effectiveDateTime || '').slice(0, 10))})`).join(' · ')));
    });
    $('panel').replaceChildren(el('tr', {}, el('th', {}, 'Analyse'), el('th', {}, 'Dernière valeur'),
      el('th', {}, 'Date'), el('th', {}, 'Référence'), el('th', {}, 'Tendance'), el('th', {}, 'Précédentes')), ...rows);
    $('results-panel').hidden = false;
  } catch (e) {
    $('results-panel').hidden = true; // nothing this viewer may see, or refused
  }
}

// ---- wiring ----

async function openRecord() {
  state.patient = $('patient').value;
  state.offset = 0;
  Object.values(state.filters).forEach((f) => f.clear());
  $('record').hidden = false;
  $('status').textContent = 'Ouverture du dossier…';
  try {
    await loadRecord();
  } catch (e) {
    $('timeline').replaceChildren(el('p', { class: 'error' }, `Dossier refusé : ${e.message}`));
  }
  loadPanel();
  loadFacets();
  runSearch();
  $('words').focus();
}

function start() {
  takeFragment();
  $('token').value = state.token;
  $('token-box').hidden = !!state.token;
  $('viewer').textContent = viewerText(decodeClaims(state.token));
  $('token-save').addEventListener('click', () => {
    state.token = $('token').value.trim();
    sessionStorage.setItem('carnet-token', state.token);
    $('viewer').textContent = viewerText(decodeClaims(state.token));
    $('token-box').hidden = true;
  });
  $('patient-form').addEventListener('submit', (e) => { e.preventDefault(); openRecord(); });
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.words = $('words').value.trim();
    state.offset = 0;
    loadFacets();
    runSearch();
  });
  $('emergency').addEventListener('change', (e) => {
    state.emergency = e.target.checked;
    openRecord();
  });
  $('prev').addEventListener('click', () => { state.offset = Math.max(0, state.offset - PAGE); runSearch(); });
  $('next').addEventListener('click', () => { state.offset += PAGE; runSearch(); });
  $('doc-close').addEventListener('click', () => $('viewer-dialog').close());
  if ($('patient').value && state.token) openRecord();
}

document.addEventListener('DOMContentLoaded', start);

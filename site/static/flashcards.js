/* Flashcard mode: choose topics, then review what is due, scheduled by ts-fsrs (window.FSRS).

   The keys are the terminal quiz's (docs/quiz.md): Space reveals a free-recall card and 1-4
   rate it; choice, short-answer and ordering cards are checked (window.PrepAnswers, the
   terminal's rules) and rated for you: wrong is Again, right is Easy within easy_seconds,
   else Good; 1-4 then replace that rating as of the same moment. u undoes, b buries until
   tomorrow, ! suspends.

   Progress is the progress document of docs/progress.md, kept whole in localStorage, so
   export is the document itself and import merges like `prep progress import`. Two more
   keys: the bury and suspend of cards never reviewed (exported and imported as the
   document's state 0 entries) and the last actions to undo, so undo survives a reload.
   Served by `prep site serve`, /api/progress is the terminal's database: the page merges it
   on opening and sends its document after every change (docs/site.md). */
(function () {
  "use strict";

  const STORE_KEY = "prep-progress:v1";
  const SETTINGS_KEY = "prep-flashcards:v1";
  const FLAGS_KEY = "prep-flashcards-flags:v1";
  const UNDO_KEY = "prep-flashcards-undo:v1";
  const UNDO_KEEP = 20; // actions kept to undo, across reloads
  const LEARNING = 1, REVIEW = 2, RELEARNING = 3;
  const GOOD = 3;
  const STATE_NAMES = { 1: "learning", 2: "review", 3: "relearning" };
  const RATING_NAMES = { 1: "Again", 2: "Hard", 3: "Good", 4: "Easy" };
  const GRADED = { single: true, multi: true, short: true, order: true };

  const site = window.PREP_SITE;
  const F = window.FSRS;
  const answers = window.PrepAnswers;
  const $ = function (id) { return document.getElementById(id); };
  const dataStatus = $("fc-data-status");
  const LABELS = site && site.labels ? site.labels : { en: { ratings: RATING_NAMES } };

  // The site's own words in every language it has (prep/labels.py), each side marked as a card's
  // two sides are, so the language switch shows one of them (site.css).
  function words(key, values) {
    const fragment = document.createDocumentFragment();
    Object.keys(LABELS).forEach(function (lang, i, langs) {
      let text = LABELS[lang][key] || LABELS.en[key] || key;
      Object.keys(values || {}).forEach(function (name) {
        const value = values[name];
        text = text.split("{" + name + "}").join(typeof value === "function" ? value(lang) : value);
      });
      if (langs.length === 1) { fragment.append(text); return; }
      const span = document.createElement("span");
      span.className = "l-" + lang;
      span.lang = lang;
      span.textContent = text;
      fragment.append(span);
    });
    return fragment;
  }

  function currentLang() { return window.PrepLang ? window.PrepLang.current() : "en"; }

  function ratingIn(grade) {
    return function (lang) { return ((LABELS[lang] || LABELS.en).ratings || RATING_NAMES)[grade]; };
  }

  if (!site || !F || !answers) {
    // in the page's languages (prep/labels.py: site_flashcards_failed), as the page was built
    const failed = $("fc-failed");
    if (failed) $("fc-summary").replaceChildren(failed.content.cloneNode(true));
    else $("fc-summary").textContent = "The flashcard data, the scheduler or the answer checker did not load; rebuild the site with `prep site build`.";
    $("fc-start").disabled = true;
    return;
  }

  // The learner's [quiz] settings at build time (py-fsrs's defaults unless changed).
  const options = site.scheduler || {};
  const NEW_PER_DAY = options.new_per_day == null ? 20 : options.new_per_day;
  const EASY_SECONDS = options.easy_seconds == null ? 8 : options.easy_seconds;
  const DAY_STARTS_AT = options.day_starts_at == null ? 4 : options.day_starts_at;
  const scheduler = F.fsrs(F.generatorParameters({
    request_retention: options.desired_retention || 0.9,
    maximum_interval: options.maximum_interval || 36500,
    enable_fuzz: options.fuzz !== false,
    learning_steps: options.learning_steps || ["1m", "10m"],
    relearning_steps: options.relearning_steps || ["10m"],
  }));
  const cards = site.cards;
  const byId = new Map(cards.map(function (c) { return [c.id, c]; }));

  // --- the progress document ---------------------------------------------------------

  function emptyDoc() {
    return { format: "prep-progress", version: 1, exported_at: null, source: "browser", cards: {}, reviews: [] };
  }

  function isoUtc(date) {
    // Python's isoformat() of an aware UTC datetime: seconds, microseconds only when non-zero, +00:00.
    const ms = date.getUTCMilliseconds();
    return date.toISOString().slice(0, 19) + (ms ? "." + String(ms * 1000).padStart(6, "0") : "") + "+00:00";
  }

  function time(text) {
    const t = Date.parse(text);
    return Number.isNaN(t) ? 0 : t;
  }

  function checkDocument(doc) {
    if (!doc || typeof doc !== "object" || doc.format !== "prep-progress") {
      throw new Error("not a prep progress file (expected \"format\": \"prep-progress\")");
    }
    if (doc.version !== 1) {
      throw new Error("progress file version " + doc.version + " is not supported here (this site reads version 1)");
    }
    if (typeof doc.cards !== "object" || doc.cards === null || Array.isArray(doc.cards) || !Array.isArray(doc.reviews)) {
      throw new Error("a progress file needs \"cards\" (an object) and \"reviews\" (a list)");
    }
    const bad = [];
    Object.keys(doc.cards).forEach(function (id) {
      const entry = doc.cards[id];
      if (!entry || [0, 1, 2, 3].indexOf(entry.state) === -1 || !time(entry.due)) bad.push("cards." + id);
    });
    doc.reviews.forEach(function (r, i) {
      if (!r || typeof r.card_id !== "string" || [1, 2, 3, 4].indexOf(r.rating) === -1 || !time(r.reviewed_at)) {
        bad.push("reviews[" + i + "]");
      }
    });
    if (bad.length) throw new Error("bad entries: " + bad.slice(0, 5).join(", ") + (bad.length > 5 ? " and " + (bad.length - 5) + " more" : ""));
    return doc;
  }

  function loadDoc() {
    const raw = window.localStorage.getItem(STORE_KEY);
    if (!raw) return emptyDoc();
    try {
      return checkDocument(JSON.parse(raw));
    } catch (error) {
      // Keep the unreadable copy rather than overwrite it silently.
      window.localStorage.setItem(STORE_KEY + ":unreadable", raw);
      dataStatus.textContent = "The stored progress was unreadable (" + error.message + "); it was set aside and a new one started.";
      return emptyDoc();
    }
  }

  let doc = loadDoc();

  function readJson(key, fallback) {
    try {
      const value = JSON.parse(window.localStorage.getItem(key));
      return value == null ? fallback : value;
    } catch (error) {
      return fallback;
    }
  }

  function loadFlags() {
    // {card id: {suspended, buried_until}} for cards without an entry in the document
    const flags = readJson(FLAGS_KEY, {});
    return flags && typeof flags === "object" && !Array.isArray(flags) ? flags : {};
  }

  let sideFlags = loadFlags();

  function save() {
    window.localStorage.setItem(STORE_KEY, JSON.stringify(doc));
    window.localStorage.setItem(FLAGS_KEY, JSON.stringify(sideFlags));
    if (shared) push();
  }

  // --- one progress with the terminal: `prep site serve` answers /api/progress ------------

  let shared = false; // true once the server gave the terminal's progress database
  let pushing = false, again = false;
  let undone = []; // actions undone here, for the database to undo too (sent with the next document)

  function undoThere(action) {
    if (shared) undone.push({ id: action.id, before: action.before, after: action.after, review: action.review });
  }

  function push() {
    // send this browser's document; the server merges it into the database as `prep progress import`
    if (pushing) { again = true; return; }
    pushing = true;
    const sending = undone.splice(0);
    const body = Object.assign(exportDoc(new Date()), { undo: sending });
    window.fetch("api/progress", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body.error || response.status);
      });
    }).catch(function (error) {
      undone = sending.concat(undone); // tried again with the next change
      dataStatus.textContent = "Not saved to the terminal's progress (" + error.message + "); kept in this browser.";
    }).finally(function () {
      pushing = false;
      if (again) { again = false; push(); }
    });
  }

  function reviewKey(r) {
    return r.card_id + "|" + time(r.reviewed_at) + "|" + r.rating;
  }

  function merge(incoming) {
    checkDocument(incoming);
    const seen = new Set(doc.reviews.map(reviewKey));
    let added = 0, updated = 0;
    incoming.reviews.forEach(function (r) {
      const key = reviewKey(r);
      if (seen.has(key)) return;
      seen.add(key);
      doc.reviews.push({
        card_id: r.card_id, rating: r.rating, reviewed_at: r.reviewed_at,
        duration_ms: r.duration_ms === undefined ? null : r.duration_ms,
        kind: r.kind || "import", answer: r.answer === undefined ? null : r.answer,
        correct: r.correct === undefined ? null : r.correct,
      });
      added += 1;
    });
    doc.reviews.sort(function (a, b) { return time(a.reviewed_at) - time(b.reviewed_at); });
    // The latest last_review wins; on a tie what is here stays. A card here only as a bury or
    // suspend (state 0: no review, no last_review) loses to any schedule and ties with another state 0.
    Object.keys(incoming.cards).forEach(function (id) {
      const theirs = incoming.cards[id];
      const mine = doc.cards[id];
      if (theirs.state === 0) {
        if (mine || sideFlags[id]) return;
        setFlags(id, { suspended: Boolean(theirs.suspended), buried_until: theirs.buried_until || null });
        if (sideFlags[id]) updated += 1;
        return;
      }
      if (!mine || time(theirs.last_review) > time(mine.last_review)) {
        doc.cards[id] = {
          state: theirs.state, step: theirs.step === undefined ? null : theirs.step,
          stability: theirs.stability, difficulty: theirs.difficulty, due: theirs.due,
          last_review: theirs.last_review || null, suspended: Boolean(theirs.suspended),
          buried_until: theirs.buried_until || null,
        };
        delete sideFlags[id];
        updated += 1;
      }
    });
    save();
    return { added: added, updated: updated };
  }

  // --- scheduling ----------------------------------------------------------------------

  function reviewsOf(id) {
    return doc.reviews.filter(function (r) { return r.card_id === id; });
  }

  function toFsrs(id, entry, now) {
    if (!entry || entry.stability == null || entry.difficulty == null) return F.createEmptyCard(now);
    const log = reviewsOf(id);
    const due = new Date(entry.due);
    const last = entry.last_review ? new Date(entry.last_review) : undefined;
    return {
      due: due, stability: entry.stability, difficulty: entry.difficulty, elapsed_days: 0,
      scheduled_days: last ? Math.max(0, Math.round((due - last) / 864e5)) : 0,
      learning_steps: entry.step == null ? 0 : entry.step,
      reps: log.length, lapses: log.filter(function (r) { return r.rating === 1; }).length,
      state: entry.state, last_review: last,
    };
  }

  function fromFsrs(card, previous) {
    const learning = card.state === LEARNING || card.state === RELEARNING;
    return {
      state: card.state, step: learning ? card.learning_steps : null,
      stability: card.stability, difficulty: card.difficulty,
      due: isoUtc(card.due), last_review: card.last_review ? isoUtc(card.last_review) : null,
      suspended: previous ? Boolean(previous.suspended) : false,
      buried_until: previous ? (previous.buried_until || null) : null,
    };
  }

  function isDue(entry, now) {
    if (entry.suspended) return false;
    if (entry.buried_until && time(entry.buried_until) > now.getTime()) return false;
    return time(entry.due) <= now.getTime();
  }

  function localDay(date) {
    // the learner's day, starting at day_starts_at local time as in the terminal
    const shifted = new Date(date.getTime() - DAY_STARTS_AT * 3600e3);
    return shifted.getFullYear() + "-" + (shifted.getMonth() + 1) + "-" + shifted.getDate();
  }

  function nextDayStart(now) {
    // scheduling.next_day_start: the next day_starts_at o'clock, local time
    const start = new Date(now.getTime());
    start.setHours(DAY_STARTS_AT, 0, 0, 0);
    if (start <= now) start.setDate(start.getDate() + 1);
    return start;
  }

  function newToday(now) {
    const first = new Map();
    doc.reviews.forEach(function (r) {
      const t = time(r.reviewed_at);
      if (!first.has(r.card_id) || t < first.get(r.card_id)) first.set(r.card_id, t);
    });
    const today = localDay(now);
    let n = 0;
    first.forEach(function (t) { if (localDay(new Date(t)) === today) n += 1; });
    return n;
  }

  function reviewedToday(now) {
    const today = localDay(now);
    return doc.reviews.filter(function (r) { return r.kind === "browser" && localDay(new Date(time(r.reviewed_at))) === today; }).length;
  }

  function plan(now) {
    const chosen = cards.filter(function (c) { return selected.has(c.topic); });
    const due = chosen.filter(function (c) { return doc.cards[c.id] && isDue(doc.cards[c.id], now); });
    due.sort(function (a, b) { return time(doc.cards[a.id].due) - time(doc.cards[b.id].due); });
    const room = Math.max(0, NEW_PER_DAY - newToday(now));
    const unseen = chosen.filter(function (c) { return !doc.cards[c.id] && !isHidden(c.id, now); });
    const later = chosen.filter(function (c) { return doc.cards[c.id] && !isDue(doc.cards[c.id], now) && !doc.cards[c.id].suspended; });
    later.sort(function (a, b) { return dueAt(a.id) - dueAt(b.id); });
    const buried = chosen.filter(function (c) { const f = flagsOf(c.id); return !f.suspended && time(f.buried_until) > now.getTime(); });
    const suspended = chosen.filter(function (c) { return flagsOf(c.id).suspended; });
    return { due: due, fresh: unseen.slice(0, room), unseen: unseen.length, later: later,
             buried: buried.length, suspended: suspended.length };
  }

  function dueAt(id) {
    // when a scheduled card can come back: its due date, or the end of its bury
    const entry = doc.cards[id];
    return Math.max(time(entry.due), time(entry.buried_until));
  }

  function formatInterval(ms) {
    const minutes = ms / 60000;
    if (minutes < 1) return "<1m";
    if (minutes < 60) return Math.round(minutes) + "m";
    const hours = minutes / 60;
    if (hours < 24) return Math.round(hours) + "h";
    const days = hours / 24;
    if (days < 30) return Math.round(days) + "d";
    if (days < 365) return (days / 30).toFixed(1).replace(/\.0$/, "") + "mo";
    return (days / 365).toFixed(1).replace(/\.0$/, "") + "y";
  }


  // --- bury, suspend and undo -------------------------------------------------------------

  function flagsOf(id) {
    const source = doc.cards[id] || sideFlags[id] || {};
    return { suspended: Boolean(source.suspended), buried_until: source.buried_until || null };
  }

  function isHidden(id, now) {
    const flags = flagsOf(id);
    return flags.suspended || time(flags.buried_until) > now.getTime();
  }

  function setFlags(id, changes) {
    // on the card's entry when it has one (so export carries them), else beside the document
    if (doc.cards[id]) {
      doc.cards[id] = Object.assign({}, doc.cards[id], changes);
      return;
    }
    const flags = Object.assign({ suspended: false, buried_until: null }, sideFlags[id], changes);
    if (flags.suspended || flags.buried_until) sideFlags[id] = flags; else delete sideFlags[id];
  }

  function snapshot(id) {
    const entry = doc.cards[id], side = sideFlags[id];
    return { entry: entry ? Object.assign({}, entry) : null, side: side ? Object.assign({}, side) : null };
  }

  function restore(id, snap) {
    if (snap.entry) doc.cards[id] = snap.entry; else delete doc.cards[id];
    if (snap.side) sideFlags[id] = snap.side; else delete sideFlags[id];
  }

  function undoStack() {
    const stack = readJson(UNDO_KEY, []);
    return Array.isArray(stack) ? stack : [];
  }

  function pushUndo(action) {
    // action: {action: rate | bury | suspend, id, before, after (snapshots), review (for a rating)}
    const stack = undoStack();
    stack.push(action);
    window.localStorage.setItem(UNDO_KEY, JSON.stringify(stack.slice(-UNDO_KEEP)));
  }

  function popUndo() {
    const stack = undoStack();
    const last = stack.pop();
    window.localStorage.setItem(UNDO_KEY, JSON.stringify(stack));
    return last;
  }

  function removeReview(review) {
    const key = reviewKey(review);
    for (let i = doc.reviews.length - 1; i >= 0; i -= 1) {
      if (reviewKey(doc.reviews[i]) === key) { doc.reviews.splice(i, 1); return; }
    }
  }

  function titleOf(id, inLang) {
    const card = byId.get(id);
    if (!card) return id;
    const box = document.createElement("div");
    box.innerHTML = card.title;
    const lang = inLang || (window.PrepLang ? window.PrepLang.current() : "en");
    const side = box.querySelector(".l-" + lang);  // a card in two languages: the one shown
    return (side || box).textContent;
  }

  function titleIn(id) {
    // the card's title in each language of a message made with words()
    return function (lang) { return titleOf(id, lang); };
  }

  function wordsIn(lang, key, values) {
    // one language's text of a label, its {placeholders} filled (a value may be a function of the language)
    let text = (LABELS[lang] || LABELS.en)[key] || LABELS.en[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      const value = values[name];
      text = text.split("{" + name + "}").join(typeof value === "function" ? value(lang) : value);
    });
    return text;
  }

  function describe(action) {
    // what an undo takes back, as a function of the language: "Good on “title”"
    if (!action) return "";
    const key = action.action === "rate" ? "js_undo_rate" : (action.action === "bury" ? "js_undo_bury" : "js_undo_suspend");
    const values = { title: titleIn(action.id), rating: action.review ? ratingIn(action.review.rating) : "" };
    return function (lang) { return wordsIn(lang, key, values); };
  }

  function takeBack() {
    // Undo the last action; the card it touched, or null (and a notice) when there is none.
    const last = popUndo();
    if (!last) { notice(words("js_nothing_to_undo")); return null; }
    if (JSON.stringify(snapshot(last.id)) !== JSON.stringify(last.after)) {
      notice(words("js_not_undone", { title: titleIn(last.id) }));
      return null;
    }
    restore(last.id, last.before);
    if (last.review) removeReview(last.review);
    undoThere(last);
    save();
    notice(words("js_undone", { what: describe(last) }));
    return last.id;
  }

  // --- topics, suspended cards ----------------------------------------------------------

  const boxes = Array.from(document.querySelectorAll(".fc-topics input[name=topic]"));
  let selected = new Set();

  function readSettings() {
    try { return JSON.parse(window.localStorage.getItem(SETTINGS_KEY) || "{}"); } catch (e) { return {}; }
  }

  function initialTopics() {
    const hash = window.location.hash.match(/topics=([a-z0-9,-]+)/);
    if (hash) return hash[1].split(",");
    const settings = readSettings();
    return Array.isArray(settings.topics) ? settings.topics : null;
  }

  const wanted = initialTopics();
  boxes.forEach(function (box) { box.checked = wanted === null || wanted.indexOf(box.value) !== -1; });

  function syncTopics() {
    selected = new Set(boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; }));
    window.localStorage.setItem(SETTINGS_KEY, JSON.stringify({ topics: Array.from(selected) }));
    summarise();
  }

  function summarise() {
    const now = new Date();
    const p = plan(now);
    const total = doc.reviews.length;
    let text = selected.size === 0 ? "Choose at least one topic." :
      p.due.length + " due · " + p.fresh.length + " new for today (of " + p.unseen + " unseen; " + NEW_PER_DAY +
      " a day) · " + reviewedToday(now) + " reviewed today in this browser, " + total + " reviews in all.";
    if (selected.size && (p.buried || p.suspended)) {
      text += " Set aside: " + [p.buried ? p.buried + " buried" : "",
        p.suspended ? p.suspended + " suspended" : ""].filter(Boolean).join(", ") + ".";
    }
    $("fc-summary").textContent = text;
    $("fc-start").disabled = selected.size === 0 || (p.due.length + p.fresh.length === 0);
    listSuspended();
    const last = undoStack().slice(-1)[0];
    const undoLast = $("fc-undo-last");
    undoLast.hidden = !last;
    undoLast.replaceChildren(last ? words("js_undo_last", { what: describe(last) }) : "");
  }

  function listSuspended() {
    // every suspended card, whatever the chosen topics: the one place to bring them back
    const list = $("fc-suspended");
    const suspended = cards.filter(function (c) { return flagsOf(c.id).suspended; });
    list.textContent = "";
    suspended.forEach(function (card) {
      const li = document.createElement("li");
      li.dataset.card = card.id;
      const link = document.createElement("a");
      link.href = card.url;
      link.innerHTML = card.title;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "unsuspend";
      button.replaceChildren(words("js_unsuspend"));
      button.addEventListener("click", function () {
        setFlags(card.id, { suspended: false });
        save();
        notice(words("js_unsuspended", { title: titleIn(card.id) }));
        summarise();
      });
      li.append(link, " ", button);
      list.append(li);
    });
    $("fc-suspended-count").textContent = String(suspended.length);
    $("fc-suspended-box").hidden = suspended.length === 0;
  }

  boxes.forEach(function (box) { box.addEventListener("change", syncTopics); });
  $("fc-all").addEventListener("click", function () { boxes.forEach(function (b) { b.checked = true; }); syncTopics(); });
  $("fc-none").addEventListener("click", function () { boxes.forEach(function (b) { b.checked = false; }); syncTopics(); });

  // --- studying --------------------------------------------------------------------------

  const setup = $("fc-setup"), study = $("fc-study"), done = $("fc-done");
  const choiceList = $("fc-choices"), itemList = $("fc-items"), typedForm = $("fc-typed"), typedInput = $("fc-typed-input");
  let current = null; // the card on screen
  let phase = "idle"; // question; revealed (free recall, waiting for a rating); answered (rated for the learner)
  let shownAt = 0;
  let shown = []; // the indexes of the choices or items, in the order shown (number n is shown[n - 1])
  let rated = null; // {review, at}: the automatic rating, which 1-4 may replace
  let noticeFresh = false;

  function notice(text) {
    $("fc-notice").replaceChildren(text);  // a string or the fragment words() makes
    noticeFresh = true;
  }

  function fill(el, html) { el.innerHTML = html || ""; }

  function shuffle(n, neverInOrder) {
    // as the terminal: choices in any order, an ordering card never shown in its right order
    const order = [];
    for (let i = 0; i < n; i += 1) order.push(i);
    do {
      for (let i = n - 1; i > 0; i -= 1) {
        const j = Math.floor(Math.random() * (i + 1));
        const t = order[i]; order[i] = order[j]; order[j] = t;
      }
    } while (neverInOrder && n > 1 && order.every(function (v, i) { return v === i; }));
    return order;
  }

  const HINTS = {
    single: "Pick the right answer: click it or press its number.",
    multi: "Pick every right answer (click them or press their numbers), then Check (Enter).",
    short: "Type the answer; Enter checks. Enter alone shows the answer.",
    order: "Type the numbers in the right order (312 or 3 1 2), or click the items in order; Enter checks.",
  };

  function topicTitle(id) {
    const topic = site.topics.find(function (t) { return t.id === id; });
    const lang = window.PrepLang ? window.PrepLang.current() : "en";
    return topic ? ((topic.titles && topic.titles[lang]) || topic.title) : id;
  }

  // the switch in the header: the card's texts follow through CSS, the topic line here
  document.addEventListener("prep-lang", function () { if (current) $("fc-topic").textContent = topicTitle(current.topic); });

  function show(card, now) {
    current = card;
    phase = "question";
    rated = null;
    shownAt = Date.now();
    if (!noticeFresh) $("fc-notice").textContent = "";
    noticeFresh = false;
    setup.hidden = true; done.hidden = true; study.hidden = false;
    const entry = doc.cards[card.id];
    $("fc-topic").textContent = topicTitle(card.topic);
    $("fc-state").textContent = entry ? STATE_NAMES[entry.state] : "new";
    $("fc-open").href = card.url;
    fill($("fc-prompt"), card.title);
    fill($("fc-prompt-rest"), card.prompt);
    showChoices(card);
    showItems(card);
    let answer = card.answer;
    if (card.also_accepted && card.also_accepted.length) {
      const also = document.createElement("p");
      also.className = "meta";
      also.append(words("js_also_accepted"), " ");
      card.also_accepted.forEach(function (a, i) {
        const code = document.createElement("code");
        code.textContent = a;
        also.append(i ? ", " : "", code);
      });
      answer += also.outerHTML;
    }
    fill($("fc-answer-text"), answer);
    fill($("fc-explanation"), card.explanation);
    const typed = card.type === "short" || card.type === "order";
    typedForm.hidden = !typed;
    typedInput.value = "";
    typedInput.disabled = false;
    $("fc-typed-label").replaceChildren(words(card.type === "order" ? "js_order_answer" : "js_your_answer"));
    $("fc-hint").textContent = HINTS[card.type] || "";
    $("fc-check").hidden = card.type !== "multi";
    $("fc-reveal").hidden = false;
    const reveal = $("fc-reveal");
    reveal.replaceChildren(words(!GRADED[card.type] ? "js_show_answer" : "js_dont_know"));
    if (!GRADED[card.type] || !typed) {
      const kbd = document.createElement("kbd");
      kbd.textContent = "Space";
      reveal.append(" ", kbd);
    }
    $("fc-verdict").hidden = true;
    $("fc-answer").hidden = true;
    $("fc-rate").hidden = true;
    $("fc-rated").hidden = true;
    const p = plan(now);
    $("fc-remaining").textContent = p.due.length + " due · " + p.fresh.length + " new · " + reviewedToday(now) + " reviewed today";
    const preview = scheduler.repeat(toFsrs(card.id, entry, now), now);
    document.querySelectorAll("#fc-rate button").forEach(function (button) {
      const item = preview[Number(button.dataset.rating)];
      button.querySelector("small").textContent = formatInterval(item.card.due - now);
      button.classList.remove("chosen");
      button.removeAttribute("aria-pressed");
    });
    if (typed) typedInput.focus({ preventScroll: true }); else study.focus({ preventScroll: true });
  }

  function showChoices(card) {
    choiceList.textContent = "";
    choiceList.className = "choices";
    shown = card.choices.length ? shuffle(card.choices.length, false) : [];
    shown.forEach(function (index, n) {
      const choice = card.choices[index];
      const li = document.createElement("li");
      li.className = "choice";
      li.dataset.correct = choice.correct ? "true" : "false";
      li.dataset.index = String(index);
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = card.type === "single" ? "radio" : "checkbox";
      input.name = "fc-choice";
      input.value = String(n + 1);
      if (card.type === "single") input.addEventListener("change", function () { if (input.checked) answerChoices(); });
      const text = document.createElement("span");
      text.innerHTML = choice.html;
      label.append(input, " ", text);
      li.append(label);
      li.insertAdjacentHTML("beforeend", " <span class=\"mark\" aria-hidden=\"true\"></span>" +
        (choice.why ? "<div class=\"why\" hidden>" + choice.why + "</div>" : ""));
      choiceList.append(li);
    });
  }

  function showItems(card) {
    itemList.textContent = "";
    const right = $("fc-order-right");
    right.textContent = "";
    card.items.forEach(function (html) { const li = document.createElement("li"); li.innerHTML = html; right.append(li); });
    if (card.type !== "order") return;
    shown = shuffle(card.items.length, true);
    shown.forEach(function (index, n) {
      const li = document.createElement("li");
      li.innerHTML = card.items[index];
      li.dataset.index = String(index);
      li.title = "Add " + (n + 1) + " to your answer";
      li.addEventListener("click", function () {
        if (phase !== "question") return;
        typedInput.value = (typedInput.value.trim() ? typedInput.value.trim() + " " : "") + (n + 1);
        typedInput.focus({ preventScroll: true });
      });
      itemList.append(li);
    });
  }

  function showAnswer() {
    $("fc-answer").hidden = false;
    $("fc-reveal").hidden = true;
    $("fc-check").hidden = true;
    $("fc-hint").textContent = "";
    choiceList.classList.add("revealed");
    choiceList.querySelectorAll(".choice").forEach(function (li) {
      const input = li.querySelector("input");
      if (input.checked) li.classList.add("picked");
      input.disabled = true;
    });
    choiceList.querySelectorAll(".why").forEach(function (el) { el.hidden = false; }); // why each wrong choice is wrong
    typedInput.disabled = true;
    $("fc-rate").hidden = false;
  }

  function reveal() {
    if (!current || phase !== "question" || GRADED[current.type]) return;
    phase = "revealed";
    showAnswer();
    study.focus({ preventScroll: true });
  }

  function record(card, grade, at, details) {
    // One rating: the new schedule and the log entry, saved at once, and what undo needs.
    const before = snapshot(card.id);
    const result = scheduler.next(toFsrs(card.id, before.entry, at), at, grade);
    doc.cards[card.id] = fromFsrs(result.card, before.entry);
    delete sideFlags[card.id]; // a bury that has run out, on a card never reviewed
    const review = {
      card_id: card.id, rating: grade, reviewed_at: isoUtc(at), duration_ms: details.duration_ms,
      kind: "browser", answer: details.answer, correct: details.correct,
    };
    doc.reviews.push(review);
    save();
    pushUndo({ action: "rate", id: card.id, before: before, after: snapshot(card.id), review: review });
    return review;
  }

  function rate(grade) {
    // free recall, after Space: the learner's own rating
    if (!current || phase !== "revealed") return;
    record(current, grade, new Date(), { duration_ms: Math.max(0, Date.now() - shownAt), answer: null, correct: null });
    next();
  }

  function answered(outcome) {
    // A checked answer is rated at once, as in the terminal: wrong Again, right Easy when quick, else Good.
    const seconds = Math.max(0, Date.now() - shownAt) / 1000;
    const grade = answers.autoRating(outcome.correct, seconds, EASY_SECONDS);
    const at = new Date();
    const review = record(current, grade, at, { duration_ms: Math.round(seconds * 1000), answer: outcome.answer, correct: outcome.correct });
    rated = { review: review, at: at };
    phase = "answered";
    const verdict = $("fc-verdict");
    verdict.hidden = false;
    verdict.textContent = "";
    if (outcome.correct) {
      verdict.append(words("js_right"));
    } else if (outcome.answer.trim()) {
      const given = document.createElement("span");
      given.className = "given";
      given.textContent = outcome.answer;
      verdict.append(words("js_not_quite"), given);
    } else {
      verdict.append(words("js_no_answer"));
    }
    verdict.className = "verdict-line " + (outcome.correct ? "right" : "wrong");
    showAnswer();
    markRating(grade);
    study.focus({ preventScroll: true });
  }

  function markRating(grade) {
    document.querySelectorAll("#fc-rate button").forEach(function (button) {
      const chosen = Number(button.dataset.rating) === grade;
      button.classList.toggle("chosen", chosen);
      button.setAttribute("aria-pressed", chosen ? "true" : "false");
    });
    const entry = doc.cards[current.id];
    $("fc-rated-text").replaceChildren(words("js_rated", {
      rating: ratingIn(grade), interval: formatInterval(time(entry.due) - rated.at.getTime()) }));
    $("fc-rated").hidden = false;
  }

  function answerChoices() {
    if (!current || phase !== "question" || !current.choices.length) return;
    const chosen = Array.from(choiceList.querySelectorAll("input:checked")).map(function (input) {
      return Number(input.closest(".choice").dataset.index);
    }).sort(function (a, b) { return a - b; });
    if (!chosen.length) return; // a multi card is checked with at least one pick, as in the terminal
    answered({
      correct: answers.checkChoices(current.choices, chosen),
      answer: chosen.map(function (i) { return current.choices[i].text; }).join(" | "),
    });
  }

  function pick(n) {
    const input = choiceList.querySelector(".choice:nth-child(" + n + ") input");
    if (!input || input.disabled) return;
    if (current.type === "single") {
      input.checked = true;
      answerChoices();
    } else {
      input.checked = !input.checked;
    }
  }

  function answerTyped() {
    if (!current || phase !== "question") return;
    const text = typedInput.value;
    if (current.type === "short") {
      answered({ correct: answers.checkShort(current.accept, text), answer: text });
      return;
    }
    const result = answers.checkOrder(text, shown);
    const answer = result.given.length ? result.given.map(function (i) { return current.items_text[i]; }).join(" > ") : text;
    answered({ correct: result.correct, answer: answer });
  }

  function giveUp() {
    // "Don't know": no answer, rated Again (Enter alone on a typed card in the terminal)
    if (!current || phase !== "question" || !GRADED[current.type]) return;
    choiceList.querySelectorAll("input").forEach(function (input) { input.checked = false; });
    answered({ correct: false, answer: "" });
  }

  function changeRating(grade) {
    // 1-4 after an automatic rating: the same review with another rating, as of the same moment
    if (!current || phase !== "answered") return;
    const last = undoStack().slice(-1)[0];
    if (grade !== rated.review.rating && last && last.action === "rate" && reviewKey(last.review) === reviewKey(rated.review)) {
      popUndo();
      restore(last.id, last.before);
      removeReview(last.review);
      undoThere(last);
      const r = rated.review;
      record(current, grade, rated.at, { duration_ms: r.duration_ms, answer: r.answer, correct: r.correct });
    }
    next();
  }

  function setAside(action) {
    if (!current) return;
    const id = current.id;
    const before = snapshot(id);
    if (action === "bury") {
      const until = nextDayStart(new Date());
      setFlags(id, { buried_until: isoUtc(until) });
      notice(words("js_buried", { title: titleIn(id), until: function (lang) {
        return until.toLocaleString(lang === "zh" ? "zh-CN" : [], { weekday: "short", hour: "2-digit", minute: "2-digit" });
      } }));
    } else {
      setFlags(id, { suspended: true });
      notice(words("js_suspended", { title: titleIn(id) }));
    }
    save();
    pushUndo({ action: action, id: id, before: before, after: snapshot(id), review: null });
    next();
  }

  function undo() {
    const id = takeBack();
    if (id && byId.has(id)) show(byId.get(id), new Date()); // the card comes back, as in the terminal
    else if (id) summarise();
  }

  function next() {
    const now = new Date();
    const p = plan(now);
    const card = p.due[0] || p.fresh[0];
    if (card) {
      show(card, now);
      return;
    }
    current = null;
    phase = "idle";
    study.hidden = true; setup.hidden = true; done.hidden = false;
    let text = "You reviewed " + reviewedToday(now) + " cards today in this browser.";
    if (p.later.length) {
      text += " The next card in these topics is due in " + formatInterval(dueAt(p.later[0].id) - now.getTime()) + ".";
    }
    if (p.unseen > p.fresh.length) text += " New cards: " + NEW_PER_DAY + " a day; more tomorrow.";
    $("fc-done-text").textContent = text;
    $("fc-done-undo").hidden = undoStack().length === 0;
    $("fc-back").focus();
  }

  function stop() {
    current = null;
    phase = "idle";
    study.hidden = true; done.hidden = true; setup.hidden = false;
    summarise();
  }

  $("fc-start").addEventListener("click", next);
  $("fc-reveal").addEventListener("click", function () { if (current && GRADED[current.type]) giveUp(); else reveal(); });
  $("fc-check").addEventListener("click", answerChoices);
  $("fc-next").addEventListener("click", next);
  $("fc-stop").addEventListener("click", stop);
  $("fc-back").addEventListener("click", stop);
  $("fc-undo").addEventListener("click", undo);
  $("fc-done-undo").addEventListener("click", undo);
  $("fc-undo-last").addEventListener("click", undo);
  $("fc-bury").addEventListener("click", function () { setAside("bury"); });
  $("fc-suspend").addEventListener("click", function () { setAside("suspend"); });
  typedForm.addEventListener("submit", function (event) {
    event.preventDefault();
    answerTyped();
  });
  document.querySelectorAll("#fc-rate button").forEach(function (button) {
    button.addEventListener("click", function () {
      const grade = Number(button.dataset.rating);
      if (phase === "answered") changeRating(grade); else rate(grade);
    });
  });

  function onStudyKey(event) {
    const key = event.key;
    const target = event.target;
    if (target === typedInput) {
      // typing; Enter submits the form; Esc leaves the box so that u, b, ! and Esc work again
      if (key === "Escape") { event.preventDefault(); study.focus({ preventScroll: true }); }
      return;
    }
    if (target.closest && target.closest("input[type=text], input[type=file], textarea, select")) return;
    if (target.closest && ((key === "Enter" && target.closest("button, a, summary")) ||
        (key === " " && target.closest("button, a, summary, input")))) return; // the focused control's own action
    if (key === "Escape") { stop(); return; }
    if (key === "u") { event.preventDefault(); undo(); return; }
    if (key === "b") { event.preventDefault(); setAside("bury"); return; }
    if (key === "!") { event.preventDefault(); setAside("suspend"); return; }
    if (phase === "question") {
      if (key === " " || key === "Spacebar") {
        event.preventDefault();
        if (GRADED[current.type]) giveUp(); else reveal();
      } else if (/^[1-9]$/.test(key) && current.choices.length) {
        event.preventDefault();
        pick(Number(key));
      } else if (key === "Enter" && current.type === "multi") {
        event.preventDefault();
        answerChoices();
      }
    } else if (phase === "revealed") {
      if (/^[1-4]$/.test(key)) { event.preventDefault(); rate(Number(key)); }
      else if (key === "Enter") { event.preventDefault(); rate(GOOD); }
    } else if (phase === "answered") {
      if (/^[1-4]$/.test(key)) { event.preventDefault(); changeRating(Number(key)); }
      else if (key === "Enter" || key === " ") { event.preventDefault(); next(); }
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (!done.hidden) {
      if (event.key === "u") { event.preventDefault(); undo(); }
      return;
    }
    if (!study.hidden) onStudyKey(event);
  });

  // --- export and import --------------------------------------------------------------------

  function unreviewed(now) {
    // cards set aside before their first review, as state 0 entries (docs/progress.md), as the terminal exports them
    const entries = {};
    Object.keys(sideFlags).sort().forEach(function (id) {
      const flags = sideFlags[id];
      entries[id] = {
        state: 0, step: null, stability: null, difficulty: null, due: isoUtc(now), last_review: null,
        suspended: Boolean(flags.suspended), buried_until: flags.buried_until || null,
      };
    });
    return entries;
  }

  function exportDoc(now) {
    return {
      format: "prep-progress", version: 1, exported_at: isoUtc(now), source: "browser",
      cards: Object.assign(unreviewed(now), doc.cards), reviews: doc.reviews,
    };
  }

  $("fc-export").addEventListener("click", function () {
    const now = new Date();
    const out = exportDoc(now);
    const blob = new Blob([JSON.stringify(out, null, 2) + "\n"], { type: "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    const d = now.toISOString().slice(0, 10);
    link.download = "prep-progress-" + d + ".json";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 5000);
    dataStatus.replaceChildren(words("js_exported", { cards: Object.keys(out.cards).length, reviews: doc.reviews.length,
      file: link.download }));
  });

  $("fc-import").addEventListener("change", function (event) {
    const file = event.target.files[0];
    if (!file) return;
    file.text().then(function (text) {
      let incoming;
      try { incoming = JSON.parse(text); } catch (error) { throw new Error(wordsIn(currentLang(), "js_not_json") + error.message); }
      const result = merge(incoming);
      dataStatus.replaceChildren(words("js_imported", { file: file.name, added: result.added, updated: result.updated }));
      summarise();
    }).catch(function (error) {
      dataStatus.replaceChildren(words("js_import_failed", { file: file.name, error: error.message }));
    }).finally(function () { event.target.value = ""; });
  });

  const terminal = $("fc-terminal");
  if (terminal && site.terminal) {
    terminal.addEventListener("click", function () {
      const result = merge(site.terminal);
      dataStatus.replaceChildren(words("js_merged_terminal", { added: result.added, updated: result.updated }));
      summarise();
    });
  }

  $("fc-reset").addEventListener("click", function () {
    if (!window.confirm(wordsIn(currentLang(), "js_forget_confirm"))) return;
    doc = emptyDoc();
    sideFlags = {};
    save();
    window.localStorage.removeItem(UNDO_KEY);
    dataStatus.replaceChildren(words("js_forgotten"));
    summarise();
  });

  window.addEventListener("storage", function (event) {
    // another tab studied: read its progress (the undo list is read afresh at every use)
    if (event.key === STORE_KEY || event.key === FLAGS_KEY) { doc = loadDoc(); sideFlags = loadFlags(); summarise(); }
  });

  syncTopics();

  if (/^https?:$/.test(window.location.protocol)) {
    // served by `prep site serve`: the terminal's progress database is the progress (a static host has no API)
    window.fetch("api/progress", { cache: "no-store" }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (terminalDoc) {
      if (!terminalDoc || terminalDoc.format !== "prep-progress") return;
      delete terminalDoc.imported;
      shared = true;
      merge(terminalDoc); // saves, which sends what only this browser had
      $("fc-shared").hidden = false;
      summarise();
    }).catch(function () { /* no API here: this browser's progress only */ });
  }
})();

/* Flashcard mode: choose topics, Space reveals, 1-4 rates, scheduled by ts-fsrs (window.FSRS).
   Progress is the progress document of docs/progress.md, kept whole in localStorage, so
   export is the document itself and import merges like `prep progress import`. */
(function () {
  "use strict";

  const STORE_KEY = "prep-progress:v1";
  const SETTINGS_KEY = "prep-flashcards:v1";
  const LEARNING = 1, REVIEW = 2, RELEARNING = 3;
  const STATE_NAMES = { 1: "learning", 2: "review", 3: "relearning" };

  const site = window.PREP_SITE;
  const F = window.FSRS;
  const $ = function (id) { return document.getElementById(id); };
  const dataStatus = $("fc-data-status");

  if (!site || !F) {
    $("fc-summary").textContent = "The flashcard data or the scheduler did not load; rebuild the site with `prep site build`.";
    return;
  }

  // The learner's [quiz] settings at build time (py-fsrs's defaults unless changed).
  const options = site.scheduler || {};
  const NEW_PER_DAY = options.new_per_day == null ? 20 : options.new_per_day;
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
      if (!entry || [1, 2, 3].indexOf(entry.state) === -1 || !time(entry.due)) bad.push("cards." + id);
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

  function save() {
    window.localStorage.setItem(STORE_KEY, JSON.stringify(doc));
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
    Object.keys(incoming.cards).forEach(function (id) {
      const theirs = incoming.cards[id];
      const mine = doc.cards[id];
      if (!mine || time(theirs.last_review) > time(mine.last_review)) {
        doc.cards[id] = {
          state: theirs.state, step: theirs.step === undefined ? null : theirs.step,
          stability: theirs.stability, difficulty: theirs.difficulty, due: theirs.due,
          last_review: theirs.last_review || null, suspended: Boolean(theirs.suspended),
          buried_until: theirs.buried_until || null,
        };
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
    return date.getFullYear() + "-" + (date.getMonth() + 1) + "-" + date.getDate();
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
    const unseen = chosen.filter(function (c) { return !doc.cards[c.id]; });
    const later = chosen.filter(function (c) { return doc.cards[c.id] && !isDue(doc.cards[c.id], now) && !doc.cards[c.id].suspended; });
    later.sort(function (a, b) { return time(doc.cards[a.id].due) - time(doc.cards[b.id].due); });
    return { due: due, fresh: unseen.slice(0, room), unseen: unseen.length, later: later };
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

  // --- topics --------------------------------------------------------------------------

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
    $("fc-summary").innerHTML = "";
    const text = selected.size === 0 ? "Choose at least one topic." :
      p.due.length + " due · " + p.fresh.length + " new for today (of " + p.unseen + " unseen; " + NEW_PER_DAY +
      " a day) · " + reviewedToday(now) + " reviewed today in this browser, " + total + " reviews in all.";
    $("fc-summary").textContent = text;
    $("fc-start").disabled = selected.size === 0 || (p.due.length + p.fresh.length === 0);
  }

  boxes.forEach(function (box) { box.addEventListener("change", syncTopics); });
  $("fc-all").addEventListener("click", function () { boxes.forEach(function (b) { b.checked = true; }); syncTopics(); });
  $("fc-none").addEventListener("click", function () { boxes.forEach(function (b) { b.checked = false; }); syncTopics(); });

  // --- studying --------------------------------------------------------------------------

  const setup = $("fc-setup"), study = $("fc-study"), done = $("fc-done");
  let current = null, revealed = false, shownAt = 0, undoStack = [];

  function fill(el, html) { el.innerHTML = html || ""; }

  function show(card, now) {
    current = card;
    revealed = false;
    shownAt = Date.now();
    const entry = doc.cards[card.id];
    const topic = site.topics.find(function (t) { return t.id === card.topic; });
    $("fc-topic").textContent = topic ? topic.title : card.topic;
    $("fc-state").textContent = entry ? STATE_NAMES[entry.state] : "new";
    $("fc-open").href = card.url;
    fill($("fc-prompt"), card.title);
    fill($("fc-prompt-rest"), card.prompt);
    const choices = $("fc-choices");
    choices.textContent = "";
    choices.className = "choices";
    card.choices.forEach(function (c) {
      const li = document.createElement("li");
      li.className = "choice";
      li.dataset.correct = c.correct ? "true" : "false";
      li.innerHTML = "<span>" + c.html + "</span> <span class=\"mark\" aria-hidden=\"true\"></span>" +
        (c.why ? "<div class=\"why\" hidden>" + c.why + "</div>" : "");
      choices.append(li);
    });
    const items = $("fc-items");
    items.textContent = "";
    card.shuffled.forEach(function (html) { const li = document.createElement("li"); li.innerHTML = html; items.append(li); });
    const right = $("fc-order-right");
    right.textContent = "";
    card.items.forEach(function (html) { const li = document.createElement("li"); li.innerHTML = html; right.append(li); });
    let answer = card.answer;
    if (card.accept && card.accept.length > 1) {
      answer += "<p class=\"meta\">Also accepted: " + card.accept.slice(1).map(function (a) {
        const code = document.createElement("code"); code.textContent = a; return code.outerHTML;
      }).join(", ") + "</p>";
    }
    fill($("fc-answer-text"), answer);
    fill($("fc-explanation"), card.explanation);
    $("fc-answer").hidden = true;
    $("fc-rate").hidden = true;
    $("fc-reveal").hidden = false;
    const p = plan(now);
    $("fc-remaining").textContent = p.due.length + " due · " + p.fresh.length + " new · " + reviewedToday(now) + " reviewed today";
    const preview = scheduler.repeat(toFsrs(card.id, entry, now), now);
    document.querySelectorAll("#fc-rate button").forEach(function (button) {
      const item = preview[Number(button.dataset.rating)];
      button.querySelector("small").textContent = formatInterval(item.card.due - now);
    });
    study.focus({ preventScroll: true });
  }

  function reveal() {
    if (!current || revealed) return;
    revealed = true;
    $("fc-answer").hidden = false;
    $("fc-choices").classList.add("revealed");
    $("fc-choices").querySelectorAll(".why").forEach(function (el) { el.hidden = false; });
    $("fc-reveal").hidden = true;
    $("fc-rate").hidden = false;
    study.focus({ preventScroll: true });
  }

  function next() {
    const now = new Date();
    const p = plan(now);
    const card = p.due[0] || p.fresh[0];
    if (card) {
      setup.hidden = true; done.hidden = true; study.hidden = false;
      show(card, now);
      return;
    }
    current = null;
    study.hidden = true; setup.hidden = true; done.hidden = false;
    let text = "You reviewed " + reviewedToday(now) + " cards today in this browser.";
    if (p.later.length) {
      const first = doc.cards[p.later[0].id];
      text += " The next card in these topics is due in " + formatInterval(time(first.due) - now.getTime()) + ".";
    }
    if (p.unseen > p.fresh.length) text += " New cards: " + NEW_PER_DAY + " a day; more tomorrow.";
    $("fc-done-text").textContent = text;
    $("fc-back").focus();
  }

  function rate(grade) {
    if (!current || !revealed) return;
    const now = new Date();
    const previous = doc.cards[current.id] ? Object.assign({}, doc.cards[current.id]) : null;
    const result = scheduler.next(toFsrs(current.id, previous, now), now, grade);
    doc.cards[current.id] = fromFsrs(result.card, previous);
    doc.reviews.push({
      card_id: current.id, rating: grade, reviewed_at: isoUtc(now), duration_ms: Math.max(0, Date.now() - shownAt),
      kind: "browser", answer: null, correct: null,
    });
    undoStack.push({ id: current.id, previous: previous, reviews: doc.reviews.length - 1 });
    save();
    next();
  }

  function undo() {
    const last = undoStack.pop();
    if (!last) return;
    if (last.previous) doc.cards[last.id] = last.previous; else delete doc.cards[last.id];
    doc.reviews.splice(last.reviews, 1);
    save();
    setup.hidden = true; done.hidden = true; study.hidden = false;
    show(byId.get(last.id), new Date());
  }

  function stop() {
    current = null;
    study.hidden = true; done.hidden = true; setup.hidden = false;
    summarise();
  }

  $("fc-start").addEventListener("click", next);
  $("fc-reveal").addEventListener("click", reveal);
  $("fc-stop").addEventListener("click", stop);
  $("fc-back").addEventListener("click", stop);
  document.querySelectorAll("#fc-rate button").forEach(function (button) {
    button.addEventListener("click", function () { rate(Number(button.dataset.rating)); });
  });

  document.addEventListener("keydown", function (event) {
    if (study.hidden || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest("input, textarea, select")) return;
    if (event.key === " " || event.key === "Spacebar") {
      event.preventDefault();
      reveal();
    } else if (/^[1-4]$/.test(event.key)) {
      event.preventDefault();
      rate(Number(event.key));
    } else if (event.key === "u") {
      undo();
    } else if (event.key === "Escape") {
      stop();
    }
  });

  // --- export and import --------------------------------------------------------------------

  $("fc-export").addEventListener("click", function () {
    const now = new Date();
    const out = {
      format: "prep-progress", version: 1, exported_at: isoUtc(now), source: "browser",
      cards: doc.cards, reviews: doc.reviews,
    };
    const blob = new Blob([JSON.stringify(out, null, 2) + "\n"], { type: "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    const d = now.toISOString().slice(0, 10);
    link.download = "prep-progress-" + d + ".json";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 5000);
    dataStatus.textContent = "Exported " + Object.keys(doc.cards).length + " cards and " + doc.reviews.length +
      " reviews; merge them in the terminal with `prep progress import " + link.download + "`.";
  });

  $("fc-import").addEventListener("change", function (event) {
    const file = event.target.files[0];
    if (!file) return;
    file.text().then(function (text) {
      let incoming;
      try { incoming = JSON.parse(text); } catch (error) { throw new Error("not JSON: " + error.message); }
      const result = merge(incoming);
      dataStatus.textContent = file.name + ": merged " + result.added + " new reviews and " + result.updated + " card states.";
      summarise();
    }).catch(function (error) {
      dataStatus.textContent = file.name + ": nothing imported: " + error.message;
    }).finally(function () { event.target.value = ""; });
  });

  const terminal = $("fc-terminal");
  if (terminal && site.terminal) {
    terminal.addEventListener("click", function () {
      const result = merge(site.terminal);
      dataStatus.textContent = "Merged the terminal's progress: " + result.added + " new reviews and " + result.updated + " card states.";
      summarise();
    });
  }

  $("fc-reset").addEventListener("click", function () {
    if (!window.confirm("Forget every review made in this browser? Export first if you want to keep them.")) return;
    doc = emptyDoc();
    save();
    undoStack = [];
    dataStatus.textContent = "This browser's progress is forgotten.";
    summarise();
  });

  window.addEventListener("storage", function (event) {
    if (event.key === STORE_KEY) { doc = loadDoc(); summarise(); }
  });

  syncTopics();
})();

/* The search page's offline search: the cards of data/cards.js (window.PREP_SITE, the flashcards'
   data, which a <script> tag loads even from file://) searched in the browser without a fetch, for
   wherever Pagefind cannot load its index (file://, a site built with --no-search, a failed load).

   A card matches when it holds every word of the query, whatever the case. The query is cut at
   white space and between Chinese and other characters (TIME_WAIT状态 is TIME_WAIT and 状态); a
   run of Chinese characters matches anywhere (Chinese has no spaces), any other word at the start
   of a word (wait finds TIME_WAIT, poll does not find epoll). Where a word is found ranks the card:
   the title, the rest of the prompt and the Chinese terms first, then the tags and the topic, then
   the answer, the explanation and the choices. When no card holds every word of a query of
   several, the cards holding the most of them are given, those holding the rarer words first
   (TIME_WAIT状态: the cards saying TIME_WAIT, then those saying 状态), and `partial` says
   which words they hold.

   window.PrepOfflineSearch.prepare(data) reads the cards once; .search(prepared, query) returns
   {items: [{url, title, excerpt}], total, partial}, the excerpt escaped HTML with <mark> around the hits. */
(function () {
  "use strict";
  const HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff";
  const HAN_RUN = new RegExp("^[" + HAN + "]");
  // white space, CJK punctuation and full-width punctuation separate words
  const SEPARATORS = /[\s\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]+/;
  const RUNS = new RegExp("[" + HAN + "]+|[^" + HAN + "]+", "g");
  const EDGES = /^["'`“”‘’,.;:!?]+|["'`“”‘’,.;:!?]+$/g; // quotes and sentence punctuation around a word
  const WORD_CHAR = /[a-z0-9]/;
  const TITLE = 3, TAGS = 2, BODY = 1; // the weight of a word found in each part of a card
  const EXCERPT = 180; // characters of the answer shown under a result
  const BEFORE = 60; // of which before the first hit

  const scratch = document.createElement("template"); // inert: nothing in it runs or loads

  function text(html) {
    scratch.innerHTML = html || "";
    return scratch.content.textContent.replace(/\s+/g, " ").trim();
  }

  /** The words of a query, each once, as typed and in lower case: TIME_WAIT状态 -> TIME_WAIT, 状态. */
  function words(query) {
    const found = [];
    query.split(SEPARATORS).forEach(function (piece) {
      (piece.match(RUNS) || []).forEach(function (run) {
        const typed = run.replace(EDGES, "");
        const word = typed.toLowerCase();
        if (word && !found.some(function (w) { return w.word === word; })) found.push({ word: word, typed: typed });
      });
    });
    return found;
  }

  /** Where `word` occurs in lower-case `folded`: anywhere for Chinese, else at the start of a word. */
  function positions(folded, word) {
    const at = [];
    const anywhere = HAN_RUN.test(word) || !WORD_CHAR.test(word[0]);
    let i = folded.indexOf(word);
    while (i >= 0) {
      if (anywhere || i === 0 || !WORD_CHAR.test(folded[i - 1])) at.push(i);
      i = folded.indexOf(word, i + 1);
    }
    return at;
  }

  function holds(folded, word) {
    return positions(folded, word).length > 0;
  }

  function prepare(data) {
    const topics = {};
    (data.topics || []).forEach(function (t) { topics[t.id] = t.title; });
    return (data.cards || []).map(function (card, order) {
      const title = text(card.title);
      const prompt = text(card.prompt);
      const zh = card.zh || [];
      const choices = (card.choices || []).map(function (c) { return c.why ? c.text + ": " + text(c.why) : c.text; });
      const body = [prompt, text(card.answer), text(card.explanation), choices.join(" · "), (card.items_text || []).join(" · ")]
        .filter(Boolean).join(" ");
      const zhLine = zh.join(" · ");
      return {
        order: order,
        url: card.url,
        title: title,
        zhLine: zhLine,
        body: body,
        parts: [
          { weight: TITLE, folded: [title, prompt, zhLine].join("\n").toLowerCase() },
          { weight: TAGS, folded: [(card.tags || []).join(" "), card.topic, topics[card.topic] || ""].join("\n").toLowerCase() },
          { weight: BODY, folded: body.toLowerCase() },
        ],
      };
    });
  }

  /** Each word's weight in `card` (0: not there). */
  function weights(card, query) {
    return query.map(function (word) {
      for (const part of card.parts) {
        if (holds(part.folded, word)) return part.weight;
      }
      return 0;
    });
  }

  function search(prepared, query) {
    const typed = words(query);
    const asked = typed.map(function (w) { return w.word; });
    if (!asked.length) return { items: [], total: 0, partial: null };
    let best = 0;
    const scored = [];
    const holders = asked.map(function () { return 0; }); // how many cards hold each word
    prepared.forEach(function (card) {
      const found = weights(card, asked);
      const held = found.filter(function (w) { return w > 0; }).length;
      if (!held) return;
      best = Math.max(best, held);
      found.forEach(function (w, i) { if (w) holders[i] += 1; });
      scored.push({ card: card, held: held, score: found.reduce(function (a, b) { return a + b; }, 0), found: found });
    });
    const shown = scored.filter(function (s) { return s.held === best; });
    shown.forEach(function (s) { // equal for every card when each holds every word
      s.rarity = s.found.reduce(function (sum, w, i) { return sum + (w ? Math.log(prepared.length / holders[i]) : 0); }, 0);
    });
    shown.sort(function (a, b) { return b.rarity - a.rarity || b.score - a.score || a.card.order - b.card.order; });
    let partial = null;
    if (best > 0 && best < asked.length) {
      partial = typed.filter(function (w, i) { return shown.some(function (s) { return s.found[i] > 0; }); })
        .map(function (w) { return w.typed; });
    }
    return {
      items: shown.map(function (s) { return { url: s.card.url, title: s.card.title, excerpt: excerpt(s.card, asked) }; }),
      total: shown.length,
      partial: partial,
    };
  }

  // --- the excerpt: the Chinese terms when they hold a word, then the answer around the first hit ---

  function escape(s) {
    return s.replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }

  function marked(shown, asked) {
    const folded = shown.toLowerCase();
    if (folded.length !== shown.length) return escape(shown); // a rare character changed length when lowered
    const ranges = [];
    asked.forEach(function (word) {
      positions(folded, word).forEach(function (i) { ranges.push([i, i + word.length]); });
    });
    ranges.sort(function (a, b) { return a[0] - b[0]; });
    let html = "", at = 0;
    ranges.forEach(function (r) {
      if (r[1] <= at) return;
      const from = Math.max(r[0], at);
      html += escape(shown.slice(at, from)) + "<mark>" + escape(shown.slice(from, r[1])) + "</mark>";
      at = r[1];
    });
    return html + escape(shown.slice(at));
  }

  /** The part of `body` shown: about EXCERPT characters from a little before `first`, cut at spaces. */
  function snippet(body, first) {
    let start = Math.max(0, first - BEFORE);
    if (start > 0) {
      const space = body.indexOf(" ", start);
      if (space >= 0 && space < first) start = space + 1; // do not cut the first word shown
    }
    let end = Math.min(body.length, start + EXCERPT);
    if (end < body.length) {
      const space = body.lastIndexOf(" ", end);
      if (space > first) end = space;
    }
    return { before: start > 0 ? "…" : "", shown: body.slice(start, end), after: end < body.length ? "…" : "" };
  }

  function excerpt(card, asked) {
    const folded = card.body.toLowerCase();
    let first = -1;
    asked.forEach(function (word) {
      const at = positions(folded, word);
      if (at.length && (first < 0 || at[0] < first)) first = at[0];
    });
    const cut = snippet(card.body, Math.max(first, 0));
    const html = cut.before + marked(cut.shown, asked) + cut.after;
    const zhHolds = card.zhLine && asked.some(function (word) { return holds(card.zhLine.toLowerCase(), word); });
    return zhHolds ? marked(card.zhLine, asked) + " — " + html : html;
  }

  window.PrepOfflineSearch = { words: words, prepare: prepare, search: search };
})();

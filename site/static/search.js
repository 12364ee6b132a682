/* The search page: Pagefind's API over the indexes built by `prep site build`.
   Two bundles, each indexed with one forced language (see prep/site.py): a query of
   Chinese characters goes to pagefind/ (zh), one without them to pagefind-en/ (en), and
   one holding both (TIME_WAIT状态, 僵尸进程 waitpid) to both, whose results are merged:
   each page once, those both indexes found first, then in the order each index ranks them.
   Pagefind loads its index with fetch and a module import, which browsers refuse on
   file://. There, on a site built with --no-search, and whenever Pagefind fails to load,
   the page searches the cards' own data instead (static/offline-search.js), and says so. */
(function () {
  "use strict";
  const script = document.currentScript;
  const hasIndex = script && script.dataset.hasIndex === "true";
  const input = document.getElementById("q");
  const status = document.getElementById("search-status");
  const list = document.getElementById("search-results");
  const params = new URLSearchParams(window.location.search);
  input.value = params.get("q") || "";
  input.focus();

  const mode = document.getElementById("search-mode");
  const CHINESE = /[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]/;
  const LATIN = /[A-Za-z0-9]/;
  const SHOWN = 40; // results shown
  const MERGED = 200; // results of each index read to merge a mixed query (their URLs say which pages are the same)
  const engines = {};
  let generation = 0;
  let usePagefind = true;
  if (window.location.protocol === "file:") offline("file");
  else if (!hasIndex) offline("no-index");

  function offline(why, detail) {
    // One quiet line: what the offline search reads, and why Pagefind is not answering.
    usePagefind = false;
    const parts = ["Offline search: card titles, prompts, answers, tags, Chinese terms. "].concat(
      why === "file" ? [code("prep site serve"), " for full-text search."] :
      why === "no-index" ? ["Built with ", code("--no-search"), ": no full-text index."] :
      ["The full-text index did not load (" + detail + "); rebuild with ", code("prep site build"), "."]);
    mode.replaceChildren.apply(mode, parts);
    mode.hidden = false;
  }

  function code(text) {
    const el = document.createElement("code");
    el.textContent = text;
    return el;
  }

  let cards = null;
  function loadCards() {
    // The flashcards' data, loaded only when needed: a <script> tag, which file:// allows where fetch is refused.
    if (!cards) {
      cards = new Promise(function (resolve, reject) {
        if (window.PREP_SITE) return resolve(window.PREP_SITE);
        const tag = document.createElement("script");
        tag.src = (document.body.dataset.root || "") + "data/cards.js";
        tag.onload = function () {
          if (window.PREP_SITE) resolve(window.PREP_SITE);
          else reject(new Error("data/cards.js holds no cards"));
        };
        tag.onerror = function () { reject(new Error("data/cards.js did not load")); };
        document.head.append(tag);
      }).then(window.PrepOfflineSearch.prepare);
    }
    return cards;
  }

  function bundlesFor(query) {
    if (!CHINESE.test(query)) return ["pagefind-en"];
    return LATIN.test(query) ? ["pagefind-en", "pagefind"] : ["pagefind"];
  }

  async function engine(bundle) {
    if (!engines[bundle]) {
      const url = new URL(bundle + "/pagefind.js", window.location.href).href;
      engines[bundle] = import(url).then(async function (pf) {
        await pf.options({ baseUrl: "/", excerptLength: 26 });
        return pf;
      });
    }
    return engines[bundle];
  }

  function relative(url) {
    // Pagefind gives paths from the site's root; search.html sits at the root.
    return url.replace(/^\/+/, "");
  }

  async function run(query) {
    const mine = ++generation;
    list.textContent = "";
    if (!query.trim()) {
      status.textContent = "Type a word in English or Chinese: TIME_WAIT, epoll, 僵尸进程…";
      return;
    }
    status.textContent = "Searching…";
    let found;
    try {
      found = await search(query);
    } catch (error) {
      if (mine !== generation) return;
      status.textContent = "Search did not load (" + error.message + "). Rebuild the site with `prep site build`.";
      return;
    }
    if (mine !== generation) return;
    status.textContent = summary(found, query);
    found.items.slice(0, SHOWN).forEach(function (item) {
      const li = document.createElement("li");
      li.className = "search-result";
      const a = document.createElement("a");
      a.href = item.href;
      a.textContent = item.title;
      const p = document.createElement("p");
      p.className = "excerpt";
      p.innerHTML = item.excerpt; // escaped text with <mark> around the hits, from Pagefind or offline-search.js
      li.append(a, p);
      list.append(li);
    });
  }

  function summary(found, query) {
    const n = found.total;
    const count = (found.more ? "more than " : "") + n + (n === 1 ? " result" : " results");
    const first = n > SHOWN ? " (the first " + SHOWN + ")" : "";
    if (n === 0) return (found.offline ? "No card matches “" : "No card or exercise matches “") + query + "”.";
    if (found.partial) {
      const held = found.partial.map(function (w) { return "“" + w + "”"; }).join(" or ");
      return "No card holds every word of “" + query + "”: " + count + " with " + held + first + ".";
    }
    return count + " for “" + query + "”" + first + ".";
  }

  async function search(query) {
    if (usePagefind) {
      try {
        const bundles = bundlesFor(query);
        const found = bundles.length === 1 ? await oneIndex(bundles[0], query) : await merged(bundles, query);
        found.items = found.items.map(function (item) {
          return { href: relative(item.url), title: (item.meta && item.meta.title) || item.url, excerpt: item.excerpt };
        });
        return found;
      } catch (error) {
        offline("failed", error.message); // any failure to load: the cards' data still answers
      }
    }
    const found = window.PrepOfflineSearch.search(await loadCards(), query);
    found.items = found.items.map(function (item) { return { href: item.url, title: item.title, excerpt: item.excerpt }; });
    found.offline = true;
    return found;
  }

  async function oneIndex(bundle, query) {
    const found = await (await engine(bundle)).search(query);
    const items = await Promise.all(found.results.slice(0, SHOWN).map(function (r) { return r.data(); }));
    return { items: items, total: found.results.length, more: false };
  }

  async function merged(bundles, query) {
    // Pagefind's result ids differ between bundles: a page is known by its URL, so the results are read first.
    const lists = await Promise.all(bundles.map(async function (bundle) {
      const found = await (await engine(bundle)).search(query);
      const read = found.results.slice(0, MERGED);
      return { items: await Promise.all(read.map(function (r) { return r.data(); })), more: found.results.length > read.length };
    }));
    const pages = new Map(); // url -> {item, found (how many indexes), rank (the best place in one)}
    lists.forEach(function (list) {
      list.items.forEach(function (item, rank) {
        const seen = pages.get(item.url);
        if (!seen) {
          pages.set(item.url, { item: item, found: 1, rank: rank });
          return;
        }
        seen.found += 1;
        if (rank < seen.rank) { seen.rank = rank; seen.item = item; } // the excerpt of the index that ranks it higher
      });
    });
    const order = Array.from(pages.values()).sort(function (a, b) { return b.found - a.found || a.rank - b.rank; });
    return {
      items: order.map(function (page) { return page.item; }),
      total: order.length,
      more: lists.some(function (list) { return list.more; }),
    };
  }

  let timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      const url = new URL(window.location.href);
      url.searchParams.set("q", input.value);
      try {
        window.history.replaceState(null, "", url);
      } catch (error) {
        // some browsers refuse it on file://; the address keeps the query the page was opened with
      }
      run(input.value);
    }, 200);
  });
  input.form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    run(input.value);
  });
  run(input.value);
})();

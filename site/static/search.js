/* The search page: Pagefind's API over the indexes built by `prep site build`.
   Two bundles, each indexed with one forced language (see prep/site.py): a query of
   Chinese characters goes to pagefind/ (zh), one without them to pagefind-en/ (en), and
   one holding both (TIME_WAIT状态, 僵尸进程 waitpid) to both, whose results are merged:
   each page once, those both indexes found first, then in the order each index ranks them.
   Pagefind loads its index with fetch and a module import, which browsers refuse on
   file://, so opened from the file system the page says to use `prep site serve`. */
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

  if (window.location.protocol === "file:") {
    document.getElementById("search-offline").hidden = false;
    return;
  }
  if (!hasIndex) return;

  const CHINESE = /[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]/;
  const LATIN = /[A-Za-z0-9]/;
  const SHOWN = 40; // results shown
  const MERGED = 200; // results of each index read to merge a mixed query (their URLs say which pages are the same)
  const engines = {};
  let generation = 0;

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
    try {
      const bundles = bundlesFor(query);
      const found = bundles.length === 1 ? await oneIndex(bundles[0], query) : await merged(bundles, query);
      if (mine !== generation) return;
      const n = found.total;
      const count = (found.more ? "more than " : "") + n + (n === 1 ? " result" : " results");
      status.textContent = n === 0 ? "No card or exercise matches “" + query + "”." :
        count + " for “" + query + "”" + (n > SHOWN ? " (the first " + SHOWN + ")" : "") + ".";
      found.items.slice(0, SHOWN).forEach(function (item) {
        const li = document.createElement("li");
        li.className = "search-result";
        const a = document.createElement("a");
        a.href = relative(item.url);
        a.textContent = (item.meta && item.meta.title) || item.url;
        const p = document.createElement("p");
        p.className = "excerpt";
        p.innerHTML = item.excerpt; // Pagefind's excerpt: escaped text with <mark> around the hits
        li.append(a, p);
        list.append(li);
      });
    } catch (error) {
      if (mine !== generation) return;
      status.textContent = "The search index did not load (" + error.message + "). Rebuild with `prep site build` and serve it with `prep site serve`.";
    }
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
      window.history.replaceState(null, "", url);
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

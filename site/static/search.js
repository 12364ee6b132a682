/* The search page: Pagefind's API over the indexes built by `prep site build`.
   Two bundles, each indexed with one forced language (see prep/site.py): a query
   holding Chinese characters goes to pagefind/ (zh), any other to pagefind-en/ (en).
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
  const engines = {};
  let generation = 0;

  function bundleFor(query) {
    return CHINESE.test(query) ? "pagefind" : "pagefind-en";
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
      const pf = await engine(bundleFor(query));
      const found = await pf.search(query);
      if (mine !== generation) return;
      const data = await Promise.all(found.results.slice(0, 40).map(function (r) { return r.data(); }));
      if (mine !== generation) return;
      const n = found.results.length;
      status.textContent = n === 0 ? "No card or exercise matches “" + query + "”." :
        n + (n === 1 ? " result" : " results") + " for “" + query + "”" + (n > 40 ? " (the first 40)" : "") + ".";
      data.forEach(function (item) {
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

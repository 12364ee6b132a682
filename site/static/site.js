/* Every page: reveal buttons (Space on a card page), choices, short answers. No network; short
   answers are checked by window.PrepAnswers (static/answers.js), the terminal quiz's rule. */
(function () {
  "use strict";

  /* The language switch: both languages are on the page, <html data-lang> shows one (site.css).
     The choice is kept in localStorage, so every page and the flashcards follow it. */
  const LANG_KEY = "prep-lang";
  function currentLang() { return document.documentElement.dataset.lang === "zh" ? "zh" : "en"; }
  function setLang(lang) {
    document.documentElement.dataset.lang = lang;
    document.documentElement.lang = lang;
    try { localStorage.setItem(LANG_KEY, lang); } catch (e) { /* private mode: this page only */ }
    const button = document.getElementById("lang-switch");
    if (button) button.setAttribute("aria-label", lang === "zh" ? "语言：中文；切换到英文" : "Language: English; switch to Chinese");
    const title = document.querySelector("title");
    if (title && title.dataset[lang]) document.title = title.dataset[lang]; // tabs and bookmarks follow the switch
    document.dispatchEvent(new CustomEvent("prep-lang", { detail: lang }));
  }
  window.PrepLang = { current: currentLang, set: setLang };
  const langButton = document.getElementById("lang-switch");
  if (langButton) {
    setLang(currentLang());
    langButton.addEventListener("click", function () { setLang(currentLang() === "zh" ? "en" : "zh"); });
  }

  function revealCard(article) {
    const button = article.querySelector("button.reveal[aria-controls]");
    if (!button || button.getAttribute("aria-expanded") === "true") return false;
    button.setAttribute("aria-expanded", "true");
    article.querySelectorAll("[data-answer]").forEach(function (el) { el.hidden = false; });
    article.querySelectorAll(".choices").forEach(function (list) {
      list.classList.add("revealed");
      list.querySelectorAll(".choice").forEach(function (choice) {
        const input = choice.querySelector("input");
        if (input && input.checked) choice.classList.add("picked");
        if (input) input.disabled = true;
      });
    });
    const answer = article.querySelector(".answer");
    if (answer) answer.setAttribute("tabindex", "-1");
    return true;
  }

  document.querySelectorAll("article.card").forEach(function (article) {
    const button = article.querySelector("button.reveal[aria-controls]");
    if (button) button.addEventListener("click", function () { revealCard(article); });
    const form = article.querySelector("form.short-answer");
    if (form) {
      const accepted = JSON.parse(form.dataset.accept || "[]");
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        const typed = form.querySelector("input").value;
        const output = form.querySelector("output");
        if (!window.PrepAnswers) {
          output.textContent = "The answer checker did not load (static/text-rules.js); rebuild the site with `prep site build`.";
          return;
        }
        const right = window.PrepAnswers.checkShort(accepted, typed);
        output.textContent = typed.trim() === "" ? "Type an answer first." : (right ? "Right." : "Not what the card accepts.");
        output.className = "verdict-line " + (typed.trim() === "" ? "" : (right ? "right" : "wrong"));
        if (typed.trim() !== "") revealCard(article);
      });
    }
  });

  if (document.body.dataset.page === "card") {
    document.addEventListener("keydown", function (event) {
      if (event.key !== " " || event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target;
      if (target.closest && target.closest("input, textarea, select, button, a, summary, label")) return;
      const article = document.querySelector("article.card");
      if (article && revealCard(article)) event.preventDefault();
    });
  }
})();

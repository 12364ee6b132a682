/* Checking answers in the browser with the terminal quiz's rules, ported from
   prep/cards.py (normalise_answer, Card.accepts) and prep/quiz_ui.py (choices,
   orderings, the automatic rating).

   normalise() reads this Python's white space and case folding from
   static/text-rules.js, written by `prep site build`: JavaScript's trim() and
   toLowerCase() differ from str.strip() and str.casefold() (U+001C-U+001F and
   U+0085 are white space to Python only, U+FEFF to JavaScript only; casefold
   turns ß into ss and ﬁ into fi). tests/test_site_browser.py runs both checkers
   on every code point, so they cannot drift.

   One global, window.PrepAnswers; it is absent when the tables did not load. */
(function () {
  "use strict";
  const rules = window.PREP_TEXT_RULES;
  if (!rules) return;

  const SPACE = new Set(rules.space);
  const QUOTES = new Set([0x60, 0x27, 0x22, 0x201c, 0x201d, 0x2018, 0x2019, 0x300c, 0x300d, 0x300e, 0x300f]); // ` ' " “ ” ‘ ’ 「 」 『 』
  const FULL_STOP = new Set([0x2e, 0x3b, 0x3002]); // . ; 。
  function isAsciiPunctuation(code) { // [!-/:-@\[-^`{-~]: ASCII punctuation, `_` aside
    return (code >= 0x21 && code <= 0x2f) || (code >= 0x3a && code <= 0x40) || (code >= 0x5b && code <= 0x5e) ||
      code === 0x60 || (code >= 0x7b && code <= 0x7e);
  }
  const FOLD = new Map();
  rules.runs.forEach(function (run) {
    // [first, count, step, delta]: first + k*step folds to itself + delta
    for (let k = 0; k < run[1]; k += 1) {
      const code = run[0] + k * run[2];
      FOLD.set(code, String.fromCodePoint(code + run[3]));
    }
  });
  Object.keys(rules.multi).forEach(function (code) { FOLD.set(Number(code), rules.multi[code]); });

  function codePoints(text) {
    return Array.from(String(text), function (c) { return c.codePointAt(0); });
  }

  function strip(codes, set, bothEnds) {
    // str.strip(chars), or str.rstrip(chars) when bothEnds is false
    let start = 0, end = codes.length;
    if (bothEnds) while (start < end && set.has(codes[start])) start += 1;
    while (end > start && set.has(codes[end - 1])) end -= 1;
    return start === 0 && end === codes.length ? codes : codes.slice(start, end);
  }

  function normalise(text) {
    // cards.normalise_answer: case, full-width forms, outer quotes, a trailing full stop or ; and white space
    // do not matter; white space beside ASCII punctuation counts as none.
    let codes = codePoints(text).map(function (code) { return code >= 0xff01 && code <= 0xff5e ? code - 0xfee0 : code; });
    let previous = -1;
    while (previous !== codes.length) { // each pass only removes, so an unchanged length is an unchanged text
      previous = codes.length;
      codes = strip(strip(codes, SPACE, true), QUOTES, true);
      codes = strip(codes, FULL_STOP, false);
    }
    // re.sub(r"\s*([!-/:-@\[-^`{-~])\s*", r"\1", text): every run of white space that touches such punctuation goes
    const kept = [];
    for (let i = 0; i < codes.length;) {
      if (!SPACE.has(codes[i])) { kept.push(codes[i]); i += 1; continue; }
      let j = i;
      while (j < codes.length && SPACE.has(codes[j])) j += 1;
      const touches = (i > 0 && isAsciiPunctuation(codes[i - 1])) || (j < codes.length && isAsciiPunctuation(codes[j]));
      if (!touches) for (let k = i; k < j; k += 1) kept.push(codes[k]);
      i = j;
    }
    const collapsed = []; // re.sub(r"\s+", " ", text)
    let inSpace = false;
    kept.forEach(function (code) {
      const space = SPACE.has(code);
      if (!(space && inSpace)) collapsed.push(space ? 0x20 : code);
      inSpace = space;
    });
    let out = ""; // str.casefold(), one code point at a time as CPython does
    collapsed.forEach(function (code) { out += FOLD.has(code) ? FOLD.get(code) : String.fromCodePoint(code); });
    return out;
  }

  function accepts(accepted, typed) {
    // Card.accepts: the typed answer matches the answer or one of its aliases.
    const wanted = new Set(accepted.map(normalise));
    return wanted.has(normalise(typed));
  }

  function checkShort(accepted, typed) {
    // quiz_ui.ask_typed: an answer of white space alone is no answer.
    return strip(codePoints(typed), SPACE, true).length > 0 && accepts(accepted, typed);
  }

  function parseOrder(text) {
    // quiz_ui.ask_typed: "312" or "3 1 2" (or "3,1,2"); ASCII digits.
    const codes = strip(codePoints(text), SPACE, true);
    const stripped = codes.map(function (code) { return String.fromCodePoint(code); }).join("");
    const separated = codes.some(function (code) { return code === 0x2c || SPACE.has(code); });
    if (separated) return (String(text).match(/[0-9]+/g) || []).map(Number);
    if (/^[0-9]+$/.test(stripped)) return Array.from(stripped, Number);
    return [];
  }

  function checkOrder(text, shown) {
    // shown[n - 1] is the index, in the right order, of the item shown as number n.
    const numbers = parseOrder(text);
    const given = numbers.filter(function (n) { return n >= 1 && n <= shown.length; }).map(function (n) { return shown[n - 1]; });
    const correct = numbers.length === shown.length && given.every(function (item, i) { return item === i; });
    return { correct: correct, given: given };
  }

  function checkChoices(choices, chosen) {
    // the chosen indexes are exactly the right ones
    const right = choices.map(function (c, i) { return c.correct ? i : -1; }).filter(function (i) { return i >= 0; });
    const picked = Array.from(new Set(chosen)).sort(function (a, b) { return a - b; });
    return picked.length === right.length && picked.every(function (i, k) { return i === right[k]; });
  }

  function autoRating(correct, seconds, easySeconds) {
    // quiz_ui.after_answer: wrong is Again; right is Easy within easy_seconds, else Good.
    if (!correct) return 1;
    return seconds <= easySeconds ? 4 : 3;
  }

  window.PrepAnswers = {
    unicode: rules.unicode,
    normalise: normalise,
    accepts: accepts,
    checkShort: checkShort,
    parseOrder: parseOrder,
    checkOrder: checkOrder,
    checkChoices: checkChoices,
    autoRating: autoRating,
  };
})();

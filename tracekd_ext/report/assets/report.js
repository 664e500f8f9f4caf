// tracekd report: the sample browser. Reads the JSON block #report-data (see browser_data.py for its keys),
// filters in memory and renders one page of samples at a time, so tens of thousands of samples stay responsive.
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("report-data").textContent);
  data.samples = [];
  data.total = 0;
  for (const group of data.groups) {
    data.total += group.total;
    for (const sample of group.samples) {
      sample.r = group.r;
      sample.t = group.t;
      data.samples.push(sample);
    }
  }
  const PAGE_SIZE = data.pageSize;
  const STEP_KEYS = { trace: "tr", cls: "c", ret: "i" };
  const STEP_NAMES = { trace: "trace", cls: "CLS", ret: "IR" };
  const CELL_NAMES = {
    any: "any",
    tt: "step right, answer right",
    tf: "step right, answer wrong",
    ft: "step wrong, answer right",
    ff: "step wrong, answer wrong",
    na: "step not evaluated",
  };
  const FREE = "free";
  const state = { run: "", task: "", label: "", step: "trace", cell: "any", condition: "", search: "", page: 0 };
  let matches = [];

  function byId(id) {
    return document.getElementById(id);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function fillSelect(select, options) {
    for (const [value, text] of options) {
      const option = el("option", "", text);
      option.value = value;
      select.appendChild(option);
    }
  }

  function cellOf(sample, step) {
    const value = sample[STEP_KEYS[step]];
    if (value === null || value === undefined) return "na";
    return (value ? "t" : "f") + (sample.a ? "t" : "f");
  }

  function labelsInData() {
    const labels = new Set();
    for (const problem of Object.values(data.problems)) labels.add(problem.l);
    return Array.from(labels).sort();
  }

  function applyFilters() {
    const run = state.run === "" ? -1 : Number(state.run);
    const task = state.task === "" ? -1 : Number(state.task);
    const needle = state.search.trim().toLowerCase();
    matches = [];
    for (const sample of data.samples) {
      if (run >= 0 && sample.r !== run) continue;
      if (task >= 0 && sample.t !== task) continue;
      const problem = data.problems[sample.p];
      if (state.label !== "" && problem.l !== state.label) continue;
      if (state.cell !== "any" && cellOf(sample, state.step) !== state.cell) continue;
      if (state.condition === FREE && sample.cd !== undefined) continue;
      if (state.condition !== "" && state.condition !== FREE && sample.cd !== state.condition) continue;
      if (needle && !problem.id.toLowerCase().includes(needle) && !problem.q.toLowerCase().includes(needle)) continue;
      matches.push(sample);
    }
    state.page = 0;
    render();
  }

  function mark(ok) {
    if (ok === null || ok === undefined) return ["na", "\u2013"];
    return ok ? ["ok", "\u2713"] : ["bad", "\u2717"];
  }

  function badge(name, ok) {
    const [cls, symbol] = mark(ok);
    return el("span", "badge " + cls, name + " " + symbol);
  }

  function list(values) {
    return "[" + values.join(", ") + "]";
  }

  function quoted(values) {
    return "[" + values.map((v) => JSON.stringify(v)).join(", ") + "]";
  }

  // The reasons are written in Python next to the scoring rules (scoring.explain, interventions.explain_intervention)
  // and carried in the sample as [step, reason] rows: shown as they are, never re-derived here.
  function whyList(sample) {
    const dl = el("dl", "why");
    for (const [term, text] of sample.w) {
      dl.appendChild(el("dt", "", term));
      dl.appendChild(el("dd", "", text));
    }
    return dl;
  }

  // The problem's units, numbered from 0, with the gold ones and the ones in `marked` (cited by the model, or
  // forced by an intervention) marked as `kind`.
  function markedUnits(problem, marked, kind) {
    const gold = new Set(problem.s);
    const chosen = new Set(marked);
    const ol = el("ol", "units");
    ol.start = 0;
    problem.u.forEach((unit, i) => {
      const li = el("li");
      if (gold.has(i)) {
        li.classList.add("gold");
        li.appendChild(el("span", "mark gold", "gold"));
      }
      if (chosen.has(i)) {
        li.classList.add(kind);
        li.appendChild(el("span", "mark " + kind, kind));
      }
      li.appendChild(document.createTextNode(unit));
      ol.appendChild(li);
    });
    return ol;
  }

  function side(title, text) {
    const box = el("div", "side");
    box.appendChild(el("h4", "", title));
    box.appendChild(el("pre", "generation", text));
    return box;
  }

  function interventionCard(sample) {
    const problem = data.problems[sample.p];
    const card = el("article", "sample intervention");
    card.dataset.cell = cellOf(sample, state.step);
    card.dataset.condition = sample.cd;
    const title = el("h3", "", problem.id);
    title.appendChild(el("span", "meta", `${data.runs[sample.r]} \u00b7 ${data.tasks[sample.t]} \u00b7 line ${sample.n}`));
    card.appendChild(title);
    const badges = el("div", "badges");
    badges.append(el("span", "badge condition", "forced: " + sample.cd), badge("answer", sample.a),
      badge("follows trace", sample.fo));
    if (sample.pt !== null && sample.pt !== undefined) badges.append(badge("perturbed", sample.pt));
    card.appendChild(badges);
    card.appendChild(el("p", "question", "Q: " + problem.q));
    const pair = el("div", "forced-vs-answer");
    pair.append(side("forced trace (the prefix the model continued)", sample.fx),
      side("model's answer" + (sample.gl ? ` (first ${data.maxGenerationChars} of ${sample.gl} characters)` : ""), sample.g));
    card.appendChild(pair);
    card.appendChild(whyList(sample));
    const context = el("details");
    context.appendChild(el("summary", "", `context (${problem.u.length} units; gold support ${list(problem.s)}, ` +
      `forced ${sample.fs === null ? "none" : list(sample.fs)})`));
    context.appendChild(markedUnits(problem, sample.fs || [], "forced"));
    card.appendChild(context);
    return card;
  }

  function sampleCard(sample) {
    if (sample.cd !== undefined) return interventionCard(sample);
    const problem = data.problems[sample.p];
    const card = el("article", "sample");
    card.dataset.cell = cellOf(sample, state.step);
    const title = el("h3", "", problem.id);
    title.appendChild(el("span", "meta", `${data.runs[sample.r]} \u00b7 ${data.tasks[sample.t]} \u00b7 line ${sample.n}`));
    card.appendChild(title);
    const badges = el("div", "badges");
    badges.append(badge("format", sample.ok), badge("CLS", sample.c), badge("IR", sample.i), badge("trace", sample.tr),
      badge("answer", sample.a), badge("grounded", sample.gd));
    card.appendChild(badges);
    card.appendChild(el("p", "question", "Q: " + problem.q));
    card.appendChild(el("p", "", `Label: predicted ${sample.pl === null ? "(none)" : JSON.stringify(sample.pl)}, gold ${JSON.stringify(problem.l)}. ` +
      `Answer: predicted ${quoted(sample.ai)}, gold ${quoted(problem.a)}.`));
    card.appendChild(whyList(sample));
    const context = el("details");
    context.open = true;
    context.appendChild(el("summary", "", `context (${problem.u.length} units; gold support ${list(problem.s)}, cited ${list(sample.ci)})`));
    context.appendChild(markedUnits(problem, sample.ci, "cited"));
    card.appendChild(context);
    const generation = el("details");
    generation.appendChild(el("summary", "", "generation" + (sample.gl ? ` (first ${data.maxGenerationChars} of ${sample.gl} characters)` : "")));
    generation.appendChild(el("pre", "generation", sample.g));
    card.appendChild(generation);
    return card;
  }

  function render() {
    const pages = Math.max(1, Math.ceil(matches.length / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    const start = state.page * PAGE_SIZE;
    const shown = matches.slice(start, start + PAGE_SIZE);
    byId("sample-list").replaceChildren(...shown.map(sampleCard));
    const cell = state.cell === "any" ? "" : ` in cell "${STEP_NAMES[state.step]}: ${CELL_NAMES[state.cell]}"`;
    const condition = state.condition === "" ? "" : state.condition === FREE
      ? " of free generation" : ` under forced trace "${state.condition}"`;
    byId("sample-count").textContent = `${matches.length} of the ${data.samples.length} samples in the browser${cell}${condition}`;
    byId("sample-count").dataset.count = String(matches.length);
    byId("page-info").textContent = matches.length
      ? `page ${state.page + 1} of ${pages} (samples ${start + 1}\u2013${start + shown.length})`
      : "no samples match";
    byId("page-prev").disabled = state.page === 0;
    byId("page-next").disabled = state.page >= pages - 1;
  }

  function bind(id, key, parse) {
    const node = byId(id);
    node.addEventListener(node.tagName === "INPUT" ? "input" : "change", () => {
      state[key] = parse ? parse(node.value) : node.value;
      applyFilters();
    });
  }

  function addConditionFilter() {
    const label = el("label", "", "forced trace ");
    const select = el("select");
    select.id = "filter-condition";
    label.appendChild(select);
    const search = byId("filter-search").parentNode;
    search.parentNode.insertBefore(label, search);
    fillSelect(select, [["", "all samples"], [FREE, "free generation (none forced)"],
      ...data.conditions.map((c) => [c, c])]);
    bind("filter-condition", "condition");
  }

  function init() {
    fillSelect(byId("filter-run"), [["", "all runs"], ...data.runs.map((name, i) => [String(i), name])]);
    fillSelect(byId("filter-task"), [["", "all tasks"], ...data.tasks.map((name, i) => [String(i), name])]);
    fillSelect(byId("filter-label"), [["", "all labels"], ...labelsInData().map((l) => [l, l])]);
    fillSelect(byId("filter-step"), Object.entries(STEP_NAMES));
    fillSelect(byId("filter-cell"), Object.entries(CELL_NAMES));
    bind("filter-run", "run");
    bind("filter-task", "task");
    bind("filter-label", "label");
    bind("filter-step", "step");
    bind("filter-cell", "cell");
    bind("filter-search", "search");
    if (data.conditions.length) addConditionFilter();
    byId("page-prev").addEventListener("click", () => { state.page -= 1; render(); });
    byId("page-next").addEventListener("click", () => { state.page += 1; render(); });
    const notes = [];
    if (data.samples.length < data.total) {
      notes.push(`The browser carries ${data.samples.length} of the ${data.total} samples: at most ${data.perCell} ` +
        "per samples file and 2x2 cell of trace and answer (of follows-trace and answer for interventions), evenly " +
        "spaced by line; the tables and figures above use all of them (tracekd report --browser-samples all " +
        "carries every sample).");
    }
    if (data.aggregateOnly.length) {
      notes.push("Not in the browser (aggregates only, from a rescore JSON): " + data.aggregateOnly.join(", ") + ".");
    }
    byId("browser-note").textContent = notes.join(" ");
    applyFilters();
  }

  init();
})();

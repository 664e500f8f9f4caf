"""Trace interventions: the model's turn is prefilled with a chosen trace and only the answer is judged.

One package, read from the bottom up (each module imports only the ones above it in this list and the core;
the last two also the report's building blocks, below ``report.build``; none imports ``task_hooks``):

- ``conditions``: the forced-trace conditions, the forced trace of one problem and the judgement of the answer;
- ``task_hooks``: the lm-eval hooks of the ``<dataset>_intervene_<condition>`` tasks;
- ``statistics``: paired 2x2 statistics (Wilson, Newcombe, exact McNemar);
- ``analysis``: intervention samples files read and judged, the paired analysis per model and dataset;
- ``tables``: the analysis as Markdown tables and readings (``tracekd rescore`` and the report);
- ``browser_rows``: intervention samples in the report's sample browser;
- ``report_section``: the report's Interventions section (tables, readings, chart).
"""

"""tracekd: trace-aware QA for lm-evaluation-harness. Module map: docs/architecture.md.

The three flows over one problem record and one trace format, and where each lives:

- the core: ``record`` and ``adapters/`` (datasets), ``trace_format`` / ``trace_parse`` (the format),
  ``scoring``, ``free_form/``, ``task_scoring``, ``metrics``, ``stats`` (judging and counting);
- (1) evaluate: ``harness/`` (lm-eval's task hooks, its samples files, ``tracekd-hf``), ``generation/`` and the
  other engines; ``interventions/`` (forced traces, their hooks and analysis);
- (2) train: the ``tracekd_train`` package (train/);
- (3) re-score and report: ``rescore``, ``report/``;
- ``demo/`` runs the three in turn; ``cli`` and ``commands/`` are the ``tracekd`` command line.
"""

"""tracekd's boundary with lm-eval (the evaluation harness): what lm-eval calls and what it writes.

- ``samples``: reading lm-eval's samples files (the task in a file name, a row's generation) and
  ``score_doc``, the judgement of one generation against its task doc;
- ``task_hooks``: the ``!function`` hooks of the trace, answer-only and free-form tasks;
- ``model``: the ``tracekd-hf`` model and its registration with lm-eval.

Offline analysis (rescore, report, interventions analysis) calls down into ``samples`` only.
"""

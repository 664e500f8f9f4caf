"""``tracekd demo``: the design card end to end (baseline, fine-tune, re-evaluate, intervene, report).

``plan`` holds the sizes and the equivalent command lines, ``evaluation`` runs lm-eval and checks its numbers
against ``tracekd rescore``, ``stages`` has one function per stage; ``tracekd_ext.commands.demo`` is the CLI.
"""

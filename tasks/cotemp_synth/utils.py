"""lm-eval hooks of the synthetic co-temporal trace task: thin bindings to tracekd_ext."""

from tracekd_ext import lm_eval_glue as glue

doc_to_text = glue.doc_to_text
doc_to_target = glue.doc_to_target
process_results = glue.process_results
pair_phi = glue.pair_phi
pair_chi2 = glue.pair_chi2
pair_fisher_p = glue.pair_fisher_p
pair_tt_share = glue.pair_tt_share


def load_trace(**metadata):
    return glue.load_docs("synth", "trace", **metadata)

"""Free-form reasoning judged step by step (the ``*_free`` tasks): the model reasons in its own words and ends
with a final-answer line.

- ``format``: the prompt and the final-answer convention;
- ``parse``: the reasoning (the think block, else the text before the final answer) and the final answer;
- ``match``: which context units the reasoning states, the label it names, hallucinated statements;
- ``score``: the per-sample score (the trace tasks' field names) and the browser's reasons.
"""

"""tracekd: trace-aware QA for lm-evaluation-harness. Module map: docs/architecture.md."""

"""One module per ``tracekd`` command."""

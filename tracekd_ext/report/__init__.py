"""Reports that compare runs side by side: tables (report.md), figures (PNG) and an HTML sample browser.

``sources`` resolves the RUN arguments, ``runs`` re-scores them, ``tables`` formats the numbers, ``plots`` draws
the figures, ``browser_data`` packs the samples, ``markdown`` and ``html_page`` render the documents and
``build`` writes them all.
"""

"""Reports that compare runs side by side: tables (report.md), figures (PNG) and an HTML sample browser.

``runs`` finds and re-scores the runs, ``tables`` formats the numbers, ``plots`` draws the figures,
``browser_data`` packs the samples, ``markdown`` and ``html_page`` render the documents, ``build`` writes them.
"""

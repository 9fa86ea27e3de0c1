"""Layer 6, viz: plotly figure builders (dataset, clustering, results, prediction) and the
self-contained HTML report; data in, figures out, no computation a script would need itself."""

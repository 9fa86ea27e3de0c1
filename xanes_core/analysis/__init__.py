"""Layer 5, analysis: what a trained run or a dataset tells a scientist: per-element clustering,
prediction of one material with its explanations, alignment, matching and attribution."""

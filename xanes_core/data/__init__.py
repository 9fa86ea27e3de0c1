"""Layer 1, data: element channels and grids, the sparse XanesDataset, the synthetic demo,
preprocessing (resample, standardize, augment, split), symmetry encodings and sample weights."""

"""Layer 4, learn: classifiers with scikit-learn's interface (CNN variants and baselines), the
Trainer, the run registry, evaluation and result tables; the only layer that imports TensorFlow."""

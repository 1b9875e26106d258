"""The exporter behind scripts/export_sklearn.py: prepare (the pipeline's steps),
families (the estimators), data (the training data)."""

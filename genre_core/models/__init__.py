"""Model definitions: classical pipelines, the dense net and the deep architectures."""

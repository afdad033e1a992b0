"""Records: compliance reports, documents, training, retention, audit checkpoints."""

"""Looking inside a trained network on request: what a channel responds to, what drove a
prediction, feature spaces, embeddings, attention and style transfer. Every function takes a
compiled model (``engine.compile_graph``) and plain tensors, and returns numpy arrays or small
dataclasses: the training worker, a background thread of the window and the tests all call the
same code."""

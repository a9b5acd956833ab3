"""The demo place generator: a fictional place and its partners' data, with planted ground truth."""

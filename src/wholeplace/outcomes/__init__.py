"""Shared outcomes: the measures partners agree to work to together, and the statistics that tell real change in
them from noise (``spc``: statistical process control the NHS "Making Data Count" way)."""

"""Demand: where a place's demand comes from, how much is repeat, not police business or failure demand, how
much time is lost before anyone arrives, and what is coming. Service functions read the analytic store
through ``Stores.connect()`` and take the datasets a reader may see (``datasets``), as the rest of the
product does; the web layer applies disclosure control to what leaves the platform."""

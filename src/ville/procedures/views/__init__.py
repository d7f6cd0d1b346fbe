"""Pages of the procedures domain: `citizen` (catalogue, forms, tracking) and `agent`
(the back office)."""

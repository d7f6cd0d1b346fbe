"""Demo and scale data: the people of `make demo` and the citizens of `ville seed-scale`.

Definitions live in `people.py` and `names.py`; writes in `services.py` and `scale.py`.
"""

"""Training, conversion and evaluation: everything that writes a model into ``models/``.

Inference (:mod:`genre_core.predict`, :mod:`genre_core.registry`) imports nothing from here.
"""

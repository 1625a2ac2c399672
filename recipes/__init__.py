"""The guideline recipes: one self-contained script per guideline.

Installed as `cookbook.recipes`; run one with `cookbook run NAME` or `python recipes/NAME.py`.
"""

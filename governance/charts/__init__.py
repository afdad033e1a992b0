"""Plotly figure builders: pure functions, data in and a Figure out.

Pages render the figures; tests assert on their data. Every builder uses the
console's template from ``theme`` so the charts read as one family.
"""

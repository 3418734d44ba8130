"""Requests printed as PDF, in one language or two side by side (``render.py``)."""

from hanoi247.entrypoints.pdf.render import choose_second_language, render_request_pdf

__all__ = ["choose_second_language", "render_request_pdf"]

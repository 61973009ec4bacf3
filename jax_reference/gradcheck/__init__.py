"""gradcheck: check a hand-derived gradient function against autodiff, and say what is wrong."""

from .check import assert_gradients_agree, check_gradients
from .report import junit, text

__all__ = ["assert_gradients_agree", "check_gradients", "junit", "text"]

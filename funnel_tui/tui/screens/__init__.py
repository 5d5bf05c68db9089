"""Screens: the board (here), the deal, Today and Summary (by colleagues), search."""

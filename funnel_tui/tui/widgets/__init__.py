"""Board widgets: a stage column (header + one OptionList of cards) and the card renderer."""

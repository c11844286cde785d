"""LSTM Lab: the picture frame. Page config, language, navigation, shared sidebar; see ui/frame.py."""

from ui import frame

frame.run()

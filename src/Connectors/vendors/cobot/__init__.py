"""Cobot: ``CobotClient`` (client.py) and the Robot Framework keyword components (keywords.py)."""

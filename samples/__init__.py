"""Samples a vendor may copy and start from; each stands alone (it imports nothing of this project)."""
